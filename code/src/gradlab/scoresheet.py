"""The score sheet: grades where people and spreadsheets read them (clean, atomic, no formulas).

Every text that comes from a submission (its file name, an error message) goes through
``clean`` before it is printed or written: control and format characters (ANSI escape
sequences, carriage returns, bidirectional overrides) are removed and the length is
capped. A CSV cell that a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'``. The CSV is
rewritten whole after every graded notebook, through a temporary file and
``os.replace``, so it is always complete up to the last row known.
"""

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Row:
    """One submission's result: 1/0 per scored exercise, messages, and why grading was partial."""

    submission: str
    scores: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    @property
    def total(self):
        return sum(self.scores.values())


def clean(text, limit=300):
    """``text`` without escape sequences, control or format characters; at most ``limit`` long."""
    text = _ANSI.sub("", str(text))
    kept = "".join(" " if ch in "\n\t\r" else ch for ch in text
                   if ch in "\n\t\r" or unicodedata.category(ch) not in ("Cc", "Cf"))
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[:limit - 1] + "…"


def cell(value):
    """A CSV cell that no spreadsheet evaluates."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(out, names, rows):
    """Replace ``out`` atomically with the table of ``rows`` (sorted by submission)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", *names, "total", "error"])
    for row in sorted(rows, key=lambda r: r.submission):
        writer.writerow([cell(row.submission), *(row.scores[n] for n in names), row.total,
                         cell("; ".join(row.errors))])
    temporary = f"{out}.{os.getpid()}.tmp"
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, out)


def progress_line(done, total, row, names, seconds):
    """One line per graded notebook: position, name, score, time, first problem."""
    line = (f"[{done}/{total}] {row.submission}: {row.total}/{len(names)} "
            f"({seconds:.1f} s)")
    return line + (f" - {row.errors[0]}" if row.errors else "")


def summary(names, rows):
    """A printable summary: mean score per exercise, then every submission with a problem."""
    if not rows:
        return "No submissions found."
    width = max(len(n) for n in names)
    lines = [f"{len(rows)} submission(s); mean total {sum(r.total for r in rows) / len(rows):.2f}"
             f" of {len(names)}", "Mean score per exercise:"]
    lines += [f"  {n:<{width}}  {sum(r.scores[n] for r in rows) / len(rows):.2f}" for n in names]
    problems = sorted((r for r in rows if r.errors), key=lambda r: r.submission)
    if problems:
        lines.append("Not fully graded:")
        lines += [f"  {r.submission}: {'; '.join(r.errors)}" for r in problems]
    return "\n".join(lines)
