r"""Explorer: gradient descent on the cliff with and without clipping.

``explorer`` is the live ipywidget (learning rate, threshold, any start point), drawn
through ``plots.cliff``; ``chart`` is the same explorer without a kernel (the website, and
JupyterLab before anything runs), over ``experiments.cliff_runs.compare`` on a grid: every
learning rate of ``CHART_LRS``, threshold of ``CHART_THRESHOLDS`` and start of
``CHART_STARTS``. A path is kept as the steps between its points in units of
:math:`10^{-3}` (integers; the browser sums them back), so a run of 100 steps costs about
half a kilobyte a coordinate; losses are :math:`\log_{10}` at one decimal.
"""

import altair as alt
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .. import charts, cliff
from ..report import significant
from ..experiments.cliff_runs import (compare, compare_thresholds, first_non_finite,
                                      first_outside)
from ..plots.cliff import LOSS_FLOOR, draw_cliff_view, update_cliff_view, zoom_window
from .png import png_interactive

N_STEPS = 100


def background(n=161):
    """The loss map under the paths, coarse enough to draw fast."""
    return cliff.surface(n=n)


def explorer(surface=None, start=(4.0, -4.0), lr=0.5, threshold=1.0):
    """Sliders for lr, threshold and the start (w, b); returns ``widgets.interactive``."""
    surface = background() if surface is None else surface
    fig, view = draw_cliff_view(surface, N_STEPS)
    plt.close(fig)  # shown through the widget's output only
    view.map_ax.collections[0].colorbar.minorticks_off()

    def show(lr, threshold, w0, b0):
        update_cliff_view(view, compare((w0, b0), lr, N_STEPS, threshold))
        return fig

    log_slider = dict(base=10, step=0.05, readout_format=".3g")
    explorer = png_interactive(
        show,
        lr=widgets.FloatLogSlider(value=lr, min=-2, max=1, description="lr", **log_slider),
        threshold=widgets.FloatLogSlider(value=threshold, min=-2, max=2, description="threshold",
                                         **log_slider),
        w0=widgets.FloatSlider(value=start[0], min=-10, max=10, step=0.05, description="start w"),
        b0=widgets.FloatSlider(value=start[1], min=-10, max=10, step=0.05, description="start b"),
    )
    # The axes' limits never change, so the layout found for the first frame holds for all:
    # freezing it (and dropping the colour bar's minor ticks) halves the time of a redraw.
    fig.set_layout_engine("none")
    return explorer



CHART_LRS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
CHART_THRESHOLDS = (0.1, 0.3, 1.0, 3.0, 10.0, 100.0, None)  # None: no clipping
CHART_STARTS = ((4.0, -4.0), (5.2, -3.1), (6.0, -5.0), (-2.0, 1.0))
SERIES = ("no clipping", "clipped")
MAP = ((-10.0, 10.0), (-10.0, 10.0))  # (w, b) ranges of the whole map
MAP_CELLS = 40  # per side of the whole map
ZOOM_CELLS = 30  # per side of a start's zoomed map
BAND = 0.2  # decades of loss per colour band of the maps
OVERLAP = 1.1  # a cell reaches a little into the next: no hairline seams between them
ZOOM_AT = (0.5, 1.0)  # the lr and threshold whose paths set each start's zoom window
UNIT = 1e-3  # a path's coordinates are kept as integer multiples of this
LOSS_MIN = 1e-8  # bottom of the loss axis (log10 = -8)
PANEL = 280  # pixels: each panel fits a phone's width
DESCRIPTION = (
    "Gradient descent on the cliff loss of a one-unit recurrent network, from a chosen start "
    "(w, b), with and without global-norm clipping. Top: the loss over w and b from −10 to 10 "
    "as a heat map on a log colour scale, the wall as a dotted line and the two paths; a box "
    "marks the window that the panel below magnifies. Last: the loss per step on a log "
    "scale. Controls: the learning rate, the clipping threshold (or no clipping) and the "
    "start; a note says when a run leaves the map or overflows.")


