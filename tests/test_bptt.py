"""Chapter 3: gradients across time, the counterexamples, truncation, plots and the explorer."""

import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from gradlab import charts, gradcheck, rnn
from gradlab.experiments import bptt
from gradlab.plots import bptt as bptt_plots
from gradlab.widgets import bptt as bptt_widgets


def rng(seed=0):
    return np.random.default_rng(seed)


# --- recurrent matrices -------------------------------------------------------------------

def test_gaussian_recurrence_has_the_requested_radius_and_a_larger_singular_value():
    W = bptt.gaussian_recurrence(20, 0.9, rng())
    assert W.shape == (20, 20)
    assert rnn.spectral_radius(W) == pytest.approx(0.9)
    assert bptt.largest_singular_value(W) >= 0.9  # sigma_max >= rho for every matrix


def test_orthogonal_recurrence_has_every_singular_value_equal_to_the_scale():
    W = bptt.orthogonal_recurrence(12, 1.1, rng())
    np.testing.assert_allclose(W.T @ W, 1.21 * np.eye(12), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), 1.1, rtol=1e-12)


def test_largest_singular_value_of_a_diagonal_matrix():
    assert bptt.largest_singular_value(np.diag([3.0, -5.0])) == pytest.approx(5.0)


def test_power_growth_rates_run_from_sigma_max_towards_the_radius():
    W = np.array([[0.5, 4.0], [0.0, 0.5]])  # rho = 0.5, sigma_max > 4
    rates = bptt.power_growth_rates(W, [1, 10, 400])
    assert rates[0] == pytest.approx(bptt.largest_singular_value(W))
    assert rates[0] > rates[1] > rates[2] > 0.5
    assert rates[2] == pytest.approx(0.5, abs=0.02)
    np.testing.assert_allclose(bptt.power_growth_rates(np.diag([0.3, -2.0]), [1, 7]), 2.0)


def test_build_rnn_sets_the_weights():
    W = np.eye(3) * 0.5
    model = bptt.build_rnn(W, "tanh", 2.0)
    np.testing.assert_array_equal(model.W_rec.value, W)
    np.testing.assert_array_equal(model.W_in.value, 2.0 * np.eye(3))
    assert model.activation == "tanh"


# --- norms, slopes, failures -------------------------------------------------------------

def test_fitted_slope_recovers_a_geometric_rate_and_skips_bad_points():
    norms = 0.8 ** np.arange(50)[::-1].astype(float)
    assert bptt.fitted_slope(norms) == pytest.approx(np.log(0.8), rel=1e-12)
    norms[:5] = 0.0
    norms[5] = np.inf
    assert bptt.fitted_slope(norms, fit_from=0) == pytest.approx(np.log(0.8), rel=1e-12)
    assert np.isnan(bptt.fitted_slope(np.ones(5), fit_from=10))


def test_numerical_failure_reports_the_first_failure_going_back_in_time():
    assert bptt.numerical_failure([0.1, 1.0, 1.0]) is None
    assert bptt.numerical_failure([np.inf, np.inf, 1e300, 1.0]) == \
        "gradient overflowed to inf at step k = 2"
    assert bptt.numerical_failure([0.0, 1e-320, 1.0]) == "gradient underflowed to 0 at step k = 1"
    assert bptt.numerical_failure([np.nan, np.inf, 1.0]) == \
        "gradient overflowed to inf at step k = 2"
    assert bptt.numerical_failure([1.0, np.nan, 1.0]) == "gradient became NaN at step k = 2"


# --- gradient through time ----------------------------------------------------------------

@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_orthogonal_linear_regime_gives_exact_powers(activation):
    # Identity activation, or tanh with no input (the state stays 0, tanh'(0) = 1):
    # every Jacobian is s times an orthogonal matrix, so ||dL/dh_k|| = s^(T-k) exactly.
    W = bptt.orthogonal_recurrence(8, 1.1, rng())
    trace = bptt.gradient_through_time(W, activation, steps=30, drive=0.0)
    np.testing.assert_allclose(trace.norms, 1.1 ** np.arange(30)[::-1], rtol=1e-12)
    assert trace.slope == pytest.approx(np.log(1.1), rel=1e-10)
    np.testing.assert_array_equal(trace.steps, np.arange(1, 31))


