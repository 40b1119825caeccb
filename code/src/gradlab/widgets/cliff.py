r"""Explorer: gradient descent on the cliff with and without clipping.

``explorer`` is the live ipywidget (learning rate, threshold, any start point), drawn
through ``plots.cliff``; ``chart`` is the same explorer without a kernel (the website, and
JupyterLab before anything runs), over ``experiments.cliff_runs.compare`` on a grid: every
learning rate of ``CHART_LRS``, threshold of ``CHART_THRESHOLDS`` and start of
``CHART_STARTS``. The chart's bytes go into the committed notebook, so they are counted: a
path is kept as integer steps of ``UNIT`` between its points (the browser sums them back),
from where it leaves the unclipped path and until it stops moving, and the loss maps are
small PNG images (one pixel a cell) rather than a mark a cell.
"""

import base64
import io

import altair as alt
import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from .. import charts, cliff
from ..report import significant
from ..experiments.cliff_runs import (CliffComparison, compare, compare_thresholds,
                                      first_non_finite, first_outside, trajectories)
from ..plots.cliff import LOSS_FLOOR, draw_cliff_view, update_cliff_view, zoom_window
from ..plots.style import SEQUENTIAL_CMAP
from .png import png_interactive
from .stops import stop_of

N_STEPS = 100
LR_EXPONENTS = np.round(np.arange(-2.0, 1.0001, 0.05), 2)  # the learning-rate slider's stops
THRESHOLD_EXPONENTS = np.round(np.arange(-2.0, 2.0001, 0.05), 2)  # the slider's stops, log10


def background(n=161):
    """The loss map under the paths, coarse enough to draw fast."""
    return cliff.surface(n=n)


class RunCache:
    """``compare`` for the explorer, with the runs of a whole slider made in one pass.

    ``trajectories`` runs its columns together, so every stop of a slider costs about what two
    runs do. When the threshold moves, the clipped runs of every threshold stop are made (for
    this start and learning rate); when the learning rate moves, the plain and clipped runs of
    every learning-rate stop (for this start and threshold). Later moves of that slider find
    their runs made. A value off the slider's stops is run alone.
    """

    def __init__(self, lr_exponents, threshold_exponents):
        self.lrs = [float(10.0 ** e) for e in lr_exponents]
        self.thresholds = [float(10.0 ** e) for e in threshold_exponents]
        self.by_threshold = self.by_lr = (None, {})  # (key, {stop: CliffComparison})
        self.last = None

    def compare(self, start, lr, threshold):
        start = tuple(map(float, start))
        lr_key, threshold_key = stop_of(lr, self.lrs), stop_of(threshold, self.thresholds)
        rows = (((start, lr_key), self.by_threshold, threshold_key),
                ((start, threshold_key), self.by_lr, lr_key))
        for key, (row_key, row), stop in rows:
            if key == row_key and stop in row:
                self.last = (start, lr, threshold)
                return row[stop]
        moved_lr = self.last is not None and self.last[0] == start and self.last[2] == threshold
        self.last = (start, lr, threshold)
        if moved_lr and lr_key is not None and threshold_key is not None:
            self.by_lr = ((start, threshold_key), self._lr_row(start, threshold_key))
            return self.by_lr[1][lr_key]
        if lr_key is not None:
            self.by_threshold = ((start, lr_key), self._threshold_row(start, lr_key))
            if threshold_key is not None:
                return self.by_threshold[1][threshold_key]
        return compare(start, lr, N_STEPS, threshold)

    def _threshold_row(self, start, lr):
        plain, *clipped = trajectories(start, lr, N_STEPS, [None, *self.thresholds])
        return {c: CliffComparison(start, lr, c, plain, run)
                for c, run in zip(self.thresholds, clipped)}

    def _lr_row(self, start, threshold):
        n = len(self.lrs)
        runs = trajectories(start, self.lrs * 2, N_STEPS, [None] * n + [threshold] * n)
        return {lr: CliffComparison(start, lr, threshold, plain, clipped)
                for lr, plain, clipped in zip(self.lrs, runs[:n], runs[n:])}


