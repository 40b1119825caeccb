"""The local edition: plain notebooks in which every number, reference and exercise reads."""

import re
from pathlib import Path

import nbformat
import pytest

from gradlab import editions, local_edition
from gradlab.local_edition import LocalEditionError

ROOT = Path(__file__).resolve().parents[1]
# What must never reach a local notebook's Markdown: a role, a directive, a label, a gate.
UNRESOLVED = re.compile(r"\{(glue|numref|eq|cite|ref|doc|term)[:}]|\{[\w-]+\}`|^[`:]{3,}\{"
                        r"|:label:|\$\$ *\(|^\([\w-]+\)=|\{solution", re.MULTILINE)

TOC = """format: jb-book
root: intro
parts:
  - caption: Part
    numbered: true
    chapters:
      - file: chapters/one
      - file: chapters/two
        sections:
          - file: chapters/two_more
"""
CONFIG = "title: t\nbibtex_bibfiles:\n  - refs.bib\n"
BIB = """@inproceedings{pascanu2013difficulty,
  author = {Pascanu, Razvan and Mikolov, Tomas and Bengio, Yoshua},
  title = {On the difficulty of training recurrent neural networks},
  booktitle = {ICML}, year = {2013}}
@article{solo2020, author = {Solo, Han}, title = {Alone}, journal = {J}, year = {2020},
  url = {https://example.org/solo}}
"""


def glued_cell(name, text):
    cell = nbformat.v4.new_code_cell("report.glue(...)")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={local_edition.GLUE_MIME: text},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})]
    return cell


def figure_cell(name, caption):
    return nbformat.v4.new_code_cell("plot()", metadata={
        "mystnb": {"figure": {"name": name, "caption": caption}}})


@pytest.fixture
def book(tmp_path):
    (tmp_path / "_toc.yml").write_text(TOC)
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "refs.bib").write_text(BIB)
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    md = nbformat.v4.new_markdown_cell
    notebooks = {
        "one": [md("# One\n\n$$\na = b\n$$ (eq-a)\n\nSee {eq}`eq-a` and {numref}`fig-a`."),
                figure_cell("fig-a", "The first figure.")],
        "two": [md("# Two\n\n$$\nc = d\n$$ (eq-c)\n\n(sec-x)=\n## A section\n"),
                glued_cell("loss", "0.123456"), figure_cell("fig-b", "Loss {glue:text}`loss:.2f`."),
                md("```{exercise} Try it\n:label: ex-two\n\nDo {cite}`pascanu2013difficulty`.\n```"),
                md("```{solution-start} ex-two\n:class: dropdown\n```\nThe answer is 4."),
                nbformat.v4.new_code_cell("x = 4"),
                md("```{solution-end}\n```\nAfter: {ref}`sec-x`, {ref}`ex-two`, {cite:t}`solo2020`.")],
        "two_more": [md("# More\n\n$$\ne = f\n$$ (eq-e)\n\n{numref}`fig-c`, "
                        "{doc}`two`, {term}`clip rate`."),
                     figure_cell("fig-c", "Third."), md("```{admonition} Note\nBe careful.\n```")],
    }
    for name, cells in notebooks.items():
        nbformat.write(nbformat.v4.new_notebook(cells=cells), chapters / f"{name}.ipynb")
    return tmp_path


def markdown(notebook):
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_numbers_follow_the_book_and_a_section_page_shares_its_chapter(book):
    index = local_edition.BookIndex(book)
    assert index.numbers["eq-a"] == "(1.1)" and index.numbers["fig-a"] == "Figure 1.1"
    assert index.numbers["eq-e"] == "(2.2)" and index.numbers["fig-c"] == "Figure 2.2"
    assert index.numbers["ex-two"] == "Exercise 2.1" and index.numbers["sec-x"] == "A section"


def test_roles_become_text_and_captions_follow_their_figures(book):
    index = local_edition.BookIndex(book)
    one = markdown(local_edition.localise(index, "chapters/one"))
    assert "$$\n\\begin{equation*}\na = b \\tag{1.1}\n\\end{equation*}\n$$" in one
    assert "See (1.1) and Figure 1.1." in one
    assert "**Figure 1.1.** The first figure." in one
    two = local_edition.localise(index, "chapters/two")
    text = markdown(two)
    assert "**Figure 2.1.** Loss 0.12." in text
    assert "**Exercise 2.1 · Try it**\n\n> Do (Pascanu et al., 2013)." in text
    assert "After: A section, Exercise 2.1, Solo (2020)." in text
    assert "## References" in text and "<https://example.org/solo>" in text
    assert not UNRESOLVED.search(text)
    more = markdown(local_edition.localise(index, "chapters/two_more"))
    assert "Figure 2.2, [Two](two.ipynb), *clip rate*." in more
    assert "> **Note**\n>\n> Be careful." in more