@pytest.mark.parametrize("activation", ["identity", "tanh"])
@pytest.mark.parametrize("radius", [0.5, 1.3])
def test_norms_never_exceed_the_jacobian_product_bound(activation, radius):
    W = bptt.gaussian_recurrence(16, radius, rng(3))
    trace = bptt.gradient_through_time(W, activation, steps=40, drive=1.0, seed=4)
    bound = trace.sigma_max ** np.arange(40)[::-1].astype(float)  # gamma = 1 for both
    assert trace.norms[-1] == pytest.approx(1.0)
    assert np.all(trace.norms <= bound * (1 + 1e-12))


def test_identity_slopes_match_log_radius_and_tanh_is_never_steeper():
    sweep = bptt.spectral_radius_sweep(radii=(0.5, 1.0, 1.5), n_hidden=16, steps=120)
    assert set(sweep) == {(a, r) for a in ("identity", "tanh") for r in (0.5, 1.0, 1.5)}
    for radius in (0.5, 1.0, 1.5):
        identity, tanh = sweep["identity", radius], sweep["tanh", radius]
        assert identity.slope == pytest.approx(np.log(radius), abs=0.01)
        assert identity.radius == pytest.approx(radius)
        assert tanh.slope < identity.slope


def test_singular_value_counterexample_shrinks_although_sigma_max_exceeds_one():
    trace = bptt.singular_value_counterexample()
    assert trace.sigma_max > 1 > trace.radius
    assert trace.slope == pytest.approx(np.log(0.9), abs=0.01)


def test_saturation_counterexample_input_drive_only_lowers_the_rate():
    undriven = bptt.saturation_counterexample(0.0, n_hidden=16)
    driven = bptt.saturation_counterexample(0.5, n_hidden=16)
    assert undriven.sigma_max == pytest.approx(1.1) == driven.sigma_max
    assert undriven.slope == pytest.approx(np.log(1.1), rel=1e-10)
    assert driven.slope < undriven.slope
    assert np.all(driven.norms <= undriven.norms * (1 + 1e-12))


# --- sum of products and truncation -------------------------------------------------------

def small_task(radius=0.9, steps=12, activation="tanh"):
    W = bptt.gaussian_recurrence(5, radius, rng(2))
    return bptt.recall_task(W, activation, steps=steps, delay=3, seed=1)


def test_recall_task_gradient_matches_finite_differences():
    task = small_task()
    hs = task.model.forward(task.x)

    def loss_of_states():
        return float(0.5 * np.mean((hs[:, 0] @ task.readout - task.target) ** 2))

    numeric = gradcheck.numerical_gradient(loss_of_states, hs)
    assert gradcheck.relative_error(task.grad_h, numeric) < 1e-8
    # and the package's BPTT gradient of the whole loss against finite differences
    task.model.forward(task.x)
    analytic = bptt.parameter_gradient(task.model, task.grad_h)
    numeric = np.concatenate([gradcheck.numerical_gradient(task.loss, p.value).ravel()
                              for p in task.model.parameters()])
    assert gradcheck.relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_sum_of_products_equals_full_and_truncated_bptt(activation):
    task = small_task(activation=activation)
    terms = bptt.gradient_terms_by_distance(task.model, task.x, task.grad_h)
    assert terms.shape == (12, 5, 5)
    for window in (None, 1, 2, 5, 12):
        task.model.forward(task.x)
        task.model.zero_grad()
        task.model.backward(task.grad_h, truncate=window)
        kept = terms.sum(axis=0) if window is None else terms[:window].sum(axis=0)
        np.testing.assert_allclose(task.model.W_rec.grad, kept, rtol=1e-10, atol=1e-14)


def test_compare_truncation_is_exact_at_full_length_and_shares_sum_to_one():
    task = small_task(radius=1.2)
    comparison = bptt.compare_truncation(task, [1, 3, 12, 20])
    np.testing.assert_array_equal(comparison.windows, [1, 3, 12, 20])
    np.testing.assert_allclose(comparison.cosine[2:], 1.0, rtol=1e-12)
    np.testing.assert_allclose(comparison.norm_ratio[2:], 1.0, rtol=1e-12)
    assert np.all(comparison.cosine[:2] < 1.0)
    assert comparison.distance_share.shape == (12,)
    assert comparison.distance_share.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="window"):
        bptt.compare_truncation(task, [0])


