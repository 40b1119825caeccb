"""Numbers for the prose: only the digits that every machine agrees on.

Two machines sum a matrix product in different orders (OpenBLAS's AVX2 and AVX-512
kernels, one thread or two), so a computed float can differ in its last bits. A number
that reaches a committed output therefore carries a stated number of significant
digits, ``significant(x, d)``, and is glued for the text with ``glue(name, x, digits=d)``.
A quantity that lives in the last bits (a relative error, a difference from an exact
value) is reported as a bound, ``below(x, 1e-9)``: the claim is that it is small, and
that claim holds everywhere while its digits do not.

In the text, ``{glue:text}`name:.3g``` formats the glued value; the format should not
ask for more digits than were glued.
"""

import math
import numbers


class Text(str):
    """A string glued or displayed as its bare text (no quotes in ``text/plain``)."""

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def significant(value, digits):
    r"""``value`` rounded to ``digits`` significant digits: $\mathrm{round}(x, d - 1 -
    \lfloor\log_{10}|x|\rfloor)$. Integers, zero and non-finite values pass unchanged."""
    if not isinstance(digits, numbers.Integral) or isinstance(digits, bool) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    if isinstance(value, bool):
        raise TypeError("significant() needs a number, got a bool")
    if isinstance(value, numbers.Integral):
        return int(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"significant() needs a real number, got {type(value).__name__}")
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def number(value, digits):
    """``value`` as text with ``digits`` significant digits: plain between 1e-4 and 1e6
    (``140``, not ``1.4e+02``), with a short exponent outside (``1.2e-7``)."""
    rounded = significant(value, digits)
    if isinstance(rounded, int):
        return str(rounded)
    if rounded == 0 or not math.isfinite(rounded):
        return format(rounded, "g")
    if 1e-4 <= abs(rounded) < 1e6:
        if abs(rounded) >= 10 ** (digits - 1):
            return str(int(rounded))
        return format(rounded, f".{digits}g")
    return _short(format(rounded, f".{digits - 1}e"))


def below(value, bound):
    """The text ``"below {bound}"``, after checking that ``|value| < bound``.

    For quantities whose digits are rounding noise (relative errors of a gradient check,
    the difference of two sums of the same numbers): the bound is the claim, and a value
    that breaks it is an error, not a number to print.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"below() needs a real number, got {type(value).__name__}")
    if not (isinstance(bound, numbers.Real) and bound > 0):
        raise ValueError(f"the bound must be a positive number, got {bound!r}")
    if not abs(float(value)) < bound:
        raise ValueError(f"{float(value)!r} is not below {_short(bound)}")
    return Text(f"below {_short(bound)}")


def at_least(value, bound):
    """The text ``"at least {bound}"``, after checking that ``value >= bound``.

    For a statistic of chaotic runs whose last digits differ between machines while the
    claim the prose makes about it holds on every one.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"at_least() needs a real number, got {type(value).__name__}")
    if not value >= bound:
        raise ValueError(f"{float(value)!r} is not at least {_short(bound)}")
    return Text(f"at least {_short(bound)}")


def _short(value):
    """``1e-09`` as ``1e-9``: a number (or its formatted text) without the exponent's
    leading zero and plus sign."""
    text = value if isinstance(value, str) else format(value, "g")
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def glue(name, value, digits=None):
    """Glue ``value`` under ``name`` for ``{glue:text}`` (never displayed in the cell).

    Floats need ``digits`` (significant digits kept); integers are glued as they are;
    a ``Text`` (from ``below``, ``number`` wrapped in ``Text``) is glued as its words.
    Without myst-nb installed (a student's install) nothing is glued; the value is returned.
    """
    try:
        from myst_nb import glue as myst_glue  # the book's glue; imported only when used
    except ModuleNotFoundError:  # a student's install: nothing outside the book reads glue
        myst_glue = None

    if isinstance(value, str):
        if digits is not None:
            raise ValueError(f"{name}: digits apply to numbers, not to the text {value!r}")
        glued = Text(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        glued = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        if digits is None:
            raise ValueError(f"{name}: a float needs digits= (the significant digits that "
                             "every machine agrees on)")
        glued = significant(value, digits)
    else:
        raise TypeError(f"{name}: glue a number or a text, got {type(value).__name__}")
    if myst_glue is not None:
        myst_glue(name, glued, display=False)
    return glued
