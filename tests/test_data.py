"""Data generators: shapes, dtypes, determinism, and scikit-learn equality."""

import numpy as np
import pytest

from gradlab import data


def test_spiral_shapes_labels_and_scale():
    X, y = data.make_spiral(150, seed=3)
    assert X.shape == (300, 2) and y.shape == (300, 1)
    assert X.dtype == np.float64 and set(np.unique(y)) == {0.0, 1.0}
    assert y.mean() == 0.5
    assert 10 < np.abs(X).max() < 14  # raw coordinates up to about +-12


def test_spiral_is_deterministic_under_a_seed():
    a, b, c = data.make_spiral(50, seed=1), data.make_spiral(50, seed=1), data.make_spiral(50, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_regression_shapes_and_informative_coefficients():
    X, y, w = data.make_regression(1000, 20, n_informative=10, noise=0.1, random_state=1,
                                   coef=True)
    assert X.shape == (1000, 20) and y.shape == (1000,) and X.dtype == np.float64
    assert np.count_nonzero(w) == 10 and np.all((w >= 0) & (w < 100))
    residual = y - X @ w
    assert residual.std() == pytest.approx(0.1, rel=0.1)
    assert -600 < y.min() < -300 and 300 < y.max() < 600  # unscaled targets


def test_regression_is_deterministic():
    a = data.make_regression(50, 5, random_state=7)
    b = data.make_regression(50, 5, random_state=7)
    np.testing.assert_array_equal(a[1], b[1])


def test_regression_matches_scikit_learn_bit_for_bit():
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn not installed")
    for kwargs in [dict(n_samples=1000, n_features=20, noise=0.1, random_state=1),
                   dict(n_samples=37, n_features=8, n_informative=3, noise=2.0, bias=5.0,
                        random_state=4),
                   dict(n_samples=20, n_features=4, shuffle=False, random_state=0)]:
        X, y, w = data.make_regression(**kwargs, coef=True)
        Xs, ys, ws = sklearn_datasets.make_regression(**kwargs, coef=True)
        np.testing.assert_array_equal(X, Xs)
        np.testing.assert_array_equal(y, ys)
        np.testing.assert_array_equal(w, ws)


def test_regression_informative_count():
    with pytest.raises(ValueError, match="n_informative must be >= 0"):
        data.make_regression(10, 3, n_informative=-1)
    assert np.count_nonzero(data.make_regression(10, 3, n_informative=5, coef=True)[2]) == 3


def test_split_and_standardise():
    X, y = data.make_regression(10, 2, random_state=0)
    Xtr, Xte, ytr, yte = data.train_test_split_half(X, y)
    assert len(Xtr) == len(Xte) == 5
    ytr_s, yte_s, (mu, sigma) = data.standardise(ytr, yte)
    assert ytr_s.mean() == pytest.approx(0) and ytr_s.std() == pytest.approx(1)
    np.testing.assert_allclose(yte_s * sigma + mu, yte)
    with pytest.raises(ValueError, match="constant"):
        data.standardise(np.ones((4, 2)))


def test_adding_problem():
    x, y = data.make_adding_problem(500, 20, seed=0)
    assert x.shape == (20, 500, 2) and y.shape == (500, 1)
    markers = x[:, :, 1]
    np.testing.assert_array_equal(markers.sum(axis=0), 2)
    np.testing.assert_array_equal(markers[:10].sum(axis=0), 1)  # one mark in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=0))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.02)  # the baseline
    np.testing.assert_array_equal(x, data.make_adding_problem(500, 20, seed=0)[0])
