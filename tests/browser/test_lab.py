"""The course as students run it: the local edition in JupyterLab and Notebook 7, in Chromium.

For each chapter of the local edition (``make lab``'s notebooks, on a private folder), before
and after Run All: no role, directive fence, label or ⚠ marker shows, every figure has its
caption, no solution shows; all cells run without an error; one right and one wrong answer
to an exercise get their verdicts; every explorer's slider redraws its figure, key press by
key press, with a median under ``LATENCY_LIMIT_MS`` from the key to the new figure. The same text checks in plain Notebook 7 with jupyterlab-myst switched off.
The tracked ``chapters/`` must be byte-identical afterwards.
Screenshots go to ``_build/screenshots/lab/<chapter>/``.

Run: ``pytest tests/browser/test_lab.py -p no:cacheprovider -v``.
"""

import json
import re
import statistics
import time

import pytest

from browsing import VIEWPORT
from lab import (LAB_SCREENSHOTS, CHAPTERS, LabNotebook, LabServer, chapter_digests,
                 chapter_notebooks)

LATENCY_KEY = "lab_redraw_ms"
LATENCY_LIMIT_MS = 100  # median key press to new figure, for every live explorer
RUN_TIME_KEY = "lab_run_s"
# What must never show in a rendered markdown cell: a directive's fence, a gate's name, a
# role or a fragment of one, a label option, jupyterlab-myst's marker of an unresolved reference.
RAW_MYST = re.compile(r"```|:::\{|\{exercise\}|\{solution(-start|-end)?\}|\{(glue|numref|cite|eq"
                      r"|ref|doc|term)[:}]|:label:|⚠")
# One exercise per chapter: (name, a right answer, a wrong answer), typed into a new cell.
ANSWERS = {
    "01_backprop.ipynb": ("ch1_depth", "6", "5"),
    "02_vanishing_exploding.ipynb": ("ch2_he_c", "2.0", "3.0"),
    "03_bptt.ipynb": ("ch3_sigmoid_sigma", "4.0", "3.0"),
    "04_clipping.ipynb": ("ch4_by_norm", "[1.2, -1.6]", "[3.0, -4.0]"),
    "04_clipping_experiments.ipynb": ("ch4x_travel_bound", "160.0", "16.0"),
    "05_exercises.ipynb": ("depth_constant", "1.0", "0.5"),
    "06_modern.ipynb": ("ch6_shard_answer", "[85.0, 1 / (85 + 1e-6)]", "[103.0, 1 / 103]"),
}


def _server(tmp_path_factory, pytestconfig, app):
    pytest.importorskip(app, reason=f"{app} is not installed in this environment")
    if not pytestconfig.pluginmanager.has_plugin("lab-timings"):
        pytestconfig.pluginmanager.register(_TimingSummary(), "lab-timings")
    before = chapter_digests()
    server = LabServer(tmp_path_factory.mktemp(app), app=app)
    yield server
    server.stop()
    assert chapter_digests() == before, f"running the chapters in {app} changed chapters/"


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, pytestconfig):
    yield from _server(tmp_path_factory, pytestconfig, "jupyterlab")


@pytest.fixture(scope="session")
def notebook7_server(tmp_path_factory, pytestconfig):
    yield from _server(tmp_path_factory, pytestconfig, "notebook")


def _open(request, server, browser):
    """The parametrized chapter open in ``server``; its kernel is shut down afterwards."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        yield LabNotebook(server, page, request.param)
    finally:
        last = (LAB_SCREENSHOTS / request.param.removesuffix(".ipynb")
                / f"last-{server.app}.png")
        last.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=last)  # how the notebook looked when the test ended
        context.close()
        server.shut_down_kernels()


@pytest.fixture
def notebook(request, lab_server, browser):
    """The parametrized chapter open in JupyterLab; its kernel is shut down afterwards."""
    yield from _open(request, lab_server, browser)


@pytest.fixture
def notebook7(request, notebook7_server, browser):
    """The parametrized chapter open in plain Notebook 7 (no MyST extension)."""
    yield from _open(request, notebook7_server, browser)


def exercise_count(name):
    notebook = json.loads((CHAPTERS / name).read_text())
    return sum("".join(cell["source"]).count("{exercise}") for cell in notebook["cells"]
               if cell["cell_type"] == "markdown")


def figure_count(notebook):
    """Figures of the local edition's notebook (each captioned "**Figure n.k.** ...")."""
    local = notebook.server.local[notebook.name]
    return sum("".join(cell["source"]).startswith("**Figure ") for cell in local["cells"])


