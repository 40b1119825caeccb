"""The regression MLP of chapters 2 and 4 (after Brownlee's Keras experiment).

Data: ``make_regression`` with 1000 samples, 20 features (10 informative),
noise 0.1, seed 1, unscaled targets; first half for training, second for
testing. Model: 20 → 25 (ReLU, He-uniform) → 1 (linear, Glorot-uniform, Keras's
default). MSE, SGD with learning rate 0.01 and momentum 0.9 (classic form),
batches of 32, 100 epochs.
"""

from dataclasses import dataclass

import numpy as np

from .. import clip, data, losses, nn, optim, train


@dataclass
class RegressionData:
    """Train/test arrays; targets are (n, 1). ``target_scale`` is (mu, sigma) or ``None``."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    target_scale: tuple | None = None


def load(standardise_target=False):
    """The chapter's data set; optionally with the target standardised on the training half."""
    X, y = data.make_regression(1000, 20, n_informative=10, noise=0.1, random_state=1)
    X_train, X_test, y_train, y_test = data.train_test_split_half(X, y[:, None])
    if not standardise_target:
        return RegressionData(X_train, X_test, y_train, y_test)
    y_train, y_test, scale = data.standardise(y_train, y_test)
    return RegressionData(X_train, X_test, y_train, y_test, scale)


def build_model(seed=0):
    """20 → 25 (ReLU, He-uniform) → 1 (Glorot-uniform), seeded."""
    return nn.mlp([20, 25, 1], "relu", init="he_uniform", output_init="xavier_uniform",
                  rng=np.random.default_rng(seed))


@dataclass
class RegressionRun:
    """One training run: its history and the final MSE on each half in original target units."""

    history: train.History
    train_mse: float
    test_mse: float


def run(dataset, seed=0, lr=0.01, momentum=0.9, epochs=100, batch_size=32, **clipping):
    """Train the chapter's MLP once; ``clipping`` goes to ``optim.SGD`` (e.g. ``clipvalue=5.0``).

    MSEs are reported in the original target units (multiplied by sigma^2 when the
    target was standardised) so every run is comparable; NaN after a divergence.
    """
    model = build_model(seed)
    optimizer = optim.SGD(model.parameters(), lr, momentum=momentum, **clipping)
    loss = losses.MSELoss()
    history = train.fit(model, loss, optimizer, dataset.X_train, dataset.y_train, epochs=epochs,
                        batch_size=batch_size, seed=seed, X_val=dataset.X_test,
                        y_val=dataset.y_test)
    if history.diverged is not None:
        return RegressionRun(history, float("nan"), float("nan"))
    unit = 1.0 if dataset.target_scale is None else float(dataset.target_scale[1][0] ** 2)
    return RegressionRun(
        history,
        unit * train.evaluate(model, loss, dataset.X_train, dataset.y_train),
        unit * train.evaluate(model, loss, dataset.X_test, dataset.y_test))


@dataclass
class ManyRuns:
    r"""Results of ``run_many``: one row per clipping setting, one column per seed.

    ``train_mse``, ``test_mse`` (n_settings, n_seeds) are in original target units,
    NaN where the run diverged; ``share_clipped`` is the fraction of steps on which
    clipping changed the gradient; ``diverged_epoch`` / ``diverged_step`` say where a
    run stopped (1-based epoch, 0-based step; -1 if it did not).
    ``train_curve`` (n_settings, n_seeds, epochs) is the mean batch loss of each
    epoch, ``test_curve`` the test MSE after it (both in original units, NaN from
    the epoch of divergence on).
    """

    settings: list
    seeds: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    share_clipped: np.ndarray
    diverged_epoch: np.ndarray
    diverged_step: np.ndarray
    train_curve: np.ndarray
    test_curve: np.ndarray

    def summary(self, labels):
        """One dict per setting: the share of clipped steps and where runs diverged.

        The final MSEs are left out on purpose: where training is chaotic they move
        between machines, so they are shown over seeds (``stats.spread``, a figure).
        """
        rows = []
        for label, test, share, epochs in zip(labels, self.test_mse, self.share_clipped,
                                              self.diverged_epoch):
            failed = ~np.isfinite(test)
            where = ""
            if failed.any():
                first, last = epochs[failed].min(), epochs[failed].max()
                where = f" (epoch {first})" if first == last else f" (epochs {first}–{last})"
            rows.append({"run": label, "steps clipped": f"{100 * np.mean(share):.0f} %",
                         "diverged": f"{np.sum(failed)} of {len(test)}{where}"})
        return rows


