r"""Clipping rules compared over many seeds at once, and policies against bad batches.

The task is linear regression :math:`y = x^\top w^\ast + \xi` in ``dim`` features, trained
by minibatch SGD on the mean squared error, with label noise :math:`\xi` either Gaussian or
Student-t (heavy-tailed: with 1.5 degrees of freedom its variance is infinite, so rare
batches carry huge gradients). All seeds run together: the weights are an array
``(n_seeds, dim)`` and every rule computes one clip coefficient per seed and step.

Rules (each a coefficient :math:`\kappa \le 1` multiplying the minibatch gradient):

* ``none``; ``fixed``: :math:`\min(1, c/(N + 10^{-6}))`;
* ``agc``: the model has one output unit, so AGC's unit is the whole weight vector,
  :math:`\min(1, \lambda \max(\lVert w\rVert, \varepsilon)/N)`;
* ``autoclip``: the fixed rule with :math:`c` the ``p``-th percentile of the norms so far;
* ``zclip``: :math:`c` from ``clip_adaptive.zclip_target`` with its moving averages.

Policies against injected bad batches (``bad_batch_runs``) add: ``skip`` (drop a step
whose norm is non-finite or above ``skip_factor`` times its running median) and
``rewind`` (on such a step, restore the weights of ``rewind_steps`` steps ago and drop
the next ``skip_batches`` batches, as PaLM's team did by hand).
"""

from dataclasses import dataclass

import numpy as np

from .. import clip, validate
from ..clip_adaptive import AGC_EPS, ema_update, zclip_target
from ..data import make_adding_problem
from ..stats import share, spread

RULES = ("none", "fixed", "agc", "autoclip", "zclip")


@dataclass
class Task:
    """Teacher weights and the label-noise law of one comparison."""

    dim: int = 10
    noise: str = "student"  # "gaussian" or "student"
    df: float = 1.5
    scale: float = 1.0


def _noise(task, rng, shape):
    if task.noise == "gaussian":
        return task.scale * rng.standard_normal(shape)
    if task.noise == "student":
        return task.scale * rng.standard_t(task.df, shape)
    raise ValueError(f"unknown noise {task.noise!r}; choose 'gaussian' or 'student'")


def _batches(task, seeds, n_steps, batch_size, rng):
    """Every seed's teacher, start and minibatches, drawn once so all rules see the same."""
    n = len(seeds)
    teacher = rng.standard_normal((n, task.dim))
    start = 0.1 * rng.standard_normal((n, task.dim))
    X = rng.standard_normal((n_steps, n, batch_size, task.dim))
    y = np.einsum("tsbd,sd->tsb", X, teacher) + _noise(task, rng, (n_steps, n, batch_size))
    return teacher, start, X, y


class _Threshold:
    """Per-seed state of one rule; ``coefficient(norms, w)`` → one factor per seed."""

    def __init__(self, rule, n, c, agc_lambda, percentile, zclip):
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
        self.rule, self.c, self.lam, self.p = rule, c, agc_lambda, percentile
        self.alpha, self.z, self.warmup = zclip
        self.history = []
        self.mean = self.var = None

    def coefficient(self, norms, w):
        if self.rule == "none":
            return np.ones_like(norms)
        if self.rule == "fixed":
            return clip.clip_coefficient(norms, self.c)
        if self.rule == "agc":
            bound = self.lam * np.maximum(np.linalg.norm(w, axis=1), AGC_EPS)
            return np.minimum(1.0, bound / np.maximum(norms, 1e-6))
        if self.rule == "autoclip":
            self.history.append(norms)
            limit = np.percentile(self.history, self.p, axis=0)  # one threshold per seed
            return np.minimum(limit / (norms + clip.EPS), 1.0)
        return self._zclip(norms)

    def _zclip(self, norms):
        if self.mean is None:
            self.history.append(norms)
            if len(self.history) >= self.warmup:
                h = np.array(self.history)
                self.mean, self.var = h.mean(axis=0), h.var(axis=0)
            return np.ones_like(norms)
        target = zclip_target(norms, self.mean, self.var, self.z)
        self.mean, self.var = ema_update(self.mean, self.var, target, self.alpha)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(target < norms, target / norms, 1.0)


@dataclass
class RuleRuns:
    """Final relative errors ``|w - w*|^2 / |w*|^2`` (rule, seed) and the share of clipped steps."""

    rules: tuple
    error: np.ndarray
    clipped_share: np.ndarray

    def summary(self, good=0.05):
        """One dict per rule: error median (quartiles), share of seeds below ``good``."""
        rows = []
        for i, rule in enumerate(self.rules):
            e = self.error[i]
            rows.append({"rule": rule, "error": spread(e), "good": share(np.isfinite(e) & (e < good)),
                         "clipped": float(self.clipped_share[i])})
        return rows