def chart_count(notebook):
    """Kernel-free charts (Vega-Lite outputs) saved in the local edition's notebook."""
    local = notebook.server.local[notebook.name]
    return sum("application/vnd.vegalite.v5+json" in output.get("data", {})
               for cell in local["cells"] for output in cell.get("outputs", []))


def settled(read, expected, timeout=30):
    """``read()`` once it returns ``expected``, or its last value after ``timeout`` seconds.

    JupyterLab renders markdown cells asynchronously (jupyterlab-myst the more so in the first
    notebook of a session), so a count read at once can be short of what the page then shows.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def reads_like_the_book(notebook, when):
    """The text checks: no raw MyST or unresolved reference, captions, exercises, no solution."""
    assert settled(notebook.unrendered_markdown_cells, 0) == 0, when
    raw = [text[:160] for text in notebook.rendered_markdown() if RAW_MYST.search(text)]
    assert raw == [], f"{notebook.name} {when}: raw MyST or unresolved references"
    figures, exercises = figure_count(notebook), exercise_count(notebook.name)
    captions = settled(lambda: len(notebook.captions()), figures)
    assert captions == figures, f"{notebook.name} {when}: {captions} of {figures} captions"
    titles = settled(lambda: len(notebook.exercise_titles()), exercises)
    assert titles == exercises, f"{notebook.name} {when}: {titles} of {exercises} exercises"
    assert "Solution" not in notebook.visible_text(), f"{notebook.name} {when}: a solution shows"


@pytest.mark.parametrize("notebook", chapter_notebooks(), indirect=True)
def test_chapter_runs_and_explorers_redraw_in_jupyterlab(notebook, record_property):
    stem = notebook.name.removesuffix(".ipynb")
    shots = LAB_SCREENSHOTS / stem

    reads_like_the_book(notebook, "before Run All")
    # JupyterLab draws the explorers' kernel-free charts from the saved outputs, with every control.
    charts = notebook.panel.locator(".vega-embed")
    expected = chart_count(notebook)
    if expected:
        charts.nth(expected - 1).wait_for(timeout=30_000)
    assert charts.count() == expected, f"{notebook.name}: {charts.count()} of {expected} charts"
    notebook.screenshot_pages(shots / "before")
    seconds = notebook.run_all()
    record_property(RUN_TIME_KEY, (stem, seconds))
    assert notebook.errors() == [], f"{notebook.name} raised in JupyterLab"
    notebook.screenshot_pages(shots / "after")
    reads_like_the_book(notebook, "after Run All")

    failures = []
    for index, explorer in enumerate(notebook.explorers(), start=1):
        try:
            before, after, latencies = notebook.move_slider(
                explorer, shots / f"explorer-{index}-before.png",
                shots / f"explorer-{index}-after.png")
        except AssertionError as error:
            failures.append(f"explorer {index}: {error}")
            continue
        median = statistics.median(latencies)
        record_property(LATENCY_KEY, (f"{stem} explorer {index} (median of {len(latencies)})",
                                      median))
        if before == after:
            failures.append(f"explorer {index}: the figure looks the same after the slider moved")
        if median >= LATENCY_LIMIT_MS:
            failures.append(f"explorer {index}: median {median:.0f} ms from key to new figure "
                            f"(limit {LATENCY_LIMIT_MS} ms; each press: "
                            f"{', '.join(f'{ms:.0f}' for ms in latencies)})")
    assert not failures, f"{notebook.name}: " + "; ".join(failures)

    name, right, wrong = ANSWERS[notebook.name]
    assert "✓ Correct" in notebook.run_new_cell(f'check("{name}", {right})')
    assert "✗ Not yet" in notebook.run_new_cell(f'check("{name}", {wrong})')


@pytest.mark.parametrize("notebook7", chapter_notebooks(), indirect=True)
def test_chapter_reads_in_plain_notebook_7(notebook7):
    reads_like_the_book(notebook7, "before Run All")
    notebook7.run_all()
    assert notebook7.errors() == [], f"{notebook7.name} raised in Notebook 7"
    reads_like_the_book(notebook7, "after Run All")


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
