"""The course's exercises, one module per chapter, registered with ``gradlab.checks`` on import."""

from . import ch5  # noqa: F401
