r"""A deep MLP at initialisation: how signals and gradients scale with depth.

The network has ``depth`` blocks ``h_l = phi(h_{l-1} W_l)`` of equal ``width``
(biases are zero at initialisation). Its input ``h_0`` is standard normal and the
loss is :math:`\mathcal{L} = \sum_b \langle r_b, h_{L,b} \rangle` with a fixed standard-normal
``r`` of shape ``(batch, width)``, so :math:`\partial \mathcal{L}/\partial h_L = r` has unit
scale and every change below the top comes from the layers themselves.

Backpropagation multiplies the top gradient by one Jacobian per layer. For one
sample, with row vectors as in ``gradlab.nn``,

.. math::
    \frac{\partial \mathcal{L}}{\partial h_{l-1}}
    = \frac{\partial \mathcal{L}}{\partial h_l}\, D_l W_l^\top,
    \qquad D_l = \mathrm{diag}\bigl(\phi'(h_{l-1} W_l)\bigr),

so the gradient norm at layer ``k`` lies between the products of the smallest
and the largest singular values of the Jacobians ``D_l W_l^T`` above it.
"""

from dataclasses import dataclass

import numpy as np

from .. import functional, nn

INIT_SCHEMES = ("normal", "xavier", "he")


@dataclass
class InitProfile:
    """Per-layer scales of one deep MLP at initialisation.

    Index ``l`` runs over ``0..depth``: 0 is the input, ``depth`` the output.

    Attributes:
        activation_scale: ``(depth + 1,)`` root mean square of :math:`h_l`.
        gradient_norm: ``(depth + 1,)`` norm of :math:`\\partial \\mathcal{L}/\\partial h_l`
            per sample (root mean square over the batch), divided by the same at the
            output, so ``gradient_norm[depth] == 1``.
    """

    depth: int
    width: int
    init: str
    activation: str
    activation_scale: np.ndarray
    gradient_norm: np.ndarray

    @property
    def layers(self):
        """Layer indices ``0..depth`` (0 is the input)."""
        return np.arange(self.depth + 1)


def build(depth, width, init, activation, rng):
    """``depth`` blocks of ``Linear(width, width, init)`` followed by the activation."""
    if init not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {init!r}; choose one of {', '.join(INIT_SCHEMES)}")
    layers = []
    for l in range(1, depth + 1):
        layers.append(nn.Linear(width, width, init, rng, name=f"layer{l}"))
        layers.append(nn.activation(activation))
    return nn.Sequential(*layers)


def _rms(a):
    r"""Root mean square of all entries, :math:`\|a\|/\sqrt{n}`, through the overflow-safe
    ``functional.row_norms``: squaring would turn entries above about 1e154 into inf."""
    a = np.asarray(a, dtype=np.float64)
    return float(functional.row_norms(a.reshape(1, -1))[0] / np.sqrt(a.size))


def profile(depth=50, width=128, init="he", activation="relu", batch=16, seed=0):
    """Forward and backward once through a freshly initialised deep MLP.

    Overflow is allowed to happen (it is what the chapter shows): values that
    leave the float64 range (about 1.8e308) appear as ``inf`` or ``nan`` in the result;
    the norms are taken without squaring, so they overflow only if the norm itself would.
    The default batch of 16 keeps each product small enough for OpenBLAS to run
    it on one thread, which stays fast when other processes share the cores.

    Returns:
        InitProfile with the per-layer activation scale and gradient norms.
    """
    if depth < 1 or width < 1 or batch < 1:
        raise ValueError(
            f"depth, width and batch must be at least 1, got {depth}, {width}, {batch}")
    rng = np.random.default_rng(seed)
    model = build(depth, width, init, activation, rng)
    x = rng.standard_normal((batch, width))
    r = rng.standard_normal((batch, width))
    with np.errstate(all="ignore"):
        outputs = model.forward_trace(x)
        hidden = [outputs[0]] + outputs[2::2]          # h_0 .. h_depth
        signals = [r]                                  # dL/dh_depth, then downwards
        g = r
        for l in range(depth, 0, -1):
            linear, act = model[2 * l - 2], model[2 * l - 1]
            g = linear.backward(act.backward(g))
            signals.append(g)
        signals.reverse()
        per_sample = np.array([_rms(functional.row_norms(s)) for s in signals])
        return InitProfile(
            depth, width, init, activation,
            activation_scale=np.array([_rms(h) for h in hidden]),
            gradient_norm=per_sample / per_sample[-1])


def compare_inits(activations=("tanh", "relu"), inits=INIT_SCHEMES, **kwargs):
    """``{(activation, init): InitProfile}`` for every pair, same seed and shapes."""
    return {(a, i): profile(init=i, activation=a, **kwargs) for a in activations for i in inits}


