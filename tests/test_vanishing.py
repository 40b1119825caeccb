"""Chapter 2: deep MLPs at initialisation, singular-value bounds, monitoring, the explorer."""

import io
import re

import numpy as np
import pytest

from gradlab import charts, train
from gradlab.experiments import deep_mlp
from gradlab.plots import vanishing as plots
from gradlab.widgets import vanishing as explorer_module


def _profile(activation_scale, gradient_norm):
    depth = len(activation_scale) - 1
    return deep_mlp.InitProfile(depth, 4, "he", "relu", np.array(activation_scale, float),
                                np.array(gradient_norm, float))


# --- compute ---------------------------------------------------------------------------

def test_profile_shapes_and_unit_gradient_at_output():
    p = deep_mlp.profile(depth=7, width=16, init="xavier", activation="tanh", batch=8)
    assert p.activation_scale.shape == p.gradient_norm.shape == (8,)
    assert p.gradient_norm[-1] == 1.0
    np.testing.assert_array_equal(p.layers, np.arange(8))


def test_scalar_linear_chain_is_a_product_of_weights():
    """Width 1, identity activation: both scales multiply by |w_l| per layer."""
    depth, seed = 5, 3
    p = deep_mlp.profile(depth=depth, width=1, init="normal", activation="identity", seed=seed)
    model = deep_mlp.build(depth, 1, "normal", "identity", np.random.default_rng(seed))
    weights = np.array([model[2 * l].weight.value[0, 0] for l in range(depth)])
    product = np.prod(np.abs(weights))
    assert p.activation_scale[-1] / p.activation_scale[0] == pytest.approx(product)
    assert p.gradient_norm[0] == pytest.approx(product)
    # below the top, each layer adds the factor of the weight above it
    np.testing.assert_allclose(p.gradient_norm[:-1] / p.gradient_norm[1:], np.abs(weights))


@pytest.mark.parametrize("init, expected", [
    ("he", 1.0),                          # variance 2/n against ReLU's halving
    ("xavier", np.sqrt(0.5)),             # variance 1/n: second moment halves per layer
    ("normal", np.sqrt(128 / 2)),         # variance 1: second moment grows by n/2 per layer
])
def test_relu_activation_growth_per_layer_follows_the_variance_argument(init, expected):
    p = deep_mlp.profile(depth=30, width=128, init=init, activation="relu", batch=16)
    assert deep_mlp.growth_per_layer(p.activation_scale) == pytest.approx(expected, rel=0.1)


def test_relu_prefers_he():
    profiles = deep_mlp.compare_inits(activations=("relu",), depth=30, width=128)
    assert deep_mlp.best_init(profiles, "relu") == "he"


def test_unknown_init_and_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="unknown init scheme 'lecun'"):
        deep_mlp.profile(init="lecun")
    with pytest.raises(ValueError, match="at least 1"):
        deep_mlp.profile(depth=0)


def test_distance_from_one():
    assert deep_mlp.distance_from_one(_profile([1, 1, 1], [1, 1, 1])) == 0.0
    assert deep_mlp.distance_from_one(_profile([1, 1000, 1], [0.1, 1, 1])) == pytest.approx(3.0)
    assert deep_mlp.distance_from_one(_profile([1, np.inf, np.nan], [1, 1, 1])) == np.inf
    assert deep_mlp.distance_from_one(_profile([1, 1, 1], [0.0, 1, 1])) == np.inf


def test_failures_name_the_layer():
    assert deep_mlp.failures(_profile([1, 2, 3], [3, 2, 1])) == []
    messages = deep_mlp.failures(_profile([1, 1e200, np.inf, np.nan], [np.nan, np.inf, 5, 1]))
    assert messages == ["activations overflowed to inf at layer 2",
                        "gradient overflowed to inf at layer 1"]
    assert deep_mlp.failures(_profile([1, 1, 1, 1], [0, 0, 1e-300, 1])) == [
        "gradient underflowed to 0 at layer 1"]
    lost = deep_mlp.failures(_profile([1, np.inf, np.nan], [0, 0, 1]))
    assert lost[-1] == "gradient lost (forward pass overflowed) at layer 1"


