r"""Chapter 4's experiments on the cliff of ``gradlab.cliff``.

* statistics of :math:`\|\nabla E\|` on a grid and in a fine scan across the wall;
* gradient descent from one start with and without global-norm clipping, run
  side by side in one vectorised pass (one column per threshold);
* the share of starts in a small box around a point that reach a low loss, with
  its 95 % interval, and how one descent's outcome moves when its start moves by
  far less than any plotting grid resolves;
* the gradient norms met by unclipped descent, for choosing a threshold.
"""

from dataclasses import dataclass

import numpy as np

from .. import cliff, stats, validate
from ..clip import EPS

LOW_LOSS = 0.01


@dataclass
class GridStats:
    """Median and maximum gradient norm over a ``cliff.Surface`` grid, and its spacing."""

    median: float
    maximum: float
    spacing: float


def grid_stats(surface):
    """What a plotting grid sees of :math:`\\|\\nabla E\\|`."""
    return GridStats(float(np.median(surface.grad_norm)), float(np.max(surface.grad_norm)),
                     float(surface.w[1] - surface.w[0]))


@dataclass
class WallScan:
    """A scan along b across the wall at fixed w: offsets ``b - b_wall`` and norms, both (n,)."""

    w: float
    offset: np.ndarray
    grad_norm: np.ndarray

    @property
    def maximum(self):
        return float(np.max(self.grad_norm))

    def band_width(self, level=1.0):
        """Width in b of the region where the norm exceeds ``level`` (count times spacing)."""
        return float(np.count_nonzero(self.grad_norm > level) * (self.offset[1] - self.offset[0]))


def scan_wall(w, half_width, n=20001):
    """``cliff.scan_across_wall`` with the offsets from the wall's centre."""
    b, norms = cliff.scan_across_wall(w, half_width=half_width, n=n)
    return WallScan(float(w), b - float(cliff.wall_b(w)), norms)


def trajectories(start, lr, n_steps, thresholds):
    r"""Gradient descent from one ``start`` (w, b) for several thresholds at once.

    Column :math:`j` follows :math:`\theta \leftarrow \theta - \eta_j \min(1, c_j /
    (\|\nabla E\| + 10^{-6}))\, \nabla E`; ``None`` in ``thresholds`` means no
    clipping, and ``lr`` is one learning rate or one per threshold. Returns one
    ``cliff.Trajectory`` per threshold (the same numbers as ``cliff.descend``, computed
    together).
    """
    if np.ndim(lr) == 0:
        lr = validate.positive_number(lr, "lr")
    else:
        lr = np.asarray([validate.positive_number(x, "lr") for x in lr])[:, None]
        if len(lr) != len(thresholds):
            raise ValueError(f"{len(lr)} learning rates for {len(thresholds)} thresholds")
    n_steps = validate.positive_int(n_steps, "n_steps")
    limits = cliff.clip_limits(thresholds)
    k = len(limits)
    params = np.empty((n_steps + 1, k, 2))
    losses = np.empty((n_steps + 1, k))
    norms = np.empty((n_steps + 1, k))
    params[0] = np.asarray(start, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps + 1):
            E, gw, gb = cliff.loss_and_grad(params[step, :, 0], params[step, :, 1])
            losses[step], norms[step] = E, np.hypot(gw, gb)
            if step == n_steps:
                break
            coefficient = np.minimum(1.0, limits / (norms[step] + EPS))
            params[step + 1] = params[step] - lr * coefficient[:, None] * np.stack([gw, gb], 1)
    return [cliff.Trajectory(params[:, j], losses[:, j], norms[:, j]) for j in range(k)]


@dataclass
class CliffComparison:
    """Descent from one start without (``plain``) and with (``clipped``) clipping."""

    start: tuple
    lr: float
    threshold: float
    plain: cliff.Trajectory
    clipped: cliff.Trajectory

    @property
    def first_difference(self):
        """First step index at which the two runs' parameters differ (None if never)."""
        differs = np.any(self.plain.params != self.clipped.params, axis=1)
        return int(np.argmax(differs)) if differs.any() else None

    @property
    def jump_step(self):
        """Index of the unclipped run's longest step (from point k to k+1)."""
        return int(np.argmax(self.plain.step_lengths))

    @property
    def jump_length(self):
        return float(np.max(self.plain.step_lengths))


def compare(start, lr, n_steps=100, threshold=1.0):
    """Run the unclipped and clipped descents from ``start``."""
    plain, clipped = trajectories(start, lr, n_steps, [None, threshold])
    return CliffComparison(tuple(map(float, start)), float(lr), float(threshold), plain, clipped)


