"""The local edition: the chapter notebooks as a student opens them, without the book's build.

The chapters are written for Jupyter Book: numbers come from ``{glue:text}`` roles, figures
and equations are numbered by Sphinx, citations come from a ``.bib`` file, and exercises are
directives. Outside the book (JupyterLab, Notebook 7, VS Code, GitHub's viewer) none of that
resolves. This module writes a copy of every chapter in plain Jupyter Markdown:

* every glued number is written in, formatted as the text asks, from the committed outputs
  (the book's values: a note at the top of each notebook says so);
* ``{numref}``, ``{eq}``, ``{ref}`` become "Figure 2.3", "(2.4)", "Exercise 1.4", a section's
  title; ``{cite}`` becomes "(Pascanu et al., 2013)", with the references listed at the end;
* a displayed equation is wrapped in ``equation*`` (jupyterlab-myst numbers every bare ``$$``
  block on its own, beside the book's number); a labelled one gets ``\\tag{2.4}``; a figure's
  caption is written under it;
* an exercise becomes a bold heading over a quote, an admonition a quote;
* the student edition has no solutions; the instructor edition (``solutions=True``) keeps each
  as a closed ``<details>`` block of Markdown and code that Run All neither opens nor runs;
* each answer's placeholder comment says what its check accepts;
* each live explorer says what running its cell adds (its kernel-free chart, saved in the
  notebook, draws before anything runs).

Numbering follows the book: chapters in ``_toc.yml`` order, a section page sharing its
chapter's counters (figures, equations and exercises as ``chapter.k``).
"""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import exercises
from .editions import GATE, strip_notebook

GLUE_MIME = "application/papermill.record/text/plain"
# A role: {name}`content`
_ROLE = re.compile(r"\{(glue:text|numref|eq|cite:t|cite:p|cite|ref|doc|term)\}`([^`]*)`")
_MATH_LABEL = re.compile(r"^\$\$[ \t]*\(([\w-]+)\)[ \t]*$", re.MULTILINE)
# A displayed equation: $$ on a line of its own, the TeX, then $$ with an optional (label).
# (In a quote, as an exercise becomes, every line starts with the same "> ".)
_DISPLAY = re.compile(r"^(?P<quote>(?:> ?)*)\$\$[ \t]*\n(?P<tex>.*?)\n(?P=quote)\$\$[ \t]*"
                      r"(?:\((?P<label>[\w-]+)\))?[ \t]*$", re.MULTILINE | re.DOTALL)
_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
                        r"(?P<body>.*?)^(?P=fence)[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_TARGET = re.compile(r"^\(([\w-]+)\)=[ \t]*\n", re.MULTILINE)
_COMMENT = re.compile(r"^%[^\n]*\n?", re.MULTILINE)
# An answer's placeholder line: name = ...  # what to give
_PLACEHOLDER = re.compile(r"^(?P<name>\w+) = \.\.\.(?P<comment>[ \t]*#[^\n]*)?$", re.MULTILINE)
_HEADING = re.compile(r"^#+[ \t]+(.+)$", re.MULTILINE)
_OPTION = re.compile(r"^:([\w-]+):[ \t]*(.*)$")
BOOK_NOTE = ("> **About the numbers in this text.** They are the book's, computed when the "
             "course was built and written in here. When you change a parameter and run a "
             "cell again, your own results appear in the cell's output below it; the text "
             "keeps the book's.")
EXPLORER_NOTE = ("*Run the next cell for the interactive explorer: its sliders need the "
                 "running kernel (Run All runs it too).*")


class LocalEditionError(ValueError):
    """The sources refer to something they do not define (a label, a glued name, a key)."""


@dataclass
class Chapter:
    """Numbers of one chapter's figures, equations and exercises, by label."""

    number: str
    labels: dict = field(default_factory=dict)  # label -> "Figure 4.3" / "(4.3)" / ...
    counts: dict = field(default_factory=lambda: {"figure": 0, "equation": 0, "exercise": 0})

    def add(self, kind, label):
        self.counts[kind] += 1
        number = f"{self.number}.{self.counts[kind]}"
        self.labels[label] = {"figure": f"Figure {number}", "equation": f"({number})",
                              "exercise": f"Exercise {number}"}[kind]
        return number


def toc_documents(root):
    """``[(docname, chapter number or None)]`` in ``_toc.yml`` order; sections share theirs."""
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    documents, count = [], 0
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            number = None
            if part.get("numbered"):
                count += 1
                number = str(count)
            documents.append((chapter["file"], number))
            documents += [(section["file"], number) for section in chapter.get("sections", [])]
    return documents


