"""Chapter 1: the scalar chain (recursion, modules, closed form), its figures and explorer."""

import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gradlab import charts, gradcheck, nn  # noqa: E402
from gradlab.experiments import backprop  # noqa: E402
from gradlab.plots import backprop as plots  # noqa: E402
from gradlab.widgets import backprop as explorer_module  # noqa: E402


# --- compute -----------------------------------------------------------------------------

def test_a_gradient_check_prints_rounding_noise_as_a_bound_and_a_bug_as_digits():
    result = gradcheck.GradCheckResult({"input": 1.234e-10, "layer.weight": 0.21093927})
    assert str(result).splitlines() == ["input         relative error below 1e-9",
                                        "layer.weight  relative error 0.21"]
    assert "below" not in str(gradcheck.GradCheckResult({"x": 2 * gradcheck.ROUNDING}))


def test_the_gradient_check_of_chapter_one_prints_the_same_text_everywhere():
    rng = np.random.default_rng(0)
    model = nn.mlp([3, 4, 1], "tanh", init="xavier", rng=rng)
    text = str(gradcheck.check_module(model, rng.normal(size=(5, 3))))
    assert text.count("below 1e-9") == 5 and not re.search(r"\de-1\d", text)


def test_five_layer_chain_with_weight_two_matches_the_hand_derivation():
    chain = backprop.scalar_chain(5, 2.0)
    assert chain.activations.tolist() == [2, 4, 8, 16, 32]
    assert chain.signals.tolist() == [16, 8, 4, 2, 1]
    assert chain.weight_grads.tolist() == [16] * 5
    assert chain.updates(0.1)[0] == pytest.approx(1.6)
    assert chain.relative_updates(0.1)[0] == pytest.approx(0.8)


def test_twenty_layers_give_two_to_the_nineteen():
    chain = backprop.scalar_chain(20, 2.0)
    assert chain.signals[0] == 2**19 == 524288
    assert chain.updates(0.1)[0] == pytest.approx(52428.8)


@pytest.mark.parametrize("depth", [1, 2, 7])
@pytest.mark.parametrize("w", [-1.5, 0.3, 1.0, 2.0])
@pytest.mark.parametrize("x", [1.0, -0.7])
def test_recursion_equals_the_closed_form(depth, w, x):
    chain = backprop.scalar_chain(depth, w, x)
    i = np.arange(1, depth + 1)
    np.testing.assert_allclose(chain.activations, w**i * x)
    np.testing.assert_allclose(chain.signals, w ** (depth - i))
    np.testing.assert_allclose(chain.weight_grads, np.full(depth, w ** (depth - 1) * x))


def test_per_layer_weights_give_product_of_the_other_weights():
    weights = np.array([4.0, 2.0, 1.0, 0.5, 3.0])
    chain = backprop.scalar_chain(5, weights, x=2.0)
    np.testing.assert_allclose(chain.weight_grads, 2.0 * np.prod(weights) / weights)
    np.testing.assert_allclose(chain.signals, [3.0, 1.5, 1.5, 3.0, 1.0])


@pytest.mark.parametrize("weight", [0.5, 2.0, -1.3, np.array([0.5, 2.0, 3.0, -1.0])])
def test_modules_and_recursion_agree_and_bias_gradient_is_the_signal(weight):
    chain = backprop.scalar_chain(4, weight, x=1.5)
    from_modules, model = backprop.scalar_chain_modules(4, weight, x=1.5)
    for name in ("activations", "signals", "weight_grads"):
        np.testing.assert_allclose(getattr(from_modules, name), getattr(chain, name))
    np.testing.assert_allclose([layer.bias.grad[0] for layer in model], chain.signals)


def test_signal_table_rows_show_vanishing_constant_and_exploding():
    table = backprop.signal_table([0.5, 1.0, 2.0])
    assert table.shape == (3, 5)
    assert table.tolist() == [[0.0625, 0.125, 0.25, 0.5, 1], [1] * 5, [16, 8, 4, 2, 1]]


def test_float32_overflows_where_float64_does_not():
    wide = backprop.scalar_chain(60, 10.0, precision="float64")
    narrow = backprop.scalar_chain(60, 10.0, precision="float32")
    assert np.all(np.isfinite(wide.signals)) and backprop.nonfinite_report(wide) == []
    # 10**(60 - i) exceeds float32's 3.4e38 exactly for i <= 21
    assert np.isinf(narrow.signals).tolist() == [i <= 21 for i in range(1, 61)]
    report = backprop.nonfinite_report(narrow)
    assert "signal dL/da overflowed to inf at layer 21 (21 of 60 layers)" in report
    assert "weight gradient dL/dw overflowed to inf at every layer" in report


def test_underflow_is_reported_but_an_exact_zero_weight_is_not():
    tiny = backprop.scalar_chain(60, 0.01, precision="float32")
    assert any("signal dL/da underflowed to 0" in m for m in backprop.nonfinite_report(tiny))
    assert backprop.nonfinite_report(backprop.scalar_chain(5, 0.0)) == []


