"""The training explorer and chapter 4's training plots."""

import itertools
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gradlab.experiments import regression  # noqa: E402
from gradlab.plots import training as plots  # noqa: E402
from gradlab.widgets import training as explorer  # noqa: E402


@pytest.fixture(scope="module")
def widget():
    w = explorer.explorer(epochs=5)
    yield w
    plt.close(w.result)


def lines(w):
    return [line.get_ydata().copy() for line in w.result.axes[0].lines[:2]]


def test_learning_rate_slider_redraws(widget):
    widget.children[0].value = 1e-3
    before = lines(widget)
    widget.children[0].value = 1e-2
    after = lines(widget)
    assert widget.kwargs["lr"] == pytest.approx(1e-2)
    assert not np.allclose(before[1], after[1], equal_nan=True)


def test_threshold_slider_redraws_the_clipped_curve(widget):
    widget.children[0].value = 1e-2
    widget.children[1].value = 0.1
    before = lines(widget)
    widget.children[1].value = 10.0
    after = lines(widget)
    assert not np.allclose(before[1], after[1])


def test_divergence_is_annotated_not_raised(widget):
    widget.children[0].value = 1e-2
    widget.children[1].value = 1.0
    text = widget.result.axes[0].texts[0]
    assert text.get_visible()
    assert "no clipping: diverged at epoch 1, step" in text.get_text()
    clipped = lines(widget)[1]
    assert np.all(np.isfinite(clipped))


@pytest.mark.parametrize("lr_end, threshold_end", list(itertools.product((0, 1), repeat=2)))
def test_slider_extremes(widget, lr_end, threshold_end):
    lr_slider, threshold_slider = widget.children[:2]
    lr_slider.value = 10 ** (lr_slider.min if lr_end == 0 else lr_slider.max)
    threshold_slider.value = 10 ** (threshold_slider.min if threshold_end == 0
                                    else threshold_slider.max)
    ax = widget.result.axes[0]
    low, high = ax.get_ylim()
    assert np.isfinite(low) and np.isfinite(high) and 0 < low < high
    drawn = [y[np.isfinite(y)] for y in lines(widget)]
    assert sum(d.size for d in drawn) > 0, "empty plot"
    text = ax.texts[0]
    if np.isnan(lines(widget)[0]).any():
        assert text.get_visible() and "diverged at epoch" in text.get_text()


def test_update_changes_the_figure():
    ex = explorer.TrainingExplorer(epochs=4)
    ex.update(1e-3)
    first = ex.artists["lines"][1].get_ydata().copy()
    ex.update(1e-1)
    assert not np.allclose(first, ex.artists["lines"][1].get_ydata())
    plt.close(ex.fig)


def test_markdown_table_formats_and_nan():
    table = plots.markdown_table([{"a": 1.23456, "b": float("nan")}], ["a", "b"], {"a": "{:.2f}"})
    assert table.data.splitlines() == ["| a | b |", "|---|---|", "| 1.23 | NaN |"]


def test_curves_mark_where_a_run_stopped():
    fig, ax = plt.subplots()
    plots.curves(ax, {"stops": np.array([1.0, 2.0, np.nan, np.nan]), "runs": np.ones(4)},
                 "step", "loss")
    marker_lines = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(marker_lines) == 1
    assert list(marker_lines[0].get_xdata()) == [2] and list(marker_lines[0].get_ydata()) == [2.0]
    plt.close(fig)


def test_threshold_sweep_draws_median_per_mode():
    fig = plots.threshold_sweep([0.1, 1.0], {"norm": np.array([[1.0, 3.0], [2.0, 2.0]])})
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), [2.0, 2.0])
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_running_mean_by_hand():
    np.testing.assert_allclose(plots.running_mean([1.0, 2.0, 3.0, 6.0], 2), [1.5, 2.5, 4.5])
    out = plots.running_mean([1.0, np.nan, 3.0, 4.0], 2)
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 3.5