def distance_from_one(p):
    """Largest :math:`|\\log_{10}|` of the activation scale and gradient norm over the layers.

    0 means both stay exactly at 1; 3 means some layer is off by a factor 1000.
    Non-finite or zero values count as infinitely far.
    """
    values = np.concatenate([p.activation_scale, p.gradient_norm])
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.abs(np.log10(values))
    return float(np.max(np.where(np.isfinite(logs), logs, np.inf)))


def growth_per_layer(scales):
    """Geometric mean of the layer-to-layer ratio of ``scales`` (1 means no drift)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.exp(np.mean(np.diff(np.log(np.asarray(scales, dtype=np.float64))))))


def best_init(profiles, activation):
    """The init scheme whose profile for ``activation`` stays closest to 1."""
    candidates = {i: p for (a, i), p in profiles.items() if a == activation}
    return min(candidates, key=lambda i: distance_from_one(candidates[i]))


def _kind(value):
    return "inf" if np.isinf(value) else "nan"


def failures(p):
    """Readable messages for values that left the float64 range, empty if none.

    Activations fail going up (the first bad layer counts); gradients fail going
    down (the highest bad layer counts, since every layer below inherits it).
    Once the forward pass has overflowed, the gradients below it mean nothing,
    so a gradient that reads 0 there is reported as lost, not as underflow.
    """
    messages = []
    bad_act = np.flatnonzero(~np.isfinite(p.activation_scale))
    if bad_act.size:
        layer = bad_act[0]
        messages.append(f"activations overflowed to {_kind(p.activation_scale[layer])} "
                        f"at layer {layer}")
    bad_grad = np.flatnonzero(~np.isfinite(p.gradient_norm))
    if bad_grad.size:
        layer = bad_grad[-1]
        messages.append(f"gradient overflowed to {_kind(p.gradient_norm[layer])} at layer {layer}")
    zero_grad = np.flatnonzero(p.gradient_norm == 0)
    if zero_grad.size:
        cause = "lost (forward pass overflowed)" if bad_act.size else "underflowed to 0"
        messages.append(f"gradient {cause} at layer {zero_grad[-1]}")
    return messages


@dataclass
class JacobianBounds:
    r"""Gradient norm below the output against singular-value bounds, for one sample.

    Arrays have shape ``(depth + 1,)`` over layers ``0..depth``; entry ``k`` uses
    the Jacobians of layers ``k+1..depth`` (the empty product at ``depth`` is 1).

    Attributes:
        ratio: :math:`\|\partial \mathcal{L}/\partial h_k\|
            / \|\partial \mathcal{L}/\partial h_L\|`.
        upper: :math:`\prod_{l>k} \sigma_{\max}(D_l W_l^\top)`.
        lower: :math:`\prod_{l>k} \sigma_{\min}(D_l W_l^\top)`.
        loose_upper: :math:`\prod_{l>k} \max|\phi'|\, \sigma_{\max}(W_l)`.
    """

    ratio: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    loose_upper: np.ndarray


# Largest value of each activation's derivative (for the loose bound).
MAX_DERIVATIVE = {"relu": 1.0, "leaky_relu": 1.0, "sigmoid": 0.25, "tanh": 1.0, "identity": 1.0}


def jacobian_bounds(depth=30, width=64, init="xavier", activation="tanh", seed=0):
    """Check the singular-value bounds on one sample of a freshly initialised MLP."""
    rng = np.random.default_rng(seed)
    model = build(depth, width, init, activation, rng)
    x = rng.standard_normal((1, width))
    g = rng.standard_normal((1, width))
    outputs = model.forward_trace(x)
    norms, s_max, s_min, loose = [np.linalg.norm(g)], [], [], []
    for l in range(depth, 0, -1):
        linear, act = model[2 * l - 2], model[2 * l - 1]
        pre_activation = outputs[2 * l - 1][0]
        jacobian = act.derivative(pre_activation)[:, None] * linear.weight.value.T
        singular = np.linalg.svd(jacobian, compute_uv=False)
        s_max.append(singular[0])
        s_min.append(singular[-1])
        loose.append(MAX_DERIVATIVE[activation] * np.linalg.norm(linear.weight.value, 2))
        g = g @ jacobian
        norms.append(np.linalg.norm(g))

    def running_product(factors):
        return np.concatenate([[1.0], np.cumprod(factors)])[::-1]

    return JacobianBounds(ratio=np.array(norms[::-1]) / norms[0],
                          upper=running_product(s_max), lower=running_product(s_min),
                          loose_upper=running_product(loose))


def first_alarm(norms, factor=10.0, warmup=10):
    """First step whose gradient norm exceeds ``factor`` times the median of all earlier steps.

    A cheap monitor for a training loop: it ignores the first ``warmup`` steps and
    returns ``None`` if no step trips it. Non-finite norms always trip it.
    """
    norms = np.asarray(norms, dtype=np.float64)
    for step in range(warmup, len(norms)):
        if not np.isfinite(norms[step]) or norms[step] > factor * np.median(norms[:step]):
            return step
    return None