def compare_rules(task, rules=RULES, n_seeds=200, n_steps=400, batch_size=16, lr=0.05,
                  threshold=5.0, agc_lambda=0.01, percentile=10, zclip=(0.97, 2.5, 25), seed=0):
    """Train ``n_seeds`` regressions under each rule on the same batches; returns ``RuleRuns``."""
    n = validate.positive_int(n_seeds, "n_seeds")
    rng = np.random.default_rng(seed)
    teacher, start, X, y = _batches(task, range(n), n_steps, batch_size, rng)
    errors, clipped = [], []
    for rule in rules:
        state = _Threshold(rule, n, threshold, agc_lambda, percentile, zclip)
        w = start.copy()
        active = 0.0
        for t in range(n_steps):
            residual = np.einsum("sbd,sd->sb", X[t], w) - y[t]
            grad = 2.0 / batch_size * np.einsum("sbd,sb->sd", X[t], residual)
            kappa = state.coefficient(np.linalg.norm(grad, axis=1), w)
            active += np.mean(kappa < 1.0)
            w = w - lr * kappa[:, None] * grad
        errors.append(np.sum((w - teacher) ** 2, axis=1) / np.sum(teacher**2, axis=1))
        clipped.append(active / n_steps)
    return RuleRuns(tuple(rules), np.array(errors), np.array(clipped))


POLICIES = ("none", "fixed", "skip", "rewind", "zclip")


@dataclass
class BadBatchRuns:
    """Loss curves (policy, step) as medians over seeds, and final errors (policy, seed)."""

    policies: tuple
    bad_steps: np.ndarray
    median_error_curve: np.ndarray
    error: np.ndarray

    def summary(self, good=0.05):
        rows = []
        for i, p in enumerate(self.policies):
            e = self.error[i]
            finite = np.isfinite(e)
            rows.append({"policy": p, "error": spread(e) if finite.any() else None,
                         "diverged": share(~finite), "good": share(finite & (e < good))})
        return rows


def bad_batch_runs(policies=POLICIES, n_seeds=200, n_steps=400, batch_size=16, lr=0.05,
                   n_bad=4, bad_scale=1e3, threshold=5.0, skip_factor=10.0, rewind_steps=20,
                   skip_batches=10, seed=1):
    """Gaussian-noise regression with ``n_bad`` corrupted batches (labels times ``bad_scale``,
    one of them turned to inf) at the same random steps for every seed; each policy on the
    same data."""
    n = validate.positive_int(n_seeds, "n_seeds")
    rng = np.random.default_rng(seed)
    task = Task(noise="gaussian", scale=0.5)
    teacher, start, X, y = _batches(task, range(n), n_steps, batch_size, rng)
    bad = np.sort(rng.choice(np.arange(50, n_steps - 50), n_bad, replace=False))
    y = y.copy()
    y[bad] *= bad_scale
    y[bad[-1], :, 0] = np.inf  # one batch whose loss overflows
    curves, errors = [], []
    for policy in policies:
        w = start.copy()
        zstate = _Threshold("zclip", n, threshold, 0.0, 0, (0.97, 2.5, 25))
        norms_seen, snapshots = [], [w.copy()]
        skip_left = np.zeros(n, dtype=int)
        curve = []
        for t in range(n_steps):
            with np.errstate(invalid="ignore", over="ignore"):
                residual = np.einsum("sbd,sd->sb", X[t], w) - y[t]
                grad = 2.0 / batch_size * np.einsum("sbd,sb->sd", X[t], residual)
                norms = np.linalg.norm(grad, axis=1)
            finite = np.isfinite(norms)
            median = np.median(norms_seen, axis=0) if norms_seen else np.full(n, np.inf)
            outlier = ~finite | (norms > skip_factor * median)
            if policy == "none":
                kappa = np.ones(n)
            elif policy == "fixed":
                kappa = clip.clip_coefficient(norms, threshold)
            elif policy == "zclip":
                kappa = np.where(finite, zstate.coefficient(np.where(finite, norms, 0.0), w), 0.0)
            else:
                kappa = np.where(outlier | (skip_left > 0), 0.0, 1.0)
            if policy == "rewind":
                back = snapshots[max(0, len(snapshots) - rewind_steps)]
                w = np.where(outlier[:, None], back, w)
                skip_left = np.where(outlier, skip_batches, np.maximum(skip_left - 1, 0))
            if policy in ("skip", "rewind"):
                norms_seen.append(np.where(outlier, median, norms))
            else:
                norms_seen.append(norms)
            with np.errstate(invalid="ignore", over="ignore"):
                if policy in ("skip", "rewind"):  # a dropped step never touches w
                    w = w - lr * np.where(kappa[:, None] > 0, grad, 0.0)
                else:  # as in PyTorch: a zero coefficient times inf is NaN
                    w = w - lr * kappa[:, None] * grad
            snapshots.append(w.copy())
            with np.errstate(invalid="ignore", over="ignore"):
                curve.append(np.median(np.sum((w - teacher) ** 2, axis=1) / np.sum(teacher**2, axis=1)))
        with np.errstate(invalid="ignore", over="ignore"):
            errors.append(np.sum((w - teacher) ** 2, axis=1) / np.sum(teacher**2, axis=1))
        curves.append(curve)
    return BadBatchRuns(tuple(policies), bad, np.array(curves), np.array(errors))


