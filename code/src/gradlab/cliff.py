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
from .clip import clip_by_global_norm, clip_coefficient
from .functional import sigmoid, sigmoid_derivative

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
    xs = np.empty((steps + 1,) + w.shape)
    xs[0] = x0
    for t in range(steps):
        xs[t + 1] = w * sigmoid(xs[t]) + b
    out = sigmoid(xs[steps])
    loss = (out - target) ** 2
    delta = 2.0 * (out - target) * sigmoid_derivative(xs[steps])
    grad_w = np.zeros(w.shape)
    grad_b = np.zeros(w.shape)
    for t in range(steps, 0, -1):
        grad_w += delta * sigmoid(xs[t - 1])
        grad_b += delta
        delta = delta * w * sigmoid_derivative(xs[t - 1])
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


def descend_many(starts, lr, n_steps, max_norm=None, steps=STEPS):
    """Final loss of gradient descent from many starts at once, vectorised.

    ``starts`` (N, 2). Returns the final losses (N,).
    """
    lr = validate.positive_number(lr, "lr")
    theta = np.array(starts, dtype=np.float64)
    for _ in range(validate.positive_int(n_steps, "n_steps")):
        _, gw, gb = loss_and_grad(theta[:, 0], theta[:, 1], steps)
        grad = np.stack([gw, gb], axis=1)
        if max_norm is not None:
            grad = grad * clip_coefficient(np.hypot(gw, gb), max_norm)[:, None]
        theta = theta - lr * grad
    return loss(theta[:, 0], theta[:, 1], steps)