def _key(start):
    """A start as the text the chart's table and its control use, e.g. "4 -4"."""
    return f"{start[0]:g} {start[1]:g}"


def _label(start):
    return f"({start[0]:g}, {start[1]:g})".replace("-", "−")


def _threshold_key(threshold):
    return "none" if threshold is None else f"{threshold:g}"


def _packed_steps(values):
    """``values`` (n,) in ``UNIT``s, rounded, as the text of their successive differences."""
    units = np.round(np.asarray(values, np.float64) / UNIT).astype(np.int64)
    return " ".join(map(str, np.diff(units, prepend=0)))


def _note(name, trajectory):
    """Why a path ends early or leaves the map, as the chart's note ('' if it does neither);
    "|" breaks the line (the chart's table holds no commas or newlines)."""
    overflow = first_non_finite(trajectory)
    if overflow is not None:
        return f"{name}: overflowed (non-finite) at step {overflow}"
    left = first_outside(trajectory, *MAP)
    if left is None:
        return ""
    w, b = (significant(v, 3) for v in trajectory.params[left])
    return f"{name}: left the map at step {left}|to w = {w:g} and b = {b:g}".replace("-", "−")


def chart_table(n_steps=N_STEPS):
    """``compare`` on the chart's grid: one row per path, its coordinates and losses packed.

    The unclipped path of a start and lr is stored once (threshold "none"); a path ends before
    its first non-finite point.
    """
    rows = {key: [] for key in ("start", "lr", "threshold", "series", "w", "b", "loss", "note")}

    def add(start, lr, threshold, series, trajectory):
        end = first_non_finite(trajectory)
        kept = slice(0, end)
        rows["start"].append(_key(start))
        rows["lr"].append(lr)
        rows["threshold"].append(threshold)
        rows["series"].append(series)
        rows["w"].append(_packed_steps(trajectory.params[kept, 0]))
        rows["b"].append(_packed_steps(trajectory.params[kept, 1]))
        rows["loss"].append(charts.packed_log10(np.maximum(trajectory.loss[kept], LOSS_MIN), 1))
        rows["note"].append(_note(series, trajectory))

    clipped = [c for c in CHART_THRESHOLDS if c is not None]
    for start in CHART_STARTS:
        for lr in CHART_LRS:
            comparisons = compare_thresholds(start, lr, clipped, n_steps)
            add(start, lr, "none", SERIES[0], comparisons[0].plain)
            for c, comparison in zip(clipped, comparisons):
                add(start, lr, _threshold_key(c), SERIES[1], comparison.clipped)
    return rows


def zoom_windows(n_steps=N_STEPS):
    """Each start's zoom window ``((w_low, w_high), (b_low, b_high))``, to two decimals."""
    windows = {}
    for start in CHART_STARTS:
        window = zoom_window(compare(start, *ZOOM_AT[:1], n_steps, ZOOM_AT[1]))
        windows[_key(start)] = tuple((float(np.floor(low * 100) / 100),
                                      float(np.ceil(high * 100) / 100)) for low, high in window)
    return windows