def _exercise_label(body):
    for line in body.splitlines():
        option = _OPTION.match(line)
        if option and option.group(1) == "label":
            return option.group(2).strip()
    return None


class BookIndex:
    """Everything a chapter refers to: numbers, section titles, glued values, references."""

    def __init__(self, root):
        self.root = Path(root)
        self.numbers = {}    # label -> text ("Figure 4.3", "(4.3)", "Exercise 4.3", a title)
        self.glued = {}      # docname -> {name: text/plain}
        self.notebooks = {}  # docname -> notebook
        chapters = {}
        for docname, number in toc_documents(self.root):
            path = self.root / f"{docname}.ipynb"
            if not path.is_file():
                continue
            notebook = nbformat.read(path, as_version=4)
            self.notebooks[docname] = notebook
            chapter = chapters.setdefault(number, Chapter(number or ""))
            self._number(notebook, chapter)
            self.glued[docname] = _glued_values(notebook)
        for chapter in chapters.values():
            self.numbers.update(chapter.labels)
        self.references = _bibliography(self.root)

    def _number(self, notebook, chapter):
        for cell in notebook.cells:
            if cell.cell_type == "code":
                name = cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
                if name:
                    chapter.add("figure", name)
                continue
            pending = None
            for line in cell.source.splitlines(keepends=True):
                target = _TARGET.match(line)
                if target:
                    pending = target.group(1)
                heading = _HEADING.match(line)
                if heading and pending:
                    self.numbers[pending] = heading.group(1).strip()
                    pending = None
            for match in sorted([*_MATH_LABEL.finditer(cell.source),
                                 *_DIRECTIVE.finditer(cell.source)], key=lambda m: m.start()):
                if match.re is _MATH_LABEL:
                    chapter.add("equation", match.group(1))
                elif match.group("name") == "exercise":
                    label = _exercise_label(match.group("body"))
                    if label:
                        chapter.add("exercise", label)


def _glued_values(notebook):
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = output.get("data", {})
                values[name] = data.get(GLUE_MIME, data.get("text/plain", ""))
    return values


