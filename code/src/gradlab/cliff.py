r"""The cliff: a one-unit recurrent model whose loss surface has a thin, steep wall.

.. math::
    x_t = w\,\sigma(x_{t-1}) + b,\quad x_0 = 0.5,\quad t = 1..T, \qquad
    E(w, b) = (\sigma(x_T) - 0.7)^2

after Pascanu, Mikolov and Bengio (2013, fig. 6) and Goodfellow et al. (2016,
fig. 10.17). Near :math:`b = 0.5 - w\,\sigma(0.5)` the point :math:`x = 0.5` is
a fixed point of the map, and for large :math:`w` the final state switches
between two attractors across a band far thinner than any plotting grid.

All functions broadcast over arrays of ``w`` and ``b``, so a whole grid is one
vectorised pass of T steps.
"""

from dataclasses import dataclass

import numpy as np

from . import validate
from .clip import EPS, clip_by_global_norm
from .functional import sigmoid

STEPS = 50
X0 = 0.5
TARGET = 0.7


def loss_and_grad(w, b, steps=STEPS, x0=X0, target=TARGET):
    r"""Loss and its exact gradient by backpropagation through the T steps.

    With :math:`\delta_T = 2(\sigma(x_T) - y)\,\sigma'(x_T)` and
    :math:`\delta_{t-1} = \delta_t\, w\, \sigma'(x_{t-1})`:
    :math:`\partial E/\partial w = \sum_t \delta_t \sigma(x_{t-1})`,
    :math:`\partial E/\partial b = \sum_t \delta_t`.

    Returns ``(E, dE/dw, dE/db)``, each with the broadcast shape of ``w`` and ``b``.
    """
    w, b = np.broadcast_arrays(np.asarray(w, np.float64), np.asarray(b, np.float64))
    s = np.empty((steps + 1,) + w.shape)  # s[t] = sigma(x_t), kept for the backward pass
    s[0] = sigmoid(np.full(w.shape, x0))
    for t in range(steps):
        s[t + 1] = sigmoid(w * s[t] + b)
    out = s[steps]
    loss = (out - target) ** 2
    delta = 2.0 * (out - target) * (out * (1.0 - out))
    grad_w = np.zeros(w.shape)
    grad_b = np.zeros(w.shape)
    for t in range(steps, 0, -1):
        grad_w += delta * s[t - 1]
        grad_b += delta
        delta = delta * w * (s[t - 1] * (1.0 - s[t - 1]))
    return loss, grad_w, grad_b


def loss(w, b, steps=STEPS, x0=X0, target=TARGET):
    """:math:`E(w, b)` only (one forward pass)."""
    w, b = np.broadcast_arrays(np.asarray(w, np.float64), np.asarray(b, np.float64))
    x = np.full(w.shape, x0)
    for _ in range(steps):
        x = w * sigmoid(x) + b
    return (sigmoid(x) - target) ** 2


def wall_b(w, x0=X0):
    r"""The wall's location :math:`b = x_0 - w\,\sigma(x_0)` (where :math:`x_0` is a fixed point)."""
    return x0 - np.asarray(w, np.float64) * sigmoid(x0)


@dataclass
class Surface:
    """Loss and gradient norm on a grid: ``w`` and ``b`` are 1-D axes, the rest (len(b), len(w))."""

    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray


def surface(w_range=(-10.0, 10.0), b_range=(-10.0, 10.0), n=401, steps=STEPS):
    """Evaluate the loss and :math:`\\|\\nabla E\\|` on an ``n`` by ``n`` grid."""
    n = validate.positive_int(n, "n")
    w_axis = np.linspace(*w_range, n)
    b_axis = np.linspace(*b_range, n)
    W, B = np.meshgrid(w_axis, b_axis)
    E, gw, gb = loss_and_grad(W, B, steps)
    return Surface(w_axis, b_axis, E, np.hypot(gw, gb))


