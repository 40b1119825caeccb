"""Chapter 4's clipping demonstrations, their figures and the 2-D clipping explorer."""

import json
import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

matplotlib.use("Agg")

from gradlab import charts, optim  # noqa: E402
from gradlab.errors import NonFiniteGradientError  # noqa: E402
from gradlab.experiments import clipping as C  # noqa: E402
from gradlab.plots import clipping as plots  # noqa: E402
from gradlab.widgets import clipping as explorer  # noqa: E402

vectors = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=6).map(np.array)
thresholds = st.floats(0.01, 100.0)


def test_worked_example_by_hand():
    ex = C.worked_example()
    assert ex.norm == pytest.approx(math.sqrt(464))
    assert ex.factor == pytest.approx(5 / math.sqrt(464))
    np.testing.assert_allclose(ex.by_norm.after, np.array([16, 12, -8]) * 5 / math.sqrt(464))
    np.testing.assert_allclose(ex.global_norm_clipped, ex.by_norm.after, rtol=1e-6)
    np.testing.assert_array_equal(ex.by_value.after, [5, 5, -5])
    assert round(ex.by_norm.after[1], 4) == 2.7854  # not the widely copied 2.786
    assert ex.by_norm.angle_deg == pytest.approx(0, abs=1e-5)
    assert ex.by_value.angle_deg > 10


@settings(max_examples=60, deadline=None)
@given(vectors, thresholds)
def test_norm_clipping_bounds_the_norm_and_keeps_the_direction(g, c):
    result = C.clip_vector(g, c, "norm")
    assert result.norm_after <= c * (1 + 1e-9)
    if result.norm_before > 1e-6:
        assert result.angle_deg < 1e-3
    if result.norm_before <= c:
        assert not result.active


@settings(max_examples=60, deadline=None)
@given(vectors, thresholds)
def test_value_clipping_bounds_every_entry(g, c):
    result = C.clip_vector(g, c, "value")
    assert np.all(np.abs(result.after) <= c)


def test_value_clipping_turns_an_uneven_vector():
    result = C.clip_vector([4.0, 1.0], 2.0, "value")
    assert result.angle_deg == pytest.approx(math.degrees(math.atan2(1, 2) - math.atan2(1, 4)))


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match="unknown clipping mode 'max'"):
        C.clip_vector([1.0, 2.0], 1.0, "max")


def test_clipping_after_the_step_changes_nothing():
    order = C.clip_order([1.0, 2.0], [30.0, 40.0], lr=0.1, max_norm=1.0)
    np.testing.assert_array_equal(order.step_then_clip, order.no_clip)
    np.testing.assert_allclose(order.no_clip, [1 - 3.0, 2 - 4.0])
    np.testing.assert_allclose(order.clip_then_step, [1 - 0.1 * 0.6, 2 - 0.1 * 0.8], rtol=1e-6)


def test_accumulation_clip_once_equals_the_full_batch():
    micro = np.array([[0.5, 0.2], [0.4, 0.3], [6.0, -8.0], [0.3, 0.1]])
    result = C.accumulation(micro, 1.0)
    np.testing.assert_allclose(result.clip_once, result.full_batch)
    assert np.linalg.norm(result.clip_once) <= 1.0
    assert not np.allclose(result.clip_each, result.clip_once)


def test_returned_norm_is_the_norm_before_clipping():
    returned, after = C.norm_before_and_after([np.array([3.0, 4.0]), np.array([12.0])], 1.0)
    assert returned == pytest.approx(13.0)
    assert after < 1.0


def test_global_clipping_shrinks_the_small_tensor_too():
    result = C.global_versus_per_tensor([np.array([600.0, 800.0]), np.array([0.3, 0.4])], 1.0)
    np.testing.assert_allclose(result.norms_before, [1000.0, 0.5])
    np.testing.assert_allclose(result.norms_per_tensor, [1.0, 0.5])
    assert result.norms_global[1] == pytest.approx(0.5 / 1000, rel=1e-5)


def test_a_nan_spreads_only_under_global_clipping():
    spread = C.nan_spread([np.array([1.0, np.nan, 2.0]), np.array([3.0, 4.0])], 1.0)
    assert spread == {"input": [1, 0], "global norm": [3, 2], "per-tensor norm": [3, 0],
                      "value": [1, 0]}


def make_sgd(params, **clipping):
    return optim.SGD(params, 0.1, momentum=0.9, **clipping)


def test_optimizer_sees_the_clipped_gradient_but_momentum_steps_further():
    grads = C.spike_sequence(n_steps=60, spike_step=20, size=0.5, spike=1e3)
    clipped = C.optimizer_trace(grads, make_sgd, global_clipnorm=1.0)
    plain = C.optimizer_trace(grads, make_sgd)
    assert clipped.used_norm.max() <= 1.0
    np.testing.assert_array_equal(plain.used_norm, plain.grad_norm)
    velocity_before_spike = sum(0.9**k * 0.5 for k in range(20))
    assert plain.step_length[20] == pytest.approx(0.1 * (1e3 + 0.9 * velocity_before_spike))
    assert clipped.step_length.max() > 0.1 * 1.0  # momentum: a step can exceed lr * c
    assert clipped.step_length.max() <= 0.1 * 1.0 / (1 - 0.9) + 1e-12