def test_curves_near_overflow_with_fixed_limits_do_not_warn():
    fig, ax = plt.subplots()
    huge = np.array([1.0, 1e100, 1e298, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.curves(ax, {"blow-up": huge}, "step", "loss", smooth=2, ylim=(1e-2, 10))
        fig.canvas.draw()
    assert ax.get_ylim() == pytest.approx((1e-2, 10))
    plt.close(fig)


def test_seed_strip_counts_diverged_runs_and_marks_the_median():
    fig, ax = plt.subplots()
    plots.seed_strip(ax, {"a": np.array([1.0, 2.0, 10.0, np.nan]), "b": np.ones(3)}, "MSE",
                     reference={"a": 5.0})
    assert [t.get_text() for t in ax.texts] == ["1 diverged "]
    medians = [line for line in ax.lines if line.get_marker() == "|"]
    assert [m.get_xdata()[0] for m in medians] == [2.0, 1.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert any(line.get_marker() == "*" for line in ax.lines)
    plt.close(fig)


def test_shares_draw_the_wilson_interval():
    from gradlab import stats

    fig, ax = plt.subplots()
    share = stats.share(np.array([True, False, False, False]))
    plots.shares(ax, {"clipped": share}, "converged (%)")
    (low, high), = [seg[:, 0] for seg in ax.collections[0].get_segments()]
    assert (low, high) == pytest.approx((100 * share.low, 100 * share.high))
    assert ax.texts[0].get_text() == "1 of 4"
    plt.close(fig)


def test_parameter_gradients_draw_exact_zeros_at_the_floor():
    fig, ax = plt.subplots()
    norms = np.array([[1.0, 2.0], [0.0, 4.0]])
    plots.parameter_gradients(ax, norms, ["W", "b"], floor=1e-8)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 1e-8])
    plt.close(fig)


def test_decision_boundary_draws_bands_of_a_tenth():
    xs = np.linspace(-1.0, 1.0, 5)
    p = np.tile(np.linspace(0.0, 1.0, 5), (5, 1))
    fig, image = plots.decision_boundary(xs, xs, p, np.zeros((2, 2)), np.array([0.0, 1.0]))
    np.testing.assert_allclose(image.levels, np.linspace(0.0, 1.0, 11))
    plt.close(fig)


def test_explorer_keeps_its_y_axis_across_frames():
    ex = explorer.TrainingExplorer(epochs=3)
    limits = []
    for lr in (1e-4, 3e-3, 1.0):
        ex.update(lr, threshold=1e3)
        limits.append(ex.artists["ax"].get_ylim())
    assert limits[0] == limits[1] == limits[2] == pytest.approx(plots.EXPLORER_YLIM)
    plt.close(ex.fig)


def test_explorer_says_when_a_run_leaves_the_chart():
    ex = explorer.TrainingExplorer(epochs=3)
    ex.update(1.0, threshold=1e3)  # clipped at 1000, lr 1: test MSE above 1e11
    ex.update(3e-3, threshold=1.0)  # unclipped: test MSE near 1e110 before the NaN
    assert "off the chart" in ex.artists["note"].get_text()
    plt.close(ex.fig)


def test_a_learning_rate_move_trains_every_stop_once_and_matches_compare_clipping():
    ex = explorer.TrainingExplorer(epochs=3)
    ex.update(0.01)
    assert ex.row[1] == {}  # the first draw trains its two runs alone
    ex.update(explorer.LR_STOPS[5])
    assert sorted(ex.row[1]) == sorted(explorer.LR_STOPS)
    for lr in (explorer.LR_STOPS[0], explorer.LR_STOPS[-1]):
        got = ex.row[1][lr]
        expected = regression.compare_clipping(ex.dataset, lr, 1.0, epochs=3)
        np.testing.assert_array_equal(got.test_curve, expected.test_curve)
        np.testing.assert_array_equal(got.diverged_epoch, expected.diverged_epoch)
    ex.update(explorer.LR_STOPS[5], threshold=10.0)  # a threshold move: the row is dropped
    assert ex.row == (10.0, {})
    plt.close(ex.fig)


def test_run_many_takes_one_learning_rate_per_setting():
    data = regression.load()
    both = regression.run_many(data, [{}, {"clipvalue": 1.0}], [0, 1], lr=[0.01, 0.001],
                               epochs=2)
    for row, (setting, lr) in enumerate([({}, 0.01), ({"clipvalue": 1.0}, 0.001)]):
        alone = regression.run_many(data, [setting], [0, 1], lr=lr, epochs=2)
        np.testing.assert_array_equal(regression.subset(both, [row]).test_curve,
                                      alone.test_curve)