def test_student_edition_has_no_solution_and_instructor_keeps_it_closed_and_unrunnable(book):
    index = local_edition.BookIndex(book)
    student = local_edition.localise(index, "chapters/two")
    assert "answer is 4" not in markdown(student)
    assert not any("x = 4" in c.source for c in student.cells)
    instructor = local_edition.localise(index, "chapters/two", solutions=True)
    block = next(c for c in instructor.cells if "<details>" in c.source)
    assert block.cell_type == "markdown"
    assert "The answer is 4." in block.source and "```python\nx = 4\n```" in block.source
    assert not any(c.cell_type == "code" and "x = 4" in c.source for c in instructor.cells)


def test_a_missing_name_label_or_key_is_an_error_that_names_it(book):
    path = book / "chapters" / "one.ipynb"
    for role, name in (("{glue:text}`nope:.2f`", "nope"), ("{numref}`fig-z`", "fig-z"),
                       ("{cite}`nobody1999`", "nobody1999")):
        notebook = nbformat.read(path, as_version=4)
        notebook.cells.append(nbformat.v4.new_markdown_cell(f"Text {role}."))
        nbformat.write(notebook, path)
        with pytest.raises(LocalEditionError, match=name):
            local_edition.localise(local_edition.BookIndex(book), "chapters/one")
        notebook.cells.pop()
        nbformat.write(notebook, path)


def test_keep_existing_leaves_a_students_copy_alone(book, tmp_path):
    dest = tmp_path / "lab"
    dest.mkdir()
    (dest / "one.ipynb").write_text("my work")
    kept = local_edition.write_local_edition(book, dest, keep_existing=True)
    assert kept == ["one.ipynb"] and (dest / "one.ipynb").read_text() == "my work"
    assert nbformat.read(dest / "two.ipynb", as_version=4).cells


@pytest.fixture(scope="module")
def course():
    return local_edition.BookIndex(ROOT)


@pytest.mark.parametrize("solutions", [False, True], ids=["student", "instructor"])
def test_every_chapter_reads_without_the_book(course, solutions):
    for docname in course.notebooks:
        local = local_edition.localise(course, docname, solutions=solutions)
        text = markdown(local)
        leftover = UNRESOLVED.search(text)
        assert not leftover, f"{docname}: {text[leftover.start() - 80:leftover.end() + 40]!r}"
        captions = sum(c.source.startswith("**Figure ") for c in local.cells)
        notebook = course.notebooks[docname]
        inside = set(editions.solution_cells(notebook))  # a solution's figure is not shown
        figures = sum(bool(c.metadata.get("mystnb", {}).get("figure"))
                      for i, c in enumerate(notebook.cells) if i not in inside)
        assert captions == figures, docname
        assert not any(o.get("data", {}).get("application/vnd.jupyter.widget-view+json")
                       for c in local.cells for o in c.get("outputs", []))
        assert "widgets" not in local.metadata


def test_the_student_edition_holds_no_solution_code(course):
    for docname, notebook in course.notebooks.items():
        inside = [notebook.cells[i] for i in editions.solution_cells(notebook)]
        secret = {line.strip() for cell in inside if cell.cell_type == "code"
                  for line in cell.source.splitlines() if len(line.strip()) > 12}
        outside = "\n".join(c.source for i, c in enumerate(notebook.cells)
                            if i not in editions.solution_cells(notebook))
        secret = {line for line in secret if line not in outside}
        local = local_edition.localise(course, docname)
        shown = "\n".join(c.source for c in local.cells)
        assert not [line for line in secret if line in shown], docname


def test_every_displayed_equation_is_unnumbered_for_myst_and_tagged_if_labelled(book):
    localiser = local_edition._Localiser(local_edition.BookIndex(book), "chapters/one")
    text = localiser.markdown("$$\nx = 1\n$$\n\n> quoted\n>\n> $$\n> y = 2\n> $$ (eq-a)\n")
    assert text == ("$$\n\\begin{equation*}\nx = 1\n\\end{equation*}\n$$\n\n"
                    "> quoted\n>\n> $$\n> \\begin{equation*}\n> y = 2 \\tag{1.1}\n"
                    "> \\end{equation*}\n> $$\n")


def test_placeholders_state_what_their_check_accepts():
    source = "depth_w3 = ...  # replace ... with your answer\ndepth_w09 = ...\nother = ...\n"
    stated = local_edition.state_accepted(source).splitlines()
    assert stated[0] == ("depth_w3 = ...  # replace ... with your answer; accepted: rounded to "
                         "your digits (at least 2 significant) or within a relative 1e-06")
    assert stated[1].startswith("depth_w09 = ...  # accepted: rounded to your digits")
    assert stated[2] == "other = ..."  # not an exercise
