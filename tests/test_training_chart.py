"""The training explorer's kernel-free chart: controls, grid, the table's values, notes, size."""

import json

import numpy as np
import pytest

from gradlab import charts
from gradlab.experiments import regression
from gradlab.widgets import training


@pytest.fixture(scope="module")
def table():
    return training.chart_table()


@pytest.fixture(scope="module")
def spec(table):
    return charts.spec(training.chart(table=table))


def rows(table):
    return [dict(zip(table, values)) for values in zip(*table.values())]


def row(table, lr, c=None):
    """The unclipped run at ``lr`` (``c`` None) or the clipped one at ``c``."""
    found = [r for r in rows(table) if r["lr"] == lr
             and (r["clipped"] == 0 if c is None else (r["clipped"] == 1 and r["c"] == c))]
    assert len(found) == 1
    return found[0]


def values(packed):
    return np.array([float(v) for v in packed.split()]) if packed else np.zeros(0)


def test_both_controls_are_labelled_sliders_over_the_grid(spec):
    params = {p["name"]: p for p in spec["params"]}
    assert set(params) == {"lr", "c"}
    for name, grid in (("lr", training.CHART_LRS), ("c", training.CHART_THRESHOLDS)):
        bind = params[name]["bind"]
        assert bind["input"] == "range" and bind["name"].strip()
        steps = np.arange(bind["min"], bind["max"] + bind["step"] / 2, bind["step"])
        np.testing.assert_allclose(steps, grid)
        assert params[name]["value"] in grid
    assert spec["name"] == "training_clipping" and "learning rate" in spec["description"]


def test_the_table_covers_every_setting_once(table):
    keys = [(r["lr"], r["c"], r["clipped"]) for r in rows(table)]
    assert len(keys) == len(set(keys))
    clipped = {(lr, c) for lr, c, k in keys if k}
    assert clipped == {(lr, c) for lr in training.CHART_LRS for c in training.CHART_THRESHOLDS}
    assert sorted(lr for lr, _, k in keys if not k) == sorted(training.CHART_LRS)


@pytest.mark.parametrize("lr, c", [(-3.0, 0.0), (-2.0, 0.0), (-1.0, 2.0), (0.0, -2.0)])
def test_the_table_holds_compare_clippings_runs_at_its_rounding(table, lr, c):
    runs = regression.compare_clipping(regression.load(), 10.0 ** lr, 10.0 ** c,
                                       epochs=training.CHART_EPOCHS)
    for stored, curve, diverged in ((row(table, lr), runs.test_curve[0, 0],
                                     runs.diverged_epoch[0, 0]),
                                    (row(table, lr, c), runs.test_curve[1, 0],
                                     runs.diverged_epoch[1, 0])):
        kept = values(stored["mse"])
        finite = curve[np.isfinite(curve)]
        expected = finite[:training.STABLE_EPOCHS] if stored["chaotic"] else finite
        np.testing.assert_array_equal(
            kept, np.round(np.log10(expected), training.DECIMALS))
        assert stored["diverged"] == max(diverged, 0)


def test_a_diverged_run_gets_its_epoch_and_a_cross(spec, table):
    unclipped = row(table, -2.0)  # lr 0.01 without clipping: NaN in the first epoch
    assert unclipped["diverged"] == 1 and unclipped["mse"] == ""
    late = [r for r in rows(table) if r["diverged"] > 1]
    assert late, "some run diverges after its first epoch"
    assert all(values(r["mse"]).size == r["diverged"] - 1 for r in late)
    text = json.dumps(spec)
    assert "diverged at epoch " in text and "datum.epoch == datum.diverged - 1" in text


def test_a_note_says_where_a_run_diverged_left_the_chart_or_is_chaotic():
    curve = np.array([10.0, 1e20, np.nan, np.nan])
    diverged = training.chart_row(curve, curve, 3)
    assert diverged == {"mse": "1.0 20.0", "diverged": 3, "chaotic": 0, "peak": 20}
    calm = np.full(12, 100.0)
    chaotic = training.chart_row(calm, calm * (1 + 1e-3), -1)
    assert chaotic["chaotic"] == 1 and values(chaotic["mse"]).size == training.STABLE_EPOCHS
    assert training.chart_row(calm, calm * (1 + 1e-12), -1)["chaotic"] == 0


def test_the_y_axis_is_fixed_and_the_series_differ_in_colour_dash_and_marker(spec):
    text = json.dumps(spec)
    assert '"domain": [0, 14]' in text and '"nice": false' in text
    curves = spec["layer"][0]
    for channel in ("color",):
        assert curves["encoding"][channel]["scale"]["domain"] == list(training.SERIES)
    marks = {layer["mark"]["type"]: layer["encoding"] for layer in curves["layer"][:2]}
    assert marks["line"]["strokeDash"]["scale"]["range"] == charts.DASHES[:2]
    assert marks["point"]["shape"]["scale"]["range"] == charts.SHAPES[:2]


def test_the_chart_stays_small(spec):
    assert len(json.dumps(spec)) < 20_000


def test_a_setting_off_the_grid_is_refused():
    with pytest.raises(ValueError, match="grid"):
        training.chart(lr=-2.25)
