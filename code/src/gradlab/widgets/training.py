"""Explorer: training the regression MLP with and without clipping.

Two sliders, learning rate and global-norm threshold (both on log scales), drive
``experiments.regression.compare_clipping``; the figure shows the test MSE per
epoch of the unclipped and the clipped run. A run that diverges ends with a cross
and an annotation such as "no clipping: diverged at epoch 1, step 8".

``explorer`` is the live ipywidget; ``chart`` is the same explorer without a kernel (the
website, and JupyterLab before anything runs), over ``compare_clipping`` on a grid of
half-decade steps (``regression.compare_clipping_grid``), ``log10`` test MSEs at one
decimal packed as text. A chaotic run (its order twin ends apart, see
``regression.order_twins``) keeps its first ``STABLE_EPOCHS`` epochs only: later ones differ
between BLAS kernels by more than the rounding.
"""

import altair as alt
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .. import charts
from ..experiments import regression
from ..plots import training as plots
from .png import png_interactive
from .stops import stop_of

LR_RANGE = (-4.0, 0.0)          # log10 of the learning rate
THRESHOLD_RANGE = (-2.0, 3.0)   # log10 of the clipping threshold
LR_STEP = 0.25                  # the learning-rate slider's step, in log10
LR_STOPS = tuple(float(10.0 ** e) for e in np.round(np.arange(LR_RANGE[0], LR_RANGE[1] + 1e-9,
                                                              LR_STEP), 2))


class TrainingExplorer:
    """The figure plus an ``update(lr, threshold)`` that recomputes and redraws it."""

    def __init__(self, epochs=20, seed=0, dataset=None):
        self.epochs, self.seed = epochs, seed
        self.dataset = regression.load() if dataset is None else dataset
        self.fig, self.artists = plots.explorer_figure(epochs)
        self.threshold = 1.0
        self.row, self.drawn = (None, {}), False  # (threshold, {lr stop: runs}), a first draw

    def update(self, lr, threshold=None):
        """Train both runs at ``lr`` (and ``threshold``) and redraw; returns the figure.

        A learning-rate move at an unchanged threshold trains the runs of every stop of the
        learning-rate slider (``LR_STOPS``) in one ``run_many``, so the next moves find theirs.
        """
        moved_lr = threshold is None or threshold == self.threshold
        if threshold is not None:
            self.threshold = threshold
        stop = stop_of(lr, LR_STOPS)
        if self.row[0] != self.threshold or stop not in self.row[1]:
            if moved_lr and stop is not None and self.drawn:
                self.row = (self.threshold, self._lr_row())
            else:
                self.row = (self.threshold, {})
        runs = self.row[1].get(stop) or regression.compare_clipping(
            self.dataset, lr, self.threshold, seed=self.seed, epochs=self.epochs)
        plots.update_explorer(self.artists, runs)
        self.drawn = True
        return self.fig

    def _lr_row(self):
        """``compare_clipping`` at every stop of ``LR_STOPS``, trained together."""
        settings = [{}, {"global_clipnorm": self.threshold}] * len(LR_STOPS)
        runs = regression.run_many(self.dataset, settings, [self.seed],
                                   lr=np.repeat(LR_STOPS, 2), epochs=self.epochs)
        return {lr: regression.subset(runs, slice(2 * i, 2 * i + 2))
                for i, lr in enumerate(LR_STOPS)}


def explorer(epochs=20, seed=0, lr=0.01, threshold=1.0):
    """An ``ipywidgets.interactive``: children[0] learning rate, children[1] threshold."""
    explorer = TrainingExplorer(epochs, seed)
    plt.close(explorer.fig)  # shown through the widget's output only
    # The axes are fixed: a move redraws the curves, crosses and note over them (widgets.png).
    for artist in (*explorer.artists["lines"], *explorer.artists["crosses"],
                   explorer.artists["note"]):
        artist.set_animated(True)
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=LR_RANGE[0], max=LR_RANGE[1],
                                       step=LR_STEP, description="learning rate",
                                       continuous_update=False, readout_format=".2g")
    threshold_slider = widgets.FloatLogSlider(
        value=threshold, base=10, min=THRESHOLD_RANGE[0], max=THRESHOLD_RANGE[1], step=0.25,
        description="threshold", continuous_update=False, readout_format=".2g")
    return png_interactive(explorer.update, lr=lr_slider, threshold=threshold_slider)


