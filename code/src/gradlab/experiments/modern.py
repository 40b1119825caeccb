r"""Chapter 6's smaller demonstrations, each a pure function over the clipping layer.

* (L0, L1)-smoothness: gradient descent on :math:`f(x) = x^4/4` with and without clipping,
  and the local smoothness :math:`\lVert\nabla f(w_{t+1}) - \nabla f(w_t)\rVert /
  \lVert w_{t+1} - w_t\rVert` against :math:`\lVert\nabla f(w_t)\rVert` along a training
  run of the regression MLP (Zhang et al., 2020, estimate it the same way);
* many machines: the MLP's gradient split into shards;
* low precision: a norm whose squares overflow float32 or float16, and loss scaling;
* DP-SGD on a small logistic regression: the bias of per-example clipping;
* a field guide of clipping bugs.
"""

from dataclasses import dataclass

import numpy as np

from .. import clip, clip_private, clip_sharded, losses, validate
from ..clip_adaptive import unit_norms
from ..nn import Parameter
from . import regression


# --- (L0, L1)-smoothness -------------------------------------------------------------

def quartic_descent(x0=10.0, lr=0.1, n_steps=200, max_norm=None):
    r"""Gradient descent on :math:`x^4/4` (gradient :math:`x^3`); optional clip of
    :math:`|g|` at ``max_norm``. Returns the iterates (n_steps + 1,); stops at the first
    non-finite one (the rest stay NaN)."""
    xs = np.full(n_steps + 1, np.nan)
    xs[0] = x = np.float64(x0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(n_steps):
            g = x**3
            if max_norm is not None:
                g = g * float(clip.clip_coefficient(abs(g), max_norm))
            x = x - lr * g
            if not np.isfinite(x):
                break
            xs[t + 1] = x
    return xs


def first_nonfinite(xs):
    """The first step whose iterate is NaN or infinite (``None`` if all are finite)."""
    bad = np.flatnonzero(~np.isfinite(xs))
    return int(bad[0]) if bad.size else None


@dataclass
class SmoothnessTrace:
    """Along one run: gradient norms and local smoothness estimates, one per step."""

    grad_norm: np.ndarray
    smoothness: np.ndarray

    def slope(self):
        """Least-squares slope of log(smoothness) on log(gradient norm)."""
        ok = (self.grad_norm > 0) & (self.smoothness > 0)
        return float(np.polyfit(np.log(self.grad_norm[ok]), np.log(self.smoothness[ok]), 1)[0])


def smoothness_along_run(n_steps=300, lr=0.01, momentum=0.9, max_norm=1.0, seed=0):
    """Full-batch gradient descent with momentum on the regression MLP (global clip at
    ``max_norm``), recording ``|g(w_t+1) - g(w_t)| / |w_t+1 - w_t|`` and ``|g(w_t)|``."""
    data = regression.load()
    model = regression.build_model(seed)
    params = model.parameters()
    loss_fn = losses.MSELoss()

    def gradient():
        model.zero_grad()
        loss_fn(model.forward(data.X_train), data.y_train)
        model.backward(loss_fn.backward())
        return np.concatenate([p.grad.ravel() for p in params])

    velocity = [np.zeros_like(p.value) for p in params]
    g = gradient()
    norms, smooth = [], []
    for _ in range(n_steps):
        before = np.concatenate([p.value.ravel() for p in params])
        coefficient = float(clip.clip_coefficient(np.linalg.norm(g), max_norm))
        offset = 0
        for k, p in enumerate(params):
            n = p.value.size
            velocity[k] = momentum * velocity[k] + coefficient * g[offset:offset + n].reshape(p.shape)
            p.value -= lr * velocity[k]
            offset += n
        after = np.concatenate([p.value.ravel() for p in params])
        g_new = gradient()
        norms.append(np.linalg.norm(g))
        smooth.append(np.linalg.norm(g_new - g) / np.linalg.norm(after - before))
        g = g_new
    return SmoothnessTrace(np.array(norms), np.array(smooth))


# --- many machines -----------------------------------------------------------------

def mlp_gradient(seed=0, batch=64, start=0):
    """The regression MLP's gradient on the training rows ``start:start + batch``, at its
    initial weights: a list of arrays (W1, b1, W2, b2)."""
    data = regression.load()
    model = regression.build_model(seed)
    loss_fn = losses.MSELoss()
    rows = slice(start, start + batch)
    loss_fn(model.forward(data.X_train[rows]), data.y_train[rows])
    model.backward(loss_fn.backward())
    return [p.grad.copy() for p in model.parameters()]


@dataclass
class ShardComparison:
    n_shards: int
    unsharded_norm: float
    sharded_norm: float
    shard_norms: list
    global_cosine: float  # direction of the global-clipped update vs the raw gradient
    per_shard_cosine: float  # the same for per-shard clipping
    global_after: float
    per_shard_after: float


def _flat(shards):
    return np.concatenate([g.ravel() for shard in shards for g in shard])


def compare_sharding(grads, n_shards, max_norm=1.0):
    """Split ``grads`` over ``n_shards`` devices; global versus per-shard clipping."""
    shards = clip_sharded.split(grads, n_shards)
    raw = _flat(shards)
    glob, total = clip_sharded.clip_sharded(shards, max_norm)
    each, norms = clip_sharded.clip_each_shard(shards, max_norm)

    def cosine(a):
        return float(a @ raw / (np.linalg.norm(a) * np.linalg.norm(raw)))

    return ShardComparison(n_shards, clip.global_norm(grads), total, norms,
                           cosine(_flat(glob)), cosine(_flat(each)),
                           float(np.linalg.norm(_flat(glob))), float(np.linalg.norm(_flat(each))))


# --- low precision -----------------------------------------------------------------

@dataclass
class PrecisionCase:
    dtype: str
    size: float
    naive_norm: float  # sqrt(sum(g*g)) in the gradient's own type
    safe_norm: float  # scaled by the largest entry first
    wide_norm: float  # accumulated in float64
    clipped_naive: np.ndarray  # what a global clip at 1 makes of g with the naive norm


def norm_overflow(size, dtype, n=4, max_norm=1.0):
    """A gradient of ``n`` entries equal to ``size`` in ``dtype``, and three ways to its norm."""
    g = np.full(n, size, dtype=dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.sqrt(np.sum(g * g))
        coefficient = np.minimum(np.asarray(max_norm, dtype) / (naive + np.asarray(1e-6, dtype)), 1)
        clipped = g * coefficient.astype(dtype)
    scale = np.max(np.abs(g))
    safe = scale * np.sqrt(np.sum((g / scale) ** 2))
    return PrecisionCase(np.dtype(dtype).name, float(size), float(naive), float(safe),
                         float(np.sqrt(np.sum(g.astype(np.float64) ** 2))), clipped)


@dataclass
class LossScaling:
    scale: float
    true_norm: float
    scaled_norm: float
    clip_scaled_factor: float  # factor applied when clipping the scaled gradient at c
    clip_unscaled_factor: float  # when unscaling first, as one should


def loss_scaling(grads, scale=2.0**16, max_norm=1.0):
    """Clip the loss-scaled gradients as they are, or unscale them first."""
    true = clip.global_norm(grads)
    scaled = [scale * np.asarray(g) for g in grads]
    wrong = float(clip.clip_coefficient(clip.global_norm(scaled), max_norm))
    right = float(clip.clip_coefficient(true, max_norm))
    return LossScaling(scale, true, clip.global_norm(scaled), wrong, right)


# --- DP-SGD ------------------------------------------------------------------------

def logistic_data(n=400, dim=5, seed=0, outliers=0.05):
    """A separable-ish logistic regression set with a few far-out points (they have large
    per-example gradients). Returns ``(X, y, w_true)`` with labels in {0, 1}."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(dim)
    X = rng.standard_normal((n, dim))
    far = rng.random(n) < outliers
    X[far] *= 10.0
    p = 1.0 / (1.0 + np.exp(-X @ w_true))
    y = (rng.random(n) < p).astype(float)
    return X, y, w_true


def logistic_per_example(w, X, y):
    """Per-example gradients of the logistic loss, ``(n, dim)``: :math:`(\\sigma(x^\\top w) - y)\\,x`."""
    z = X @ w
    p = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
    return (p - y)[:, None] * X


def logistic_loss(w, X, y):
    z = X @ w
    return float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))


@dataclass
class DPRun:
    max_norm: float
    noise_multiplier: float
    final_loss: float
    distance: float  # |w - w_nonprivate| at the end
    clip_fraction_start: float
    clip_fraction_end: float


def dp_sgd(X, y, max_norm, noise_multiplier=0.0, lr=0.5, n_steps=1500, batch=100, seed=0):
    """DP-SGD (clipped noisy mean of per-example gradients, plain SGD) on logistic regression."""
    validate.positive_number(max_norm, "max_norm")
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    start_fraction = clip_private.clip_fraction(logistic_per_example(w, X, y), max_norm)
    for _ in range(n_steps):
        idx = rng.choice(len(X), batch, replace=False)
        g = clip_private.clipped_noisy_mean(logistic_per_example(w, X[idx], y[idx]),
                                            max_norm, noise_multiplier, rng)
        w = w - lr * g
    end_fraction = clip_private.clip_fraction(logistic_per_example(w, X, y), max_norm)
    return w, start_fraction, end_fraction


def reference_fit(X, y, lr=0.5, n_steps=3000):
    """Full-batch gradient descent without clipping: the non-private optimum (near enough)."""
    w = np.zeros(X.shape[1])
    for _ in range(n_steps):
        w = w - lr * logistic_per_example(w, X, y).mean(axis=0)
    return w


def clipping_bias(X, y, w, max_norm):
    """At weights ``w``: the angle (degrees) between the mean gradient and the mean of the
    clipped per-example gradients, and their norms."""
    per = logistic_per_example(w, X, y)
    mean = per.mean(axis=0)
    clipped_mean = clip_private.clipped_noisy_mean(per, max_norm, 0.0, np.random.default_rng(0))
    cos = mean @ clipped_mean / (np.linalg.norm(mean) * np.linalg.norm(clipped_mean))
    return float(np.degrees(np.arccos(np.clip(cos, -1, 1)))), float(np.linalg.norm(mean)), \
        float(np.linalg.norm(clipped_mean))


# --- a field guide of clipping bugs --------------------------------------------------

def torch_coefficient(total_norm, max_norm):
    """PyTorch's ``clamp(max_norm / (total_norm + 1e-6), max=1)``, which accepts inf."""
    with np.errstate(invalid="ignore"):
        return np.minimum(np.float64(max_norm) / (np.float64(total_norm) + 1e-6), 1.0)


def clip_tensors_as_parameters(grads, max_norm):
    """Bug: gradients wrapped as if they were parameters. Their ``.grad`` is ``None``, so
    a PyTorch-style clip skips every one: returns ``(returned norm, grads afterwards)``."""
    fake = [Parameter(np.asarray(g, dtype=np.float64).copy(), f"g{i}") for i, g in enumerate(grads)]
    returned = clip.clip_grad_norm_(fake, max_norm)
    return returned, [p.value for p in fake]


def logged_norms(grad_stream, max_norm):
    """Per step: the norm ``clip_grad_norm_`` returns (before) and the norm after clipping."""
    before, after = [], []
    for g in grad_stream:
        clipped, n = clip.clip_by_global_norm([g], max_norm)
        before.append(n)
        after.append(clip.global_norm(clipped))
    return np.array(before), np.array(after)


def per_variable_versus_global(grads, max_norm):
    """Total norm after per-tensor (Keras ``clipnorm``) and after global clipping."""
    per = clip.clip_by_norm(list(grads), max_norm)
    glob, _ = clip.clip_by_global_norm(list(grads), max_norm)
    return clip.global_norm(per), clip.global_norm(glob)


def safe_norm(x):
    """The overflow-safe 2-norm used by the clipping layer, for one array."""
    return float(unit_norms(np.asarray(x, dtype=np.float64).ravel()))