def test_huge_finite_values_do_not_read_as_overflow():
    """ReLU with N(0, 1) weights at depth 300 peaks near 1e270: finite, so no failure."""
    p = deep_mlp.profile(depth=300, width=128, init="normal", activation="relu")
    assert np.all(np.isfinite(p.activation_scale)) and np.all(np.isfinite(p.gradient_norm))
    assert p.activation_scale[-1] > 1e250 and deep_mlp.failures(p) == []


def test_real_overflow_is_reported():
    p = deep_mlp.profile(depth=300, width=128, init="normal", activation="identity")
    messages = deep_mlp.failures(p)
    assert any(m.startswith("activations overflowed to inf at layer") for m in messages)
    assert any(m.startswith("gradient overflowed to inf at layer") for m in messages)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "identity"])
@pytest.mark.parametrize("init", ["normal", "xavier", "he"])
def test_gradient_lies_between_singular_value_bounds(activation, init):
    b = deep_mlp.jacobian_bounds(depth=12, width=16, init=init, activation=activation, seed=2)
    tol = 1e-9
    assert np.all(b.lower <= b.ratio * (1 + tol))
    assert np.all(b.ratio <= b.upper * (1 + tol))
    assert np.all(b.upper <= b.loose_upper * (1 + tol))
    assert b.ratio[-1] == b.upper[-1] == b.lower[-1] == 1.0


def test_sigmoid_loose_bound_uses_one_quarter():
    b = deep_mlp.jacobian_bounds(depth=3, width=4, init="xavier", activation="sigmoid")
    sigma = [np.linalg.norm(m.weight.value, 2) for m in
             deep_mlp.build(3, 4, "xavier", "sigmoid", np.random.default_rng(0))[::2]]
    assert b.loose_upper[0] == pytest.approx(np.prod(sigma) / 4**3)


def test_growth_per_layer():
    assert deep_mlp.growth_per_layer([1.0, 2.0, 4.0, 8.0]) == pytest.approx(2.0)
    assert deep_mlp.growth_per_layer([5.0, 1.0, 5.0]) == pytest.approx(1.0)


def test_first_alarm():
    calm = [1.0] * 12
    assert deep_mlp.first_alarm(calm) is None
    assert deep_mlp.first_alarm(calm + [5.0, 20.0]) == 13
    assert deep_mlp.first_alarm(calm + [np.nan]) == 12
    assert deep_mlp.first_alarm([1.0, 50.0, 1.0], warmup=1) == 1
    assert deep_mlp.first_alarm([1.0, 50.0, 1.0], warmup=2) is None


# --- figures ---------------------------------------------------------------------------

def _diverged_history():
    h = train.History(layer_grad_norms={"w": [1.0, 10.0, np.inf], "b": [0.5, 2.0, np.inf]})
    h.loss = [1.0, 5.0, 1e300]
    h.grad_norm = [1.0, 10.0, np.inf]
    h.update_ratio = [0.01, 0.1, np.inf]
    h.diverged = train.Divergence(1, 2, "the gradient norm became inf")
    return h


def test_static_figures_draw_their_data():
    ax = plots.plot_activation_derivatives()
    assert max(line.get_ydata().max() for line in ax.get_lines()[:1]) == pytest.approx(0.25)
    axes = plots.plot_init_profiles(deep_mlp.compare_inits(depth=4, width=8))
    assert axes.shape == (2, 2) and len(axes[1][1].get_lines()) == 4   # 3 inits + the line at 1
    ax = plots.plot_jacobian_bounds(deep_mlp.jacobian_bounds(depth=4, width=8))
    assert len(ax.get_lines()) == 4
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "measured ratio" in legend and any("J_l" in t for t in legend)   # the text's names


def test_divergence_trace_marks_the_failure():
    ax = plots.plot_divergence_trace(_diverged_history())
    texts = [t.get_text() for t in ax.texts]
    assert any("gradient norm became inf" in t and "step 2" in t for t in texts)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata()[:2], [1.0, 10.0])
    assert np.isnan(ax.get_lines()[0].get_ydata()[2])