def explorer(surface=None, start=(4.0, -4.0), lr=0.5, threshold=1.0):
    """Sliders for lr, threshold and the start (w, b); returns ``widgets.interactive``."""
    surface = background() if surface is None else surface
    fig, view = draw_cliff_view(surface, N_STEPS)
    plt.close(fig)  # shown through the widget's output only
    view.map_ax.collections[0].colorbar.minorticks_off()

    # What a move changes is drawn over the cached map and axes (widgets.png); the zoom panel
    # is redrawn alone.
    for artist in (*view.paths, *view.curves, view.message, view.zoom_box, view.loss_ax.title):
        artist.set_animated(True)

    runs = RunCache(LR_EXPONENTS, THRESHOLD_EXPONENTS)

    def show(lr, threshold, w0, b0):
        update_cliff_view(view, runs.compare((w0, b0), lr, threshold))
        return fig

    # The axes' limits never change, so the layout found for the first frame holds for all:
    # freezing it (and dropping the colour bar's minor ticks) halves the time of a redraw.
    show(lr, threshold, *start)
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")
    log_slider = dict(base=10, step=0.05, readout_format=".3g")
    explorer = png_interactive(
        show,
        lr=widgets.FloatLogSlider(value=lr, min=LR_EXPONENTS[0], max=LR_EXPONENTS[-1],
                                  description="lr", **log_slider),
        threshold=widgets.FloatLogSlider(value=threshold, min=THRESHOLD_EXPONENTS[0],
                                         max=THRESHOLD_EXPONENTS[-1], description="threshold",
                                         **log_slider),
        w0=widgets.FloatSlider(value=start[0], min=-10, max=10, step=0.05, description="start w"),
        b0=widgets.FloatSlider(value=start[1], min=-10, max=10, step=0.05, description="start b"),
    )
    return explorer



CHART_LRS = (0.25, 0.5, 1.0, 2.0)
CHART_THRESHOLDS = (0.3, 1.0, 3.0, 10.0, 100.0, None)  # None: no clipping
CHART_STARTS = ((4.0, -4.0), (-2.0, 1.0))
NO_CLIPPING = "no clipping"
SERIES = (NO_CLIPPING, "clipped")
MAP = ((-10.0, 10.0), (-10.0, 10.0))  # (w, b) ranges of the whole map
MAP_CELLS = 40  # per side of the whole map
ZOOM_CELLS = 24  # per side of a start's zoomed map
BAND = 0.25  # decades of loss per colour band of the maps
ZOOM_AT = (0.5, 1.0)  # the lr and threshold whose paths set each start's zoom window
UNIT = 5e-3  # a path's coordinates in integer multiples of this (about a pixel of a zoom)
PANEL = 280  # pixels: each panel fits a phone's width
DESCRIPTION = (
    "Gradient descent on the cliff loss of a one-unit recurrent network for 100 steps from a "
    "chosen start (w, b), with and without global-norm clipping. Top: the loss over w and b "
    "from −10 to 10 as a heat map on a log colour scale, the wall as a dotted line and the two "
    "paths; the bottom panel magnifies the window where the start's paths meet the wall. "
    "Between them, each run's final loss, and a note when a run leaves the map, overflows or "
    "is never clipped. "
    "Controls: the learning rate, the clipping threshold (or no clipping) and the start.")


def _key(start):
    """A start as the text the chart's table and its control use, e.g. "4 -4"."""
    return f"{start[0]:g} {start[1]:g}"


def _label(start):
    return f"({start[0]:g}, {start[1]:g})".replace("-", "−")


def _threshold_key(threshold):
    return NO_CLIPPING if threshold is None else f"{threshold:g}"


def packed_path(params):
    """A path (n, 2) as two texts: each coordinate in ``UNIT``s (rounded), the first point
    whole and then the differences, which the browser sums back; once the path stops moving
    for good (differences zero to the end), nothing more is kept."""
    steps = np.diff(np.round(np.asarray(params, np.float64) / UNIT).astype(np.int64), axis=0,
                    prepend=0)
    moving = np.flatnonzero(np.any(steps != 0, axis=1))
    kept = steps[:moving[-1] + 1 if moving.size else 1]
    return tuple(" ".join(map(str, column)) for column in kept.T)


