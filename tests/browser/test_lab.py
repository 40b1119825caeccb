"""The course as students run it: JupyterLab with the kernel, in Debian's Chromium.

For each chapter notebook (on a private copy of ``chapters/``): run all cells without an
error, move one slider of every explorer and see its figure change (reporting how long the
redraw took), and see jupyterlab-myst render the MyST exercises instead of raw fences.
Screenshots go to ``_build/screenshots/lab/<chapter>/``.

Run: ``pytest tests/browser/test_lab.py -p no:cacheprovider -v``.
"""

import json
import re

import pytest

from browsing import VIEWPORT
from lab import LAB_SCREENSHOTS, CHAPTERS, LabNotebook, LabServer, chapter_notebooks

LATENCY_KEY = "lab_redraw_ms"
RUN_TIME_KEY = "lab_run_s"
# What must never show in a rendered markdown cell: a directive's fence or a gate's name.
RAW_MYST = re.compile(r"```|:::\{|\{exercise\}|\{solution(-start|-end)?\}")


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, pytestconfig):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed in this environment")
    if not pytestconfig.pluginmanager.has_plugin("lab-timings"):
        pytestconfig.pluginmanager.register(_TimingSummary(), "lab-timings")
    server = LabServer(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture
def notebook(request, lab_server, browser):
    """The parametrized chapter open in JupyterLab; its kernel is shut down afterwards."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        yield LabNotebook(lab_server, page, request.param)
    finally:
        last = LAB_SCREENSHOTS / request.param.removesuffix(".ipynb") / "last.png"
        last.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=last)  # how the notebook looked when the test ended
        context.close()
        lab_server.shut_down_kernels()


def exercise_count(name):
    notebook = json.loads((CHAPTERS / name).read_text())
    return sum("".join(cell["source"]).count("{exercise}") for cell in notebook["cells"]
               if cell["cell_type"] == "markdown")


@pytest.mark.parametrize("notebook", chapter_notebooks(), indirect=True)
def test_chapter_runs_and_explorers_redraw_in_jupyterlab(notebook, record_property):
    stem = notebook.name.removesuffix(".ipynb")
    shots = LAB_SCREENSHOTS / stem

    seconds = notebook.run_all()
    record_property(RUN_TIME_KEY, (stem, seconds))
    assert notebook.errors() == [], f"{notebook.name} raised in JupyterLab"
    notebook.screenshot_pages(shots)

    failures = []
    for index, explorer in enumerate(notebook.explorers(), start=1):
        try:
            before, after, latency = notebook.move_slider(
                explorer, shots / f"explorer-{index}-before.png",
                shots / f"explorer-{index}-after.png")
        except AssertionError as error:
            failures.append(f"explorer {index}: {error}")
            continue
        record_property(LATENCY_KEY, (f"{stem} explorer {index}", latency))
        if before == after:
            failures.append(f"explorer {index}: the figure looks the same after the slider moved")
    assert not failures, f"{notebook.name}: " + "; ".join(failures)

    assert notebook.unrendered_markdown_cells() == 0
    raw = [text[:120] for text in notebook.rendered_markdown() if RAW_MYST.search(text)]
    assert raw == [], f"{notebook.name}: raw MyST in rendered markdown"
    expected = exercise_count(notebook.name)
    # Solutions share the exercise's look; their titles read "Start of Solution to ...".
    titles = [title for title in notebook.exercise_titles() if title.startswith("Exercise")]
    assert len(titles) == expected, f"{len(titles)} exercises rendered, {expected} in the source"


class _TimingSummary:
    """A plugin printing the run times and redraw latencies at the end of the session."""

    @staticmethod
    def pytest_terminal_summary(terminalreporter):
        rows = [value for outcome in ("passed", "failed")
                for report in terminalreporter.stats.get(outcome, [])
                for key, value in report.user_properties if key in (RUN_TIME_KEY, LATENCY_KEY)]
        if rows:
            terminalreporter.section("JupyterLab: Run All (s), slider key to new figure (ms)")
            for label, value in rows:
                terminalreporter.write_line(f"{label:<40} {value:8.1f}")
