"""Per-example clipping and DP-SGD's clipped noisy mean."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from gradlab import clip_private as cp


def test_hand_case():
    g = np.array([[3.0, 4.0], [0.3, 0.4]])
    clipped, norms = cp.clip_per_example(g, 1.0)
    np.testing.assert_allclose(norms, [5.0, 0.5])
    np.testing.assert_allclose(clipped, [[0.6, 0.8], [0.3, 0.4]])
    np.testing.assert_allclose(cp.clipped_noisy_mean(g, 1.0, 0.0, np.random.default_rng(0)),
                               [0.45, 0.6])
    assert cp.clip_fraction(g, 1.0) == 0.5


def test_mean_of_clipped_is_not_clipped_mean():
    g = np.array([[10.0, 0.0], [0.0, 0.1]])
    mean_of_clipped = cp.clipped_noisy_mean(g, 1.0, 0.0, np.random.default_rng(0))
    np.testing.assert_allclose(mean_of_clipped, [0.5, 0.05])
    # the mean (5, 0.05) clipped to norm 1 points almost along the first axis
    assert not np.allclose(mean_of_clipped, [5.0, 0.05] / np.linalg.norm([5.0, 0.05]))


def test_noise_has_the_stated_scale():
    g = np.zeros((4, 20000))
    noisy = cp.clipped_noisy_mean(g, 2.0, 1.5, np.random.default_rng(1))
    assert np.std(noisy) == pytest.approx(1.5 * 2.0 / 4, rel=0.03)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, (5, 3), elements=st.floats(-1e6, 1e6)), st.floats(1e-3, 1e3))
def test_every_clipped_example_is_within_c(g, c):
    clipped, _ = cp.clip_per_example(g, c)
    assert np.all(np.linalg.norm(clipped, axis=1) <= c * (1 + 1e-12))


def test_bad_input():
    with pytest.raises(ValueError, match="batch"):
        cp.clip_per_example(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="positive"):
        cp.clip_per_example(np.ones((2, 2)), -1.0)
    with pytest.raises(TypeError, match="Generator"):
        cp.clipped_noisy_mean(np.ones((2, 2)), 1.0, 1.0, rng=0)
    with pytest.raises(ValueError, match="NaN"):
        cp.clip_per_example(np.array([[np.nan, 1.0]]), 1.0)