def _note(trajectory):
    """Why a path ends early or leaves the map ('' if it does neither); "|" breaks the line
    (a chart's table holds no commas or newlines)."""
    overflow = first_non_finite(trajectory)
    if overflow is not None:
        return f"overflowed (non-finite) at step {overflow}"
    left = first_outside(trajectory, *MAP)
    if left is None:
        return ""
    w, b = (significant(v, 3) for v in trajectory.params[left])
    return f"left the map at step {left}|to w = {w:g} and b = {b:g}".replace("-", "−")


def chart_table(n_steps=N_STEPS):
    """``compare`` on the chart's grid: one row per path, its coordinates packed.

    The unclipped path of a start and lr is stored once (threshold "no clipping"), with the
    thresholds that never clip it (``unclipped_at``). A clipped path starts at the last point
    it shares with the unclipped one (``from``); a clipped run that never differs from the
    unclipped one has no row. A path ends before its first non-finite point, where ``final``
    is the loss, at the two digits the chart shows (the third differs between machines'
    ``exp`` for a run that grazes the wall).
    """
    rows = {key: [] for key in ("start", "lr", "threshold", "series", "from", "w", "b",
                                "final", "note", "unclipped_at")}

    def add(start, lr, threshold, series, trajectory, first, unclipped_at=""):
        end = first_non_finite(trajectory) or len(trajectory.loss)
        for key, value in zip(rows, (_key(start), lr, threshold, series, first,
                                     *packed_path(trajectory.params[first:end]),
                                     significant(float(trajectory.loss[end - 1]), 2),
                                     _note(trajectory),
                                     unclipped_at)):
            rows[key].append(value)

    clipped = [c for c in CHART_THRESHOLDS if c is not None]
    for start in CHART_STARTS:
        for lr in CHART_LRS:
            comparisons = compare_thresholds(start, lr, clipped, n_steps)
            same = [c for c, comparison in zip(clipped, comparisons)
                    if comparison.first_difference is None]
            add(start, lr, NO_CLIPPING, SERIES[0], comparisons[0].plain, 0,
                " ".join(map(_threshold_key, same)))
            for c, comparison in zip(clipped, comparisons):
                if c not in same:
                    add(start, lr, _threshold_key(c), SERIES[1], comparison.clipped,
                        comparison.first_difference - 1)
    return rows


def zoom_windows(n_steps=N_STEPS):
    """Each start's zoom window ``((w_low, w_high), (b_low, b_high))``, to two decimals."""
    windows = {}
    for start in CHART_STARTS:
        window = zoom_window(compare(start, ZOOM_AT[0], n_steps, ZOOM_AT[1]))
        windows[_key(start)] = tuple((float(np.floor(low * 100) / 100),
                                      float(np.ceil(high * 100) / 100)) for low, high in window)
    return windows


def map_images(windows):
    r"""The loss maps as small PNG images, one row per map: the whole map ("all") and each
    start's zoomed window, with the (w, b) rectangle each image covers.

    :math:`\log_{10} E` (floored at ``LOSS_FLOOR``) is cut into bands of ``BAND`` decades and
    coloured by ``SEQUENTIAL_CMAP``, one pixel a cell; the browser stretches the pixels. The
    images are far lighter than one rectangle mark a cell, and one mark to draw.
    """
    rows = {key: [] for key in ("map", "w_low", "w_high", "b_low", "b_high", "png")}
    maps = [("all", MAP, MAP_CELLS)] + [(key, window, ZOOM_CELLS)
                                         for key, window in windows.items()]
    colours = mpl.colormaps[SEQUENTIAL_CMAP]
    low = np.log10(LOSS_FLOOR)
    for name, (w_range, b_range), n in maps:
        surface = cliff.surface(w_range, b_range, n=n)
        bands = np.floor(np.log10(np.maximum(surface.loss, LOSS_FLOOR)) / BAND)
        shade = np.clip(((bands + 0.5) * BAND - low) / -low, 0, 1)
        pixels = (colours(shade[::-1])[..., :3] * 255).round().astype(np.uint8)  # b grows up
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="png", optimize=True)
        half_w, half_b = (surface.w[1] - surface.w[0]) / 2, (surface.b[1] - surface.b[0]) / 2
        for key, value in zip(rows, (name, surface.w[0] - half_w, surface.w[-1] + half_w,
                                     surface.b[0] - half_b, surface.b[-1] + half_b,
                                     base64.b64encode(buffer.getvalue()).decode("ascii"))):
            rows[key].append(value)
    return rows