MLP_RULES = ("none", "fixed", "agc", "agc_hidden", "autoclip", "zclip")


@dataclass
class NetworkRuleRuns:
    """A network (the regression MLP, the adding RNN) under each rule: test MSE (rule, seed),
    NaN where a run diverged, and the share of clipped steps (or units, for AGC)."""

    rules: tuple
    seeds: np.ndarray
    test_mse: np.ndarray
    clipped_share: np.ndarray

    def summary(self, good=None):
        """One dict per rule: diverged seeds, test MSE median (quartiles) of the others, and
        with ``good`` the share of seeds whose test MSE is below it."""
        rows = []
        for i, rule in enumerate(self.rules):
            e = self.test_mse[i]
            finite = np.isfinite(e)
            row = {"rule": rule, "diverged": share(~finite),
                   "test_mse": spread(e) if finite.any() else None,
                   "clipped": float(self.clipped_share[i])}
            if good is not None:
                row["good"] = share(finite & (e < good))
            rows.append(row)
        return rows


def _unit_factor(g, w, lam):
    """AGC's factor for stacked tensors (seed, ...): units are the last axis of a matrix
    (columns of an (n_in, n_out) weight); a vector (a bias) is one unit."""
    axes = tuple(range(1, g.ndim - 1)) if g.ndim > 2 else (1,)
    g_norm = np.sqrt(np.sum(g * g, axis=axes, keepdims=True))
    w_norm = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.minimum(1.0, lam * np.maximum(w_norm, AGC_EPS) / np.maximum(g_norm, 1e-6))


def _rule_state(rule, n, threshold, agc_lambda, percentile, zclip):
    """The per-seed state of ``rule`` (``agc_hidden`` is AGC on fewer tensors)."""
    return _Threshold("agc" if rule == "agc_hidden" else rule, n, threshold, agc_lambda,
                      percentile, zclip)


def _clip_stacked(rule, state, grads, weights, agc_lambda, readout=2):
    """``rule`` on stacked gradients (seed, ...): the clipped gradients and the share clipped.

    AGC clips every unit of every tensor, ``agc_hidden`` all but the last ``readout`` tensors
    (the final layer's weight and bias); the other rules scale each seed's gradients by one
    coefficient of their global norm.
    """
    n = len(grads[0])
    if state.rule == "agc":
        layers = range(len(grads) - readout if rule == "agc_hidden" else len(grads))
        factors = [_unit_factor(g, w, agc_lambda) if k in layers else 1.0
                   for k, (g, w) in enumerate(zip(grads, weights))]
        return ([g * f for g, f in zip(grads, factors)],
                np.mean([np.mean(factors[k] < 1) for k in layers]))
    norms = np.sqrt(sum(np.sum(g.reshape(n, -1) ** 2, axis=1) for g in grads))
    kappa = state.coefficient(norms, None)
    return [g * kappa.reshape((n,) + (1,) * (g.ndim - 1)) for g in grads], np.mean(kappa < 1)