def _format_glued(text, spec):
    """Format a glued ``text/plain`` as ``{glue:text}`name:spec``` does in the book."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not spec:
        return str(value)
    kind = spec[-1]
    if kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    elif kind == "s":
        value = str(value)
    return format(value, spec)


@dataclass(frozen=True)
class Reference:
    key: str
    authors: list
    year: str
    entry: str  # the formatted entry for the reference list

    def cite(self, textual=False):
        names = self.authors
        who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
               else f"{names[0]} et al.")
        return f"{who} ({self.year})" if textual else f"{who}, {self.year}"


def _bibliography(root):
    """Every entry of the book's ``.bib`` files (``_config.yml``'s ``bibtex_bibfiles``)."""
    import yaml
    from pybtex.database import parse_file

    config = yaml.safe_load((Path(root) / "_config.yml").read_text())
    references = {}
    for name in config.get("bibtex_bibfiles", []):
        for key, entry in parse_file(str(Path(root) / name)).entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            surnames = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
            if not surnames:
                surnames = [_plain(entry.fields.get("organization", entry.fields.get(
                    "title", key)))]
            fields = {k.lower(): _plain(v) for k, v in entry.fields.items()}
            year = fields.get("year", "n.d.")
            where = fields.get("journal") or fields.get("booktitle") or fields.get(
                "publisher") or fields.get("howpublished") or fields.get("note", "")
            text = f"{', '.join(surnames)} ({year}). {fields.get('title', key)}."
            if where:
                text += f" *{where}*."
            if fields.get("url"):
                text += f" <{fields['url']}>"
            references[key] = Reference(key, surnames, year, text)
    return references


def _plain(text):
    """BibTeX text without braces and the commonest LaTeX accents and escapes."""
    text = re.sub(r"\\[`'^\"~=.]\{?(\w)\}?", r"\1", text)
    text = text.replace("\\&", "&").replace("--", "–").replace("~", " ")
    return re.sub(r"[{}]", "", text).strip()


class _Localiser:
    """Rewrites one notebook's Markdown for the local edition."""

    def __init__(self, index, docname):
        self.index, self.docname = index, docname
        self.cited = []

    def _missing(self, what):
        raise LocalEditionError(f"{self.docname}: {what}")

    def role(self, match):
        kind, content = match.groups()
        if kind == "glue:text":
            key, _, spec = content.partition(":")
            doc, _, name = key.rpartition("::")
            values = self.index.glued.get(doc or self.docname, {})
            if name not in values:
                self._missing(f"nothing glued under {name!r}")
            return _format_glued(values[name], spec)
        text, label = _explicit_target(content)
        if kind in ("numref", "eq", "ref"):
            if label not in self.index.numbers:
                self._missing(f"no figure, equation, exercise or section labelled {label!r}")
            number = self.index.numbers[label]
            if kind == "numref" and text:
                return text.replace("%s", number.split(" ")[-1])
            return text or number
        if kind.startswith("cite"):
            keys = [k.strip() for k in content.split(",")]
            for key in keys:
                if key not in self.index.references:
                    self._missing(f"no reference with the key {key!r}")
                if key not in self.cited:
                    self.cited.append(key)
            refs = [self.index.references[k] for k in keys]
            if kind == "cite:t":
                return ", ".join(r.cite(textual=True) for r in refs)
            return "(" + "; ".join(r.cite() for r in refs) + ")"
        if kind == "doc":
            target = (Path(self.docname).parent / label).as_posix()
            title = text or _title(self.index.notebooks.get(_normal(target)))
            return f"[{title or label}]({Path(label).name}.ipynb)"
        return f"*{text or label}*"  # a glossary term

    def directive(self, match):
        name, arg, body = match.group("name"), match.group("arg").strip(), match.group("body")
        options = {}
        lines = body.splitlines()
        while lines and _OPTION.match(lines[0]):
            option = _OPTION.match(lines.pop(0))
            options[option.group(1)] = option.group(2).strip()
        text = "\n".join(lines).strip("\n")
        if name == "exercise":
            number = self.index.numbers.get(options.get("label", ""), "Exercise")
            heading = f"**{number}" + (f" · {arg}" if arg else "") + "**"
            return f"{heading}\n\n{_quote(text)}\n"
        if name in ("admonition", "note", "tip", "warning", "important"):
            title = arg or name.capitalize()
            return f"> **{title}**\n>\n{_quote(text)}\n"
        self._missing(f"a {{{name}}} directive has no plain-Markdown form")

    def markdown(self, source):
        source = _COMMENT.sub("", _TARGET.sub("", source))
        source = _DIRECTIVE.sub(self.directive, source)
        source = _DISPLAY.sub(self.display, source)
        return _ROLE.sub(self.role, source)

    def display(self, match):
        r"""``$$\begin{equation*} TeX \tag{n} \end{equation*}$$``: MathJax (Notebook 7, VS Code,
        GitHub) and jupyterlab-myst both show the tag, and myst does not number it again."""
        quote, label = match.group("quote"), match.group("label")
        tag = f" \\tag{{{self._equation(label)}}}" if label else ""
        return "\n".join(quote + line for line in (
            "$$", "\\begin{equation*}", match.group("tex").removeprefix(quote) + tag,
            "\\end{equation*}", "$$"))

    def _equation(self, label):
        return self.index.numbers[label].strip("()")


def _explicit_target(content):
    """``text <label>`` → (text, label); a bare ``label`` → ("", label)."""
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content.strip())
    return (match.group(1), match.group(2)) if match else ("", content.strip())


def _normal(path):
    return re.sub(r"[^/]+/\.\./", "", path)


def _title(notebook):
    if notebook is None:
        return ""
    for cell in notebook.cells:
        heading = _HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if heading:
            return heading.group(1).strip()
    return ""


def _quote(text):
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _pieces(notebook):
    """The notebook as ``(inside a solution?, cell)`` pieces, a gate cell split at its gates."""
    inside = False
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            yield inside, cell
            continue
        position = 0
        for gate in GATE.finditer(cell.source):
            text = cell.source[position:gate.start()]
            if text.strip():
                yield inside, nbformat.v4.new_markdown_cell(text)
            inside, position = gate.group(2) == "start", gate.end()
        text = cell.source[position:]
        if text.strip():
            yield inside, (cell if position == 0 else nbformat.v4.new_markdown_cell(text))


def _solution_block(cells, localiser):
    """One closed ``<details>`` Markdown cell holding a gated solution's text and code."""
    parts = []
    for cell in cells:
        if cell.cell_type == "markdown":
            parts.append(localiser.markdown(cell.source).strip())
        else:
            parts.append(f"```python\n{cell.source.strip()}\n```")
    body = "\n\n".join(part for part in parts if part)
    return nbformat.v4.new_markdown_cell(
        f"<details>\n<summary>Solution (click to open)</summary>\n\n{body}\n\n</details>")


