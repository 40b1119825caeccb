"""Judging answers: results, strict conversions, and judges for the common kinds of question.

A judge receives plain data (``gradlab.plain``): numbers, arrays, text, containers, and
stand-ins for any other object. It never raises on an answer and never shows the
expected value; it says *what* is wrong: a list where a number was expected, NaN, a
wrong shape, a clipped vector whose norm is above the threshold. Numbers are compared
as plain floats after a strict conversion.

A function exercise is judged from the outcomes of calls (``gradlab.harness``): its
``calls(rng)`` draws the cases (arguments sent to the student's function, and a
reference kept by the judge), and its judge reads what each call returned. The same
judge runs in ``check()`` in the notebook and in the grader, outside the sandbox.
"""

import decimal
import numbers
from dataclasses import dataclass

import numpy as np

from . import harness

PASS, FAIL, NOT_ATTEMPTED, OPEN = "pass", "fail", "not attempted", "open"
_SYMBOL = {PASS: "✓ Correct", FAIL: "✗ Not yet", NOT_ATTEMPTED: "… Not attempted yet",
           OPEN: "✎ Answer noted"}


@dataclass(frozen=True)
class Result:
    """The outcome of one check: a status (pass, fail, not attempted, open) and a message."""

    status: str
    message: str

    @property
    def passed(self):
        return self.status == PASS

    def __str__(self):
        return f"{_SYMBOL[self.status]}: {self.message}"


def passed(message="well done."):
    return Result(PASS, message)


def failed(message):
    return Result(FAIL, message)


class Wrong(Exception):
    """Raised inside a judge to stop at the first problem found; becomes a FAIL result."""


class NotAttempted(Exception):
    """Raised inside a judge when the answer is still a placeholder."""


@dataclass
class Exercise:
    """One checkable question.

    ``judge(answer)`` returns a ``Result`` or raises ``Wrong``/``NotAttempted``; it is only
    called once the answer is known not to be the ``...`` placeholder. For a function
    exercise, ``calls(rng)`` returns a list of ``Case`` and the judge is
    ``judge(cases, outcomes)``. ``scored=False`` marks an open question (rubric, no score).
    """

    name: str
    judge: object
    hint: str
    solution: str
    calls: object = None
    show_solution: bool = True
    scored: bool = True
    accepts: str = ""  # what passes, stated where the answer is typed; the judge's by default

    def __post_init__(self):
        if not self.accepts:
            self.accepts = ("a function, run on inputs drawn at random" if self.calls is not None
                            else getattr(self.judge, "accepts", ""))


@dataclass(frozen=True)
class Case:
    """One call of a function exercise: the arguments it is given and what the judge keeps."""

    args: tuple
    reference: object = None


def verdict(exercise, answer, cases=None):
    """Judge a decoded answer (for a function exercise: outcomes of ``cases``); never raises."""
    if answer is Ellipsis or isinstance(answer, harness.NotCallable) and answer.value is Ellipsis:
        return Result(NOT_ATTEMPTED, "replace the `...` placeholder with your answer.")
    try:
        if exercise.calls is None:
            return exercise.judge(answer)
        if isinstance(answer, harness.NotCallable):
            raise Wrong(f"a function is expected, but your answer is {_describe(answer.value)}.")
        return exercise.judge(cases, answer)
    except NotAttempted as reason:
        return Result(NOT_ATTEMPTED, str(reason))
    except Wrong as reason:
        return failed(str(reason))
    except Exception as error:  # a judge must not fail on odd plain data; say what happened
        return failed(f"your answer could not be checked ({type(error).__name__}: {error}).")


# --- strict conversions: a student's object becomes plain floats or a clear message ---

def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "None"
    return f"an object of type {type(value).__name__}"


def _finite(value, what):
    array = np.asarray(value, dtype=np.float64)
    if np.isnan(array).any():
        raise Wrong(f"{what} contains NaN.")
    if np.isinf(array).any():
        raise Wrong(f"{what} contains an infinite value.")


def as_number(answer, what="your answer"):
    """``answer`` as a finite float; ``Wrong`` for a list, text, a bool, NaN, inf, an object."""
    if answer is None:
        raise Wrong(f"{what} is None: did you forget to assign or return a value?")
    if isinstance(answer, (bool, np.bool_)):
        raise Wrong(f"{what} is {answer}, a truth value; a number is expected.")
    if isinstance(answer, np.ndarray) and answer.ndim == 0 and answer.dtype.kind in "iuf":
        answer = answer.item()
    if not isinstance(answer, numbers.Real):
        raise Wrong(f"a single number is expected, but {what} is {_describe(answer)}.")
    value = float(answer)
    _finite(value, what)
    return value