# The chart's grid: log10 of the learning rate and of the threshold, in steps of half a decade.
CHART_LRS = tuple(np.round(np.arange(LR_RANGE[0], LR_RANGE[1] + 0.01, 0.5), 2))
CHART_THRESHOLDS = tuple(np.round(np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 0.01, 0.5),
                                  2))
CHART_EPOCHS = 20
SERIES = ("no clipping", "clipped (global norm)")
# A run whose order twin (each batch summed backwards) ends more than CHAOTIC apart (relative) is
# chaotic: another BLAS kernel moves its later epochs too. Measured over the grid: stable runs stay
# below 2e-8, chaotic ones pass 1e-6, and two kernels agree to 1e-4 on log10 up to epoch
# STABLE_EPOCHS and differ by 1e-3 to 1 after it, so a chaotic run is drawn up to there only.
CHAOTIC = 1e-7
STABLE_EPOCHS = 8
DECIMALS = 1  # of log10 test MSE: a 26 % step, 2 px on the chart's 14 decades
YLIM = tuple(int(np.log10(v)) for v in plots.EXPLORER_YLIM)
DESCRIPTION = (
    f"Test MSE after each of {CHART_EPOCHS} epochs of training the regression network (seed 0), "
    "on a log scale from 1 to 1e14, without clipping and with global-norm clipping. Sliders set "
    "the learning rate (1e-4 to 1) and the clipping threshold (1e-2 to 1e3) in half-decade steps. "
    "A run that diverged ends in a cross and a note gives the epoch; a chaotic run, whose later "
    f"epochs depend on rounding, is drawn for its first {STABLE_EPOCHS} epochs only.")


