"""Editions of the book: the student edition, and solutions collapsed in JupyterLab.

``python -m gradlab.editions student SRC_DIR DEST_DIR`` makes the student edition;
``python -m gradlab.editions collapse NOTEBOOK...`` folds the solutions for JupyterLab;
``python -m gradlab.editions normalise NOTEBOOK...`` drops what a refresh on another machine
would change without changing the notebook (timings, saved widget state, Python's patch version).

Copies the book sources from ``SRC_DIR`` to ``DEST_DIR`` (without ``.git``, builds,
virtual environments and caches) and removes every solution from the chapter
notebooks and MyST pages:

* a gated solution, from the markdown cell that opens ``{solution-start}`` to the
  cell that holds ``{solution-end}``, both included, with every cell in between;
* a plain ``{solution}`` directive inside a markdown cell or a ``.md`` page.

Exercises, placeholders and checks stay; code outputs are cleared, so that no output
computed from a solution reaches the students (building the website runs them again). Building the book from ``DEST_DIR`` gives a
website with no solution text in its pages, its ``_sources`` or its downloads
(sphinx-exercise's ``hide_solutions`` cannot do this: it fails on gated solutions).
The instructor edition is the book itself, built from ``SRC_DIR``.

JupyterLab (with jupyterlab-myst) draws a gated solution's gates as bars but shows the
cells between them in full; ``collapse`` marks those cells ``source_hidden`` (and a code
cell's outputs ``outputs_hidden``), with a first line that gives nothing away, so a student
sees a folded solution and opens it on purpose. The website ignores this metadata.
"""

import argparse
import hashlib
import re
import shutil
import sys
from pathlib import Path

import nbformat

MARKER_FILE = ".gradlab-student-edition"
SKIP = (".git", "_build", ".venv", "venv", ".pytest_cache", ".hypothesis", "__pycache__",
        ".ipynb_checkpoints", ".jupyter_cache", "*.egg-info")
