r"""Per-example clipping and DP-SGD's clipped noisy mean (Abadi et al., 2016).

Each example's gradient :math:`g_i` is clipped to norm :math:`C`,
:math:`\bar g_i = g_i / \max(1, \lVert g_i \rVert / C)`; the clipped gradients are summed,
Gaussian noise :math:`N(0, \sigma^2 C^2 I)` is added, and the result is divided by the
batch size :math:`B`:

.. math:: \tilde g = \frac{1}{B}\Bigl(\sum_{i=1}^{B} \bar g_i + N(0, \sigma^2 C^2 I)\Bigr).

Per-example gradients come as one array of shape ``(B, ...)``.
"""

import numpy as np

from . import validate
from .functional import row_norms


def example_norms(per_example):
    """The Euclidean norm of each example's gradient, shape ``(B,)`` (overflow-safe)."""
    return row_norms(_per_example(per_example))


def _per_example(per_example):
    g = np.asarray(per_example, dtype=np.float64)
    if g.ndim < 2:
        raise ValueError("per-example gradients need shape (batch, ...) with at least 2 "
                         f"dimensions, got shape {g.shape}")
    if g.shape[0] == 0:
        raise ValueError("per-example gradients need at least one example")
    return g


def clip_per_example(per_example, max_norm):
    r"""Each example's gradient scaled by :math:`1/\max(1, \lVert g_i\rVert / C)`.

    Returns ``(clipped, norms)``: the clipped gradients (same shape) and the norms before.
    """
    c = validate.positive_number(max_norm, "max_norm")
    g = _per_example(per_example)
    norms = example_norms(g)
    if not np.all(np.isfinite(norms)):
        raise ValueError("a per-example gradient is NaN or infinite; drop or fix it first")
    factor = 1.0 / np.maximum(1.0, norms / c)
    return g * factor.reshape((-1,) + (1,) * (g.ndim - 1)), norms


def clipped_noisy_mean(per_example, max_norm, noise_multiplier, rng):
    r"""DP-SGD's gradient: :math:`(\sum_i \bar g_i + N(0, \sigma^2 C^2 I)) / B`.

    Args:
        per_example: per-example gradients, shape ``(B, ...)``.
        max_norm: the clipping norm :math:`C`.
        noise_multiplier: :math:`\sigma` (0 gives the clipped mean without noise).
        rng: a ``numpy.random.Generator``; the noise is drawn from it.
    """
    c = validate.positive_number(max_norm, "max_norm")
    sigma = validate.nonnegative_number(noise_multiplier, "noise_multiplier")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    clipped, _ = clip_per_example(per_example, c)
    total = clipped.sum(axis=0)
    noise = rng.normal(0.0, sigma * c, size=total.shape) if sigma > 0 else 0.0
    return (total + noise) / clipped.shape[0]


def clip_fraction(per_example, max_norm):
    """The share of examples whose gradient norm exceeds ``max_norm`` (they get clipped)."""
    c = validate.positive_number(max_norm, "max_norm")
    return float(np.mean(example_norms(per_example) > c))