@pytest.mark.parametrize("args, match", [((0, 2.0), "depth"), ((3, np.ones(2)), "shape"),
                                         ((3, np.inf), "finite"), ((3, 2.0, np.nan), "finite")])
def test_bad_input_is_refused_with_a_named_problem(args, match):
    with pytest.raises(ValueError, match=match):
        backprop.scalar_chain(*args)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        backprop.scalar_chain(3, 2.0, precision="float16")


def test_eps_sweep_error_is_smallest_for_a_middle_step():
    x = np.random.default_rng(3).normal(size=(3, 4))
    eps = 10.0 ** -np.arange(1, 13)
    errors = backprop.eps_sweep(nn.Tanh(), x, eps)
    best = int(np.argmin(errors))
    assert 0 < best < len(eps) - 1
    assert errors[best] < 1e-7 < min(errors[0], errors[-1])


# --- figures -----------------------------------------------------------------------------

def test_graph_has_one_patch_per_node_and_edge():
    ax = plots.draw_graph()
    assert len(ax.patches) == len(plots._NODES) + len(plots._FORWARD_EDGES) + len(
        plots._BACKWARD_EDGES)


def test_chain_view_hides_nonfinite_values_and_says_so():
    _, ax = plots.figure()
    view = plots.ChainView(ax)
    messages = view.update(backprop.scalar_chain(60, 10.0, precision="float32"))
    signal = view.lines[0].get_ydata()
    assert np.all(np.isnan(signal[:21])) and np.all(np.isfinite(signal[21:]))
    assert messages and view.message.get_text().strip() == "\n".join(messages)
    renderer = ax.figure.canvas.get_renderer()
    assert view.message.get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0
    view.update(backprop.scalar_chain(5, 2.0))
    assert view.message.get_text().strip() == ""
    np.testing.assert_array_equal(view.lines[1].get_ydata(), np.full(5, 16.0))


def test_weight_comparison_draws_one_curve_per_chain_in_each_panel():
    chains = [backprop.scalar_chain(5, w) for w in (0.5, 1.0, 2.0)]
    axes = plots.plot_weight_comparison(chains)
    assert [len(ax.get_lines()) for ax in axes] == [3, 3]
    assert axes[0].get_yscale() == "log"
    (legend,) = axes[0].figure.legends  # one legend, outside both panels
    renderer = axes[0].figure.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y1 < axes[1].get_window_extent(renderer).y0


# --- explorer and chart -------------------------------------------------------------------

def _controls(widget):
    return {child.description: child for child in widget.children if hasattr(child, "value")}


def test_explorer_redraws_when_the_weight_slider_moves():
    widget = explorer_module.explorer(depth=5, weight=2.0, precision="float64")
    line = widget.result.axes[0].lines[0]
    assert line.get_ydata().tolist() == [16, 8, 4, 2, 1]
    _controls(widget)["weight w"].value = 0.5
    assert line.get_ydata().tolist() == [0.0625, 0.125, 0.25, 0.5, 1]
    _controls(widget)["depth L"].value = 3
    assert line.get_xdata().tolist() == [1, 2, 3]


@pytest.mark.parametrize("depth", [1, explorer_module.MAX_DEPTH])
@pytest.mark.parametrize("weight", [explorer_module.WEIGHTS[0], explorer_module.WEIGHTS[-1]])
@pytest.mark.parametrize("precision", backprop.PRECISIONS)
def test_explorer_survives_every_extreme(depth, weight, precision):
    widget = explorer_module.explorer()
    controls = _controls(widget)
    controls["precision"].value = precision
    controls["weight w"].value = weight
    controls["depth L"].value = depth
    ax = widget.result.axes[0]
    note = [t.get_text().strip() for t in ax.texts if t.get_text().strip()]
    chain = backprop.scalar_chain(depth, weight, precision=precision)
    expected = backprop.nonfinite_report(chain)
    assert note == (["\n".join(expected)] if expected else [])
    if depth == explorer_module.MAX_DEPTH and precision == "float32":
        assert expected  # 10**99 and 0.01**99 leave float32's range
    low, high = ax.get_ylim()
    assert 0 < low < high < np.inf


def test_chart_has_the_explorers_controls_and_no_table():
    spec = charts.spec(explorer_module.chart(depth=40, weight=0.5, precision="float64"))
    params = {param["name"]: param for param in spec["params"] if "bind" in param}
    assert {name: param["value"] for name, param in params.items()} == {
        "L": 40, "w": 0.5, "precision": "float64"}
    assert params["w"]["bind"]["options"] == list(explorer_module.WEIGHTS)
    assert params["L"]["bind"]["max"] == explorer_module.MAX_DEPTH
    assert "datasets" not in spec  # closed forms over a sequence of layers
    with pytest.raises(ValueError, match="weight w: 0.3 is not on the chart's grid"):
        explorer_module.chart(weight=0.3)