def compare_thresholds(start, lr, thresholds, n_steps=100):
    """``compare`` for several thresholds in one vectorised pass, one per threshold.

    The comparisons share one unclipped run, and each equals ``compare(start, lr, n_steps, c)``.
    """
    plain, *clipped = trajectories(start, lr, n_steps, [None, *thresholds])
    return [CliffComparison(tuple(map(float, start)), float(lr), float(c), plain, run)
            for c, run in zip(thresholds, clipped)]


def first_outside(trajectory, w_range, b_range, margin=0.05):
    """First step at which the path is beyond the box ``w_range`` x ``b_range`` by more than
    ``margin`` of its size, or at which it is non-finite (None if never)."""
    outside = ~np.all(np.isfinite(trajectory.params), axis=1)
    for column, (low, high) in enumerate((w_range, b_range)):
        slack = margin * (high - low)
        with np.errstate(invalid="ignore"):
            values = trajectory.params[:, column]
            outside |= (values < low - slack) | (values > high + slack)
    return int(np.argmax(outside)) if outside.any() else None


def first_non_finite(trajectory):
    """First step at which the loss is inf or NaN (None if never)."""
    bad = ~np.isfinite(trajectory.loss)
    return int(np.argmax(bad)) if bad.any() else None


def box_starts(centre, half_width, n_per_side=21):
    """A regular ``n_per_side`` by ``n_per_side`` grid of starts in a square around ``centre``."""
    half_width = validate.positive_number(half_width, "half_width")
    offsets = np.linspace(-half_width, half_width, validate.positive_int(n_per_side, "n_per_side"))
    W, B = np.meshgrid(centre[0] + offsets, centre[1] + offsets)
    return np.column_stack([W.ravel(), B.ravel()])


def nearby_starts(start, n=1000, radius=1e-12, seed=0):
    """``n`` starts (n, 2) drawn uniformly within ``radius`` of ``start`` in each coordinate."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-radius, radius, (validate.positive_int(n, "n"), 2))
    return np.asarray(start, np.float64) + offsets


@dataclass
class BoxShare:
    """Final losses (N,) of descent from every start (N, 2), without and with clipping."""

    starts: np.ndarray
    plain_loss: np.ndarray
    clipped_loss: np.ndarray
    low_loss: float

    @property
    def plain_share(self):
        return float(np.mean(self.plain_loss < self.low_loss))

    @property
    def clipped_share(self):
        return float(np.mean(self.clipped_loss < self.low_loss))

    @property
    def plain(self):
        """The unclipped share as a ``stats.Share`` (with its 95 % interval)."""
        return stats.share(self.plain_loss < self.low_loss)

    @property
    def clipped(self):
        """The clipped share as a ``stats.Share`` (with its 95 % interval)."""
        return stats.share(self.clipped_loss < self.low_loss)


def box_share(centre, half_width, lr, n_steps=100, threshold=1.0, n_per_side=21,
              low_loss=LOW_LOSS):
    """Share of starts in the box that end below ``low_loss``, with and without clipping."""
    starts = box_starts(centre, half_width, n_per_side)
    runs = cliff.descend_many(starts, lr, n_steps, [None, threshold])
    return BoxShare(starts, runs.final_loss[0], runs.final_loss[1], low_loss)


def share_by_threshold(starts, lr, thresholds, n_steps=100, low_loss=LOW_LOSS):
    """``stats.Share`` of ``starts`` (N, 2) that end below ``low_loss``, one per threshold."""
    runs = cliff.descend_many(starts, lr, n_steps, thresholds)
    return [stats.share(reached) for reached in runs.reached(low_loss)]


def threshold_range(thresholds, shares, at_least=0.9):
    """``(lowest, highest)`` threshold whose share is at least ``at_least``.

    Raises ``ValueError`` if no threshold qualifies or if those that do are not
    consecutive in ``thresholds`` (then "from ... to ..." would not be true).
    """
    good = np.flatnonzero([s.fraction >= at_least for s in shares])
    if good.size == 0:
        raise ValueError(f"no threshold reaches a share of {at_least:g}")
    if np.any(np.diff(good) != 1):
        raise ValueError(f"the thresholds with a share of at least {at_least:g} are not "
                         "consecutive")
    return float(thresholds[good[0]]), float(thresholds[good[-1]])


def observed_norms(starts, lr, n_steps):
    """Gradient norms (n_steps, N) that unclipped descent meets from every start (N, 2)."""
    theta = np.array(starts, dtype=np.float64)
    norms = np.empty((validate.positive_int(n_steps, "n_steps"), len(theta)))
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            _, gw, gb = cliff.loss_and_grad(theta[:, 0], theta[:, 1])
            norms[step] = np.hypot(gw, gb)
            theta = theta - lr * np.column_stack([gw, gb])
    return norms
