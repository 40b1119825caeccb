r"""Explorer: a 2-D gradient clipped by value or by norm, before and after.

``explorer`` is the live ipywidget (threshold, mode, the gradient's two components),
drawn through ``plots.clipping``; ``chart`` is the same explorer without a kernel (the
website, and JupyterLab before anything runs). The maths is two formulas, so the browser
evaluates them as Vega expressions and the chart holds no table of states:
:math:`g_i \leftarrow \max(-c, \min(c, g_i))` by value, and
:math:`g \leftarrow g\, c/\max(\|g\|, c)` by norm (one tensor: per-tensor and global norm
clipping are the same rule, up to PyTorch's :math:`\epsilon = 10^{-6}`). The shaded region is
where clipping leaves g alone.
"""

import altair as alt
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .. import charts
from ..experiments.clipping import MODES, clip_vector
from ..plots.clipping import draw_vector_panel, update_vector_panel
from ..plots.style import PALETTE, figure
from .png import png_interactive

LIMIT = 6.0  # slider range of each gradient component


def explorer(g=(4.0, 1.5), threshold=2.0, mode="value"):
    """Sliders for the threshold and the gradient, a mode toggle; a ``widgets.interactive``."""
    fig, ax = figure(width=4.6, height=4.4)
    plt.close(fig)  # shown through the widget's output only
    panel = draw_vector_panel(ax, limit=LIMIT + 0.5)
    # What a move changes is drawn over the cached axes (widgets.png); the axes never change.
    for artist in (panel.before, panel.after, panel.circle, panel.square, panel.text, ax.title):
        artist.set_animated(True)

    def show(threshold, mode, g1, g2):
        update_vector_panel(panel, clip_vector(np.array([g1, g2]), threshold, mode))
        return fig

    return png_interactive(
        show,
        threshold=widgets.FloatSlider(value=threshold, min=0.1, max=8.0, step=0.1,
                                      description="threshold c"),
        mode=widgets.ToggleButtons(options=MODES, value=mode, description="mode"),
        g1=widgets.FloatSlider(value=g[0], min=-LIMIT, max=LIMIT, step=0.1, description="g₁"),
        g2=widgets.FloatSlider(value=g[1], min=-LIMIT, max=LIMIT, step=0.1, description="g₂"),
    )


SIZE = 340  # pixels: the plot is square and fits a phone's width
SERIES = ("gradient g", "after clipping")

# The clipped vector (k₁, k₂), the norms and the turn in degrees, from the params c, mode, g1, g2.
CLIPPED = {
    "norm_g": "sqrt(g1 * g1 + g2 * g2)",
    "k1": "mode == 'value' ? clamp(g1, -c, c) : g1 * c / max(datum.norm_g, c)",
    "k2": "mode == 'value' ? clamp(g2, -c, c) : g2 * c / max(datum.norm_g, c)",
    "norm_k": "sqrt(datum.k1 * datum.k1 + datum.k2 * datum.k2)",
    "turn": "datum.norm_k == 0 ? 0 : abs(atan2(g2, g1) - atan2(datum.k2, datum.k1)) * 180 / PI",
    "angle": "datum.turn > 180 ? 360 - datum.turn : datum.turn",
}


DESCRIPTION = (
    "A 2-D gradient g drawn as an arrow from the origin, and the same gradient after clipping "
    "at threshold c, by value (each component cut to ±c) or by norm (the whole vector scaled "
    "to length c). Sliders set c and g's components; radio buttons choose the rule. The text "
    "gives the norm before and after and how far the direction turned.")


def chart(g=(4.0, 1.5), threshold=2.0, mode="value"):
    """The explorer as a Vega-Lite chart (``charts.show`` it); same controls as the live one."""
    if mode not in MODES:
        raise ValueError(f"unknown clipping mode {mode!r}; choose 'value' or 'norm'")
    c = alt.param(name="c", value=threshold,
                  bind=alt.binding_range(min=0.1, max=8.0, step=0.1, name="threshold c "))
    rule = alt.param(name="mode", value=mode,
                     bind=alt.binding_radio(options=list(MODES), name="clip by "))
    g1 = alt.param(name="g1", value=g[0],
                   bind=alt.binding_range(min=-LIMIT, max=LIMIT, step=0.1, name="g₁ "))
    g2 = alt.param(name="g2", value=g[1],
                   bind=alt.binding_range(min=-LIMIT, max=LIMIT, step=0.1, name="g₂ "))
    axis = {"scale": alt.Scale(domain=[-LIMIT - 0.5, LIMIT + 0.5], nice=False)}
    x = alt.X("x:Q", title="g₁", **axis)
    y = alt.Y("y:Q", title="g₂", **axis)

    # The region |gᵢ| ≤ c or ‖g‖ ≤ c, traced once round by angle (a square: r = c / max|cos|,|sin|).
    region = (
        alt.Chart(alt.sequence(0, 361, 5, as_="deg"))
        .transform_calculate(
            r="mode == 'norm' ? c : c / max(abs(cos(datum.deg * PI / 180)),"
              " abs(sin(datum.deg * PI / 180)))")
        .transform_calculate(x="datum.r * cos(datum.deg * PI / 180)",
                             y="datum.r * sin(datum.deg * PI / 180)")
        .mark_line(filled=True, fill=PALETTE["sky"], fillOpacity=0.25, stroke=PALETTE["blue"],
                   strokeWidth=1)
        .encode(x=x, y=y, order="deg:Q")
    )
    # Each vector as a segment from the origin (t = 0) to its tip (t = 1).
    vectors = (
        alt.Chart(charts.table({"series": [s for s in SERIES for _ in (0, 1)], "t": [0, 1] * 2}))
        .transform_calculate(**CLIPPED)
        .transform_calculate(
            x="datum.t * (datum.series == 'gradient g' ? g1 : datum.k1)",
            y="datum.t * (datum.series == 'gradient g' ? g2 : datum.k2)")
    )
    encodings = charts.series("series", SERIES, title=None)
    arrows = vectors.mark_line(strokeWidth=2.6).encode(
        x=x, y=y, order="t:Q", color=encodings["color"], strokeDash=encodings["strokeDash"])
    tips = vectors.transform_filter("datum.t == 1").mark_point(size=110, opacity=1).encode(
        x=x, y=y, color=encodings["color"], shape=encodings["shape"])
    readout = (
        vectors.transform_filter("datum.t == 1 && datum.series == 'after clipping'")
        .transform_calculate(text="'‖g‖ = ' + format(datum.norm_g, '.3g') + ' → '"
                             " + format(datum.norm_k, '.3g') + '\\ndirection turned by '"
                             " + format(datum.angle, '.1f') + '°'")
        .mark_text(align="left", baseline="top", lineBreak="\n", fontSize=13)
        .encode(x=alt.value(6), y=alt.value(6), text="text:N")
    )
    title = alt.Title(alt.expr("mode == 'norm' ? 'clip by norm (shaded: the disc ‖g‖ ≤ c)'"
                               " : 'clip by value (shaded: the square |gᵢ| ≤ c)'"))
    return (
        alt.layer(region, arrows, tips, readout)
        .add_params(c, rule, g1, g2)
        .properties(name="clip_vector", width=SIZE, height=SIZE, title=title,
                    description=DESCRIPTION)
    )