def map_table(windows):
    r"""The loss maps as rectangles: the whole map ("all") and each start's zoomed window.

    :math:`\log_{10} E` is cut into bands of ``BAND`` decades (the band's middle is kept), and
    the cells of one row that share a band are one rectangle (a sixth of the marks to draw).
    """
    rows = {key: [] for key in ("map", "w_low", "w_high", "b_low", "b_high", "loss")}
    maps = [("all", MAP, MAP_CELLS)] + [(key, window, ZOOM_CELLS)
                                         for key, window in windows.items()]
    for name, (w_range, b_range), n in maps:
        surface = cliff.surface(w_range, b_range, n=n)
        half_w, half_b = (surface.w[1] - surface.w[0]) / 2, (surface.b[1] - surface.b[0]) / 2
        bands = np.floor(np.log10(np.maximum(surface.loss, LOSS_FLOOR)) / BAND)
        for b, row in zip(surface.b, bands):
            starts = np.flatnonzero(np.diff(row, prepend=np.nan))  # where a new band begins
            ends = np.append(starts[1:], len(row)) - 1
            rows["map"] += [name] * len(starts)
            rows["w_low"] += list(surface.w[starts] - half_w)
            rows["w_high"] += list(surface.w[ends] + OVERLAP * half_w)
            rows["b_low"] += [b - half_b] * len(starts)
            rows["b_high"] += [b + OVERLAP * half_b] * len(starts)
            rows["loss"] += list((row[starts] + 0.5) * BAND)
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
                  bind=alt.binding_select(options=[_threshold_key(c) for c in CHART_THRESHOLDS],
                                         labels=[_threshold_key(c).replace("none", "no clipping")
                                                 for c in CHART_THRESHOLDS],
                                         name="threshold c ")),
        alt.param(name="start", value=_key(start),
                  bind=alt.binding_select(options=[_key(s) for s in CHART_STARTS],
                                         labels=[_label(s) for s in CHART_STARTS],
                                         name="start (w, b) ")),
    ]
    windows = zoom_windows()
    maps = alt.Chart(charts.table(map_table(windows)))
    run = alt.Chart(charts.table(chart_table())).transform_filter(
        "datum.start == start && datum.lr == lr && "
        "(datum.series == 'no clipping' || datum.threshold == threshold)")
    paths = (
        charts.unpack(run, ["w", "b", "loss"])
        .transform_window(k="row_number()", groupby=["series"])
        .transform_window(sum_w="sum(w)", sum_b="sum(b)", groupby=["series"],
                          sort=[alt.SortField("k")], frame=[None, 0])
        .transform_calculate(w=f"datum.sum_w * {UNIT!r}", b=f"datum.sum_b * {UNIT!r}",
                             step="datum.k - 1")
    )
    zoom = {side: {bound: _by_start({key: window[axis][end] for key, window in windows.items()})
                   for bound, end in (("low", 0), ("high", 1))}
            for axis, side in enumerate(("w", "b"))}
    whole = _map_panel(maps.transform_filter("datum.map == 'all'"), paths,
                       {"w": {"low": repr(MAP[0][0]), "high": repr(MAP[0][1])},
                        "b": {"low": repr(MAP[1][0]), "high": repr(MAP[1][1])}},
                       "map", "the loss map (box: the zoomed window)", box=zoom)
    zoomed = _map_panel(maps.transform_filter("datum.map == start"), paths, zoom, "zoom",
                        "zoom: the box on the map")
    note = run.transform_filter("datum.note != ''").transform_calculate(
        row="datum.series == 'no clipping' ? 0 : 1").mark_text(
        align="left", baseline="top", fontSize=13, lineBreak="|", color=charts.COLORS[3]).encode(
        x=alt.value(0), text="note:N",
        y=alt.Y("row:Q", axis=None, scale=alt.Scale(domain=[0, 1], range=[2, 36]))).properties(
        name="cliff_note", width=PANEL, height=66)
    title = alt.Title(alt.expr("'start ' + (" + _by_start(
        {_key(s): _label(s) for s in CHART_STARTS}) + ") + ', η = ' + lr + ', ' + "
        "(threshold == 'none' ? 'no clipping' : 'c = ' + threshold)"))
    return (
        alt.vconcat(whole, note, zoomed, _loss_panel(paths), spacing=12).add_params(*controls)
        .resolve_scale(x="independent", y="independent")
        .properties(name="cliff_descent", title=title, description=DESCRIPTION)
    )


