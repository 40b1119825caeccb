r"""A tanh RNN on the adding problem, with and without clipping, over several seeds.

Setting (chapter 4): sequences of length T = 20, hidden size H = 32,
:math:`W_{rec} \sim N(0, 1/H)`, read out at the last step by a linear layer,
MSE loss, plain SGD (no momentum) on batches of 32 fresh sequences per step,
optionally with global-norm clipping. Predicting the mean target 1 scores
:math:`\mathrm{Var}(u_1 + u_2) = 1/6`; a run *converges* when its test MSE falls
below 0.05.

``run_many`` trains every (learning rate, clipping, seed) combination at once:
the K networks are stacked along a leading axis and the recurrence runs over all
of them in one NumPy call per time step. Each run equals the package's
``rnn.LastStepRegressor`` trained by ``train.fit`` on the same stream of batches, up
to rounding (``tests/test_adding.py`` checks it step by step).
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .. import clip, data, rnn, validate

BASELINE_MSE = 1.0 / 6.0
CONVERGED_MSE = 0.05
TEST_SEED = 2_024
PARAMETERS = ("W_in", "W_rec", "b", "W_out", "b_out")


def build_model(seed, hidden=32):
    """The chapter's network: RNN(2 -> H, tanh, W_rec ~ N(0, 1/H)) read out by Linear(H -> 1)."""
    rng = np.random.default_rng(seed)
    return rnn.LastStepRegressor(rnn.RNN(2, hidden, rng=rng), rng=rng)


def training_stream(seed, steps, seq_len=20, batch_size=32):
    """The batches run ``seed`` sees, one after the other: x (T, steps*B, 2), y (steps*B, 1)."""
    return data.make_adding_problem(steps * batch_size, seq_len, seed=seed)


@dataclass
class AddingRuns:
    r"""Results of ``run_many``; axes (setting, seed[, step]).

    ``settings`` is a list of ``(lr, clip)`` with ``clip`` ``None`` for no clipping.
    ``loss``, ``grad_norm`` (global norm before clipping), ``param_grad_norm`` (the
    norm of each parameter's gradient, last axis in ``PARAMETERS`` order),
    ``rec_norm`` and ``out_norm`` (Frobenius norms of :math:`W_{rec}` and
    :math:`W_{out}` after the step) are NaN after a run diverged;
    ``diverged_step`` is the 0-based step where it stopped, -1 if it did not;
    ``test_mse`` is on a fixed test set (NaN after divergence).
    """

    settings: list
    seeds: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    param_grad_norm: np.ndarray
    rec_norm: np.ndarray
    out_norm: np.ndarray
    test_mse: np.ndarray
    diverged_step: np.ndarray

    @property
    def converged(self):
        """(setting, seed) booleans: test MSE below ``CONVERGED_MSE``."""
        return np.nan_to_num(self.test_mse, nan=np.inf) < CONVERGED_MSE

    def share_converged(self):
        """(setting,) fraction of seeds that converged."""
        return self.converged.mean(axis=1)

    def share_diverged(self):
        """(setting,) fraction of seeds that hit a non-finite loss, gradient or weight."""
        return (self.diverged_step >= 0).mean(axis=1)

    def frozen_step(self):
        r"""(setting, seed) first step at which the gradients of :math:`W_{in}`,
        :math:`W_{rec}` and :math:`b` are all exactly zero (-1 if it never comes).

        Then every tanh unit is saturated for every sequence of the batch
        (:math:`h = \pm 1`, so :math:`1 - h^2 = 0` in floating point); from there on only
        the linear readout learns, apart from rare steps in which a unit falls short of
        saturation.
        """
        frozen = np.all(self.param_grad_norm[..., :3] == 0.0, axis=-1)
        return np.where(frozen.any(axis=2), frozen.argmax(axis=2), -1)

    def readout_growth(self):
        r"""(setting, seed) median factor :math:`\|W_{out}\|_{t+1} / \|W_{out}\|_t` over
        the steps after ``frozen_step`` (NaN where the network never froze)."""
        ratio = self.out_norm[..., 1:] / self.out_norm[..., :-1]
        after = np.arange(ratio.shape[-1]) >= self.frozen_step()[..., None]
        usable = after & (self.frozen_step()[..., None] >= 0) & np.isfinite(ratio)
        with warnings.catch_warnings():  # a run that never froze has no ratio: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(np.where(usable, ratio, np.nan), axis=-1)

    def summary(self):
        """One dict per setting: how many seeds diverged.

        Final test MSEs, converged shares, the share of clipped steps and the step of a
        late divergence are left out: the runs are chaotic, so those move between
        machines and are shown over seeds instead.
        """
        diverged = self.diverged_step >= 0
        return [{"lr": lr, "clipping": "none" if limit is None else f"global norm {limit:g}",
                 "diverged": f"{diverged[i].sum()} of {len(self.seeds)}"}
                for i, (lr, limit) in enumerate(self.settings)]

    def share_clipped(self):
        """(setting,) mean over seeds of the share of steps where the clip was active."""
        limits = np.array([np.inf if c is None else c for _, c in self.settings])
        active = self.grad_norm > limits[:, None, None]
        steps = np.maximum(np.sum(np.isfinite(self.grad_norm), axis=2), 1)
        return (active.sum(axis=2) / steps).mean(axis=1)


