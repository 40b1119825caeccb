"""Reading submitted notebooks safely, and telling which chapter notebook they answer.

Only regular files are read, opened without following symlinks and without blocking
(a FIFO or a device is refused, never read), and only up to ``MAX_BYTES``. The
notebook JSON is parsed in the grader, but nothing in it is executed here.

Exercise names are unique across the course, so the names passed to ``check("...")``
in a notebook's code cells tell which exercise module (``gradlab.exercises``) it
belongs to.
"""

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field

from . import exercises

MAX_BYTES = 8_000_000
_CHECKED = re.compile(r"""\bcheck\(\s*["']([A-Za-z0-9_]+)["']""")


class Refused(ValueError):
    """A submission that is not read: not a regular file, too large, not a notebook, or
    a notebook that still holds the instructor's solutions."""


SOLUTION_GATE = "{solution-start}"


@dataclass
class Submission:
    """A readable notebook: its file name, its code cells, and the exercise names it checks."""

    name: str
    cells: list = field(default_factory=list)

    @property
    def checked(self):
        return [m for cell in self.cells for m in _CHECKED.findall(cell)]


def read_bytes(path, max_bytes=MAX_BYTES):
    """The bytes of ``path`` if it is a regular file (not a symlink) of at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if os.path.islink(path):
            raise Refused("it is a symbolic link, not a regular file") from None
        raise Refused(f"it cannot be opened ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("it is not a regular file (a FIFO, a device or a folder)")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"it is larger than {max_bytes} bytes")
    return data


def load(path):
    """A ``Submission`` from ``path``; ``Refused`` saying why not."""
    import nbformat

    data = read_bytes(path)
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # bad UTF-8, bad JSON, too deep, not a notebook: all refused
        raise Refused(f"not a valid notebook ({type(error).__name__})") from None
    if any(cell.cell_type == "markdown" and SOLUTION_GATE in str(cell.source)
           for cell in notebook.cells):
        raise Refused("it still holds the solutions (a {solution-start} block): it was made "
                      "from the instructor's notebook; hand in your copy of the student "
                      "edition (make lab), with your own answers")
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    return Submission(os.path.basename(path), [c for c in cells if isinstance(c, str)])


def module_of(submission):
    """The exercise module most of the notebook's checked names belong to (None if none)."""
    votes = Counter(exercises.module_of(n) for n in submission.checked if n in exercises.ALL)
    return votes.most_common(1)[0][0] if votes else None


def majority_module(loaded):
    """The module most submissions answer; ``ValueError`` if none or if it is a tie."""
    votes = Counter(m for m in map(module_of, loaded) if m is not None).most_common(2)
    if not votes:
        raise ValueError("no submission calls check(...) on a known exercise; name the "
                         "notebook with --notebook")
    if len(votes) == 2 and votes[0][1] == votes[1][1]:
        raise ValueError(f"as many submissions answer {votes[0][0].NOTEBOOK} as "
                         f"{votes[1][0].NOTEBOOK}; name the notebook with --notebook")
    return votes[0][0]
