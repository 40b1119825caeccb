"""Explorer of chapter 3: sequence length, spectral radius, activation → gradient across time.

``explorer`` is the live ipywidget; ``chart`` is the same explorer without a kernel (the
website, and JupyterLab before anything runs), over a table of ``explorer_trace`` runs on a
grid of its controls: a few sequence lengths T, the radius ρ in steps of 0.1 and a few input
scales. Each run keeps about ``POINTS`` time steps of ``log10‖∂ℒ/∂h_k‖`` (two decimals: a
1 % error, invisible on a log axis), packed as one text field the browser splits; the
reference line ρ^(T−k) is a formula. A linear RNN's gradient does not depend on its inputs, so
the identity runs are stored once per (T, ρ).
"""

import altair as alt
import ipywidgets as widgets
import numpy as np

from .. import charts
from ..experiments import bptt
from ..plots.bptt import GradientTimeView
from .png import png_interactive

N_HIDDEN = 32
ACTIVATIONS = ("identity", "tanh")
# The chart's grid of the explorer's controls.
CHART_STEPS = (20, 50, 100)
CHART_RADII = tuple(np.round(np.arange(1, 31) / 10, 1))
CHART_DRIVES = (0.0, 0.5, 1.0, 2.0, 3.0)
POINTS = 25
DESCRIPTION = (
    "The gradient norm ‖∂ℒ/∂h_k‖ of a recurrent network with 32 hidden units against the time "
    "step k, on a log scale, for a loss at the last step T, with the line ρ^(T−k) a linear "
    "network would follow. Controls: the sequence length T, the spectral radius ρ of the "
    "recurrent weights, the activation and the input scale; a note says where the gradient "
    "overflowed or underflowed.")


def explorer_trace(steps, radius, activation, drive=0.5, seed=0):
    """The explorer's compute step: one fixed Gaussian W_rec (H = 32) rescaled to ``radius``.

    Returns the ``GradientTrace`` and the overflow/underflow message (or None).
    """
    base = bptt.gaussian_recurrence(N_HIDDEN, 1.0, np.random.default_rng(seed))
    trace = bptt.gradient_through_time(base * radius, activation, steps, drive, seed + 1)
    return trace, bptt.numerical_failure(trace.norms)


def explorer(steps=100, radius=1.1, activation="tanh", drive=0.5):
    """Sliders for T, the spectral radius, the activation and the input std; returns
    ``widgets.interactive`` whose ``result`` is the redrawn figure."""
    view = GradientTimeView()
    view.ax.title.set_animated(True)  # a new title each move, drawn over the figure (widgets.png)

    def show(steps, radius, activation, drive):
        view.update(*explorer_trace(steps, radius, activation, drive))
        return view.fig

    return png_interactive(
        show,
        steps=widgets.IntSlider(steps, min=2, max=1000, step=1, description="T"),
        radius=widgets.FloatSlider(radius, min=0.05, max=3.0, step=0.05,
                                   description="radius ρ"),
        activation=widgets.Dropdown(options=["identity", "tanh"], value=activation,
                                    description="activation"),
        drive=widgets.FloatSlider(drive, min=0.0, max=3.0, step=0.25, description="input std"))


def chart_steps(steps):
    """The time steps k kept for a run of length ``steps``: about ``POINTS``, ends included."""
    return np.unique(np.round(np.linspace(1, steps, min(steps, POINTS))).astype(int))


def chart_table():
    """``explorer_trace`` on the chart's grid: one row per run, log10 norms packed as text."""
    rows = {"T": [], "rho": [], "activation": [], "drive": [], "slope": [], "note": [],
            "log_norm": []}
    for steps in CHART_STEPS:
        keep = chart_steps(steps) - 1
        for radius in CHART_RADII:
            for activation in ACTIVATIONS:
                for drive in CHART_DRIVES if activation == "tanh" else (0.0,):
                    trace, message = explorer_trace(steps, radius, activation, drive)
                    rows["T"].append(steps)
                    rows["rho"].append(radius)
                    rows["activation"].append(activation)
                    rows["drive"].append(drive)
                    rows["slope"].append(trace.slope)
                    rows["note"].append(message or "")
                    rows["log_norm"].append(charts.packed_log10(trace.norms[keep], 2))
    return rows


def chart(steps=100, radius=1.1, activation="tanh", drive=0.5):
    """The explorer as a Vega-Lite chart (``charts.show`` it) over ``chart_table``."""
    controls = [
        charts.choice("T", "T", steps, CHART_STEPS),
        charts.slider("rho", "radius ρ", radius, float(CHART_RADII[0]), float(CHART_RADII[-1]),
                      0.1),
        charts.choice("activation", "activation", activation, ACTIVATIONS, radio=True),
        charts.choice("drive", "input std", drive, CHART_DRIVES),
    ]
    run = (
        alt.Chart(charts.table(chart_table()))
        .transform_filter("datum.T == T && abs(datum.rho - rho) < 1e-6 && datum.activation == "
                          "activation && (activation == 'identity' || datum.drive == drive)")
    )
    series = (
        charts.unpack(charts.with_positions(run, "T", CHART_STEPS, chart_steps, "k"),
                      ["k", "log_norm"])
        .transform_calculate(BPTT="datum.log_norm", reference="(T - datum.k) * log(rho) / LN10")
        .transform_fold(["BPTT", "reference"], as_=["series", "value"])
        .transform_calculate(series="datum.series == 'BPTT' ? 'BPTT, ' + activation + ' (slope '"
                                    " + format(datum.slope, '+.3f') + ' per step)' : "
                                    "'ρ^(T−k) (linear RNN)'")
        .transform_filter("isFinite(datum.value)")
    )
    x = alt.X("k:Q", title="time step k (loss at the last step)",
              scale=alt.Scale(domainMin=0, domainMax=alt.expr("T + 1"), nice=False))
    y = alt.Y("value:Q", title="‖∂ℒ/∂h_k‖ (log scale)",
              axis=alt.Axis(labelExpr="'1e' + datum.value", tickMinStep=1))
    lines = series.mark_line(strokeWidth=2).encode(
        x=x, y=y, detail="series:N",
        color=alt.Color("series:N", legend=alt.Legend(title=None),
                        scale=alt.Scale(range=[charts.COLORS[0], "#666666"])),
        strokeDash=alt.StrokeDash("series:N", legend=alt.Legend(title=None),
                                  scale=alt.Scale(range=[charts.DASHES[0], charts.DASHES[3]])))
    note = run.transform_filter("datum.note != ''").mark_text(
        align="left", baseline="top", fontSize=13, color=charts.COLORS[3]).encode(
        x=alt.value(8), y=alt.value(8), text="note:N")
    title = alt.Title(alt.expr("'T = ' + T + ', ρ = ' + format(rho, '.1f') + ', input std ' "
                               "+ drive"))
    return charts.window_width(
        alt.layer(lines, note).add_params(*controls)
        .properties(name="gradient_through_time", height=300, title=title,
                    description=DESCRIPTION))