# A whole gate directive: its opening line, its options, its closing fence.
GATE = re.compile(r"^[ \t]*(`{3,}|:{3,})[ \t]*\{solution-(start|end)\}[^\n]*\n"
                   r".*?^[ \t]*\1[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_PLAIN = re.compile(r"^([ \t]*)(`{3,}|:{3,})\s*\{solution\}.*?^\1\2[ \t]*$\n?",
                    re.MULTILINE | re.DOTALL)


class EditionError(ValueError):
    """The sources cannot be turned into a student edition (for example an unclosed gate)."""


def strip_markdown(text):
    """Remove every plain ``{solution}`` directive block from MyST text."""
    return _PLAIN.sub("", text)


def strip_notebook(notebook, name="notebook"):
    """Return a copy of ``notebook`` without solutions; raise on unbalanced gates.

    A gate may share a markdown cell with other text (an exercise before
    ``{solution-start}``, the end of a solution before ``{solution-end}``): only
    the text between the gates goes; a cell left blank goes too.
    """
    kept, opened = [], None  # opened: (cell number, label) of the solution being removed
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            if opened is None:
                kept.append(cell)
            continue
        pieces, position = [], 0
        for gate in GATE.finditer(cell.source):
            if opened is None:
                pieces.append(cell.source[position:gate.start()])
            if gate.group(2) == "start":
                if opened is not None:
                    raise EditionError(f"{name}: cell {index + 1} opens a solution inside the "
                                       f"one opened in cell {opened + 1}")
                opened = index
            elif opened is None:
                raise EditionError(f"{name}: cell {index + 1} closes a solution that was "
                                   "never opened")
            else:
                opened = None
            position = gate.end()
        if opened is None:
            pieces.append(cell.source[position:])
        text = strip_markdown("".join(pieces))
        if text.strip():
            kept.append(nbformat.from_dict(dict(cell, source=text.strip("\n"))))
    if opened is not None:
        raise EditionError(f"{name}: the solution opened in cell {opened + 1} is never closed")
    stripped = nbformat.from_dict(dict(notebook))
    stripped.cells = kept
    return stripped


def solution_cells(notebook):
    """Indices of the cells that lie wholly inside a gated solution (between its gate cells)."""
    inside, opened = [], False
    for index, cell in enumerate(notebook.cells):
        gates = ([gate.group(2) for gate in GATE.finditer(cell.source)]
                 if cell.cell_type == "markdown" else [])
        if opened and not gates:
            inside.append(index)
        for gate in gates:
            opened = gate == "start"
    return inside


# A folded cell still shows its first source line: make it one that gives nothing away.
# (A MyST comment in markdown, a Python comment in code; the website shows neither line.)
FOLDED_FIRST_LINE = {"markdown": "% Solution: unfold this cell to read it.",
                     "code": "# Solution: unfold this cell to read it."}


def collapse_solutions(notebook):
    """Fold every cell inside a gated solution in JupyterLab; returns their indices.

    Each such cell gets ``source_hidden`` (a code cell also ``outputs_hidden``) and
    ``FOLDED_FIRST_LINE`` as its first line, once.
    """
    inside = solution_cells(notebook)
    for index in inside:
        cell = notebook.cells[index]
        folded = {"source_hidden": True}
        if cell.cell_type == "code":
            folded["outputs_hidden"] = True
        cell.metadata.setdefault("jupyter", {}).update(folded)
        first_line = FOLDED_FIRST_LINE[cell.cell_type]
        if not cell.source.startswith(first_line):
            cell.source = f"{first_line}\n{cell.source}"
    return inside


def clear_outputs(notebook):
    """Remove every code cell's outputs and execution count (the build runs them again)."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalise(notebook):
    """Drop volatile metadata: cell timings, saved widget state, Python's exact version; give
    each widget view a model id made from its cell's id (a run draws a random one); join
    consecutive stream outputs of one stream (the kernel's flush timing splits them).

    JupyterLab never uses the saved widget state, and the website's build makes its own.
    """
    notebook.metadata.pop("widgets", None)
    notebook.metadata.get("language_info", {}).pop("version", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        views = [output.data[WIDGET_VIEW] for output in cell.get("outputs", [])
                 if WIDGET_VIEW in output.get("data", {})]
        for number, view in enumerate(views):
            view["model_id"] = hashlib.md5(f"{cell.get('id')}/{number}".encode()).hexdigest()
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
    return notebook


def _joined_streams(outputs):
    joined = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            joined.append(output)
    return joined


def _rewrite(paths, change):
    """Apply ``change`` to each notebook in place, writing only those it changed."""
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        before = nbformat.writes(notebook)
        change(notebook)
        if nbformat.writes(notebook) != before:
            nbformat.write(notebook, path)


def make_student_edition(src, dest):
    """Copy ``src`` to ``dest`` with every solution removed; returns the files changed."""
    src, dest = Path(src).resolve(), Path(dest).resolve()
    if not (src / "_toc.yml").is_file():
        raise EditionError(f"{src} is not a book: it has no _toc.yml")
    if dest.exists():
        if any(dest.iterdir()) and not (dest / MARKER_FILE).exists():
            raise EditionError(f"{dest} exists and is not a student edition; choose an empty "
                               "or new folder")
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SKIP))
    (dest / MARKER_FILE).write_text("made by python -m gradlab.editions student\n")
    changed = []
    for path in sorted(dest.rglob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        stripped = clear_outputs(strip_notebook(notebook, str(path.relative_to(dest))))
        if len(stripped.cells) != len(notebook.cells) or stripped != notebook:
            nbformat.write(stripped, path)
            changed.append(path.relative_to(dest))
    for path in sorted(dest.rglob("*.md")):
        text = path.read_text()
        if strip_markdown(text) != text:
            path.write_text(strip_markdown(text))
            changed.append(path.relative_to(dest))
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gradlab.editions",
                                     description="Make an edition of the book's sources.")
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="copy the book without its solutions")
    student.add_argument("src", help="the book's folder (holding _toc.yml)")
    student.add_argument("dest", help="where to write the edition (new or a previous edition)")
    collapse = commands.add_parser("collapse", help="fold the solutions for JupyterLab")
    collapse.add_argument("notebooks", nargs="+", help="notebooks to change in place")
    normal = commands.add_parser("normalise", help="drop volatile metadata after a refresh")
    normal.add_argument("notebooks", nargs="+", help="notebooks to change in place")
    args = parser.parse_args(argv)
    if args.command in ("collapse", "normalise"):
        _rewrite(args.notebooks, collapse_solutions if args.command == "collapse" else normalise)
        return 0
    try:
        changed = make_student_edition(args.src, args.dest)
    except EditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Student edition in {args.dest}: solutions removed from {len(changed)} file(s)")
    for path in changed:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