def mlp_rules(rules=MLP_RULES, seeds=range(40), epochs=20, lr=0.01, momentum=0.9,
              batch_size=32, threshold=1.0, agc_lambda=0.01, percentile=10,
              zclip=(0.97, 2.5, 25)):
    """The chapter 2 regression MLP (unscaled targets, SGD with momentum 0.9) under each rule,
    all seeds at once. ``agc_hidden`` applies AGC to the hidden layer only (Brock et al.
    leave the final layer unclipped)."""
    from . import regression

    data = regression.load()
    seeds = np.asarray(list(seeds), dtype=int)
    n = len(seeds)
    models = [regression.build_model(int(s)) for s in seeds]
    start = [np.stack([m.parameters()[k].value for m in models]) for k in range(4)]
    X, y = data.X_train, data.y_train[:, 0]
    n_batches = int(np.ceil(len(X) / batch_size))
    orders = [[np.random.default_rng(int(s)).permutation(len(X)) for _ in range(epochs)]
              for s in seeds]
    test_mse, clipped = [], []
    for rule in rules:
        state = _rule_state(rule, n, threshold, agc_lambda, percentile, zclip)
        W1, b1, W2, b2 = (p.copy() for p in start)
        vel = [np.zeros_like(p) for p in start]
        active, steps = 0.0, 0
        with np.errstate(all="ignore"):
            for epoch in range(epochs):
                for b in range(n_batches):
                    idx = np.stack([orders[j][epoch][b * batch_size:(b + 1) * batch_size]
                                    for j in range(n)])
                    xb, yb = X[idx], y[idx]
                    pre = np.einsum("sbi,sij->sbj", xb, W1) + b1[:, None, :]
                    h = np.maximum(pre, 0.0)
                    out = np.einsum("sbj,sjk->sbk", h, W2)[..., 0] + b2
                    d_out = 2.0 * (out - yb) / idx.shape[1]
                    gW2 = np.einsum("sbj,sb->sj", h, d_out)[..., None]
                    gb2 = d_out.sum(axis=1, keepdims=True)
                    d_h = d_out[..., None] * W2[:, None, :, 0] * (pre > 0)
                    gW1 = np.einsum("sbi,sbj->sij", xb, d_h)
                    gb1 = d_h.sum(axis=1)
                    weights = [W1, b1, W2, b2]
                    grads, clipped_now = _clip_stacked(rule, state, [gW1, gb1, gW2, gb2],
                                                       weights, agc_lambda)
                    active += clipped_now
                    steps += 1
                    for k in range(4):
                        vel[k] = momentum * vel[k] + grads[k]
                        weights[k] -= lr * vel[k]
                if not np.isfinite(W2).any():  # every seed has diverged: nothing left to run
                    break
            pre = np.einsum("bi,sij->sbj", data.X_test, W1) + b1[:, None, :]
            pred = np.einsum("sbj,sjk->sbk", np.maximum(pre, 0.0), W2)[..., 0] + b2
            mse = np.mean((pred - data.y_test[:, 0]) ** 2, axis=1)
        test_mse.append(np.where(np.isfinite(mse), mse, np.nan))
        clipped.append(active / steps)
    return NetworkRuleRuns(tuple(rules), seeds, np.array(test_mse), np.array(clipped))


def adding_rules(rules=MLP_RULES, seeds=range(30), steps=300, seq_len=10, lr=0.2,
                 threshold=1.0, agc_lambda=0.01, percentile=10, zclip=(0.97, 2.5, 25),
                 n_test=1000):
    """Chapter 4b's tanh RNN on the adding problem (H = 32, plain SGD, batches of 32) under
    each rule, every rule and seed in one stack: run ``r * n + j`` is rule ``r`` on seed
    ``seeds[j]``, with that seed's start and batches (``adding.build_model``,
    ``adding.training_stream``). ``agc_hidden`` leaves the readout unclipped. Test MSE on
    ``adding``'s fixed test set; a run diverged when a weight is no longer finite."""
    from . import adding

    seeds = np.asarray(list(seeds), dtype=int)
    n, n_rules = len(seeds), len(rules)
    steps = validate.positive_int(steps, "steps")
    models = [adding.build_model(int(s)) for s in seeds]
    weights = [np.concatenate([np.stack([m.parameters()[i].value for m in models])] * n_rules)
               for i in range(len(adding.PARAMETERS))]
    streams = [adding.training_stream(int(s), steps, seq_len) for s in seeds]
    states = [_rule_state(rule, n, threshold, agc_lambda, percentile, zclip) for rule in rules]
    active = np.zeros(n_rules)
    batch_size = len(streams[0][1]) // steps
    with np.errstate(all="ignore"):
        for step in range(steps):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            x = np.stack([stream[0][:, batch] for stream in streams])
            y = np.stack([stream[1][batch] for stream in streams])
            _, grads = adding.loss_and_grads(weights, np.concatenate([x] * n_rules),
                                              np.concatenate([y] * n_rules))
            for r, (rule, state) in enumerate(zip(rules, states)):
                part = slice(r * n, (r + 1) * n)
                clipped, share_now = _clip_stacked(rule, state, [g[part] for g in grads],
                                                   [w[part] for w in weights], agc_lambda)
                active[r] += share_now
                for w, g in zip(weights, clipped):
                    w[part] -= lr * g
        x_test, y_test = make_adding_problem(n_test, seq_len, seed=adding.TEST_SEED)
        x_test = np.broadcast_to(x_test, (n,) + x_test.shape)
        mse = np.concatenate([  # one rule at a time: the hidden states of all would be large
            np.mean((adding.predict([w[r * n:(r + 1) * n] for w in weights], x_test)
                     - y_test) ** 2, axis=(1, 2)) for r in range(n_rules)])
    finite = np.all([np.isfinite(w).reshape(len(w), -1).all(axis=1) for w in weights], axis=0)
    mse = np.where(finite & np.isfinite(mse), mse, np.nan).reshape(n_rules, n)
    return NetworkRuleRuns(tuple(rules), seeds, mse, active / steps)
