"""The course's exercises, one module per chapter, registered with ``gradlab.checks`` on import."""

from . import ch1, ch2, ch3, ch4, ch5  # noqa: F401