def _map_panel(cells, paths, domain, name, title, box=None):
    """Heat map of log10 E over ``cells`` with the wall, the paths and (``box``) a window."""
    # A domain given whole (not domainMin/domainMax) does not depend on the data: a move of a
    # control that changes only the paths then leaves the heat map's rectangles alone.
    w_scale, b_scale = (alt.Scale(domain=[alt.expr(domain[axis]["low"]),
                                          alt.expr(domain[axis]["high"])], nice=False, zero=False)
                        for axis in ("w", "b"))
    no_grid = alt.Axis(grid=False)  # lines across the heat map would read as cell borders
    x = alt.X("w:Q", title="w", scale=w_scale, axis=no_grid)
    y = alt.Y("b:Q", title="b", scale=b_scale, axis=no_grid)
    colours = alt.Scale(scheme="cividis", domain=[float(np.log10(LOSS_FLOOR)), 0])
    heat = cells.mark_rect(clip=True).encode(
        x=alt.X("w_low:Q", scale=w_scale, title="w", axis=no_grid), x2="w_high:Q",
        y=alt.Y("b_low:Q", scale=b_scale, title="b", axis=no_grid), y2="b_high:Q",
        fill=alt.Fill("loss:Q", scale=colours,
                      legend=alt.Legend(title="loss E(w, b) (log scale)", labelExpr="'1e' + "
                                        "datum.value", orient="bottom", direction="horizontal",
                                        gradientLength=150)))
    slope, intercept = float(cliff.wall_b(1.0) - cliff.wall_b(0.0)), float(cliff.wall_b(0.0))
    wall = alt.Chart(alt.sequence(0, 2, as_="t")).transform_calculate(
        w=f"datum.t == 0 ? {domain['w']['low']} : {domain['w']['high']}").transform_calculate(
        b=f"{intercept!r} + {slope!r} * datum.w").mark_line(
        clip=True, color="black", strokeDash=[2, 3], strokeWidth=1.2).encode(x=x, y=y)
    encodings = charts.series("series", SERIES, title=None)
    halo = paths.mark_line(clip=True, color="white", strokeWidth=4.5, opacity=0.9).encode(
        x=x, y=y, order="step:Q", detail="series:N")
    lines = paths.mark_line(clip=True, strokeWidth=2).encode(
        x=x, y=y, order="step:Q", color=encodings["color"], strokeDash=encodings["strokeDash"])
    marks = paths.transform_filter("datum.step % 10 == 0").mark_point(
        clip=True, size=55, opacity=1, stroke="white", strokeWidth=0.8).encode(
        x=x, y=y, color=encodings["color"], shape=encodings["shape"])
    layers = [heat, wall, halo, lines, marks]
    if box is not None:
        layers.append(alt.Chart(alt.sequence(0, 1, as_="t")).transform_calculate(
            w_low=box["w"]["low"], w_high=box["w"]["high"], b_low=box["b"]["low"],
            b_high=box["b"]["high"]).mark_rect(fill=None, stroke="white", strokeWidth=1.5)
            .encode(x=alt.X("w_low:Q", scale=w_scale), x2="w_high:Q",
                    y=alt.Y("b_low:Q", scale=b_scale), y2="b_high:Q"))
    return alt.layer(*layers).properties(name=f"cliff_{name}", width=PANEL, height=PANEL,
                                         title=alt.Title(title, fontSize=13))


def _loss_panel(paths):
    """The loss per step of both paths (log scale), with the course's series styles."""
    encodings = charts.series("series", SERIES, title=None)
    x = alt.X("step:Q", title="step", scale=alt.Scale(domain=[0, N_STEPS], nice=False))
    y = alt.Y("loss:Q", title="loss E (log scale)", scale=alt.Scale(domain=[float(np.log10(LOSS_MIN)), 0]),
              axis=alt.Axis(labelExpr="'1e' + datum.value", tickMinStep=1))
    finite = paths.transform_filter("isFinite(datum.loss)")
    lines = finite.mark_line(strokeWidth=2).encode(
        x=x, y=y, color=encodings["color"], strokeDash=encodings["strokeDash"])
    marks = finite.transform_filter("datum.step % 10 == 0").mark_point(size=45, opacity=1).encode(
        x=x, y=y, color=encodings["color"], shape=encodings["shape"])
    return alt.layer(lines, marks).properties(name="cliff_loss", width=PANEL, height=150,
                                              title=alt.Title("loss per step", fontSize=13))
