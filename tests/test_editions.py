"""Student edition (solutions removed) and solutions folded for JupyterLab."""

from pathlib import Path

import nbformat
import pytest

from gradlab import editions
from gradlab.editions import EditionError

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
START = "```{solution-start} ex-a\n:class: dropdown\n```"
END = "```{solution-end}\n```"


def notebook(*cells):
    """A notebook from ("md"|"code", source) pairs."""
    make = {"md": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    return nbformat.v4.new_notebook(cells=[make[kind](source) for kind, source in cells])


def sources(nb):
    return [cell.source for cell in nb.cells]


def test_gated_solution_and_the_cells_between_are_removed():
    nb = notebook(("md", "```{exercise} E\n:label: ex-a\nHow much?\n```"), ("code", "x = ..."),
                  ("md", START), ("md", "The answer is 4."), ("code", "x = 4"), ("md", END),
                  ("md", "## Next section"))
    stripped = editions.strip_notebook(nb)
    assert sources(stripped) == [nb.cells[0].source, "x = ...", "## Next section"]
    assert len(nb.cells) == 7  # the original is left alone


def test_gate_sharing_a_cell_with_text_keeps_the_text():
    nb = notebook(("md", "Exercise text.\n\n" + START + "\nSecret one."),
                  ("md", "Secret two.\n" + END + "\n\nAfter the solution."))
    assert sources(editions.strip_notebook(nb)) == ["Exercise text.", "After the solution."]


def test_plain_solution_directive_is_removed_from_markdown():
    text = "Before.\n\n```{solution} ex-a\n:class: dropdown\nSecret.\n```\n\nAfter.\n"
    assert editions.strip_markdown(text) == "Before.\n\n\nAfter.\n"
    colon = "Before.\n:::{solution} ex-a\nSecret.\n:::\nAfter.\n"
    assert "Secret" not in editions.strip_markdown(colon)


@pytest.mark.parametrize("cells, problem", [
    ([("md", START), ("md", "secret")], "never closed"),
    ([("md", END)], "never opened"),
    ([("md", START), ("md", START), ("md", END)], "inside the one opened in cell 1"),
])
def test_unbalanced_gates_are_refused(cells, problem):
    with pytest.raises(EditionError, match=problem):
        editions.strip_notebook(notebook(*cells), "nb")


def small_book(folder):
    (folder / "chapters").mkdir(parents=True)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (folder / "intro.md").write_text("Intro.\n\n```{solution} ex-a\nSecret in a page.\n```\n")
    nb = notebook(("md", START), ("md", "Secret in a notebook."), ("md", END), ("code", "x"))
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="Secret in an output.")]
    nbformat.write(nb, folder / "chapters" / "c.ipynb")
    (folder / "_build").mkdir()
    (folder / "_build" / "junk.txt").write_text("not copied")


def test_student_edition_of_a_small_book(tmp_path):
    small_book(tmp_path / "src")
    changed = editions.make_student_edition(tmp_path / "src", tmp_path / "out")
    assert sorted(map(str, changed)) == ["chapters/c.ipynb", "intro.md"]
    texts = [p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert not any("Secret" in text for text in texts)
    assert not (tmp_path / "out" / "_build").exists()
    # a previous edition may be replaced, anything else is refused
    editions.make_student_edition(tmp_path / "src", tmp_path / "out")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(EditionError, match="not a student edition"):
        editions.make_student_edition(tmp_path / "src", tmp_path / "other")
    with pytest.raises(EditionError, match="no _toc.yml"):
        editions.make_student_edition(tmp_path / "other", tmp_path / "out2")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_keeps_its_exercises_and_loses_its_solutions(path):
    nb = nbformat.read(path, as_version=4)
    stripped = editions.strip_notebook(nb, path.name)
    text = "\n".join(sources(stripped))
    assert "{solution" not in text
    assert text.count("{exercise}") == "\n".join(sources(nb)).count("{exercise}")


def test_normalise_drops_timings_widget_state_and_the_patch_version_only():
    nb = nbformat.v4.new_notebook(metadata={
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}},
        "language_info": {"name": "python", "version": "3.11.7"},
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    cell = nbformat.v4.new_code_cell("1 + 1", metadata={
        "tags": ["remove-input"], "execution": {"iopub.execute_input": "2026-12-01T09:00:00Z"}})
    view = {"model_id": "0123456789abcdef0123456789abcdef", "version_major": 2}
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        editions.WIDGET_VIEW: dict(view), "text/plain": "interactive(...)"})]
    nb.cells = [cell]
    editions.normalise(nb)
    assert "widgets" not in nb.metadata
    assert nb.metadata.language_info == {"name": "python"}
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].metadata == {"tags": ["remove-input"]}
    model_id = nb.cells[0].outputs[0].data[editions.WIDGET_VIEW]["model_id"]
    assert model_id != view["model_id"] and len(model_id) == 32
    other = nbformat.from_dict(nb)
    other.cells[0].outputs[0].data[editions.WIDGET_VIEW]["model_id"] = "f" * 32  # another run
    assert editions.normalise(other) == nb


def test_normalise_joins_a_stream_split_by_the_kernel_flushing():
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="b\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warn\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    nb = nbformat.v4.new_notebook(cells=[cell])
    editions.normalise(nb)
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [
        ("stdout", "a\nb\n"), ("stderr", "warn\n"), ("stdout", "c\n")]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_chapter_is_light(path):
    """What a student needs to read the notebook before running it, no more (no twins, no
    widget state): under 600 KB."""
    assert path.stat().st_size < 600_000, f"{path.name}: {path.stat().st_size} bytes"