def scan_across_wall(w, half_width=0.05, n=20001, steps=STEPS):
    """Gradient norm along b through the wall at fixed ``w``: returns (b values, norms)."""
    centre = float(wall_b(w))
    b = np.linspace(centre - half_width, centre + half_width, n)
    _, gw, gb = loss_and_grad(np.full_like(b, w), b, steps)
    return b, np.hypot(gw, gb)


@dataclass
class Trajectory:
    """Gradient descent on the cliff: parameters (steps+1, 2), loss and gradient norm per point."""

    params: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray

    @property
    def step_lengths(self):
        return np.linalg.norm(np.diff(self.params, axis=0), axis=1)


def descend(start, lr, n_steps, max_norm=None, steps=STEPS):
    r"""Gradient descent from ``start = (w, b)``, optionally with global-norm clipping.

    Update: :math:`\theta \leftarrow \theta - \eta\, \mathrm{clip}(\nabla E)`.
    """
    lr = validate.positive_number(lr, "lr")
    n_steps = validate.positive_int(n_steps, "n_steps")
    params = np.empty((n_steps + 1, 2))
    losses = np.empty(n_steps + 1)
    norms = np.empty(n_steps + 1)
    params[0] = start
    for k in range(n_steps + 1):
        E, gw, gb = loss_and_grad(params[k, 0], params[k, 1], steps)
        grad = np.array([gw, gb])
        losses[k], norms[k] = E, np.hypot(gw, gb)
        if k == n_steps:
            break
        if max_norm is not None:
            grad, _ = clip_by_global_norm(grad, max_norm)
        params[k + 1] = params[k] - lr * grad
    return Trajectory(params, losses, norms)


def clip_limits(thresholds):
    """The thresholds as a float array, ``None`` (no clipping) as infinity."""
    return np.array([np.inf if c is None else validate.positive_number(c, "threshold")
                     for c in thresholds], dtype=np.float64)


@dataclass
class Descents:
    """Descent from N starts under k thresholds, run together; the arrays are (k, N)."""

    starts: np.ndarray
    thresholds: np.ndarray
    final_loss: np.ndarray
    longest_step: np.ndarray
    longest_at: np.ndarray

    def reached(self, low_loss):
        """Which runs end below ``low_loss`` (a NaN loss counts as not reached)."""
        return self.final_loss < low_loss


def descend_many(starts, lr, n_steps, thresholds=(None,), steps=STEPS):
    r"""Gradient descent from every start (N, 2) for every threshold :math:`c_j`, vectorised.

    Run :math:`(j, i)` follows :math:`\theta \leftarrow \theta - \eta\,(\nabla E
    \min(1, c_j / (\|\nabla E\| + 10^{-6})))`, the update of ``descend``; ``None``
    in ``thresholds`` means no clipping. Records each run's final loss, longest step
    and the index of that step.
    """
    lr = validate.positive_number(lr, "lr")
    n_steps = validate.positive_int(n_steps, "n_steps")
    limits = clip_limits(thresholds)[:, None]
    starts = np.asarray(starts, np.float64).reshape(-1, 2)
    w = np.repeat(starts[None, :, 0], len(limits), axis=0)
    b = np.repeat(starts[None, :, 1], len(limits), axis=0)
    longest = np.zeros(w.shape)
    longest_at = np.zeros(w.shape, dtype=int)
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            _, gw, gb = loss_and_grad(w, b, steps)
            coefficient = np.where(np.isinf(limits), 1.0,
                                   np.minimum(limits / (np.hypot(gw, gb) + EPS), 1.0))
            dw, db = lr * (gw * coefficient), lr * (gb * coefficient)
            w, b = w - dw, b - db
            length = np.hypot(dw, db)
            longer = length > longest
            longest = np.where(longer, length, longest)
            longest_at = np.where(longer, step, longest_at)
        final = loss(w, b, steps)
    return Descents(starts, limits[:, 0], final, longest, longest_at)
