"""Data sets: a two-class spiral, linear regression, and the adding problem.

Every generator is deterministic given its seed.
"""

import numpy as np

from . import validate


def make_spiral(n_per_class=100, turns=2.0, noise=0.3, seed=0):
    r"""Two interleaved spiral arms, labels 0 and 1.

    Arm 0 is :math:`r(\cos\theta, \sin\theta)` with :math:`r = \theta`,
    :math:`\theta = 2\pi\,\mathrm{turns}\,\sqrt{u}`, :math:`u \sim U(0,1)`, plus
    Gaussian noise; arm 1 is arm 0 rotated by :math:`\pi`. Raw coordinates
    reach about :math:`\pm 2\pi\,\mathrm{turns}` (about 12.6 for two turns).

    Returns:
        X: (2 n_per_class, 2) coordinates; y: (2 n_per_class, 1) labels in {0., 1.}.
    """
    n = validate.positive_int(n_per_class, "n_per_class")
    rng = np.random.default_rng(seed)
    theta = 2.0 * np.pi * turns * np.sqrt(rng.uniform(size=n))
    arm = np.stack([theta * np.cos(theta), theta * np.sin(theta)], axis=1)
    X = np.concatenate([arm, -arm]) + noise * rng.normal(size=(2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)])[:, None]
    order = rng.permutation(2 * n)
    return X[order], y[order]


def make_regression(n_samples=100, n_features=100, n_informative=10, noise=0.0,
                    bias=0.0, shuffle=True, random_state=None, coef=False):
    r"""Linear regression data with the recipe of scikit-learn's ``make_regression``.

    :math:`X \sim N(0, 1)^{n \times d}`; the first ``n_informative`` coefficients
    are :math:`100\,U(0,1)`, the rest 0; :math:`y = X w + \text{bias} + N(0, \text{noise}^2)`.
    Drawn with ``numpy.random.RandomState(random_state)`` in scikit-learn's order
    (X, coefficients, noise, row shuffle, column shuffle), so the output equals
    scikit-learn's for the same arguments and seed. Targets are not scaled.

    Returns:
        X (n_samples, n_features), y (n_samples,) and, if ``coef``, w (n_features,).
    """
    n_samples = validate.positive_int(n_samples, "n_samples")
    n_features = validate.positive_int(n_features, "n_features")
    if n_informative < 0:
        raise ValueError(f"n_informative must be >= 0, got {n_informative}")
    n_informative = min(n_informative, n_features)  # as scikit-learn does
    rng = np.random.RandomState(random_state)
    X = rng.standard_normal(size=(n_samples, n_features))
    w = np.zeros(n_features)
    w[:n_informative] = 100.0 * rng.uniform(size=(n_informative, 1))[:, 0]
    y = X @ w + bias
    if noise > 0.0:
        y = y + rng.normal(scale=noise, size=y.shape)
    if shuffle:
        rows = np.arange(n_samples)
        rng.shuffle(rows)
        X, y = X[rows], y[rows]
        columns = np.arange(n_features)
        rng.shuffle(columns)
        X, w = X[:, columns], w[columns]
    return (X, y, w) if coef else (X, y)


def train_test_split_half(X, y):
    """First half for training, second half for testing (the chapter 2 recipe)."""
    half = len(X) // 2
    return X[:half], X[half:], y[:half], y[half:]


def standardise(train, *others):
    r"""Scale by the training set's statistics: :math:`(z - \mu)/\sigma`.

    Returns the scaled training array, each scaled other array, and ``(mu, sigma)``
    so predictions can be mapped back with :math:`\hat z \sigma + \mu`.
    """
    mu = train.mean(axis=0)
    sigma = train.std(axis=0)
    if np.any(sigma == 0):
        raise ValueError("cannot standardise: a column of the training data is constant")
    scaled = [(a - mu) / sigma for a in (train, *others)]
    return (*scaled, (mu, sigma))


def make_adding_problem(n_samples, seq_len, seed=0):
    r"""The adding problem (Hochreiter and Schmidhuber, 1997).

    Each sequence has two channels: values :math:`U(0,1)` and a marker that is 1
    at one step in the first half and one step in the second half. The target
    is the sum of the two marked values. Predicting the mean 1 scores
    MSE :math:`\mathrm{Var}(u_1 + u_2) = 1/6 \approx 0.167`.

    Returns:
        x: (seq_len, n_samples, 2) time-major inputs; y: (n_samples, 1) targets.
    """
    n = validate.positive_int(n_samples, "n_samples")
    steps = validate.positive_int(seq_len, "seq_len")
    if steps < 2:
        raise ValueError(f"seq_len must be at least 2, got {seq_len}")
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(steps, n))
    first = rng.integers(0, steps // 2, size=n)
    second = rng.integers(steps // 2, steps, size=n)
    markers = np.zeros((steps, n))
    markers[first, np.arange(n)] = 1.0
    markers[second, np.arange(n)] = 1.0
    x = np.stack([values, markers], axis=2)
    y = (values * markers).sum(axis=0)[:, None]
    return x, y