def _by_start(values):
    """A Vega expression worth ``values[key]`` for the start param's value ``key``."""
    keys = list(values)
    expression = repr(values[keys[-1]])
    for key in reversed(keys[:-1]):
        expression = f"start == '{key}' ? {values[key]!r} : {expression}"
    return expression


def chart(start=(4.0, -4.0), lr=0.5, threshold=1.0):
    """The explorer as a Vega-Lite chart (``charts.show`` it) over ``chart_table``."""
    start = tuple(map(float, start))
    if start not in CHART_STARTS or lr not in CHART_LRS or threshold not in CHART_THRESHOLDS:
        raise ValueError(f"the chart's grid: start in {CHART_STARTS}, lr in {CHART_LRS}, "
                         f"threshold in {CHART_THRESHOLDS}")
    controls = [
        alt.param(name="lr", value=lr,
                  bind=alt.binding_radio(options=list(CHART_LRS), name="learning rate η ")),
        alt.param(name="threshold", value=_threshold_key(threshold),
                  bind=alt.binding_radio(options=[_threshold_key(c) for c in CHART_THRESHOLDS],
                                         name="threshold c ")),
        alt.param(name="start", value=_key(start),
                  bind=alt.binding_radio(options=[_key(s) for s in CHART_STARTS],
                                         labels=[_label(s) for s in CHART_STARTS],
                                         name="start (w, b) ")),
    ]
    windows = zoom_windows()
    maps = alt.Chart(charts.table(map_images(windows), digits=6))
    run = charts.table(chart_table())
    chosen = ("datum.start == start && datum.lr == lr && "
              f"(datum.series == '{SERIES[0]}' || datum.threshold == threshold)")
    zoom = {side: {bound: _by_start({key: window[axis][end] for key, window in windows.items()})
                   for bound, end in (("low", 0), ("high", 1))}
            for axis, side in enumerate(("w", "b"))}
    whole = {side: {"low": low, "high": high} for side, (low, high) in zip(("w", "b"), MAP)}
    panels = [
        _map_panel(maps.transform_filter("datum.map == 'all'"), whole, "map",
                   "the loss map", main=True),
        _notes(),
        _map_panel(maps.transform_filter("datum.map == start"), zoom, "zoom", alt.expr(
            f"'zoom: w from ' + ({zoom['w']['low']}) + ' to ' + ({zoom['w']['high']}) + "
            f"', b from ' + ({zoom['b']['low']}) + ' to ' + ({zoom['b']['high']})")),
    ]
    paths = unpack_paths(alt.vconcat(*panels, spacing=14, data=run).transform_filter(chosen))
    title = alt.Title(alt.expr("'start ' + (" + _by_start(
        {_key(s): _label(s) for s in CHART_STARTS}) + ") + ', η = ' + lr + ', ' + "
        f"(threshold == '{NO_CLIPPING}' ? threshold : 'c = ' + threshold)"))
    return (paths.add_params(*controls).resolve_scale(x="independent", y="independent")
            .properties(name="cliff_descent", title=title, description=DESCRIPTION))


def unpack_paths(chart):
    """``chart`` with the packed paths of its rows as points: ``w``, ``b`` and ``step``."""
    return (
        charts.unpack(chart, ["w", "b"])
        .transform_window(k="row_number()", groupby=["series"])
        .transform_window(units_w="sum(w)", units_b="sum(b)", groupby=["series"],
                          sort=[alt.SortField("k")], frame=[None, 0])
        .transform_calculate(w=f"datum.units_w * {UNIT!r}", b=f"datum.units_b * {UNIT!r}",
                             step="datum.from + datum.k - 1")
    )