def chart_row(curve, twin, diverged):
    """One run's row: its kept test MSEs (``log10``, packed) and what its note says.

    ``curve`` and ``twin`` (epochs,) are the run and its order twin, ``diverged`` the
    1-based epoch it diverged in (-1 if it did not). ``chaotic`` is 1 where the twins end
    more than ``CHAOTIC`` apart; ``peak`` is ``log10`` of the largest MSE where it leaves
    the chart (else 0).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.nanmax(np.abs(twin - curve) / curve, initial=0.0)
    kept = curve[np.isfinite(curve)]
    chaotic = diverged < 0 and gap > CHAOTIC
    if chaotic:
        kept = kept[:STABLE_EPOCHS]
    peak = kept.max() if kept.size else 0.0
    return {"mse": charts.packed_log10(kept, DECIMALS), "diverged": max(int(diverged), 0),
            "chaotic": int(chaotic),
            "peak": int(np.log10(peak)) if peak > plots.EXPLORER_YLIM[1] else 0}


def chart_table(seed=0, dataset=None):
    """``compare_clipping`` over the chart's grid (``regression.compare_clipping_grid``), and
    again summed backwards to find chaotic runs; one row per run: ``clipped`` 0 for the
    unclipped run (once per learning rate, ``c`` inf), 1 for the clipped run at ``c``; ``lr``
    and ``c`` are log10."""
    dataset = regression.load() if dataset is None else dataset
    lrs, thresholds = (10.0 ** np.array(grid) for grid in (CHART_LRS, CHART_THRESHOLDS))
    grids = [regression.compare_clipping_grid(dataset, lrs, thresholds, seed, CHART_EPOCHS,
                                              reverse=reverse) for reverse in (False, True)]
    rows = {key: [] for key in ("lr", "c", "clipped", "mse", "diverged", "chaotic", "peak")}
    for lr, runs, twins in zip(CHART_LRS, *grids):
        for i, c in enumerate((np.inf,) + CHART_THRESHOLDS):
            row = chart_row(runs.test_curve[i, 0], twins.test_curve[i, 0],
                            runs.diverged_epoch[i, 0])
            for key, value in {"lr": lr, "c": c, "clipped": min(i, 1), **row}.items():
                rows[key].append(value)
    return rows


# A run's note (a Vega expression over its row), in short lines for a phone: where it left
# the chart, diverged or turned chaotic.
NOTE = ("(datum.clipped ? 'clipped:' : 'no clipping:')"
        " + (datum.peak ? '\\noff the chart (1e' + datum.peak + ')' : '')"
        " + (datum.diverged ? '\\ndiverged at epoch ' + datum.diverged : '')"
        f" + (datum.chaotic ? '\\nchaotic: epochs after {STABLE_EPOCHS}\\ndepend on rounding'"
        " : '')")
NOTE_LINES = 3  # at most, per run
LINE_PX = 16


def chart(lr=-2.0, threshold=0.0, table=None):
    """The explorer as a Vega-Lite chart (``charts.show`` it) over ``chart_table``.

    ``lr`` and ``threshold`` are the sliders' start values, as log10 on the chart's grid.
    """
    if lr not in CHART_LRS or threshold not in CHART_THRESHOLDS:
        raise ValueError(f"the chart's grid: log10 learning rate in {CHART_LRS}, "
                         f"log10 threshold in {CHART_THRESHOLDS}")
    controls = [
        alt.param(name="lr", value=lr, bind=alt.binding_range(
            min=LR_RANGE[0], max=LR_RANGE[1], step=0.5, name="learning rate η, log₁₀ ")),
        alt.param(name="c", value=threshold, bind=alt.binding_range(
            min=THRESHOLD_RANGE[0], max=THRESHOLD_RANGE[1], step=0.5,
            name="threshold c, log₁₀ ")),
    ]
    points = alt.Chart()  # the selected runs' (epoch, mse) points, one row each
    x = alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[0.5, CHART_EPOCHS + 0.5],
                                                        nice=False),
              axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("mse:Q", title="test MSE (log scale)",
              scale=alt.Scale(domain=list(YLIM), nice=False),
              axis=alt.Axis(labelExpr="'1e' + datum.value", tickMinStep=1))
    encodings = charts.series("series", SERIES, title=None)
    lines = points.mark_line(clip=True).encode(strokeDash=encodings["strokeDash"])
    markers = points.mark_point(clip=True, opacity=1).encode(shape=encodings["shape"])
    crosses = points.transform_filter("datum.epoch == datum.diverged - 1").mark_point(
        shape="cross", size=220, filled=True, clip=True, opacity=1).encode(
        color=alt.condition("datum.clipped", alt.value(charts.COLORS[1]),
                            alt.value(charts.COLORS[0])))  # the series' colour, no legend entry
    curves = charts.unpack(charts.with_positions(
        alt.layer(lines, markers, crosses).encode(x=x, y=y, color=encodings["color"]),
        "clipped", (0, 1),
        lambda _: range(1, CHART_EPOCHS + 1), "epoch"), ["epoch", "mse"]).transform_filter(
        "isFinite(datum.mse)")
    notes = [
        alt.Chart().transform_filter(f"datum.clipped == {i} && (datum.diverged || "
                                     "datum.chaotic || datum.peak)")
        .transform_calculate(note=NOTE)
        .mark_text(align="right", baseline="top", lineBreak="\n", lineHeight=LINE_PX,
                   fontSize=13, color=charts.COLORS[i])
        .encode(x=alt.datum(CHART_EPOCHS + 0.4), y=alt.value(6 + (NOTE_LINES * LINE_PX + 6) * i),
                text="note:N")
        for i in range(len(SERIES))]
    title = alt.Title(alt.expr("'η = ' + format(pow(10, lr), '.2~g') + ', threshold c = ' "
                               "+ format(pow(10, c), c < 2 ? '.2~g' : ',.0f')"))
    table = charts.table(chart_table() if table is None else table)
    return (alt.layer(curves, *notes, data=table)
            .transform_filter("abs(datum.lr - lr) < 1e-6 && (!datum.clipped || "
                              "abs(datum.c - c) < 1e-6)")
            .transform_calculate(series=f"datum.clipped ? '{SERIES[1]}' : '{SERIES[0]}'")
            .add_params(*controls)
            .properties(name="training_clipping", width="container", height=300, title=title,
                        description=DESCRIPTION))