def _is_real_entry(entry):
    return isinstance(entry, numbers.Real) and not isinstance(entry, (bool, np.bool_))


def as_array(answer, shape, what="your answer"):
    """``answer`` as a finite float array of the given shape, or ``Wrong`` saying why not."""
    if answer is None:
        raise Wrong(f"{what} is None: did you forget to assign or return a value?")
    if isinstance(answer, np.ndarray):
        if answer.dtype.kind not in "iuf":
            raise Wrong(f"{what} is an array of {answer.dtype} entries; numbers are expected.")
        array = answer.astype(np.float64)
    elif isinstance(answer, (list, tuple)):
        flat = _flatten(answer)
        if not all(_is_real_entry(e) for e in flat):
            bad = next(e for e in flat if not _is_real_entry(e))
            raise Wrong(f"{what} holds {_describe(bad)} where a number is expected.")
        try:
            array = np.array(answer, dtype=np.float64)
        except ValueError:
            raise Wrong(f"{what} is ragged: its rows have different lengths.") from None
    else:
        raise Wrong(f"an array of shape {shape} is expected, but {what} is {_describe(answer)}.")
    if array.shape != tuple(shape):
        raise Wrong(f"{what} has shape {array.shape}; shape {tuple(shape)} is expected.")
    _finite(array, what)
    return array


def _flatten(items):
    flat = []
    for item in items:
        if isinstance(item, (list, tuple)):
            flat.extend(_flatten(item))
        elif isinstance(item, np.ndarray) and item.dtype.kind in "iuf":
            flat.extend(item.ravel().tolist())
        else:
            flat.append(item)
    return flat


def close(a, b, rtol, atol=0.0):
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) <= atol + rtol * np.abs(b)))


MIN_DIGITS = 2  # a number typed with fewer significant digits is only accepted when exact
ACCEPTED = (f"accepted: the exact value rounded to the digits you give (at least {MIN_DIGITS} "
            "significant), or within a relative {rtol:g} of it")


def accepts_numbers(rtol):
    """What ``number_judge``/``vector_judge`` accept, in the words of a placeholder comment."""
    return (f"rounded to your digits (at least {MIN_DIGITS} significant) or within a "
            f"relative {rtol:g}")


def typed_digits(value):
    """(significant digits, half a unit of the last digit) of ``value`` as Python writes it.

    ``repr`` gives the shortest text that reads back as the same float, so a number typed
    by hand keeps its digits (0.933 -> (3, 0.0005)) and a computed one has about 17.
    Trailing zeros do not count (a float cannot tell 1 from 1.0): 80 -> (1, 5.0).
    """
    sign, digits, exponent = decimal.Decimal(repr(float(value))).normalize().as_tuple()
    return len(digits), 0.5 * 10.0 ** exponent


def matches(value, expected, rtol, atol=0.0):
    """Whether each entry of ``value`` is ``expected`` rounded to the entry's own digits
    (``MIN_DIGITS`` or more), or within ``atol + rtol·|expected|`` of it."""
    value, expected = np.broadcast_arrays(np.asarray(value, dtype=np.float64),
                                          np.asarray(expected, dtype=np.float64))
    for v, e in zip(value.ravel(), expected.ravel()):
        if abs(v - e) <= atol + rtol * abs(e):
            continue
        count, half_unit = typed_digits(v)
        if not (count >= MIN_DIGITS and abs(v - e) <= half_unit * (1 + 1e-9)):
            return False
    return True


def _match_or_mistake(value, expected, rtol, atol, mistakes):
    """``passed()`` when ``value`` matches ``expected``; ``Wrong`` with the message of a known
    mistake it matches, or when its digits cannot tell the answer from a mistake."""
    if close(value, expected, rtol, atol):
        return passed()
    for wrong_value, message in mistakes:
        if close(value, wrong_value, rtol, atol):
            raise Wrong(message)
    right = matches(value, expected, rtol, atol)
    wrong = [message for wrong_value, message in mistakes
             if matches(value, wrong_value, rtol, atol)]
    if right and wrong:
        raise Wrong("with these few digits your answer could be right or a common mistake: "
                    "give more significant digits.")
    if right:
        return passed()
    if wrong:
        raise Wrong(wrong[0])
    return None


