"""The shared regression experiment: data recipe, divergence, the target-scaling fix."""

import numpy as np
import pytest

from gradlab.experiments import regression


def test_data_recipe():
    d = regression.load()
    assert d.X_train.shape == (500, 20) and d.y_test.shape == (500, 1)
    assert d.target_scale is None
    s = regression.load(standardise_target=True)
    assert abs(s.y_train.mean()) < 1e-12 and s.y_train.std() == pytest.approx(1.0)
    mu, sigma = s.target_scale
    np.testing.assert_allclose(s.y_test * sigma + mu, d.y_test)


def test_unclipped_run_diverges_with_nan_results():
    r = regression.run(regression.load(), epochs=5)
    assert r.history.diverged is not None and np.isnan(r.test_mse)


def test_standardised_target_learns_without_clipping():
    r = regression.run(regression.load(standardise_target=True), lr=0.1, epochs=30)
    assert r.history.diverged is None
    assert r.test_mse < 0.01 * np.var(regression.load().y_test)