def test_a_spike_stalls_adam_unless_clipped():
    grads = C.spike_sequence()
    make_adam = lambda params, **k: optim.Adam(params, 0.01, **k)  # noqa: E731
    plain = C.optimizer_trace(grads, make_adam)
    clipped = C.optimizer_trace(grads, make_adam, global_clipnorm=1.0)
    assert plain.step_length[-1] < 0.1 * clipped.step_length[-1]


def test_transient_nan_policies():
    runs = {p: C.run_policy(p, "transient") for p in C.POLICIES}
    assert runs["raise"].stopped_at == 9 and "nan" in runs["raise"].message
    assert runs["skip"].non_finite_steps == 6 and runs["skip"].stopped_at is None
    assert runs["skip"].final_loss < 0.01 and runs["fallback"].final_loss < 0.05


def test_large_weights_stall_skipping_but_not_the_fallback():
    skip = C.run_policy("skip", "large weights")
    fallback = C.run_policy("fallback", "large weights")
    np.testing.assert_array_equal(skip.weights[-1], skip.weights[0])
    assert fallback.non_finite_steps == 3  # 0.98^3 * ||(6, 6)|| < 8 < 0.98^2 * ||(6, 6)||
    assert fallback.final_loss < 1e-3
    with pytest.raises(NonFiniteGradientError):
        C.policy_step(np.array([6.0, 6.0]), np.array([np.inf, 0.0]), 0.1, "raise")


def test_policy_and_scenario_names_are_checked():
    with pytest.raises(ValueError, match="unknown policy"):
        C.policy_step(np.zeros(2), np.zeros(2), 0.1, "ignore")
    with pytest.raises(ValueError, match="unknown scenario"):
        C.toy_gradient(np.zeros(2), 0, "sometimes")


@pytest.mark.parametrize("fmt, dtype", [(C.FLOAT16, np.float16), (C.FLOAT32, np.float32)])
def test_float_formats_match_numpy(fmt, dtype):
    info = np.finfo(dtype)
    assert fmt.largest == float(info.max) and fmt.epsilon == float(info.eps)
    assert fmt.smallest_normal == float(info.smallest_normal)


def test_bfloat16_has_the_range_of_float32_and_few_digits():
    assert C.BFLOAT16.largest == pytest.approx(3.3895e38, rel=1e-4)
    assert C.BFLOAT16.smallest_normal == C.FLOAT32.smallest_normal
    assert C.BFLOAT16.epsilon == 2.0**-7


def test_a_float16_norm_overflows_above_256():
    assert C.FLOAT16.norm_limit == pytest.approx(255.94, abs=0.01)
    assert C.norm_in_float16(np.full(10_000, 2.5)) == 250.0  # 6.25e4 < 65504: finite
    assert C.norm_in_float16(np.full(10_000, 3.0)) == math.inf  # norm 300: the squares overflow


def test_threshold_from_norms_ignores_non_finite():
    assert C.threshold_from_norms([1.0, 2.0, 3.0, np.inf, np.nan], 50) == 2.0
    with pytest.raises(ValueError, match="no finite"):
        C.threshold_from_norms([np.nan])
    with pytest.raises(ValueError, match="percentile"):
        C.threshold_from_norms([1.0], 150)


def test_figures_draw():
    axes = plots.plot_worked_example(C.worked_example())
    assert len(axes[0].patches) >= 9
    traces = {"SGD": (C.optimizer_trace(C.spike_sequence(), make_sgd),
                      C.optimizer_trace(C.spike_sequence(), make_sgd, 1.0))}
    assert len(plots.plot_optimizer_traces(traces, 1.0)[0].lines) == 3
    runs = {"transient": [C.run_policy(p, "transient") for p in C.POLICIES]}
    assert "stopped at step 9" in plots.plot_policy_runs(runs)[0].get_legend_handles_labels()[1][0]


def test_explorer_redraws_on_slider_change():
    w = explorer.explorer(g=(4.0, 1.5), threshold=2.0, mode="value")
    after = w.result.axes[0].lines[1]
    first = np.array(after.get_xydata())
    w.children[1].value = "norm"
    second = np.array(after.get_xydata())
    assert not np.allclose(first, second)
    assert np.linalg.norm(second[1]) == pytest.approx(2.0)
    w.children[0].value = 1.0
    assert np.linalg.norm(after.get_xydata()[1]) == pytest.approx(1.0)


def test_explorer_survives_every_extreme():
    w = explorer.explorer()
    sliders = [w.children[i] for i in (0, 2, 3)]
    for mode in C.MODES:
        w.children[1].value = mode
        for s in sliders:
            for value in (s.min, s.max):
                s.value = value
                w.result.canvas.draw()
    w.children[2].value = 0.0
    w.children[3].value = 0.0
    w.result.canvas.draw()  # a zero gradient: nothing to clip, no division by zero
    assert "0°" in w.result.axes[0].texts[0].get_text()


def test_chart_has_the_explorers_controls_and_is_small():
    spec = charts.spec(explorer.chart(g=(4.0, 1.5), threshold=2.0, mode="norm"))
    params = {param["name"]: param for param in spec["params"]}
    assert {name: param["value"] for name, param in params.items()} == {
        "c": 2.0, "mode": "norm", "g1": 4.0, "g2": 1.5}
    assert params["mode"]["bind"]["options"] == list(C.MODES)
    assert all(param["bind"]["name"].strip() for param in params.values())
    assert len(json.dumps(spec, separators=(",", ":"))) < 8000  # formulas, no table of states
    with pytest.raises(ValueError, match="mode"):
        explorer.chart(mode="global")
