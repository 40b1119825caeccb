"""Chapter 6's experiments: Adam after a spike, the rules over seeds, smoothness, shards,
precision, DP-SGD, the bug demonstrations and the explorer."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from gradlab import clip_adaptive, optim
from gradlab.experiments import adam_spike, adaptive_runs, modern
from gradlab.nn import Parameter


def test_adam_updates_match_the_optimizer():
    g = adam_spike.gradient_stream(20, 3, seed=1)
    p = Parameter(np.zeros(3))
    opt = optim.Adam([p], lr=1e-3, betas=(0.9, 0.95))
    steps = []
    for row in g:
        before = p.value.copy()
        p.grad = row.copy()
        opt.step()
        steps.append(before - p.value)
    np.testing.assert_allclose(adam_spike.adam_updates(g, 1e-3, beta2=0.95), steps, rtol=1e-12)


def test_scale_invariance_and_spike():
    assert adam_spike.scale_invariance(0.01).max_difference < 1e-7
    r = adam_spike.spike_response(1e3, 0.999, 10.0)
    assert r.shrink_spiked < 0.5
    assert r.shrink_clipped == pytest.approx(1.0, abs=0.01)


def test_vectorised_zclip_matches_the_class():
    norms = np.abs(np.random.default_rng(0).standard_t(1.5, 60)) + 1
    norms[40] = 1e3
    state = adaptive_runs._Threshold("zclip", 1, 1.0, 0.0, 0, (0.97, 2.5, 25))
    z = clip_adaptive.ZClip()
    for n in norms:
        kappa = state.coefficient(np.array([n]), None)[0]
        target = z.update(n)
        assert kappa * n == pytest.approx(min(target, n), rel=1e-12)


def test_compare_rules_and_bad_batches_run():
    runs = adaptive_runs.compare_rules(adaptive_runs.Task(noise="student"), n_seeds=20, n_steps=60)
    assert runs.error.shape == (len(adaptive_runs.RULES), 20)
    assert runs.clipped_share[runs.rules.index("none")] == 0
    bad = adaptive_runs.bad_batch_runs(n_seeds=10, n_steps=200)
    rows = {row["policy"]: row for row in bad.summary()}
    assert rows["skip"]["diverged"].k == 0 and rows["fixed"]["diverged"].k == 10
    with pytest.raises(ValueError, match="unknown rule"):
        adaptive_runs.compare_rules(adaptive_runs.Task(), rules=("magic",), n_seeds=2, n_steps=2)


def test_mlp_rules_small():
    runs = adaptive_runs.mlp_rules(seeds=range(3), epochs=2)
    rows = {row["rule"]: row for row in runs.summary()}
    assert rows["none"]["diverged"].k == 3  # chapter 2: the unclipped MLP overflows at once
    assert rows["fixed"]["diverged"].k == 0 and rows["fixed"]["clipped"] == 1.0


def test_adding_rules_match_chapter_4b_runs():
    from gradlab.experiments import adding

    seeds = [0, 1, 2]
    runs = adaptive_runs.adding_rules(rules=("none", "fixed", "agc_hidden", "zclip"), seeds=seeds,
                                      steps=20, seq_len=6, lr=0.2, n_test=50)
    assert runs.test_mse.shape == (4, 3)
    reference = adding.run_many([(0.2, None), (0.2, 1.0)], seeds, steps=20, seq_len=6, n_test=50)
    np.testing.assert_allclose(runs.test_mse[:2], reference.test_mse, rtol=1e-6)
    assert runs.clipped_share[0] == 0 and runs.clipped_share[1] > 0
    assert runs.clipped_share[3] == 0  # ZClip's first 25 steps only collect statistics
    rows = adaptive_runs.NetworkRuleRuns(("a",), np.arange(4), np.array([[0.1, 0.3, np.nan, 0.2]]),
                                         np.zeros(1)).summary(good=0.25)
    assert rows[0]["diverged"].k == 1 and rows[0]["good"].k == 2
    with pytest.raises(ValueError, match="unknown rule"):
        adaptive_runs.adding_rules(rules=("magic",), seeds=[0], steps=2)


def test_agc_unit_factor_matches_the_package():
    rng = np.random.default_rng(2)
    g, w = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    stacked = adaptive_runs._unit_factor(g, w, 0.01) * g
    for s in range(2):
        np.testing.assert_allclose(stacked[s], clip_adaptive.agc(g[s], w[s]), rtol=1e-12)
    b, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    stacked = adaptive_runs._unit_factor(b, v, 0.01) * b
    np.testing.assert_allclose(stacked[1], clip_adaptive.agc(b[1], v[1]), rtol=1e-12)


def test_quartic():
    assert modern.first_nonfinite(modern.quartic_descent(lr=0.1)) is not None
    xs = modern.quartic_descent(lr=0.1, max_norm=1.0, n_steps=300)
    assert abs(xs[-1]) < 0.2 and np.all(np.abs(np.diff(xs[:50])) <= 0.1 + 1e-12)


def test_sharding_precision_and_bugs():
    grads = modern.mlp_gradient()
    s = modern.compare_sharding(grads, 2)
    assert s.sharded_norm == pytest.approx(s.unsharded_norm, rel=1e-12)
    assert s.per_shard_cosine < 0.99 and s.global_cosine == pytest.approx(1.0)
    case = modern.norm_overflow(1e20, np.float32)
    assert np.isinf(case.naive_norm) and case.safe_norm == pytest.approx(2e20, rel=1e-6)
    assert np.isnan(modern.torch_coefficient(np.inf, np.inf))
    assert modern.clip_tensors_as_parameters(grads, 1.0)[0] == 0.0
    per, glob = modern.per_variable_versus_global(grads, 1.0)
    assert per > 1.5 and glob <= 1.0


def test_dp_sgd_bias_vanishes_for_large_c():
    X, y, _ = modern.logistic_data(n=200)
    reference = modern.logistic_loss(modern.reference_fit(X, y, n_steps=1000), X, y)
    w, _, _ = modern.dp_sgd(X, y, 1e3, n_steps=500)
    assert modern.logistic_loss(w, X, y) == pytest.approx(reference, abs=5e-3)
    w, _, _ = modern.dp_sgd(X, y, 0.1, n_steps=500)
    assert modern.logistic_loss(w, X, y) > reference + 0.02


def test_explorer():
    from gradlab.widgets import modern as widgets

    e = widgets.explorer()
    e.children[0].value = 10.0
    assert e.kwargs["spike"] == 10.0 and e.result is not None


def test_spike_responses_equal_one_response_each():
    grid = adam_spike.spike_responses([1.0, 1e3], 0.95, [3.0, 1e5, math.inf], n_steps=150)
    for (spike, threshold), r in grid.items():
        one = adam_spike.spike_response(spike, 0.95, min(threshold, 1e300), n_steps=150)
        np.testing.assert_array_equal(r.clean, one.clean)
        np.testing.assert_array_equal(r.spiked, one.spiked)
        np.testing.assert_array_equal(r.clipped, one.spiked if math.isinf(threshold)
                                      else one.clipped)
    assert grid[1e3, 3.0].shrink_clipped == pytest.approx(1.0, abs=0.01)
    assert grid[1e3, math.inf].shrink_clipped == grid[1e3, math.inf].shrink_spiked < 0.9


def test_chart_tables_cover_the_grid_and_share_curves():
    from gradlab.widgets import modern as widgets

    states, curves = widgets.chart_tables()
    n = len(widgets.BETA2S) * len(widgets.CHART_SPIKES) * len(widgets.CHART_THRESHOLDS)
    assert len(states["beta2"]) == n and set(states["clip"]) >= {"1", "100000", "no clipping"}
    assert curves["curve"] == list(range(len(curves["curve"])))
    for i, label in enumerate(states["clip"]):
        assert {states[run][i] for run in widgets.RUNS} <= set(curves["curve"])
        if label == widgets.NO_CLIP or (states["spike"][i] == 1 and label == "100"):
            assert states["clipped"][i] == states["spiked"][i]
    steps = len(widgets.chart_steps())
    assert all(len(packed.split()) == steps for packed in curves["log_norm"])
    assert len(curves["curve"]) < n / 3  # most states share their curves


def test_chart_is_a_stable_labelled_spec_with_three_controls():
    import json

    from gradlab import charts
    from gradlab.widgets import modern as widgets

    spec = charts.spec(widgets.chart())
    params = {p["name"]: p for p in spec["params"]}
    assert set(params) == {"spike", "beta2", "clip"}
    assert params["clip"]["bind"]["options"][-1] == widgets.NO_CLIP
    assert len(json.dumps(spec)) < 150_000
    assert charts.spec(widgets.chart()) == spec  # the same spec on every call
    with pytest.raises(ValueError, match="grid"):
        widgets.chart(spike=5)


def test_logistic_per_example_gradients_match_finite_differences():
    X, y, _ = modern.logistic_data(n=30, dim=4)
    w = np.random.default_rng(3).standard_normal(4)
    analytic = modern.logistic_per_example(w, X, y).mean(axis=0)
    h = 1e-6
    numeric = np.array([(modern.logistic_loss(w + h * e, X, y) - modern.logistic_loss(w - h * e, X, y))
                        / (2 * h) for e in np.eye(4)])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
