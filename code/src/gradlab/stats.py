"""Statistics over seeds, with their uncertainty, for experiments that are chaotic.

A run near the edge of stability turns a difference in the last bit of a sum into a
different trajectory, so one seed's outcome says little. Over ``n`` seeds we report a
share with its Wilson score interval and a median with its quartiles.
"""

import math
from dataclasses import dataclass

import numpy as np

from .report import number

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Share:
    """``k`` of ``n`` seeds, with the 95 % Wilson score interval ``[low, high]`` of the share.

    $$\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n},
    \\qquad \\hat p = k/n,\\ z = 1.96$$ (Wilson, 1927).
    """

    k: int
    n: int
    low: float
    high: float

    @property
    def fraction(self):
        return self.k / self.n

    def __str__(self):
        point, low, high = (round(100 * v, 6) for v in (self.fraction, self.low, self.high))
        d = next(d for d in range(3) if d == 2 or len({f"{v:.{d}f}" for v in (point, low, high)})
                 == len({point, low, high}))  # decimals enough to tell the three apart
        return f"{self.k} of {self.n} ({point:.{d}f} %, 95 % interval {low:.{d}f}–{high:.{d}f} %)"


def share(outcomes):
    """The share of true ``outcomes`` (one boolean per seed) with its 95 % interval."""
    outcomes = np.asarray(outcomes)
    if outcomes.ndim != 1 or outcomes.size == 0 or outcomes.dtype != bool:
        raise ValueError("share() needs a non-empty 1-D array of booleans, one per seed")
    k, n = int(outcomes.sum()), int(outcomes.size)
    p, z2 = k / n, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Share(k, n, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Spread:
    """Median and quartiles of a statistic over ``n`` seeds (non-finite values excluded)."""

    median: float
    q1: float
    q3: float
    n: int

    def format(self, digits=2):
        """``"median (q1–q3)"`` with ``digits`` significant digits each."""
        return f"{number(self.median, digits)} ({number(self.q1, digits)}–{number(self.q3, digits)})"


def spread(values):
    """Median and quartiles of the finite ``values``; raises if none is finite."""
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("spread() needs at least one finite value")
    q1, median, q3 = np.percentile(finite, [25, 50, 75])
    return Spread(float(median), float(q1), float(q3), int(finite.size))
