"""Explorer of chapter 2: depth, init scheme and activation → per-layer scales at initialisation.

``explorer`` is the live ipywidget (``deep_mlp.profile`` computes, ``plots.vanishing
.ProfileView`` draws); ``chart`` is the same explorer without a kernel (the website, and
JupyterLab before anything runs), over ``deep_mlp.profile`` on a grid: every init and
activation at ``CHART_DEPTHS``. Each profile keeps ``POINTS`` layers of ``log10`` of the two
scales (one decimal: a 12 % step, small on axes that span tens of decades), packed as text
the browser splits, so the table stays a few kilobytes.
"""

import altair as alt
import ipywidgets as widgets
import numpy as np

from .. import charts
from ..experiments import deep_mlp
from ..plots.vanishing import ProfileView
from .png import png_interactive

DEPTH_RANGE = (1, 300)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")
CHART_DEPTHS = (2, 5, 10, 20, 50, 100, 200, 300)
POINTS = 11
DESCRIPTION = (
    "Two log-scale panels for a deep network at initialisation, against the layer: the scale "
    "of the activations (forward) and the gradient norm (backward, 1 at the output). Controls: "
    "the depth, the initialisation and the activation; a note says where values overflowed.")


def explorer(depth=50, init="normal", activation="relu", width=128, seed=0):
    """An ``ipywidgets.interactive``: sliders for depth, init and activation.

    Children 0, 1, 2 are the depth slider and the init and activation menus;
    setting a value redraws at once. ``w.result`` is the figure.
    """
    view = ProfileView(deep_mlp.profile(depth, width, init, activation, seed=seed))
    for artist in (*view.lines, *view.notes):  # what most moves change (widgets.png)
        artist.set_animated(True)

    def show(depth, init, activation):
        view.update(deep_mlp.profile(depth, width, init, activation, seed=seed))
        return view.fig

    w = png_interactive(
        show,
        depth=widgets.IntSlider(value=depth, min=DEPTH_RANGE[0], max=DEPTH_RANGE[1],
                                description="depth", continuous_update=False),
        init=widgets.Dropdown(options=deep_mlp.INIT_SCHEMES, value=init, description="init"),
        activation=widgets.Dropdown(options=ACTIVATIONS, value=activation,
                                    description="activation"))
    w.view = view
    return w


def chart_layers(depth):
    """The layers kept for a profile of ``depth``: at most ``POINTS``, 0 and ``depth`` included."""
    return np.unique(np.round(np.linspace(0, depth, min(depth + 1, POINTS))).astype(int))


def chart_table(width=128, seed=0):
    """``deep_mlp.profile`` on the chart's grid: one row per profile, its scales packed as text."""
    rows = {key: [] for key in ("depth", "init", "activation", "forward", "backward",
                                "note_forward", "note_backward")}
    for depth in CHART_DEPTHS:
        keep = chart_layers(depth)
        for init in deep_mlp.INIT_SCHEMES:
            for activation in ACTIVATIONS:
                p = deep_mlp.profile(depth, width, init, activation, seed=seed)
                messages = deep_mlp.failures(p)
                rows["depth"].append(depth)
                rows["init"].append(init)
                rows["activation"].append(activation)
                rows["forward"].append(charts.packed_log10(p.activation_scale[keep], 1))
                rows["backward"].append(charts.packed_log10(p.gradient_norm[keep], 1))
                rows["note_forward"].append(" · ".join(
                    m for m in messages if m.startswith("activations")))
                rows["note_backward"].append(" · ".join(
                    m for m in messages if m.startswith("gradient")))
    return rows


def chart(depth=50, init="normal", activation="relu"):
    """The explorer as a Vega-Lite chart (``charts.show`` it) over ``chart_table``."""
    controls = [
        charts.choice("depth", "depth", depth, CHART_DEPTHS),
        charts.choice("init", "init", init, deep_mlp.INIT_SCHEMES, radio=True),
        charts.choice("activation", "activation", activation, ACTIVATIONS, radio=True),
    ]
    profile = charts.with_positions(
        alt.Chart(charts.table(chart_table()))
        .transform_filter("datum.depth == depth && datum.init == init && "
                          "datum.activation == activation"),
        "depth", CHART_DEPTHS, chart_layers, "layer"
    )
    panels = [_panel(profile, field, title, i) for i, (field, title) in
              enumerate((("forward", "activation scale"), ("backward", "gradient norm")))]
    return (
        alt.vconcat(*panels).add_params(*controls)
        .properties(name="init_profile", description=DESCRIPTION,
                    title=alt.Title(alt.expr("activation + ', ' + init + ' init'")))
    )


def _panel(profile, field, title, index):
    """One panel: log10 of ``field`` per kept layer, the line y = 1, and its overflow note."""
    points = (charts.unpack(profile.transform_calculate(value=f"datum.{field}"),
                            ["layer", "value"])
              .transform_filter("isFinite(datum.value)"))
    x = alt.X("layer:Q", title="layer (0 = input)",
              scale=alt.Scale(domainMin=0, domainMax=alt.expr("depth"), nice=False))
    y = alt.Y("value:Q", title=f"{title} (log scale)",
              axis=alt.Axis(labelExpr="'1e' + datum.value", tickMinStep=1))
    marker = alt.OverlayMarkDef(color=charts.COLORS[index], shape=charts.SHAPES[index],
                                filled=True)
    line = points.mark_line(point=marker, color=charts.COLORS[index],
                            strokeDash=charts.DASHES[index]).encode(x=x, y=y)
    one = alt.Chart(alt.sequence(0, 1, as_="one")).mark_rule(color="black", strokeWidth=0.8) \
        .encode(y=alt.datum(0))
    note = profile.transform_filter(f"datum.note_{field} != ''").mark_text(
        align="left", baseline="top", fontSize=13, color=charts.COLORS[3]).encode(
        x=alt.value(8), y=alt.value(8), text=f"note_{field}:N")
    return alt.layer(one, line, note).properties(name=f"profile_{field}", width=290, height=190)
