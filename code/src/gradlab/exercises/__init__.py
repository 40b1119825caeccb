"""The course's exercises: one module per chapter notebook.

Each module names its notebook and chapter (``NOTEBOOK``, ``CHAPTER``) and lists its
``EXERCISES``; exercise names are unique across the course, so the names a notebook
checks tell which module it belongs to (``module_for``).
"""

from . import ch1, ch2, ch3, ch4, ch4x, ch5

MODULES = (ch1, ch2, ch3, ch4, ch4x, ch5)


def _index():
    found = {}
    for module in MODULES:
        for exercise in module.EXERCISES:
            if exercise.name in found:
                raise ValueError(f"two exercises are called {exercise.name!r}")
            found[exercise.name] = (exercise, module)
    return found


_INDEX = _index()
ALL = {name: exercise for name, (exercise, _) in _INDEX.items()}


def module_of(name):
    """The exercise module that defines exercise ``name`` (KeyError if none)."""
    return _INDEX[name][1]


def find_module(key):
    """The module named ``key``: its own name (``ch4x``) or its notebook's (``04_clipping``)."""
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        if key in (short, module.NOTEBOOK, module.NOTEBOOK.removesuffix(".ipynb")):
            return module
    known = ", ".join(m.NOTEBOOK.removesuffix(".ipynb") for m in MODULES)
    raise KeyError(f"no exercise module for {key!r}; known notebooks: {known}")


def scored(module):
    """The scored exercises of one module, in order."""
    return [exercise for exercise in module.EXERCISES if exercise.scored]