def _notes():
    """Each run's final loss and why it ended or left the map, or that clipping never fired
    (from the first point of each path the chart's rows unpack to)."""
    never = ("indexof(split(datum.unclipped_at, ' '), threshold) >= 0 ? "
             "'|clipped: never clipped (the same path)' : ''")
    return alt.Chart().transform_filter("datum.k == 1").transform_calculate(
        row=f"datum.series == '{SERIES[0]}' ? 0 : 1",
        text="datum.series + ': final loss ' + format(datum.final, '.2~g')"
             f" + (datum.note ? '|' + datum.note : '') + ({never})").mark_text(
        align="left", baseline="top", fontSize=13, lineBreak="|", color="#222222").encode(
        x=alt.value(0), text="text:N",
        y=alt.Y("row:Q", axis=None, scale=alt.Scale(domain=[0, 1], range=[2, 40]))).properties(
        name="cliff_notes", width=PANEL, height=72)


def _value(bound):
    """A scale's bound: a number as it is, a Vega expression (text) as one."""
    return alt.expr(bound) if isinstance(bound, str) else bound


def _map_panel(cells, domain, name, title, main=False):
    """Heat map of log10 E over ``cells`` with the wall and the paths (the data it inherits),
    on the axes' ranges ``domain`` (numbers or Vega expressions).

    The scales and legends are declared once, on the heat map and on the main panel's paths;
    the other layers name only their fields and share them (which keeps the spec small).
    """
    # A domain given whole (not domainMin/domainMax) does not depend on the data: a move of a
    # control that changes only the paths then leaves the heat map's rectangles alone.
    w_scale, b_scale = (alt.Scale(domain=[_value(domain[axis]["low"]),
                                          _value(domain[axis]["high"])], nice=False, zero=False)
                        for axis in ("w", "b"))
    no_grid = alt.Axis(grid=False)  # lines across the heat map would read as cell borders
    heat = cells.transform_calculate(url="'data:image/png;base64,' + datum.png").mark_image(
        clip=True, aspect=False, smooth=False).encode(
        x=alt.X("w_low:Q", scale=w_scale, title="w", axis=no_grid), x2="w_high:Q",
        y=alt.Y("b_low:Q", scale=b_scale, title="b", axis=no_grid), y2="b_high:Q", url="url:N")
    slope, intercept = float(cliff.wall_b(1.0) - cliff.wall_b(0.0)), float(cliff.wall_b(0.0))
    wall = alt.Chart(alt.sequence(0, 2, as_="t")).transform_calculate(
        w=f"datum.t == 0 ? {domain['w']['low']} : {domain['w']['high']}",
        b=f"{intercept!r} + {slope!r} * datum.w").mark_line(
        clip=True, color="black", strokeDash=[2, 3], strokeWidth=1.2)
    if main:  # the main panel declares the series' scales and legend
        styles = charts.series("series", SERIES, title=None)
    else:
        styles = {channel: f"series:N" for channel in ("color", "strokeDash", "shape")}
    halo = alt.Chart().mark_line(clip=True, color="white", strokeWidth=4.5, opacity=0.9).encode(
        detail="series:N")
    lines = alt.Chart().mark_line(clip=True, strokeWidth=2).encode(
        color=styles["color"], strokeDash=styles["strokeDash"])
    marks = alt.Chart().transform_filter("datum.step % 10 == 0").mark_point(
        clip=True, size=55, opacity=1, stroke="white", strokeWidth=0.8).encode(
        color=styles["color"], shape=styles["shape"])
    paths = alt.layer(halo, lines, marks).encode(x="w:Q", y="b:Q", order="step:Q")
    layers = [heat, wall.encode(x="w:Q", y="b:Q"), paths]
    if main:  # the colour legend of the images (an invisible point draws it)
        layers.append(alt.Chart(alt.sequence(0, 1, as_="t")).mark_point(opacity=0).encode(
            fill=alt.Fill("t:Q", scale=alt.Scale(scheme=SEQUENTIAL_CMAP,
                                                 domain=[float(np.log10(LOSS_FLOOR)), 0]),
                          legend=alt.Legend(title="loss E(w, b) (log scale)",
                                            labelExpr="'1e' + datum.value",
                                            direction="horizontal", gradientLength=150))))
    return alt.layer(*layers).properties(name=f"cliff_{name}", width=PANEL, height=PANEL,
                                         title=alt.Title(title, fontSize=13))