# --- judges for the common kinds of question ---

def number_judge(expected, rtol=1e-6, atol=0.0, mistakes=(), explain="not the right value."):
    """A judge for a numeric answer (``matches``: rounded answers pass); ``mistakes`` pairs a
    known wrong value with a message."""

    def judge(answer):
        value = as_number(answer)
        return (_match_or_mistake(value, expected, rtol, atol, mistakes)
                or failed(f"{explain} ({ACCEPTED.format(rtol=rtol).capitalize()}.)"))

    judge.accepts = accepts_numbers(rtol)
    return judge


def whole_number_judge(expected, what="a count", mistakes=()):
    """``number_judge`` for a whole number: a fractional answer gets its own message."""
    exact = number_judge(expected, rtol=0.0, atol=1e-9, mistakes=mistakes)

    def judge(answer):
        value = as_number(answer)
        if value != round(value):
            raise Wrong(f"{value:g} is not a whole number; {what} is expected.")
        return exact(value)

    judge.accepts = "a whole number, exactly"
    return judge


def choice_judge(choices, expected, mistakes=(), rtol=1e-9):
    """A judge for an answer that must be one of ``choices`` (numbers): then the right one."""

    def judge(answer):
        value = as_number(answer)
        if not any(close(value, c, rtol) for c in choices):
            listed = ", ".join(f"{c:g}" for c in choices)
            raise Wrong(f"{value:g} is not one of the values to choose from ({listed}).")
        if close(value, expected, rtol):
            return passed()
        for wrong_value, message in mistakes:
            if close(value, wrong_value, rtol):
                raise Wrong(message)
        raise Wrong("that is not the right choice yet.")

    judge.accepts = "one of " + ", ".join(f"{c:g}" for c in choices)
    return judge


def vector_judge(expected, rtol=1e-5, atol=1e-9, properties=None, mistakes=()):
    """A judge for an array answer: shape, finiteness, ``properties`` messages, then values."""
    expected = np.asarray(expected, dtype=np.float64)

    def judge(answer):
        array = as_array(answer, expected.shape)
        result = _match_or_mistake(array, expected, rtol, atol, mistakes)
        if result is not None:
            return result
        if properties is not None:
            properties(array)
        raise Wrong(f"the entries are not right yet. (Each entry is "
                    f"{ACCEPTED.format(rtol=rtol)}.)")

    judge.accepts = ("each entry " + accepts_numbers(rtol)) if rtol else "exact values"
    return judge


def open_judge(rubric, min_words=15):
    """A judge for an open question: no score, the rubric once a real text is given."""

    def judge(answer):
        if not isinstance(answer, str):
            raise Wrong(f"a text answer (a string) is expected, but your answer is "
                        f"{_describe(answer)}.")
        words = len(answer.split())
        if words == 0:
            raise NotAttempted("write your answer in the string.")
        if words < min_words:
            raise Wrong(f"your answer has {words} word(s); explain in a few sentences "
                        f"(at least {min_words} words) before you see the rubric.")
        points = "\n".join(f"  - {point}" for point in rubric)
        return Result(OPEN, "this question is not scored. Compare your answer with the "
                            f"rubric:\n{points}")

    judge.accepts = "a text of a few sentences; not scored"
    return judge


def returned(outcome):
    """What one call returned; ``NotAttempted`` for a stub, ``Wrong`` if it failed.

    A stub that raises ``NotImplementedError`` or returns ``None``/``...`` counts as
    not attempted.
    """
    if outcome.kind == harness.NOT_IMPLEMENTED:
        raise NotAttempted("your function still raises NotImplementedError.")
    if outcome.kind == harness.RAISED:
        raise Wrong(f"your function raised {outcome.value}")
    if outcome.kind == harness.CHANGED_INPUT:
        raise Wrong("your function changed its input array(s); leave the inputs alone "
                    "and return new arrays.")
    if outcome.kind == harness.UNREADABLE:
        raise Wrong(f"what your function returned could not be read ({outcome.value}).")
    if outcome.value is None or outcome.value is Ellipsis:
        raise NotAttempted("your function returns nothing yet (add a `return`).")
    return outcome.value


def as_tuple(output, length, names):
    """``output`` as a tuple of ``length`` items, or ``Wrong`` naming what was expected."""
    if not isinstance(output, (tuple, list)) or len(output) != length:
        raise Wrong(f"your function should return {length} things, ({', '.join(names)}), "
                    f"but it returned {_describe(output)}.")
    return tuple(output)