def test_monitor_has_three_log_panels():
    axes = plots.plot_monitor({"bad": _diverged_history(), "good": _diverged_history()})
    assert len(axes) == 3 and all(ax.get_yscale() == "log" for ax in axes)
    assert len([line for line in axes[1].get_lines() if len(line.get_xdata()) == 3]) == 2


def test_test_mse_shows_every_seed_and_counts_the_diverged():
    ax = plots.plot_test_mse({"raw": [np.nan, np.nan], "scaled": [0.5, 2.0, 8.0, np.nan]})
    assert [t.get_text() for t in ax.texts] == ["2 of 2 diverged", "1 of 4 diverged"]
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert len(dots) == 1 and sorted(dots[0].get_xdata()) == [0.5, 2.0, 8.0]
    (box,) = ax.patches                      # the quartiles of the finite seeds
    assert box.get_x() == pytest.approx(1.25) and box.get_width() == pytest.approx(3.75)
    assert ax.get_xscale() == "log"


# --- explorer --------------------------------------------------------------------------

def _gradient_line(w):
    return np.array(w.view.lines[1].get_ydata(), dtype=float)


def test_explorer_redraws_when_a_control_changes():
    w = explorer_module.explorer(depth=10, init="he", activation="relu")
    before = _gradient_line(w)
    w.children[0].value = 20
    assert w.kwargs["depth"] == 20 and len(_gradient_line(w)) == 21
    after_depth = _gradient_line(w)
    w.children[1].value = "normal"
    assert not np.allclose(after_depth, _gradient_line(w), equal_nan=True)
    w.children[2].value = "tanh"
    assert w.result is w.view.fig
    assert len(before) == 11


def test_explorer_survives_every_extreme():
    w = explorer_module.explorer(depth=5)
    depth, init, activation = w.children[:3]
    for d in (depth.min, depth.max):
        for i in init.options:
            for a in activation.options:
                depth.value, init.value, activation.value = d, i, a
                shown = [line.get_ydata() for line in w.view.lines]
                assert all(np.isfinite(y).any() for y in shown)   # never an empty plot
    depth.value, init.value, activation.value = depth.max, "normal", "identity"
    notes = " ".join(t.get_text() for t in w.view.notes if t.get_visible())
    assert re.search(r"gradient overflowed\s+to inf at layer \d+", notes)


def test_explorer_draws_values_next_to_the_float64_limit():
    """Identity, N(0, 1), depth 300 reaches ~1e306 before overflowing: the PNG still renders."""
    view = plots.ProfileView(deep_mlp.profile(300, 128, "normal", "identity"))
    assert view.axes[0].get_ylim()[1] > 1e305
    view.fig.savefig(io.BytesIO(), format="png")     # raised OverflowError on an inf tick


def test_chart_table_holds_every_profile_of_the_grid(monkeypatch):
    monkeypatch.setattr(explorer_module, "CHART_DEPTHS", (2, 30))
    rows = explorer_module.chart_table(width=16)
    combos = len(deep_mlp.INIT_SCHEMES) * len(explorer_module.ACTIVATIONS)
    assert rows["depth"] == [2] * combos + [30] * combos
    kept = explorer_module.chart_layers(30)
    assert kept[0] == 0 and kept[-1] == 30 and len(kept) == explorer_module.POINTS
    i = rows["activation"].index("tanh", combos)  # depth 30, the first init
    p = deep_mlp.profile(30, 16, rows["init"][i], "tanh")
    stored = np.array(rows["backward"][i].split(), dtype=float)
    assert np.allclose(stored, np.log10(p.gradient_norm[kept]), atol=0.05)


def test_chart_has_the_explorers_controls_on_its_grid():
    spec = charts.spec(explorer_module.chart(depth=100, init="he", activation="tanh"))
    params = {param["name"]: param["value"] for param in spec["params"] if "bind" in param}
    assert params == {"depth": 100, "init": "he", "activation": "tanh"}
    assert len(spec["datasets"]) == 2  # the profiles and the kept layers, each stored once
    with pytest.raises(ValueError, match="grid"):
        explorer_module.chart(depth=7)
