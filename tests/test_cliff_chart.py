"""The cliff explorer's kernel-free chart: its controls, its table over the grid, its size."""

import base64
import io
import json

import nbformat
import numpy as np
import pytest
from PIL import Image

from gradlab import charts
from gradlab.cliff import Trajectory
from gradlab.experiments import cliff_runs as R
from gradlab.report import significant
from gradlab.widgets import cliff as W


@pytest.fixture(scope="module")
def spec():
    return charts.spec(W.chart(start=(4.0, -4.0), lr=0.5, threshold=1.0))


@pytest.fixture(scope="module")
def table():
    return W.chart_table()


def _unpacked(text):
    """What the chart's Vega transforms make of a packed coordinate: running sums, in units."""
    return np.cumsum([int(v) for v in text.split()]) * W.UNIT


def _rows(table):
    return {key: i for i, key in enumerate(zip(table["start"], table["lr"], table["threshold"],
                                               table["series"]))}


def test_the_controls_are_named_labelled_and_hold_the_grids(spec):
    params = {p["name"]: p for p in charts._params(spec)}
    assert set(params) == {"lr", "threshold", "start"}
    assert params["lr"]["bind"]["options"] == list(W.CHART_LRS)
    assert params["threshold"]["bind"]["options"] == ["0.3", "1", "3", "10", "100", "no clipping"]
    assert params["start"]["bind"]["labels"] == ["(4, −4)", "(−2, 1)"]
    assert (params["lr"]["value"], params["threshold"]["value"], params["start"]["value"]) == (
        0.5, "1", "4 -4")
    assert all(p["bind"]["name"].strip() for p in params.values())
    assert spec["name"] == "cliff_descent" and "learning rate" in spec["description"]


def test_the_learning_rates_and_thresholds_are_log_spaced():
    for grid in (W.CHART_LRS, [c for c in W.CHART_THRESHOLDS if c is not None]):
        decades = np.diff(np.log10(grid))
        assert decades.min() > 0.25 and decades.max() <= 1.0
    assert np.allclose(np.diff(np.log2(W.CHART_LRS)), 1.0)  # doubling
    assert W.CHART_THRESHOLDS[-1] is None


def test_a_point_off_the_grid_is_refused():
    with pytest.raises(ValueError, match="grid"):
        W.chart(lr=0.3)
    with pytest.raises(ValueError, match="grid"):
        W.chart(start=(1.0, 1.0))


def test_the_table_covers_the_grid(table):
    rows = _rows(table)
    assert len(rows) == len(table["start"])  # no path twice
    clipped = [c for c in W.CHART_THRESHOLDS if c is not None]
    for start in W.CHART_STARTS:
        for lr in W.CHART_LRS:
            plain = rows.pop((W._key(start), lr, "no clipping", "no clipping"))
            same = table["unclipped_at"][plain].split()
            for c in clipped:
                present = (W._key(start), lr, W._threshold_key(c), "clipped") in rows
                assert present != (W._threshold_key(c) in same)  # a path, or "the same"
                rows.pop((W._key(start), lr, W._threshold_key(c), "clipped"), None)
    assert rows == {}


def test_the_paths_are_compares_at_the_rounding(table):
    rows = _rows(table)
    checked = 0
    for start in W.CHART_STARTS:
        for lr in W.CHART_LRS:
            for threshold in [c for c in W.CHART_THRESHOLDS if c is not None]:
                comparison = R.compare(start, lr, W.N_STEPS, threshold)
                paths = [("no clipping", comparison.plain, "no clipping", 0)]
                if comparison.first_difference is not None:
                    paths.append(("clipped", comparison.clipped, f"{threshold:g}",
                                  comparison.first_difference - 1))
                for series, run, key, first in paths:
                    i = rows[(W._key(start), lr, key, series)]
                    assert table["from"][i] == first
                    end = R.first_non_finite(run) or len(run.loss)
                    assert table["final"][i] == significant(float(run.loss[end - 1]), 2)
                    w, b = _unpacked(table["w"][i]), _unpacked(table["b"][i])
                    n = len(w)
                    for column, values in enumerate((w, b)):
                        np.testing.assert_allclose(values, run.params[first:first + n, column],
                                                   rtol=0, atol=W.UNIT / 2 + 1e-9)
                    # the points dropped at the end are where the path had stopped
                    rest = run.params[first + n:end]
                    assert np.all(np.abs(rest - [w[-1], b[-1]]) <= W.UNIT / 2 + 1e-9)
                    checked += 1
    assert checked >= len(W.CHART_STARTS) * len(W.CHART_LRS) * 4