def _clip_limits(settings):
    """Per-run limits (inf where a rule is off) for global norm, per-tensor norm and value."""
    known = {"global_clipnorm", "clipnorm", "clipvalue"}
    for setting in settings:
        unknown = set(setting) - known
        if unknown:
            raise ValueError(f"unknown clipping option(s) {sorted(unknown)}; use {sorted(known)}")
        optim.SGD([nn.Parameter(np.zeros(1))], 1.0, **setting)  # same validation as run()
    return [np.array([s.get(key, np.inf) for s in settings], dtype=float)
            for key in ("global_clipnorm", "clipnorm", "clipvalue")]


def run_many(dataset, settings, seeds, lr=0.01, momentum=0.9, epochs=100, batch_size=32,
             curves=True, reverse=None):
    r"""Train the chapter's MLP for every (clipping setting, seed) pair at once.

    Each pair gives the same run as ``run(dataset, seed, lr, momentum, epochs,
    batch_size, **setting)`` (same initial weights, batch order, clipping order:
    global norm, then per tensor, then value; classic momentum), up to rounding.
    The K = n_settings x n_seeds networks are stacked along a leading axis, so one
    NumPy call trains all of them: weights (K, 20, 25), (K, 25), (K, 25, 1), (K, 1);
    a batch (K, b, 20). A run stops (its weights freeze) at the first non-finite
    loss, gradient norm or weight, as ``train.fit`` does. ``curves=False`` skips the
    per-epoch test evaluation (``test_curve`` stays NaN), a third of the cost.
    ``reverse`` (one boolean per setting) makes that setting's runs add up every batch
    in the opposite order: the same samples, so the same gradient up to rounding
    (``order_twins`` uses it). ``lr`` is one learning rate, or one per setting.
    """
    settings = [dict(s) for s in settings]
    seeds = np.asarray(seeds, dtype=int)
    n_set, n_seed = len(settings), len(seeds)
    global_c, tensor_c, value_c = (np.repeat(limit, n_seed) for limit in _clip_limits(settings))
    models = [build_model(int(s)) for s in seeds]
    # weights[i][j]: parameter i (W1, b1, W2, b2) of run j, that is of
    # setting j // n_seed and seed j % n_seed
    weights = [np.concatenate([np.stack([m.parameters()[i].value for m in models])] * n_set)
               for i in range(4)]
    backwards = np.repeat(np.zeros(n_set, bool) if reverse is None else
                          np.asarray(reverse, bool), n_seed)
    velocity = [np.zeros_like(w) for w in weights]
    n = len(dataset.y_train)
    orders = [np.random.default_rng(int(s)) for s in seeds]
    k = n_set * n_seed
    lrs = np.repeat(np.broadcast_to(np.asarray(lr, dtype=np.float64), (n_set,)), n_seed)
    alive = np.ones(k, bool)
    clipped_steps = np.zeros(k)
    div_epoch = np.full(k, -1)
    div_step = np.full(k, -1)
    train_curve = np.full((k, epochs), np.nan)
    test_curve = np.full((k, epochs), np.nan)
    step = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            order = np.tile(np.stack([r.permutation(n) for r in orders]), (n_set, 1))
            batch_losses = []
            for start in range(0, n, batch_size):
                index = order[:, start:start + batch_size]
                index[backwards] = index[backwards, ::-1]
                grads, loss = _forward_backward(weights, dataset.X_train[index],
                                                dataset.y_train[index])
                batch_losses.append(loss)
                before = _global_norm(grads)
                grads = _clip(grads, before, global_c, tensor_c, value_c)
                after = _global_norm(grads)
                for w, v, g in zip(weights, velocity, grads):
                    v[alive] = momentum * v[alive] + g[alive]
                    w[alive] -= lrs[alive].reshape((-1,) + (1,) * (w.ndim - 1)) * v[alive]
                clipped_steps += alive & (after < (1.0 - 1e-12) * before)
                finite = np.isfinite(loss) & np.isfinite(before) & np.all(
                    [np.isfinite(w).reshape(k, -1).all(axis=1) for w in weights], axis=0)
                newly = alive & ~finite
                div_epoch[newly], div_step[newly] = epoch, step
                alive &= finite
                step += 1
            train_curve[alive, epoch - 1] = np.mean(batch_losses, axis=0)[alive]
            if curves:
                test_curve[alive, epoch - 1] = _mse(weights, dataset.X_test,
                                                    dataset.y_test)[alive]
    steps_run = np.where(alive, step, div_step + 1)
    train_mse, test_mse = (np.where(alive, _mse(weights, X, y), np.nan)
                           for X, y in ((dataset.X_train, dataset.y_train),
                                        (dataset.X_test, dataset.y_test)))
    unit = 1.0 if dataset.target_scale is None else float(dataset.target_scale[1][0] ** 2)
    shape = (n_set, n_seed)
    return ManyRuns(settings, seeds, (unit * train_mse).reshape(shape),
                    (unit * test_mse).reshape(shape),
                    (clipped_steps / np.maximum(steps_run, 1)).reshape(shape),
                    div_epoch.reshape(shape), div_step.reshape(shape),
                    (unit * train_curve).reshape(shape + (epochs,)),
                    (unit * test_curve).reshape(shape + (epochs,)))


