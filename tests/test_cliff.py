"""The one-unit cliff: exact gradient, the wall, and clipped versus unclipped descent."""

import numpy as np
import pytest

from gradlab import cliff, gradcheck


@pytest.mark.parametrize("w, b", [(1.0, 0.2), (4.0, -1.5), (-3.0, 2.0), (5.0, float(cliff.wall_b(5.0)) + 1e-3)])
def test_gradient_matches_finite_differences(w, b):
    theta = np.array([w, b])
    _, gw, gb = cliff.loss_and_grad(w, b)
    numeric = gradcheck.numerical_gradient(lambda: float(cliff.loss(theta[0], theta[1])), theta,
                                           eps=1e-7)
    assert gradcheck.relative_error([gw, gb], numeric) < 1e-6


def test_vectorised_grid_equals_pointwise():
    s = cliff.surface(n=9)
    E, gw, gb = cliff.loss_and_grad(s.w[3], s.b[5])
    assert s.loss[5, 3] == E and s.grad_norm[5, 3] == np.hypot(gw, gb)
    np.testing.assert_array_equal(s.loss, cliff.loss(*np.meshgrid(s.w, s.b)))


def test_grid_statistics_miss_the_wall():
    s = cliff.surface(n=401)
    assert 0.001 < np.median(s.grad_norm) < 0.01
    assert s.grad_norm.max() < 100


def test_fine_scan_finds_the_wall():
    b, norms = cliff.scan_across_wall(5.0, half_width=0.01, n=20001)
    assert 1e3 < norms.max() < 1e5
    width = np.count_nonzero(norms > 1) * (b[1] - b[0])
    assert 5e-4 < width < 3e-3
    assert cliff.scan_across_wall(10.0, half_width=1e-5, n=20001)[1].max() > 1e15


def test_clipping_keeps_descent_from_jumping_off_the_cliff():
    plain = cliff.descend((4.0, -4.0), lr=0.5, n_steps=100)
    clipped = cliff.descend((4.0, -4.0), lr=0.5, n_steps=100, max_norm=1.0)
    assert clipped.step_lengths.max() <= 0.5 + 1e-12
    assert plain.step_lengths.max() > 5
    assert clipped.loss[-1] < 0.01 < plain.loss[-1]


def test_descend_many_agrees_with_descend():
    starts = np.array([[4.0, -4.0], [5.2, -3.1], [-2.0, 1.0]])
    runs = cliff.descend_many(starts, 0.5, 40, [None, 1.0])
    assert runs.final_loss.shape == runs.longest_step.shape == (2, 3)
    for row, max_norm in enumerate((None, 1.0)):
        for start, final, longest, at in zip(starts, runs.final_loss[row],
                                             runs.longest_step[row], runs.longest_at[row]):
            single = cliff.descend(start, 0.5, 40, max_norm=max_norm)
            assert final == pytest.approx(single.loss[-1], rel=1e-9, abs=1e-15)
            assert longest == pytest.approx(single.step_lengths.max(), rel=1e-9)
            assert at == np.argmax(single.step_lengths)
    np.testing.assert_array_equal(runs.reached(0.01), runs.final_loss < 0.01)


def test_clip_limits():
    np.testing.assert_array_equal(cliff.clip_limits([None, 2]), [np.inf, 2.0])
    with pytest.raises(ValueError, match="threshold must be positive"):
        cliff.clip_limits([0.0])


def test_bad_descent_arguments():
    with pytest.raises(ValueError, match="lr must be positive"):
        cliff.descend((0, 0), 0.0, 10)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        cliff.descend((0, 0), 0.1, 10, max_norm=-1.0)
