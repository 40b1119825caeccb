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

from dataclasses import dataclass

import numpy as np

from .. import clip, data, rnn, validate

BASELINE_MSE = 1.0 / 6.0
CONVERGED_MSE = 0.05
TEST_SEED = 2_024


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
    ``loss``, ``grad_norm`` (global norm before clipping) and ``rec_norm``
    (Frobenius norm of :math:`W_{rec}` after the step) are NaN after a run diverged;
    ``diverged_step`` is the 0-based step where it stopped, -1 if it did not;
    ``test_mse`` is on a fixed test set (NaN after divergence).
    """

    settings: list
    seeds: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    rec_norm: np.ndarray
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

    def blow_up_step(self, factor=2.0):
        r"""(setting, seed) first step after which :math:`\|W_{rec}\|_F` exceeds ``factor``
        times its value after step 0 (-1 if it never does).

        It dates the blow-up of the recurrent weights, which can come long before a
        run's loss finally overflows to inf.
        """
        grown = np.nan_to_num(self.rec_norm, nan=-np.inf) > factor * self.rec_norm[..., :1]
        return np.where(grown.any(axis=2), grown.argmax(axis=2), -1)

    def summary(self):
        """One dict per setting: shares over seeds, divergence steps, median test MSE."""
        rows = []
        converged, diverged_share = self.share_converged(), self.share_diverged()
        clipped = self.share_clipped()
        for i, (lr, limit) in enumerate(self.settings):
            diverged = self.diverged_step[i][self.diverged_step[i] >= 0]
            finite = self.test_mse[i][np.isfinite(self.test_mse[i])]
            rows.append({
                "lr": lr, "clipping": "none" if limit is None else f"global norm {limit:g}",
                "converged": converged[i],
                "diverged": diverged_share[i],
                "NaN at step": f"{diverged.min()}–{diverged.max()}" if diverged.size else "–",
                "steps clipped": clipped[i],
                "median test MSE": float(np.median(finite)) if finite.size else float("nan"),
            })
        return rows

    def share_clipped(self):
        """(setting,) mean over seeds of the share of steps where the clip was active."""
        limits = np.array([np.inf if c is None else c for _, c in self.settings])
        active = self.grad_norm > limits[:, None, None]
        steps = np.maximum(np.sum(np.isfinite(self.grad_norm), axis=2), 1)
        return (active.sum(axis=2) / steps).mean(axis=1)


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
    record = {name: np.full((k, steps), np.nan) for name in ("loss", "grad_norm", "rec_norm")}
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
            loss, grads = _loss_and_grads(current, x, y)
            total = np.sqrt(sum(np.sum(g.reshape(live.size, -1) ** 2, axis=1) for g in grads))
            scale = lrs[live] * np.minimum(limits[live] / (total + clip.EPS), 1.0)
            for w, now, g in zip(weights, current, grads):
                w[live] = now - scale.reshape((-1,) + (1,) * (g.ndim - 1)) * g
            finite = np.isfinite(loss) & np.isfinite(total) & np.all(
                [np.isfinite(w[live]).reshape(live.size, -1).all(axis=1) for w in weights],
                axis=0)
            record["loss"][live, step] = loss
            record["grad_norm"][live[np.isfinite(loss)], step] = total[np.isfinite(loss)]
            record["rec_norm"][live[finite], step] = np.sqrt(
                np.sum(weights[1][live[finite]] ** 2, axis=(1, 2)))
            diverged[live[~finite]] = step
            alive[live[~finite]] = False
        x_test, y_test = data.make_adding_problem(n_test, seq_len, seed=TEST_SEED)
        test = _predict(weights, np.broadcast_to(x_test, (k,) + x_test.shape))
        test_mse = np.where(alive, np.mean((test - y_test) ** 2, axis=(1, 2)), np.nan)
    shape = (n_set, n_seed)
    return AddingRuns(settings, seeds,
                      *(record[name].reshape(shape + (steps,))
                        for name in ("loss", "grad_norm", "rec_norm")),
                      test_mse.reshape(shape), diverged.reshape(shape))


def _hidden_states(weights, x):
    """All hidden states (K, T+1, B, H) of the stacked RNNs, h_0 = 0 first."""
    W_in, W_rec, b = weights[:3]
    k, steps, batch, n_in = x.shape
    drive = (x.reshape(k, -1, n_in) @ W_in).reshape(k, steps, batch, -1) + b[:, None, None, :]
    hs = np.zeros((k, steps + 1, batch, W_rec.shape[1]))
    for t in range(drive.shape[1]):
        hs[:, t + 1] = np.tanh(drive[:, t] + hs[:, t] @ W_rec)
    return hs


def _predict(weights, x):
    return _hidden_states(weights, x)[:, -1] @ weights[3] + weights[4][:, None, :]


def _loss_and_grads(weights, x, y):
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