SWEEP_MODES = {
    "global norm": lambda c: {"global_clipnorm": c},
    "value": lambda c: {"clipvalue": c},
    "global norm and value": lambda c: {"global_clipnorm": c, "clipvalue": c},
}


def threshold_sweep(dataset, thresholds, seeds, modes=tuple(SWEEP_MODES), **training):
    """For each clipping mode, ``run_many`` over ``thresholds`` x ``seeds``.

    Modes are keys of ``SWEEP_MODES``; "global norm and value" sets both options
    to the same threshold (norm clipping runs first, as in Keras). Returns a dict
    mode -> ``ManyRuns`` whose rows follow ``thresholds``.
    """
    unknown = [m for m in modes if m not in SWEEP_MODES]
    if unknown:
        raise ValueError(f"unknown sweep mode(s) {unknown}; choose from {list(SWEEP_MODES)}")
    return {mode: run_many(dataset, [SWEEP_MODES[mode](c) for c in thresholds], seeds,
                           curves=False, **training)
            for mode in modes}


def order_twins(dataset, settings, seed=0, epochs=100):
    """Each clipping setting run twice; the second run adds up each batch backwards.

    Both runs see the same samples in every step, so their gradients agree up to
    rounding (a relative difference near 1e-16, what another BLAS kernel or thread
    count also causes). Returns a ``ManyRuns`` with rows ``2 i`` (as summed) and
    ``2 i + 1`` (reversed) for setting ``i``, one seed. Where training is chaotic,
    the difference grows until the two runs end far apart.
    """
    doubled = [dict(s) for s in settings for _ in range(2)]
    return run_many(dataset, doubled, [seed], epochs=epochs,
                    reverse=[False, True] * len(settings))