def test_compare_thresholds_equals_compare_one_at_a_time():
    together = R.compare_thresholds((5.2, -3.1), 1.0, [0.3, 3.0], n_steps=60)
    for threshold, comparison in zip((0.3, 3.0), together):
        alone = R.compare((5.2, -3.1), 1.0, 60, threshold)
        assert comparison.threshold == threshold
        np.testing.assert_array_equal(comparison.plain.params, alone.plain.params)
        np.testing.assert_array_equal(comparison.clipped.params, alone.clipped.params)


def test_a_run_that_leaves_the_map_gets_a_note():
    run = R.compare((5.2, -3.1), 1.0).plain
    assert R.first_outside(run, *W.MAP) == 4 and R.first_non_finite(run) is None
    assert W._note(run).startswith("left the map at step 4|to w = ")
    assert W._note(R.compare((-2.0, 1.0), 0.5).plain) == ""  # a smooth descent: no note
    params = np.array([[0.0, 0.0], [np.inf, 0.0]])
    assert W._note(Trajectory(params, np.array([1.0, np.nan]), np.ones(2))) == (
        "overflowed (non-finite) at step 1")


def test_first_outside_and_first_non_finite_find_the_step():
    params = np.array([[0.0, 0.0], [5.0, 5.0], [10.4, 0.0], [11.5, 0.0], [np.nan, 0.0]])
    run = Trajectory(params, np.array([1.0, 1.0, 1.0, np.inf, np.nan]), np.ones(5))
    assert R.first_outside(run, (-10, 10), (-10, 10)) == 3  # 10.4 is within 5 % of 20
    assert R.first_outside(run, (-10, 10), (-10, 10), margin=0.0) == 2
    assert R.first_non_finite(run) == 3
    assert R.first_non_finite(Trajectory(params[:3], np.ones(3), np.ones(3))) is None


def test_a_path_that_stops_moving_is_cut_there():
    params = np.array([[1.0, 2.0], [1.01, 2.0], [1.02, 1.99], [1.02, 1.99], [1.02, 1.99]])
    w, b = W.packed_path(params)
    assert w == "200 2 2" and b == "400 0 -2"
    assert W.packed_path(np.zeros((3, 2))) == ("0", "0")


def test_the_maps_are_banded_images_of_their_windows():
    windows = W.zoom_windows()
    maps = W.map_images(windows)
    assert maps["map"] == ["all", *windows]
    for i, name in enumerate(maps["map"]):
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(maps["png"][i]))))
        n = W.MAP_CELLS if name == "all" else W.ZOOM_CELLS
        assert image.shape == (n, n, 3)
        assert len(np.unique(image.reshape(-1, 3), axis=0)) <= 4 / W.BAND  # banded colours
        (w_low, w_high), (b_low, b_high) = W.MAP if name == "all" else windows[name]
        assert maps["w_low"][i] < w_low < w_high < maps["w_high"][i]  # half a cell beyond
        assert maps["b_low"][i] < b_low < b_high < maps["b_high"][i]


def test_every_start_s_zoom_window_holds_its_start():
    for start in W.CHART_STARTS:
        (w_low, w_high), (b_low, b_high) = W.zoom_windows()[W._key(start)]
        assert w_low < start[0] < w_high and b_low < start[1] < b_high


def test_the_spec_is_small_and_stable(spec):
    """Its bytes as the committed notebook stores them (nbformat's indented JSON)."""
    cell = nbformat.v4.new_code_cell("")
    empty = len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])))
    cell.outputs = [nbformat.v4.new_output("display_data", data={charts.VEGALITE_MIME: spec})]
    assert len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))) - empty < 32_000
    assert json.dumps(charts.spec(W.chart())) == json.dumps(spec)  # the same on every run
