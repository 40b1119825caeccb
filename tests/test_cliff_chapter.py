"""Chapter 4's cliff experiments, their figures and the cliff explorer."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from gradlab import cliff, stats  # noqa: E402
from gradlab.experiments import cliff_runs as R  # noqa: E402
from gradlab.plots import cliff as plots  # noqa: E402
from gradlab.widgets import cliff as explorer  # noqa: E402


@pytest.fixture(scope="module")
def small_surface():
    return cliff.surface(n=41)


def test_grid_stats_by_hand(small_surface):
    stats = R.grid_stats(small_surface)
    assert stats.spacing == pytest.approx(0.5)
    assert stats.maximum == small_surface.grad_norm.max()
    assert np.mean(small_surface.grad_norm <= stats.median) >= 0.5


def test_wall_scan_is_centred_and_its_band_counted():
    scan = R.scan_wall(5.0, half_width=0.01, n=201)
    assert scan.offset[100] == pytest.approx(0.0, abs=1e-12)
    spacing = scan.offset[1] - scan.offset[0]
    assert scan.band_width(level=0.0) == pytest.approx(201 * spacing)
    assert scan.band_width(level=np.inf) == 0.0


@pytest.mark.parametrize("start, lr", [((4.0, -4.0), 0.5), ((5.2, -3.1), 1.0), ((-2.0, 1.0), 0.3)])
def test_trajectories_equal_cliff_descend(start, lr):
    plain, clipped = R.trajectories(start, lr, 60, [None, 1.0])
    np.testing.assert_array_equal(plain.params, cliff.descend(start, lr, 60).params)
    np.testing.assert_array_equal(clipped.params, cliff.descend(start, lr, 60, max_norm=1.0).params)


def test_clipped_steps_are_bounded_by_lr_times_threshold():
    (run,) = R.trajectories((5.2, -3.1), 1.0, 100, [0.3])
    assert run.step_lengths.max() <= 0.3 + 1e-12


def test_comparison_finds_the_jump():
    comparison = R.compare((4.0, -4.0), 0.5)
    first = comparison.first_difference
    np.testing.assert_array_equal(comparison.plain.params[:first],
                                  comparison.clipped.params[:first])
    assert comparison.jump_step == first - 1  # the first clipped step is the unclipped jump
    assert comparison.jump_length == comparison.plain.step_lengths.max() > 1.0


def test_identical_runs_have_no_first_difference():
    comparison = R.compare((0.0, 0.0), 0.1, n_steps=10, threshold=100.0)
    assert comparison.first_difference is None


def test_box_starts_grid():
    starts = R.box_starts((4.0, -4.0), 0.5, 3)
    assert starts.shape == (9, 2)
    np.testing.assert_allclose(starts.min(axis=0), [3.5, -4.5])
    np.testing.assert_allclose(starts.mean(axis=0), [4.0, -4.0])


def test_box_share_matches_single_runs():
    box = R.box_share((4.0, -4.0), 0.1, 0.5, n_steps=30, n_per_side=3)
    for start, final in zip(box.starts, box.clipped_loss):
        assert final == pytest.approx(cliff.descend(start, 0.5, 30, max_norm=1.0).loss[-1],
                                      rel=1e-9, abs=1e-15)
    assert box.plain_share == np.mean(box.plain_loss < R.LOW_LOSS)


def test_share_by_threshold_huge_threshold_equals_no_clipping():
    starts = R.box_starts((4.0, -4.0), 0.2, 5)
    box = R.box_share((4.0, -4.0), 0.2, 0.5, n_per_side=5)
    (huge,) = R.share_by_threshold(starts, 0.5, [1e12])
    assert huge == box.plain and huge.fraction == box.plain_share


def test_box_shares_carry_their_interval():
    box = R.box_share((4.0, -4.0), 0.25, 0.5, n_steps=60, n_per_side=9)
    assert box.clipped.n == 81 and box.clipped.k == np.sum(box.clipped_loss < R.LOW_LOSS)
    assert box.plain.low <= box.plain_share <= box.plain.high


def test_descent_from_many_starts_records_the_jump():
    runs = cliff.descend_many([[4.0, -4.0], [5.2, -3.1]], 0.5, 100, [None, 1.0])
    single = R.compare((4.0, -4.0), 0.5)
    assert runs.longest_at[0, 0] == single.jump_step
    assert runs.longest_step[0, 0] == pytest.approx(single.jump_length, rel=1e-9)
    assert runs.longest_step[1].max() <= 0.5 * (1 + 1e-12)  # clipped: at most lr * c


def test_nearby_starts_stay_within_the_radius():
    starts = R.nearby_starts((4.0, -4.0), n=50, radius=1e-9, seed=3)
    assert starts.shape == (50, 2)
    assert np.all(np.abs(starts - [4.0, -4.0]) <= 1e-9) and len(np.unique(starts[:, 0])) == 50
    np.testing.assert_array_equal(starts, R.nearby_starts((4.0, -4.0), 50, 1e-9, seed=3))


def _shares(fractions, n=100):
    return [stats.share(np.arange(n) < round(f * n)) for f in fractions]


def test_threshold_range_needs_consecutive_thresholds():
    thresholds = np.array([0.1, 0.3, 1.0, 3.0])
    assert R.threshold_range(thresholds, _shares([0.2, 0.9, 0.95, 0.5])) == (0.3, 1.0)
    with pytest.raises(ValueError, match="not consecutive"):
        R.threshold_range(thresholds, _shares([0.95, 0.5, 0.95, 0.5]))
    with pytest.raises(ValueError, match="no threshold"):
        R.threshold_range(thresholds, _shares([0.1, 0.2, 0.3, 0.4]))


def test_observed_norms_follow_unclipped_descent():
    norms = R.observed_norms([[4.0, -4.0]], 0.5, 20)
    np.testing.assert_allclose(norms[:, 0], cliff.descend((4.0, -4.0), 0.5, 20).grad_norm[:20])


def test_figures_draw(small_surface):
    plots.plot_surface_and_norm(small_surface)
    plots.plot_wall_scans([R.scan_wall(5.0, 0.01, 101)])
    fig = plots.plot_comparison(small_surface, R.compare((4.0, -4.0), 0.5))
    assert len(fig.axes[0].lines[1].get_xdata()) == 101
    box = R.box_share((4.0, -4.0), 0.1, 0.5, n_steps=10, n_per_side=3)
    assert len(plots.plot_box_share(box)) == 2
    ax = plots.plot_threshold_sweep([0.1, 1, 10], _shares([0.5, 0.9, 0.6]), _shares([0.6])[0],
                                    {"p90": 0.5})
    assert ax.get_xscale() == "log" and len(ax.collections) == 1  # the interval band


def test_zoom_window_holds_the_paths_before_the_jump():
    comparison = R.compare((4.0, -4.0), 0.5)
    (w_low, w_high), (b_low, b_high) = plots.zoom_window(comparison, pad=0.0, min_half=0.0)
    before = np.concatenate([comparison.clipped.params,
                             comparison.plain.params[:comparison.jump_step + 1]])
    assert w_low == pytest.approx(before[:, 0].min()) and b_high == pytest.approx(before[:, 1].max())
    assert comparison.plain.params[-1, 1] > b_high  # the jump lands outside the zoom
    (w_low, w_high), _ = plots.zoom_window(R.compare((0.0, 0.0), 0.01, n_steps=2))
    assert w_high - w_low == pytest.approx(0.5)  # a short path still gets a readable window


def test_the_zoom_panel_follows_the_comparison(small_surface):
    fig, view = plots.draw_cliff_view(small_surface)
    plots.update_cliff_view(view, R.compare((4.0, -4.0), 0.5))
    first = view.zoom_ax.get_xlim()
    plots.update_cliff_view(view, R.compare((-3.0, 2.0), 0.5))
    assert view.zoom_ax.get_xlim() != first and len(view.zoom_ax.lines) == 3  # wall + 2 paths
    x, y = view.zoom_box.get_xy()
    assert (x, x + view.zoom_box.get_width()) == pytest.approx(view.zoom_ax.get_xlim())


def test_leaving_the_map_is_annotated(small_surface):
    fig = plots.plot_comparison(small_surface, R.compare((5.2, -3.1), 1.0))
    message = fig.axes[0].texts[-1]
    assert message.get_visible() and "unclipped run left the map at step" in message.get_text()


def test_explorer_redraws_on_slider_change(small_surface):
    w = explorer.explorer(small_surface)
    path = w.result.axes[0].lines[1]
    before = path.get_xydata().copy()
    w.children[0].value = 1.0  # learning rate
    assert not np.allclose(before, path.get_xydata())
    w.children[2].value = -3.0  # start w
    assert path.get_xydata()[0, 0] == -3.0


def test_explorer_survives_every_extreme(small_surface):
    w = explorer.explorer(small_surface)
    lr, threshold, start_w, start_b = w.children[:4]
    extremes = [(lr, 10.0**lr.min, 10.0**lr.max),
                (threshold, 10.0**threshold.min, 10.0**threshold.max),
                (start_w, start_w.min, start_w.max), (start_b, start_b.min, start_b.max)]
    for slider, low, high in extremes + extremes[::-1]:  # every slider at both ends, in two orders
        for value in (low, high):
            slider.value = value
            w.result.canvas.draw()
    lr.value, threshold.value, start_w.value, start_b.value = 1.0, 100.0, 5.2, -3.1
    assert "left the map" in w.result.axes[0].texts[-1].get_text()


def assert_same_runs(got, expected):
    assert (got.lr, got.threshold) == pytest.approx((expected.lr, expected.threshold), rel=1e-12)
    for run in ("plain", "clipped"):
        for field in ("params", "loss", "grad_norm"):
            np.testing.assert_array_equal(getattr(getattr(got, run), field),
                                          getattr(getattr(expected, run), field))


def test_the_explorers_cache_gives_compares_runs_for_every_move():
    cache = explorer.RunCache(explorer.LR_EXPONENTS, explorer.THRESHOLD_EXPONENTS)
    start, lr = (4.0, -4.0), float(10.0 ** -0.3)
    moves = [(lr, 1.0), (lr, float(10.0 ** 0.05)), (lr, 0.3),           # threshold moves
             (float(10.0 ** -0.25), float(10.0 ** 0.05)), (0.9, float(10.0 ** 0.05)),  # lr moves
             (float(10.0 ** 0.5) * (1 + 4e-16), float(10.0 ** 0.05))]  # a browser's 10 ** x
    for lr, threshold in moves:
        got = cache.compare(start, lr, threshold)
        assert_same_runs(got, R.compare(start, got.lr, explorer.N_STEPS, threshold))
    assert len(cache.by_threshold[1]) == len(explorer.THRESHOLD_EXPONENTS)
    assert len(cache.by_lr[1]) == len(explorer.LR_EXPONENTS)  # one pass made every lr stop


def test_trajectories_take_a_learning_rate_per_column():
    runs = R.trajectories((4.0, -4.0), [0.5, 1.0], 20, [None, 1.0])
    for run, (lr, c) in zip(runs, [(0.5, None), (1.0, 1.0)]):
        np.testing.assert_array_equal(run.params, R.compare((4.0, -4.0), lr, 20, c or 1.0)
                                      .clipped.params if c else
                                      R.compare((4.0, -4.0), lr, 20, 1.0).plain.params)
    with pytest.raises(ValueError, match="2 learning rates for 3 thresholds"):
        R.trajectories((4.0, -4.0), [0.5, 1.0], 20, [None, 1.0, 2.0])
