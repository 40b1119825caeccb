"""The student edition's website (`make student`) holds no solution text anywhere.

Every file of the build is searched: pages, `_sources` and downloadable notebooks. The
solution texts come from the instructor notebooks: each line of a solution that appears
nowhere else in its chapter.
"""

import html
import re

import nbformat
import pytest

from browsing import ROOT

from gradlab import editions

STUDENT_SITE = ROOT / "_build" / "student" / "_build" / "html"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def output_text(output):
    """What an output shows as text: a stream, or a result's plain-text form."""
    text = output.get("text") or output.get("data", {}).get("text/plain", "")
    return "".join(text)


def solution_lines(path):
    """Lines (code, and plain prose of 30+ characters) found only inside the solutions.

    A line that also shows outside them (in a cell or its output, such as a hint) is
    not a solution's secret.
    """
    notebook = nbformat.read(path, as_version=4)
    inside = set(editions.solution_cells(notebook))
    outside_text = "\n".join(text for i, cell in enumerate(notebook.cells) if i not in inside
                             for text in [cell.source, *map(output_text, cell.get("outputs", []))])
    lines = set()
    for index in inside:
        cell = notebook.cells[index]
        for line in cell.source.splitlines():
            line = line.strip()
            prose = cell.cell_type == "markdown" and not re.search(r"[$`{}*\\|_\[]", line)
            if (cell.cell_type == "code" and len(line) > 12 or prose and len(line) >= 30) \
                    and line not in outside_text:
                lines.add(line if cell.cell_type == "code" else line[:60])
    return lines


def visible_text(path):
    """A built file as the reader sees it: tags removed and entities decoded for HTML."""
    text = path.read_text("utf-8", errors="replace")
    if path.suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


@pytest.fixture(scope="module")
def student_files():
    if not (STUDENT_SITE / "index.html").is_file():
        pytest.fail(f"no student edition at {STUDENT_SITE}: run `make student` first")
    return [p for p in STUDENT_SITE.rglob("*")
            if p.is_file() and p.suffix in (".html", ".ipynb", ".md", ".txt", ".js")
            and not p.is_relative_to(STUDENT_SITE / "_static")]


def test_no_solution_blocks_in_the_student_site(student_files):
    marked = [p.relative_to(STUDENT_SITE).as_posix() for p in student_files
              if re.search(r'class="solution|solution-start|\{solution', p.read_text("utf-8",
                                                                                  "replace"))]
    assert marked == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_text_in_the_student_site(student_files, chapter):
    lines = solution_lines(chapter)
    assert lines, f"{chapter.name} has no solution text to look for"
    mine = [p for p in student_files if chapter.stem in p.name]
    assert any(p.suffix == ".html" for p in mine), f"no page for {chapter.stem}"
    leaks = [(p.relative_to(STUDENT_SITE).as_posix(), line) for p in mine
             for line in lines if line in visible_text(p)]
    assert leaks == []


def test_the_instructor_site_does_show_the_solutions():
    """The same search finds the solutions in the default build: it can fail."""
    page = ROOT / "_build" / "html" / "chapters" / "05_exercises.html"
    assert any(line in visible_text(page) for line in solution_lines(
        ROOT / "chapters" / "05_exercises.ipynb"))
