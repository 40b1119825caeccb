"""Answer checks in the notebooks: ``check(name, answer)``, ``hint(name)``, ``solution(name)``.

Every exercise has a short name, which is also the name of the variable (or function)
that holds the student's answer in the notebook::

    depth_w3 = ...            # the placeholder: "not attempted yet"
    check("depth_w3", depth_w3)

``check`` turns the answer into plain data (``gradlab.plain``) and judges that, as the
grader does outside its sandbox; a function answer is first called on the exercise's
inputs (``gradlab.harness``) in a child process with a time limit, here on fixed seeded
inputs so the feedback is reproducible, in the grader on fresh ones. It never raises on
an answer and never prints the expected value. Open questions are not scored: a text
answer is answered with a rubric. Solutions are part of the open package; some
exercises do not print theirs (``show_solution=False``), but a student can read them in
the source.
"""

import numpy as np

from . import exercises, harness, judging, plain
from .judging import FAIL, NOT_ATTEMPTED, OPEN, PASS  # noqa: F401  (the statuses, for callers)

NOTEBOOK_SEED = 2024  # the inputs of a function exercise in the notebook; the grader draws new
CALL_SECONDS = 10  # for all the calls of one function answer, in a child process
REGISTRY = exercises.ALL


def get(name):
    """The exercise called ``name``, or a KeyError listing the known names."""
    if name not in REGISTRY:
        raise KeyError(f"no exercise called {name!r}; known exercises: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def scored_names(chapter=None):
    """Names of the scored exercises, in course order (optionally of one chapter)."""
    return [e.name for m in exercises.MODULES if chapter in (None, m.CHAPTER)
            for e in exercises.scored(m)]


def evaluate(name, answer):
    """Judge ``answer`` the way the grader does and return a ``Result``; never raises."""
    exercise = get(name)
    try:
        if exercise.calls is None:
            return judging.verdict(exercise, plain.decode(plain.encode(answer)))
        cases = exercise.calls(np.random.default_rng(NOTEBOOK_SEED))
        args = [case.args for case in cases]
        text = harness.in_child(lambda: harness.call_all(answer, args), CALL_SECONDS)
        return judging.verdict(exercise, harness.read_calls(plain.parse(text), len(cases)),
                               cases)
    except plain.Unreadable as reason:
        return judging.failed(f"your answer could not be read as plain data: {reason}.")


def check(name, answer):
    """Print immediate feedback on ``answer`` to exercise ``name``."""
    print(evaluate(name, answer))


def hint(name):
    """Print the hint of exercise ``name``."""
    print(f"Hint: {get(name).hint}")


def solution(name):
    """Print the solution of exercise ``name``, unless the exercise keeps it for the grader."""
    exercise = get(name)
    if exercise.show_solution:
        print(f"Solution: {exercise.solution}")
    else:
        print("The solution of this exercise is not shown here: ask your instructor.")
