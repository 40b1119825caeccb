"""The stops of a log slider, as an explorer caches runs by them.

A ``FloatLogSlider`` in the browser moves its exponent in steps and sends ``base ** exponent``
as JavaScript computes it, which can differ from Python's ``10.0 ** e`` in the last bit.
"""


def stop_of(value, stops):
    """The stop of ``stops`` that ``value`` is (up to a relative 1e-12), or None."""
    return next((s for s in stops if abs(value - s) <= 1e-12 * s), None)