def test_bad_arguments_are_named():
    W = np.eye(3)
    with pytest.raises(ValueError, match="steps"):
        bptt.gradient_through_time(W, steps=0)
    with pytest.raises(ValueError, match="drive"):
        bptt.gradient_through_time(W, drive=-1.0)


# --- figures ------------------------------------------------------------------------------

def test_unrolled_diagram_has_three_nodes_per_step_and_h0():
    fig = bptt_plots.plot_unrolled(steps=3)
    labels = [text.get_text() for text in fig.axes[0].texts]
    assert {"$h_0$", "$x_3$", "$h_3$", r"$\mathcal{L}_3$", "$J_3$"} <= set(labels)
    assert "$h_4$" not in labels


def test_static_figures_draw_one_curve_per_setting():
    sweep = bptt.spectral_radius_sweep(radii=(0.5, 1.5), n_hidden=8, steps=20)
    fig = bptt_plots.plot_sweep(sweep)
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    traces = [bptt.saturation_counterexample(d, n_hidden=8, steps=20) for d in (0.5, 0.0)]
    fig = bptt_plots.plot_counterexamples(bptt.singular_value_counterexample(8, steps=20), *traces)
    assert [len(ax.lines) for ax in fig.axes] == [3, 3]
    comparisons = {r: bptt.compare_truncation(small_task(r), [1, 2, 12]) for r in (0.5, 1.5)}
    fig = bptt_plots.plot_truncation(comparisons)
    assert [len(ax.lines) for ax in fig.axes] == [2, 2, 2]
    fig.canvas.draw()


def test_curves_are_drawn_from_values_that_last_bit_differences_do_not_change():
    values = np.array([1.5099791944346372, 4.802008657656437e-09, -0.1177661206464485, 0.0,
                       np.inf, np.nan])
    nudged = values * (1 + 4e-16)
    drawn = bptt_plots._drawn(values)
    np.testing.assert_array_equal(drawn, bptt_plots._drawn(nudged))
    np.testing.assert_allclose(drawn[:3], values[:3], rtol=1e-9)
    assert drawn[3] == 0 and drawn[4] == np.inf and np.isnan(drawn[5])


def test_truncation_figure_marks_the_delay_on_every_curve():
    comparisons = {r: bptt.compare_truncation(small_task(r), [1, 2, 12]) for r in (0.5, 1.5)}
    share_ax = bptt_plots.plot_truncation(comparisons, delay=3).axes[2]
    marks = [line for line in share_ax.lines if list(line.get_xdata()) == [3]]
    assert [mark.get_ydata()[0] for mark in marks] == pytest.approx(
        [c.distance_share[3] for c in comparisons.values()], rel=1e-9)
    assert len(share_ax.patches) == 1 and any("3" in t.get_text() for t in share_ax.texts)


def test_chapter_figures_keep_their_text_readable_when_scaled_to_the_page():
    sweep = bptt.spectral_radius_sweep(radii=(0.5, 1.5), n_hidden=8, steps=20)
    traces = [bptt.saturation_counterexample(d, n_hidden=8, steps=20) for d in (0.5, 0.0)]
    comparisons = {r: bptt.compare_truncation(small_task(r), [1, 2, 12]) for r in (0.5, 1.5)}
    for fig in (bptt_plots.plot_sweep(sweep),
                bptt_plots.plot_counterexamples(bptt.singular_value_counterexample(8, steps=20),
                                                *traces),
                bptt_plots.plot_truncation(comparisons, delay=3)):
        assert fig.get_figwidth() <= bptt_plots.WIDTH
        sizes = [t.get_fontsize() for ax in fig.axes if ax.get_legend()
                 for t in ax.get_legend().get_texts()]
        assert sizes and min(sizes) >= bptt_plots.LEGEND_SIZE >= 9


