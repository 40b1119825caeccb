"""Adaptive clipping: AGC unit by unit, percentile (AutoClip) and z-score (ZClip) rules."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from gradlab import clip, clip_adaptive as ca
from gradlab.nn import Linear, Parameter

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def test_unit_norms_are_columns_of_an_n_in_by_n_out_weight():
    w = np.array([[3.0, 0.0], [4.0, 1.0]])  # (n_in=2, n_out=2): column 0 has norm 5
    np.testing.assert_allclose(ca.unit_norms(w), [[5.0, 1.0]])
    assert float(ca.unit_norms(np.array([3.0, 4.0]))) == 5.0


def test_unit_norms_do_not_overflow():
    w = np.full((4, 2), 1e200)
    np.testing.assert_allclose(ca.unit_norms(w), [[2e200, 2e200]])


def test_agc_hand_case():
    w = np.array([[3.0, 0.0], [4.0, 0.0]])  # column norms 5 and 0 (floored to eps)
    g = np.array([[0.3, 1.0], [0.4, 0.0]])  # column norms 0.5 and 1
    out = ca.agc(g, w, clipping=0.01, eps=1e-3)
    # column 0: ratio 0.5 / 5 = 0.1 > 0.01 -> norm 0.05; column 1: norm 0.01 * 1e-3
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [0.05, 1e-5])
    np.testing.assert_allclose(out[:, 0] / np.linalg.norm(out[:, 0]), [0.6, 0.8])


def test_agc_leaves_small_units_alone():
    w = np.ones((3, 2))
    g = np.full((3, 2), 1e-4)
    np.testing.assert_array_equal(ca.agc(g, w), g)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, (4, 3), elements=finite), hnp.arrays(np.float64, (4, 3), elements=finite),
       st.floats(1e-3, 1.0))
def test_agc_never_leaves_a_ratio_above_lambda(g, w, lam):
    out = ca.agc(g, w, clipping=lam)
    bound = lam * np.maximum(ca.unit_norms(w), ca.AGC_EPS)
    assert np.all(ca.unit_norms(out) <= bound * (1 + 1e-9) + 1e-300)
    # the direction of every unit is kept
    for i in range(3):
        if np.linalg.norm(g[:, i]) > 0 and np.linalg.norm(out[:, i]) > 0:
            cos = out[:, i] @ g[:, i] / (np.linalg.norm(out[:, i]) * np.linalg.norm(g[:, i]))
            assert cos == pytest.approx(1.0)


def test_agc_in_place_skips_and_checks():
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    layer.weight.grad = np.full((3, 2), 100.0)
    layer.bias.grad = np.full(2, 100.0)
    ca.agc_(layer.parameters(), skip=[layer.bias])
    assert np.all(ca.unit_norms(layer.weight.grad) <= 0.01 * ca.unit_norms(layer.weight.value) + 1e-12)
    np.testing.assert_array_equal(layer.bias.grad, 100.0)
    with pytest.raises(TypeError, match="Parameter"):
        ca.agc_([np.ones(2)])


def test_agc_bad_input():
    with pytest.raises(ValueError, match="shape mismatch"):
        ca.agc(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="positive"):
        ca.agc(np.ones(2), np.ones(2), clipping=0)
    with pytest.raises(ValueError, match="one weight per gradient"):
        ca.agc([np.ones(2)], [np.ones(2), np.ones(2)])


def test_percentile_clip_uses_history_including_current():
    clipper = ca.PercentileClip(50)
    for n in (1.0, 2.0, 3.0):
        clipped, norm = clipper([np.array([n])])
    assert norm == 3.0 and clipper.threshold() == 2.0
    assert clipped[0][0] == pytest.approx(2.0, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=30), st.floats(1, 100))
def test_percentile_clip_never_exceeds_its_threshold(norms, p):
    clipper = ca.PercentileClip(p)
    for n in norms:
        clipped, _ = clipper([np.array([n, 0.0])])
        assert clip.global_norm(clipped) <= clipper.threshold() * (1 + 1e-12)


def test_percentile_clip_bad_input():
    with pytest.raises(ValueError, match="percentile"):
        ca.PercentileClip(0)
    with pytest.raises(ValueError, match="finite"):
        ca.PercentileClip(50)([np.array([np.nan])])


def test_zclip_warmup_then_ema_and_reciprocal_clip():
    z = ca.ZClip(alpha=0.5, z_thresh=2.0, warmup=2)
    assert z.update(1.0) == 1.0 and z.update(3.0) == 3.0  # warm-up: recorded, not clipped
    assert (z.mean, z.var) == (2.0, 1.0)
    target = z.update(12.0)  # z = (12 - 2) / (1 + 1e-6) ~ 10 > 2
    zscore = 10.0 / (1.0 + 1e-6)
    assert target == pytest.approx(2.0 + 4.0 * 1.0 / zscore)
    mean = 0.5 * 2.0 + 0.5 * target
    assert z.mean == pytest.approx(mean)
    assert z.var == pytest.approx(0.5 * 1.0 + 0.5 * (target - mean) ** 2)


def test_zclip_passes_ordinary_norms():
    z = ca.ZClip(warmup=3)
    for n in (1.0, 1.1, 0.9):
        z.update(n)
    assert z.update(1.05) == 1.05


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-3, 1e8), min_size=1, max_size=40))
def test_zclip_output_never_exceeds_its_target(norms):
    z = ca.ZClip(warmup=5)
    for n in norms:
        target_before = (None if z.mean is None else
                         ca.zclip_target(n, z.mean, z.var, z.z_thresh, z.eps))
        clipped, _ = z([np.array([n])])
        if target_before is not None:
            assert clip.global_norm(clipped) <= target_before * (1 + 1e-9)


def test_zclip_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        ca.ZClip(alpha=1.0)
    with pytest.raises(ValueError, match="finite"):
        ca.ZClip().update(math.inf)
