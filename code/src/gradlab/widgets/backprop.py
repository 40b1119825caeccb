r"""Chapter 1 explorer: depth and weight of the scalar chain -> both gradients per layer.

``explorer`` is the live ipywidget (``experiments.backprop.scalar_chain`` drawn by
``plots.backprop.ChainView``); ``chart`` is the same explorer without a kernel, for the
website and for JupyterLab before anything runs. With one weight w in every layer and input 1
the chain's recursions have closed forms: the signal :math:`|\partial L/\partial a_i| =
|w|^{L-i}`, the activation :math:`|a_i| = |w|^i` and the weight gradient
:math:`|\partial L/\partial w_i| = |w|^{L-i}|w|^{i-1}`, so the browser evaluates them as Vega
expressions over the layers 1..L and the chart holds no table. In float32 a value above
3.4e38 becomes inf and one below half the smallest subnormal (7e-46) becomes 0, as the
explorer's float32 arrays do; a log axis cannot show either, so they are left out and counted
in a note, as the explorer's note counts them.
"""

import altair as alt
import ipywidgets as widgets
import matplotlib.pyplot as plt

from .. import charts
from ..experiments.backprop import PRECISIONS, scalar_chain
from ..plots import figure
from ..plots.backprop import ChainView
from .png import png_interactive

# Exact, roughly log-spaced weights: 0.5, 1 and 2 are reachable, so the chapter's table can
# be replayed on the slider.
WEIGHTS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
MAX_DEPTH = 100


def chain_figure(width=6.4, height=3.6, dpi=100):
    """A closed figure holding an empty ChainView (displayed explicitly, never twice)."""
    fig, ax = figure(width=width, height=height, dpi=dpi)
    plt.close(fig)
    return fig, ChainView(ax)


def show_chain(view, depth, weight, precision):
    """The explorer's redraw for one state; returns the overflow messages."""
    return view.update(scalar_chain(depth, weight, precision=precision))


def explorer(depth=20, weight=2.0, precision="float32"):
    """Sliders for depth L and weight w, a precision menu, and the chain's gradients.

    Args:
        depth: initial number of layers (1..100).
        weight: initial weight, one of ``WEIGHTS``.
        precision: ``"float32"`` (overflows above about 3.4e38, as a framework would)
            or ``"float64"``.

    Returns:
        ``ipywidgets.interactive``; its ``result`` is the redrawn figure.
    """
    fig, view = chain_figure()
    view.ax.title.set_animated(True)  # a new title each move, drawn over the figure (widgets.png)

    def draw(depth, weight, precision):
        show_chain(view, depth, weight, precision)
        view.ax.set_title(f"L = {depth}, w = {weight:g}, {precision}")
        return fig

    return png_interactive(
        draw,
        depth=widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth L",
                                continuous_update=False),
        weight=widgets.SelectionSlider(options=WEIGHTS, value=weight, description="weight w",
                                       continuous_update=False),
        precision=widgets.Dropdown(options=PRECISIONS, value=precision, description="precision"))


# Where float32 leaves its range (float64 does it by itself in the browser's arithmetic).
FLOAT32 = "(precision == 'float32' ? (abs({0}) > 3.4028234663852886e38 ? 1 / 0 : " \
          "abs({0}) < 7.006492321624085e-46 ? 0 : {0}) : {0})"
SERIES = ("signal |∂ℒ/∂aᵢ|", "weight gradient |∂ℒ/∂wᵢ|")
DESCRIPTION = (
    "Gradient magnitudes per layer of a chain of L scalar layers with one weight w, on a "
    "log axis: the signal reaching each layer and the weight's gradient. Controls: the depth "
    "L, the weight w and the floating-point precision; a note names values that overflowed "
    "to inf or underflowed to 0, which a log axis cannot show.")


def _f32(expression):
    return FLOAT32.format(f"({expression})")


def chart(depth=20, weight=2.0, precision="float32"):
    """The explorer as a Vega-Lite chart (``charts.show`` it); same controls as the live one."""
    controls = [
        charts.slider("L", "depth L", depth, 1, MAX_DEPTH, 1),
        charts.choice("w", "weight w", weight, WEIGHTS),
        charts.choice("precision", "precision", precision, PRECISIONS, radio=True),
    ]
    layers = (
        alt.Chart(alt.sequence(1, MAX_DEPTH + 1, as_="i"))
        .transform_filter("datum.i <= L")
        .transform_calculate(
            signal=_f32("pow(abs(w), L - datum.i)"),
            before=_f32("pow(abs(w), datum.i - 1)"),
            activation=_f32("pow(abs(w), datum.i)"))
        .transform_calculate(grad=_f32("datum.signal * datum.before"))
    )
    encodings = charts.series("series", SERIES)
    values = (
        layers.transform_fold(["signal", "grad"], as_=["quantity", "value"])
        .transform_calculate(series=f"datum.quantity == 'signal' ? '{SERIES[0]}' : '{SERIES[1]}'")
        .transform_filter("isFinite(datum.value) && datum.value > 0")
    )
    x = alt.X("i:Q", title="layer i (1 = input side)",
              scale=alt.Scale(domainMin=0.5, domainMax=alt.expr("L + 0.5"), nice=False))
    y = alt.Y("value:Q", **charts.log_scale("gradient magnitude"))
    lines = values.mark_line().encode(x=x, y=y, color=encodings["color"],
                                      strokeDash=encodings["strokeDash"])
    # A marker on about 25 layers, as the explorer's markevery: fewer marks, a faster redraw.
    markers = values.transform_filter("(L - datum.i) % max(1, floor(L / 25)) == 0").mark_point(
        opacity=1).encode(x=x, y=y, color=encodings["color"], shape=encodings["shape"])
    note = (
        layers.transform_calculate(**{
            f"{name}_{kind}": f"{test.format(f'datum.{name}')} ? 1 : 0"
            for name in ("activation", "signal", "grad")
            for kind, test in (("inf", "!isFinite({})"), ("zero", "{} == 0"))})
        .transform_aggregate(**{f"{name}_{kind}": f"sum({name}_{kind})"
                                for name in ("activation", "signal", "grad")
                                for kind in ("inf", "zero")})
        .transform_calculate(text=_note_text())
        .mark_text(align="left", baseline="top", lineBreak="\n", fontSize=13, color="#D55E00")
        .encode(x=alt.value(8), y=alt.value(8), text="text:N")
    )
    return charts.window_width(
        alt.layer(lines, markers, note)
        .add_params(*controls)
        .properties(name="scalar_chain", height=300,
                    title=alt.Title(alt.expr("'L = ' + L + ', w = ' + w + ', ' + precision")),
                    description=DESCRIPTION)
    )


def _note_text():
    """One line per quantity that left the range, as ``nonfinite_report`` words it (with counts)."""
    parts = []
    for name, label in (("activation", "forward activation"), ("signal", "signal ∂ℒ/∂a"),
                        ("grad", "weight gradient ∂ℒ/∂w")):
        for kind, problem in (("inf", "overflowed to inf"), ("zero", "underflowed to 0")):
            field = f"datum.{name}_{kind}"
            parts.append(f"({field} == 0 ? '' : '{label} {problem} at ' + ({field} == L ? "
                         f"'every layer' : {field} + ' of ' + L + ' layers') + '\\n')")
    return " + ".join(parts)