def test_view_update_changes_the_curve_and_shows_the_note():
    view = bptt_plots.GradientTimeView()
    view.update(*bptt_widgets.explorer_trace(50, 0.5, "identity"))
    first = view.line.get_ydata().copy()
    assert not view.note.get_visible()
    view.update(*bptt_widgets.explorer_trace(50, 1.5, "identity"))
    assert not np.allclose(first, view.line.get_ydata())
    view.update(bptt.GradientTrace(np.array([np.inf, 1.0]), np.nan, "identity", 2.0, 2.0, 0.0),
                "gradient overflowed to inf at step k = 1")
    assert view.note.get_visible() and "inf" in view.note.get_text()
    view.fig.canvas.draw()


# --- the explorer -------------------------------------------------------------------------

def test_explorer_redraws_when_a_slider_moves():
    w = bptt_widgets.explorer()
    steps, radius, activation, drive = w.children[:4]
    before = w.result.axes[0].lines[0].get_ydata().copy()
    radius.value = 0.5
    assert w.kwargs["radius"] == 0.5
    after = w.result.axes[0].lines[0].get_ydata()
    assert not np.allclose(before, after)
    steps.value = 30
    assert len(w.result.axes[0].lines[0].get_xdata()) == 30
    before = w.result.axes[0].lines[0].get_ydata().copy()
    activation.value = "identity"
    assert not np.allclose(before, w.result.axes[0].lines[0].get_ydata())
    before = w.result.axes[0].lines[0].get_ydata().copy()
    drive.value = 2.0
    assert w.kwargs["drive"] == 2.0
    assert before.shape == w.result.axes[0].lines[0].get_ydata().shape


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_explorer_survives_every_extreme_and_annotates_failures():
    w = bptt_widgets.explorer()
    steps, radius, activation, drive = w.children[:4]
    messages = {}
    for T in (steps.min, steps.max):
        for r in (radius.min, radius.max):
            for a in activation.options:
                for d in (drive.min, drive.max):
                    steps.value, radius.value, activation.value, drive.value = T, r, a, d
                    w.result.canvas.draw()
                    note = w.result.axes[0].texts[0]
                    messages[T, r, a, d] = note.get_text() if note.get_visible() else None
    assert "overflowed to inf" in messages[steps.max, radius.max, "identity", drive.max]
    assert "underflowed to 0" in messages[steps.max, radius.min, "identity", drive.min]
    assert messages[steps.min, radius.max, "identity", drive.min] is None


def test_explorer_trace_is_the_sweep_matrix_rescaled():
    trace, message = bptt_widgets.explorer_trace(40, 0.9, "identity")
    assert trace.radius == pytest.approx(0.9) and message is None
    assert len(trace.norms) == 40


def test_chart_table_covers_the_grid_once_and_matches_the_explorer():
    rows = bptt_widgets.chart_table()
    states = list(zip(rows["T"], rows["rho"], rows["activation"], rows["drive"]))
    grid = len(bptt_widgets.CHART_STEPS) * len(bptt_widgets.CHART_RADII)
    assert len(states) == len(set(states)) == grid * (len(bptt_widgets.CHART_DRIVES) + 1)
    trace, _ = bptt_widgets.explorer_trace(100, 1.1, "tanh", 0.5)
    kept = bptt_widgets.chart_steps(100)
    assert kept[0] == 1 and kept[-1] == 100 and len(kept) == bptt_widgets.POINTS
    stored = np.array(rows["log_norm"][states.index((100, 1.1, "tanh", 0.5))].split(), float)
    assert np.allclose(stored, np.log10(trace.norms[kept - 1]), atol=0.005)


def test_chart_has_the_explorers_controls_on_its_grid():
    spec = charts.spec(bptt_widgets.chart(steps=50, radius=0.5, activation="identity", drive=1.0))
    params = {param["name"]: param["value"] for param in spec["params"] if "bind" in param}
    assert params == {"T": 50, "rho": 0.5, "activation": "identity", "drive": 1.0}
    assert len(spec["datasets"]) == 2  # the runs and the kept time steps, each stored once
    with pytest.raises(ValueError, match="grid"):
        bptt_widgets.chart(steps=1000)