def _is_explorer(cell):
    return any(output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
               for output in cell.get("outputs", []))


def localise(index, docname, solutions=False):
    """The local edition of one chapter (a new notebook)."""
    notebook = index.notebooks[docname]
    if not solutions:
        notebook = strip_notebook(notebook, docname)
    localiser = _Localiser(index, docname)
    cells, solution = [nbformat.v4.new_markdown_cell(BOOK_NOTE)], []
    for inside, cell in _pieces(notebook):
        if inside:
            solution.append(cell)
            continue
        if solution:
            cells.append(_solution_block(solution, localiser))
            solution = []
        cells += _local_cells(cell, localiser)
    if solution:
        cells.append(_solution_block(solution, localiser))
    if localiser.cited:
        refs = index.references
        entries = "\n".join(f"- {refs[key].entry}" for key in sorted(
            localiser.cited, key=lambda key: (refs[key].authors, refs[key].year)))
        cells.append(nbformat.v4.new_markdown_cell(f"## References\n\n{entries}"))
    local = nbformat.v4.new_notebook(cells=cells, metadata=dict(notebook.metadata))
    local.metadata.pop("widgets", None)
    return local


def _local_cells(cell, localiser):
    if cell.cell_type == "markdown":
        return [nbformat.v4.new_markdown_cell(localiser.markdown(cell.source))]
    code = nbformat.from_dict(dict(cell))
    code.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags", "jupyter")}
    tags = code.metadata.get("tags", [])
    if "remove-input" in tags or "remove-cell" in tags:
        code.metadata.setdefault("jupyter", {})["source_hidden"] = True
    code.source = state_accepted(code.source)
    out = []
    if _is_explorer(cell):
        code.outputs = []
        out.append(nbformat.v4.new_markdown_cell(EXPLORER_NOTE))
    else:
        code.outputs = [o for o in cell.outputs
                        if not o.get("metadata", {}).get("scrapbook")]
    out.append(code)
    figure = cell.metadata.get("mystnb", {}).get("figure", {})
    if figure.get("caption"):
        number = localiser.index.numbers[figure["name"]]
        out.append(nbformat.v4.new_markdown_cell(
            f"**{number}.** {localiser.markdown(figure['caption'])}"))
    return out


def state_accepted(source):
    """Each answer's placeholder says what its check accepts (``Exercise.accepts``):
    ``x = ...  # two numbers; accepted: rounded to your digits ...``."""

    def annotate(match):
        exercise = exercises.ALL.get(match.group("name"))
        if exercise is None or not exercise.accepts:
            return match.group(0)
        separator = "; " if match.group("comment") else "  # "
        return f"{match.group(0)}{separator}accepted: {exercise.accepts}"

    return _PLACEHOLDER.sub(annotate, source)


def write_local_edition(root, dest, solutions=False, keep_existing=False):
    """Write every chapter's local edition into ``dest``; returns the names left as they were.

    With ``keep_existing`` a notebook already in ``dest`` (a student's own copy) is kept.
    """
    index = BookIndex(root)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    kept = []
    for docname in index.notebooks:
        path = dest / f"{Path(docname).name}.ipynb"
        if keep_existing and path.exists():
            kept.append(path.name)
            continue
        nbformat.write(localise(index, docname, solutions=solutions), path)
    return kept


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m gradlab.local_edition",
        description="Write the chapters as plain notebooks for JupyterLab, Notebook 7 or VS Code.")
    parser.add_argument("src", help="the book's folder (holding _toc.yml)")
    parser.add_argument("dest", help="the folder to write the notebooks into")
    parser.add_argument("--solutions", action="store_true",
                        help="the instructor edition: solutions in closed dropdowns")
    parser.add_argument("--keep-existing", action="store_true",
                        help="leave notebooks already in DEST alone (a student's working copy)")
    args = parser.parse_args(argv)
    kept = write_local_edition(args.src, args.dest, solutions=args.solutions,
                               keep_existing=args.keep_existing)
    dest = args.dest
    edition = "instructor" if args.solutions else "student"
    print(f"Local {edition} edition in {dest}" + (f" (kept your copies of {', '.join(kept)}; "
                                                  "delete one to get it fresh)" if kept else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
