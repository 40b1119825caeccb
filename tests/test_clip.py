"""Clipping: the worked example, PyTorch/Keras semantics, properties, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from gradlab import clip
from gradlab.errors import NonFiniteGradientError
from gradlab.nn import Parameter

G = np.array([16.0, 12.0, -8.0])


def test_worked_example_norm_clipping():
    clipped, total = clip.clip_by_global_norm([G], 5.0)
    assert total == pytest.approx(math.sqrt(464))
    assert total == pytest.approx(21.5407, abs=1e-4)
    np.testing.assert_array_equal(np.round(clipped[0], 3), [3.714, 2.785, -1.857])
    # The widely copied printout's 2.786 is wrong: 12 * 5 / sqrt(464) = 2.78543...
    assert 12 * 5 / math.sqrt(464) < 2.7855


def test_worked_example_value_clipping_changes_direction():
    clipped = clip.clip_by_value(G, 5.0)
    np.testing.assert_array_equal(clipped, [5.0, 5.0, -5.0])
    cosine = clipped @ G / (np.linalg.norm(clipped) * np.linalg.norm(G))
    assert cosine < 0.99


def test_single_array_in_single_array_out():
    clipped, total = clip.clip_by_global_norm(G, 5.0)
    assert isinstance(clipped, np.ndarray) and clipped.shape == (3,)
    assert isinstance(clip.clip_by_norm(G, 5.0), np.ndarray)


def test_global_norm_is_norm_of_tensor_norms():
    grads = [np.array([3.0, 4.0]), np.array([[12.0]])]
    assert clip.global_norm(grads) == 13.0
    assert clip.global_norm(grads, float("inf")) == 12.0
    assert clip.global_norm(grads, "inf") == 12.0
    assert clip.global_norm(grads, 1) == 19.0


def test_clipped_norm_lands_a_hair_below_threshold_like_pytorch():
    clipped, total = clip.clip_by_global_norm([G], 5.0)
    assert clip.global_norm(clipped) == pytest.approx(5.0 * total / (total + 1e-6), rel=1e-15)
    assert clip.global_norm(clipped) < 5.0


def test_per_tensor_clipping_follows_keras():
    a, b = np.array([30.0, 40.0]), np.array([0.3, 0.4])
    ca, cb = clip.clip_by_norm([a, b], 1.0)
    np.testing.assert_allclose(ca, [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(cb, b)  # already below: untouched
    ga, gb = clip.clip_by_global_norm([a, b], 1.0)[0]
    assert np.linalg.norm(gb) < 0.011  # global clipping shrinks the small tensor too


def test_global_versus_per_parameter_exercise_numbers():
    grads = [np.array([100.0, 0.0]), np.array([0.0, 0.1])]
    (c1, c2), total = clip.clip_by_global_norm(grads, 1.0)
    assert total == pytest.approx(math.sqrt(100**2 + 0.1**2))
    assert total == pytest.approx(100.00005, abs=1e-8)
    np.testing.assert_allclose(c1, [0.9999995, 0], atol=1e-9)
    np.testing.assert_allclose(c2, [0, 0.0009999995], atol=1e-12)


def test_nan_gradient_poisons_every_tensor_without_the_check():
    grads = [np.array([1.0, np.nan]), np.array([2.0, 3.0])]
    clipped, total = clip.clip_by_global_norm(grads, 1.0)
    assert math.isnan(total)
    assert all(np.all(np.isnan(g)) for g in clipped)


def test_infinite_gradient_zeroes_finite_entries_like_pytorch():
    clipped, total = clip.clip_by_global_norm([np.array([np.inf, 1.0]), np.array([2.0])], 1.0)
    assert total == math.inf
    assert math.isnan(clipped[0][0]) and clipped[0][1] == 0.0 and clipped[1][0] == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_error_if_nonfinite_raises(bad):
    with pytest.raises(NonFiniteGradientError, match="total gradient norm is"):
        clip.clip_by_global_norm([np.array([1.0, bad])], 1.0, error_if_nonfinite=True)


def test_in_place_versions_skip_parameters_without_gradient():
    a, b, c = Parameter([3.0, 4.0], "a"), Parameter([1.0], "b"), Parameter([9.0, 9.0], "c")
    a.grad, b.grad = np.array([30.0, 40.0]), np.array([0.0])
    total = clip.clip_grad_norm_([a, b, c], 5.0)
    assert total == 50.0
    np.testing.assert_allclose(a.grad, [3.0, 4.0], rtol=1e-6)
    assert c.grad is None
    clip.clip_grad_value_([a, c], 3.5)
    assert a.grad.max() <= 3.5 and c.grad is None
    clip.clip_grad_norm_per_tensor_(a, 1.0)
    assert np.linalg.norm(a.grad) == pytest.approx(1.0)


@pytest.mark.parametrize("bad, error", [(0.0, ValueError), (-1.0, ValueError),
                                        (float("nan"), ValueError), (float("inf"), ValueError),
                                        ("5", TypeError), (None, TypeError)])
def test_bad_thresholds_are_named(bad, error):
    for fn in (clip.clip_by_value, clip.clip_by_norm, clip.clip_by_global_norm):
        with pytest.raises(error, match="clip_value|max_norm"):
            fn([G], bad)


@pytest.mark.parametrize("norm_type", [0.5, "fro", -2, None])
def test_unknown_norm_type_is_named(norm_type):
    with pytest.raises(ValueError, match="unknown norm type"):
        clip.global_norm([G], norm_type)


def test_non_parameters_are_rejected_in_place():
    with pytest.raises(TypeError, match="expected Parameter"):
        clip.clip_grad_norm_([np.ones(3)], 1.0)


# --- properties -------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)
vectors = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6), elements=finite)
grad_lists = st.lists(vectors, min_size=1, max_size=4)
thresholds = st.floats(1e-3, 1e3)
norm_types = st.sampled_from([1.0, 2.0, 3.0, math.inf])


@settings(max_examples=200, deadline=None)
@given(grad_lists, thresholds, norm_types)
def test_clipped_global_norm_never_exceeds_threshold(grads, c, p):
    clipped, total = clip.clip_by_global_norm(grads, c, norm_type=p)
    assert clip.global_norm(clipped, p) <= c * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(grad_lists, thresholds)
def test_global_clipping_keeps_the_direction(grads, c):
    clipped, total = clip.clip_by_global_norm(grads, c)
    flat, flat_clipped = np.concatenate([g.ravel() for g in grads]), np.concatenate(
        [g.ravel() for g in clipped])
    coefficient = min(1.0, c / (total + 1e-6))
    np.testing.assert_allclose(flat_clipped, coefficient * flat, rtol=1e-15, atol=0)


@settings(max_examples=200, deadline=None)
@given(grad_lists, thresholds)
def test_per_tensor_clipping_bounds_each_tensor_and_keeps_its_direction(grads, c):
    for g, cg in zip(grads, clip.clip_by_norm(grads, c)):
        assert np.linalg.norm(cg) <= c * (1 + 1e-12)
        np.testing.assert_allclose(cg, g * min(1.0, c / max(np.linalg.norm(g), 1e-300)),
                                   rtol=1e-12, atol=1e-300)


@settings(max_examples=200, deadline=None)
@given(grad_lists, norm_types)
def test_clipping_below_threshold_changes_nothing(grads, p):
    total = clip.global_norm(grads, p)
    c = 2 * total + 1.0
    for g, cg in zip(grads, clip.clip_by_global_norm(grads, c, norm_type=p)[0]):
        np.testing.assert_array_equal(cg, g)
    for g, cg in zip(grads, clip.clip_by_value(grads, np.max([np.abs(g).max() for g in grads]) + 1)):
        np.testing.assert_array_equal(cg, g)
    for g, cg in zip(grads, clip.clip_by_norm(grads, 2 * clip.global_norm(grads) + 1.0)):
        np.testing.assert_array_equal(cg, g)


@settings(max_examples=200, deadline=None)
@given(grad_lists, thresholds)
def test_value_clipping_bounds_every_element(grads, c):
    for g, cg in zip(grads, clip.clip_by_value(grads, c)):
        assert np.all(np.abs(cg) <= c)
        np.testing.assert_array_equal(cg[np.abs(g) <= c], g[np.abs(g) <= c])


@settings(max_examples=100, deadline=None)
@given(grad_lists, thresholds)
def test_inf_norm_clipping_bounds_the_largest_entry(grads, c):
    clipped, total = clip.clip_by_global_norm(grads, c, norm_type=math.inf)
    assert total == max(np.abs(g).max(initial=0.0) for g in grads)
    assert max(np.abs(g).max(initial=0.0) for g in clipped) <= c


def test_inputs_are_not_modified():
    grads = [G.copy()]
    clip.clip_by_global_norm(grads, 1.0)
    clip.clip_by_value(grads, 1.0)
    clip.clip_by_norm(grads, 1.0)
    np.testing.assert_array_equal(grads[0], G)
