r"""Chapter 4's small demonstrations of clipping, each a pure function over ``gradlab.clip``.

* the worked example and the 2-D explorer: a vector before and after clipping by
  value (:math:`g_i \leftarrow \max(-c, \min(c, g_i))`) or by norm
  (:math:`g \leftarrow g\, c/\max(\|g\|, c)`);
* the questions learners ask: clipping after the step, clipping with gradient
  accumulation, the norm the clip function returns, global versus per-tensor
  norms, what a NaN does, clipping before momentum and Adam;
* policies for a non-finite gradient: raise, skip the step, or fall back to a
  small multiple of the weights (Pascanu et al.'s code);
* the ranges of 16-bit floats, where a squared norm and a loss-scaled gradient overflow.

Gradients are 1-D arrays (d,) or lists of arrays; nothing here draws.
"""

from dataclasses import dataclass

import numpy as np

from .. import clip, optim, validate
from ..errors import NonFiniteGradientError
from ..nn import Parameter

MODES = ("value", "norm")


def _angle_deg(a, b):
    """Angle between two vectors in degrees (0 for a zero vector), accurate near 0 and 180."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    u, v = a / na, b / nb
    return float(np.degrees(2.0 * np.arctan2(np.linalg.norm(u - v), np.linalg.norm(u + v))))


@dataclass
class ClipResult:
    """A gradient before and after one clipping rule, with its norms and the turn in degrees."""

    mode: str
    threshold: float
    before: np.ndarray
    after: np.ndarray
    norm_before: float
    norm_after: float
    angle_deg: float

    @property
    def active(self):
        """Whether the rule changed the gradient."""
        return not np.array_equal(self.before, self.after)


def clip_vector(g, threshold, mode):
    """Clip one vector ``g`` (d,) by ``mode`` "value" or "norm" (per-tensor, Keras's rule)."""
    if mode not in MODES:
        raise ValueError(f"unknown clipping mode {mode!r}; choose 'value' or 'norm'")
    g = validate.array(g, "g", ndim=1)
    rule = clip.clip_by_value if mode == "value" else clip.clip_by_norm
    after = rule(g, threshold)
    return ClipResult(mode, float(threshold), g, after, clip.tensor_norm(g),
                      clip.tensor_norm(after),
                      _angle_deg(g, after))


@dataclass
class WorkedExample:
    """``g`` clipped at ``threshold`` three ways: global norm (PyTorch), per-tensor norm, value."""

    g: np.ndarray
    threshold: float
    norm: float
    factor: float
    global_norm_clipped: np.ndarray
    by_norm: ClipResult
    by_value: ClipResult


def worked_example(g=(16.0, 12.0, -8.0), threshold=5.0):
    r"""The chapter's example: :math:`\|g\|`, the factor :math:`c/\|g\|`, the clipped vectors."""
    g = validate.array(g, "g", ndim=1)
    clipped, total = clip.clip_by_global_norm(g, threshold)
    return WorkedExample(g, float(threshold), total, threshold / total, clipped,
                         clip_vector(g, threshold, "norm"), clip_vector(g, threshold, "value"))


@dataclass
class ClipOrder:
    """Weights after one SGD step: without clipping, clipping before the step, and after it."""

    no_clip: np.ndarray
    clip_then_step: np.ndarray
    step_then_clip: np.ndarray


def clip_order(w0, grad, lr, max_norm):
    """One plain SGD step on a parameter, with ``clip_grad_norm_`` before or after ``step()``."""
    results = {}
    for order in ("no_clip", "clip_then_step", "step_then_clip"):
        p = Parameter(w0, "w")
        p.accumulate(np.asarray(grad, np.float64))
        optimizer = optim.SGD([p], lr)
        if order == "clip_then_step":
            clip.clip_grad_norm_([p], max_norm)
        optimizer.step()
        if order == "step_then_clip":
            clip.clip_grad_norm_([p], max_norm)  # too late: the weights have moved
        results[order] = p.value.copy()
    return ClipOrder(**results)


@dataclass
class Accumulation:
    """The gradient that reaches the step under three ways of clipping with accumulation."""

    full_batch: np.ndarray
    clip_once: np.ndarray
    clip_each: np.ndarray


def accumulation(micro_grads, max_norm):
    r"""Accumulate ``k`` micro-batch gradients (k, d) of a mean loss, each scaled by :math:`1/k`.

    ``full_batch`` clips the mean gradient of the whole batch; ``clip_once`` adds the
    scaled micro-batch gradients into ``Parameter.grad`` and clips once before the
    step (the right way: it equals ``full_batch``); ``clip_each`` clips every
    micro-batch contribution before adding it (a different vector).
    """
    micro = validate.array(micro_grads, "micro_grads", ndim=2)
    k = len(micro)
    full, _ = clip.clip_by_global_norm(micro.mean(axis=0), max_norm)
    p = Parameter(np.zeros(micro.shape[1]), "w")
    for g in micro:
        p.accumulate(g / k)
    clip.clip_grad_norm_([p], max_norm)
    each = sum(clip.clip_by_global_norm(g / k, max_norm)[0] for g in micro)
    return Accumulation(full, p.grad, each)


def norm_before_and_after(grads, max_norm):
    """``(value returned by clip_grad_norm_, global norm of the gradients afterwards)``."""
    params = [Parameter(np.zeros_like(g, dtype=np.float64), f"p{i}") for i, g in enumerate(grads)]
    for p, g in zip(params, grads):
        p.accumulate(np.asarray(g, np.float64))
    returned = clip.clip_grad_norm_(params, max_norm)
    return returned, clip.global_norm([p.grad for p in params])


@dataclass
class GlobalVersusPerTensor:
    """Per-tensor norms before and after global and per-tensor norm clipping."""

    norms_before: np.ndarray
    norms_global: np.ndarray
    norms_per_tensor: np.ndarray


def global_versus_per_tensor(grads, max_norm):
    """Clip a list of tensors both ways and report each tensor's norm."""
    global_clipped, _ = clip.clip_by_global_norm(list(grads), max_norm)
    per_tensor = clip.clip_by_norm(list(grads), max_norm)
    return GlobalVersusPerTensor(_norms(grads), _norms(global_clipped), _norms(per_tensor))


def _norms(grads):
    return np.array([clip.tensor_norm(g) for g in grads])


def _nan_counts(grads):
    return [int(np.isnan(g).sum()) for g in grads]


def nan_spread(grads, max_norm):
    """How many entries of each tensor are NaN after each rule, when some input holds a NaN.

    Returns a dict ``{"input" | "global norm" | "per-tensor norm" | "value": [count per tensor]}``.
    Global clipping multiplies every tensor by one NaN coefficient, so the NaN
    spreads to all of them; the other rules keep it where it was (per-tensor) or
    in the one entry (value). ``clip_by_global_norm(..., error_if_nonfinite=True)``
    raises instead.
    """
    arrays = [np.asarray(g, np.float64) for g in grads]
    return {
        "input": _nan_counts(arrays),
        "global norm": _nan_counts(clip.clip_by_global_norm(arrays, max_norm)[0]),
        "per-tensor norm": _nan_counts(clip.clip_by_norm(arrays, max_norm)),
        "value": _nan_counts(clip.clip_by_value(arrays, max_norm)),
    }


@dataclass
class OptimizerTrace:
    """Per step: norm of the gradient the optimiser received, of what it used, of its step."""

    grad_norm: np.ndarray
    used_norm: np.ndarray
    step_length: np.ndarray


def optimizer_trace(grads, make_optimizer, global_clipnorm=None):
    """Feed the gradient sequence ``grads`` (steps, d) to an optimiser configured to clip.

    ``make_optimizer(params, global_clipnorm=...)`` builds a ``gradlab.optim``
    optimiser; its clipping runs inside ``step()`` before momentum or Adam's
    moments see the gradient, so ``used_norm`` never exceeds ``global_clipnorm``
    while the step itself may.
    """
    grads = validate.array(grads, "grads", ndim=2)
    p = Parameter(np.zeros(grads.shape[1]), "w")
    optimizer = make_optimizer([p], global_clipnorm=global_clipnorm)
    used, steps = [], []
    for g in grads:
        optimizer.zero_grad()
        p.accumulate(g)
        before = p.value.copy()
        optimizer.step()
        used.append(clip.tensor_norm(p.grad))
        steps.append(clip.tensor_norm(p.value - before))
    return OptimizerTrace(np.linalg.norm(grads, axis=1), np.array(used), np.array(steps))


def spike_sequence(n_steps=60, spike_step=20, size=0.5, spike=1e3, dim=2):
    """A steady gradient ``size`` along the first axis with one spike of norm ``spike``."""
    grads = np.zeros((n_steps, dim))
    grads[:, 0] = size
    grads[spike_step, 0] = spike
    return grads


# --- non-finite gradients -------------------------------------------------------------------

POLICIES = ("raise", "skip", "fallback")
OPTIMUM = np.array([3.0, -2.0])


def toy_gradient(w, step, scenario, overflow_norm=8.0, every=10):
    r"""Gradient of :math:`\tfrac12\|w - w^*\|^2`, :math:`w^* = (3, -2)`, made non-finite at will.

    ``scenario="transient"``: NaN on every ``every``-th step, whatever the weights
    (a rare bad batch). ``scenario="large weights"``: ``inf`` whenever
    :math:`\|w\| > ` ``overflow_norm`` (a forward pass that overflows for large
    weights, as an RNN's can).
    """
    if scenario == "transient":
        bad = step % every == every - 1
        return np.full_like(w, np.nan) if bad else w - OPTIMUM
    if scenario == "large weights":
        return np.full_like(w, np.inf) if np.linalg.norm(w) > overflow_norm else w - OPTIMUM
    raise ValueError(f"unknown scenario {scenario!r}; use 'transient' or 'large weights'")


@dataclass
class PolicyRun:
    """A run under one policy: weights (steps+1, d), loss per point, what happened."""

    policy: str
    weights: np.ndarray
    loss: np.ndarray
    non_finite_steps: int
    stopped_at: int | None
    message: str

    @property
    def final_loss(self):
        return float(self.loss[-1])


def policy_step(w, grad, lr, policy, max_norm=1.0, fallback_scale=0.1):
    r"""One clipped SGD step under a non-finite policy; returns the new weights.

    ``raise``: ``clip_by_global_norm(..., error_if_nonfinite=True)`` raises
    ``NonFiniteGradientError``. ``skip``: the weights stay as they are.
    ``fallback``: the gradient becomes :math:`\lambda w` (``fallback_scale``), so
    the step shrinks the weights by the factor :math:`1 - \eta\lambda`.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    finite = np.isfinite(clip.global_norm(grad))
    if not finite and policy == "skip":
        return w.copy()
    if not finite and policy == "fallback":
        return w - lr * fallback_scale * w
    clipped, _ = clip.clip_by_global_norm(grad, max_norm, error_if_nonfinite=policy == "raise")
    return w - lr * clipped


def run_policy(policy, scenario, w0=(6.0, 6.0), lr=0.2, n_steps=60, max_norm=1.0,
               fallback_scale=0.1):
    """Clipped SGD on the toy loss under one policy; a raised error ends the run and is recorded."""
    w = validate.array(w0, "w0", ndim=1)
    weights, events, stopped, message = [w], 0, None, "ran to the end"
    for step in range(n_steps):
        grad = toy_gradient(w, step, scenario)
        events += int(not np.all(np.isfinite(grad)))
        try:
            w = policy_step(w, grad, lr, policy, max_norm, fallback_scale)
        except NonFiniteGradientError as error:
            stopped, message = step, str(error)
            break
        weights.append(w)
    weights = np.array(weights)
    loss = 0.5 * np.sum((weights - OPTIMUM) ** 2, axis=1)
    return PolicyRun(policy, weights, loss, events, stopped, message)


# --- 16-bit floats ------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatFormat:
    r"""A binary floating-point format with ``exponent_bits`` :math:`e` and ``fraction_bits`` :math:`f`.

    Largest finite value :math:`(2 - 2^{-f})\,2^{2^{e-1}-1}`, smallest normal value
    :math:`2^{2-2^{e-1}}`, machine epsilon :math:`2^{-f}` (the IEEE 754 layout, which
    bfloat16 shares: it is float32 with the last 16 fraction bits dropped).
    """

    name: str
    exponent_bits: int
    fraction_bits: int

    @property
    def largest(self):
        return (2.0 - 2.0**-self.fraction_bits) * 2.0 ** (2 ** (self.exponent_bits - 1) - 1)

    @property
    def smallest_normal(self):
        return 2.0 ** (2 - 2 ** (self.exponent_bits - 1))

    @property
    def epsilon(self):
        return 2.0**-self.fraction_bits

    @property
    def norm_limit(self):
        r"""The norm above which :math:`\|g\|^2` is no longer finite: :math:`\sqrt{\max}`."""
        return float(np.sqrt(self.largest))


FLOAT16 = FloatFormat("float16", 5, 10)
BFLOAT16 = FloatFormat("bfloat16", 8, 7)
FLOAT32 = FloatFormat("float32", 8, 23)


def norm_in_float16(g):
    """The 2-norm of ``g`` computed in float16 arithmetic (``inf`` once the squares overflow)."""
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(np.asarray(g, np.float16)))


def threshold_from_norms(norms, percentile=90.0):
    """A clipping threshold: the given percentile of the finite observed gradient norms."""
    norms = np.asarray(norms, np.float64).ravel()
    finite = norms[np.isfinite(norms)]
    if finite.size == 0:
        raise ValueError("no finite gradient norm was observed; cannot choose a threshold")
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {percentile}")
    return float(np.percentile(finite, percentile))