def readout_factor(lr, hidden=32):
    r"""The factor :math:`|1 - 2\eta(H + 1)|` by which plain SGD multiplies the readout's
    error once every hidden unit is saturated.

    With :math:`h_T = \pm 1` for every sequence the readout sees the same features
    :math:`(h_T, 1)`, of squared norm :math:`H + 1`; the MSE's curvature along them is
    :math:`2(H + 1)`, and a step of size :math:`\eta` along a quadratic of curvature
    :math:`\lambda` multiplies the distance to its minimum by :math:`1 - \eta\lambda`.
    """
    return abs(1.0 - 2.0 * lr * (hidden + 1))


def run_many(settings, seeds, steps=1000, seq_len=20, hidden=32, batch_size=32,
             n_test=1000):
    """Train one network per (setting, seed); ``settings`` is a list of ``(lr, clip)``.

    Run j uses setting ``j // n_seeds`` and seed ``seeds[j % n_seeds]``: the seed
    fixes both the initial weights (``build_model(seed)``) and the batches
    (``training_stream(seed)``). Stacked shapes: x (K, T, B, 2), h (K, B, H),
    W_in (K, 2, H), W_rec (K, H, H), b (K, H), readout (K, H, 1) and (K, 1).
    """
    settings = [(validate.positive_number(lr, "lr"),
                 None if c is None else validate.positive_number(c, "clip"))
                for lr, c in settings]
    seeds = np.asarray(seeds, dtype=int)
    steps = validate.positive_int(steps, "steps")
    n_set, n_seed = len(settings), len(seeds)
    k = n_set * n_seed
    lrs = np.repeat([lr for lr, _ in settings], n_seed)
    limits = np.repeat([np.inf if c is None else c for _, c in settings], n_seed)
    models = [build_model(int(s), hidden) for s in seeds]
    weights = [np.concatenate([np.stack([m.parameters()[i].value for m in models])] * n_set)
               for i in range(5)]
    streams = [training_stream(int(s), steps, seq_len, batch_size) for s in seeds]
    runs = np.tile(np.arange(n_seed), n_set)
    record = {name: np.full((k, steps), np.nan)
              for name in ("loss", "grad_norm", "rec_norm", "out_norm")}
    param_norms = np.full((k, steps, len(PARAMETERS)), np.nan)
    diverged = np.full(k, -1)
    alive = np.ones(k, bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step in range(steps):
            live = np.flatnonzero(alive)  # stopped runs are not computed any more
            if live.size == 0:
                break
            batch = slice(step * batch_size, (step + 1) * batch_size)
            x = np.stack([streams[r][0][:, batch] for r in runs[live]])
            y = np.stack([streams[r][1][batch] for r in runs[live]])
            current = [w[live] for w in weights]
            loss, grads = loss_and_grads(current, x, y)
            squares = [np.sum(g.reshape(live.size, -1) ** 2, axis=1) for g in grads]
            total = np.sqrt(sum(squares))
            scale = lrs[live] * np.minimum(limits[live] / (total + clip.EPS), 1.0)
            for w, now, g in zip(weights, current, grads):
                w[live] = now - scale.reshape((-1,) + (1,) * (g.ndim - 1)) * g
            finite = np.isfinite(loss) & np.isfinite(total) & np.all(
                [np.isfinite(w[live]).reshape(live.size, -1).all(axis=1) for w in weights],
                axis=0)
            record["loss"][live, step] = loss
            record["grad_norm"][live[np.isfinite(loss)], step] = total[np.isfinite(loss)]
            param_norms[live[np.isfinite(loss)], step] = np.sqrt(
                np.stack(squares, axis=1)[np.isfinite(loss)])
            for name, w in (("rec_norm", weights[1]), ("out_norm", weights[3])):
                record[name][live[finite], step] = np.sqrt(
                    np.sum(w[live[finite]] ** 2, axis=(1, 2)))
            diverged[live[~finite]] = step
            alive[live[~finite]] = False
        x_test, y_test = data.make_adding_problem(n_test, seq_len, seed=TEST_SEED)
        test = predict(weights, np.broadcast_to(x_test, (k,) + x_test.shape))
        test_mse = np.where(alive, np.mean((test - y_test) ** 2, axis=(1, 2)), np.nan)
    shape = (n_set, n_seed)
    loss, grad_norm, rec_norm, out_norm = (record[name].reshape(shape + (steps,))
                                           for name in ("loss", "grad_norm", "rec_norm",
                                                        "out_norm"))
    return AddingRuns(settings, seeds, loss, grad_norm,
                      param_norms.reshape(shape + (steps, len(PARAMETERS))), rec_norm,
                      out_norm, test_mse.reshape(shape), diverged.reshape(shape))


def _hidden_states(weights, x):
    """All hidden states (K, T+1, B, H) of the stacked RNNs, h_0 = 0 first."""
    W_in, W_rec, b = weights[:3]
    k, steps, batch, n_in = x.shape
    drive = (x.reshape(k, -1, n_in) @ W_in).reshape(k, steps, batch, -1) + b[:, None, None, :]
    hs = np.zeros((k, steps + 1, batch, W_rec.shape[1]))
    for t in range(drive.shape[1]):
        hs[:, t + 1] = np.tanh(drive[:, t] + hs[:, t] @ W_rec)
    return hs


def predict(weights, x):
    """The readout of the last hidden state, (K, B, 1), for K stacked models on inputs ``x``."""
    return _hidden_states(weights, x)[:, -1] @ weights[3] + weights[4][:, None, :]


def loss_and_grads(weights, x, y):
    r"""Losses (K,) and full-BPTT gradients in the order W_in, W_rec, b, readout W, readout b."""
    W_in, W_rec, _, W_out, b_out = weights
    hs = _hidden_states(weights, x)
    error = hs[:, -1] @ W_out + b_out[:, None, :] - y
    loss = np.mean(error**2, axis=(1, 2))
    g_out = 2.0 * error / error.shape[1]
    g_h = g_out @ W_out.transpose(0, 2, 1)
    g_pre = np.empty_like(hs[:, 1:])
    for t in reversed(range(x.shape[1])):
        g_pre[:, t] = g_h * (1.0 - hs[:, t + 1] ** 2)
        g_h = g_pre[:, t] @ W_rec.transpose(0, 2, 1)
    k, hidden = len(W_rec), W_rec.shape[1]
    flat_pre = g_pre.reshape(k, -1, hidden)
    grads = [x.reshape(k, -1, x.shape[-1]).transpose(0, 2, 1) @ flat_pre,
             hs[:, :-1].reshape(k, -1, hidden).transpose(0, 2, 1) @ flat_pre,
             flat_pre.sum(axis=1),
             hs[:, -1].transpose(0, 2, 1) @ g_out, g_out.sum(axis=1)]
    return loss, grads
