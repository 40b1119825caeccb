"""The regression MLP of chapters 2 and 4 (after Brownlee's Keras experiment).

Data: ``make_regression`` with 1000 samples, 20 features (10 informative),
noise 0.1, seed 1, unscaled targets; first half for training, second for
testing. Model: 20 → 25 (ReLU, He-uniform) → 1 (linear, Glorot-uniform, Keras's
default). MSE, SGD with learning rate 0.01 and momentum 0.9 (classic form),
batches of 32, 100 epochs.
"""

from dataclasses import dataclass

import numpy as np

from .. import data, losses, nn, optim, train


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