def compare_clipping(dataset, lr, threshold, seed=0, epochs=20, option="global_clipnorm"):
    """The explorer's computation: one run without clipping and one with ``option=threshold``.

    Returns a ``ManyRuns`` with two rows (unclipped, clipped) and one seed.
    """
    return run_many(dataset, [{}, {option: threshold}], [seed], lr=lr, epochs=epochs)


def subset(runs, rows):
    """The ``ManyRuns`` of the settings ``rows`` (a slice or index list) of ``runs``."""
    rows = range(len(runs.settings))[rows] if isinstance(rows, slice) else list(rows)
    arrays = {name: getattr(runs, name)[list(rows)] for name in (
        "train_mse", "test_mse", "share_clipped", "diverged_epoch", "diverged_step",
        "train_curve", "test_curve")}
    return ManyRuns([runs.settings[i] for i in rows], runs.seeds, **arrays)


def _forward_backward(weights, X, y):
    """Batch losses (K,) and gradients of the stacked MLPs on X (K, b, 20), y (K, b, 1)."""
    W1, b1, W2, b2 = weights
    hidden_in = X @ W1 + b1[:, None, :]
    hidden = np.maximum(hidden_in, 0.0)
    error = hidden @ W2 + b2[:, None, :] - y
    loss = np.mean(error**2, axis=(1, 2))
    g_out = 2.0 * error / error.shape[1]
    g_hidden = (g_out @ W2.transpose(0, 2, 1)) * (hidden_in > 0)
    grads = [X.transpose(0, 2, 1) @ g_hidden, g_hidden.sum(axis=1),
             hidden.transpose(0, 2, 1) @ g_out, g_out.sum(axis=1)]
    return grads, loss


def _tensor_norms(grads):
    return [np.sqrt(np.sum(g.reshape(len(g), -1) ** 2, axis=1)) for g in grads]


def _global_norm(grads):
    return np.sqrt(sum(norm**2 for norm in _tensor_norms(grads)))


def _per_run(factor, g):
    return factor.reshape((-1,) + (1,) * (g.ndim - 1))


def _clip(grads, total, global_c, tensor_c, value_c):
    """The optimiser's clipping, run by run: global norm, per-tensor norm, then value."""
    coefficient = np.minimum(global_c / (total + clip.EPS), 1.0)
    grads = [g * _per_run(coefficient, g) for g in grads]
    grads = [g * _per_run(np.where(np.isinf(tensor_c), 1.0,
                                   tensor_c / np.maximum(norm, tensor_c)), g)
             for g, norm in zip(grads, _tensor_norms(grads))]
    return [np.clip(g, -_per_run(value_c, g), _per_run(value_c, g)) for g in grads]


def _mse(weights, X, y):
    """Mean squared error of every stacked MLP on the whole of (X, y)."""
    W1, b1, W2, b2 = weights
    pred = np.maximum(X @ W1 + b1[:, None, :], 0.0) @ W2 + b2[:, None, :]
    return np.mean((pred - y) ** 2, axis=(1, 2))


def compare_clipping_grid(dataset, lrs, thresholds, seed=0, epochs=20, option="global_clipnorm",
                          reverse=False):
    """``compare_clipping`` at every learning rate of ``lrs`` and threshold of ``thresholds``.

    One ``run_many`` per learning rate trains the unclipped run once and the clipped run at
    every threshold. Returns one ``ManyRuns`` per learning rate, rows: unclipped, then
    ``{option: c}`` for each ``c`` in ``thresholds`` (one seed); row 0 and row ``i + 1`` are
    ``compare_clipping(dataset, lr, thresholds[i], ...)``'s two rows up to rounding.
    ``reverse=True`` adds up every batch backwards (``order_twins``' second run).
    """
    settings = [{}] + [{option: c} for c in thresholds]
    return [run_many(dataset, settings, [seed], lr=lr, epochs=epochs,
                     reverse=[reverse] * len(settings)) for lr in lrs]
