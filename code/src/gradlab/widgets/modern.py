"""Explorer of chapter 6: spike size, β₂ and a clip threshold → Adam's next updates.

``explorer`` is the live ipywidget (``adam_spike.spike_response`` computes,
``plots.modern.SpikeView`` draws); ``chart`` is the same explorer without a kernel (the
website, and JupyterLab before anything runs), over ``adam_spike.spike_responses`` on a grid:
every spike size of ``CHART_SPIKES``, β₂ of ``BETA2S`` and threshold of ``CHART_THRESHOLDS``
(``inf``: no clipping). A run keeps the update norms of ``chart_steps`` as ``log10`` at two
decimals (a 2 % step on an axis of three decades), packed as text; most states share their
curves (a clip above the spike's norm changes nothing), so each distinct curve is stored once
and every state names its three curves by number.
"""

import math

import altair as alt
import ipywidgets as widgets
import numpy as np

from .. import charts
from ..experiments import adam_spike
from ..plots.modern import LOG_RANGE, SpikeView
from .png import png_interactive

BETA2S = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


def explorer(spike=1000.0, beta2=0.999, threshold=10.0):
    """Sliders for the spike's size, Adam's β₂ and the clip threshold; returns
    ``widgets.interactive`` whose ``result`` is the redrawn figure."""
    view = SpikeView()
    view.ax.title.set_animated(True)  # a new title each move, drawn over the figure (widgets.png)

    def show(spike, beta2, threshold):
        view.update(adam_spike.spike_response(spike, beta2, threshold))
        return view.fig

    return png_interactive(
        show,
        spike=widgets.FloatLogSlider(spike, base=10, min=0, max=4, step=0.25,
                                     description="spike ×"),
        beta2=widgets.SelectionSlider(options=list(BETA2S), value=beta2, description="β₂"),
        threshold=widgets.FloatLogSlider(threshold, base=10, min=0, max=5, step=0.25,
                                         description="clip at"))


CHART_SPIKES = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000)
CHART_THRESHOLDS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000, math.inf)
NO_CLIP = "no clipping"
SERIES = ("no spike", "one spike, no clipping", "spike clipped before Adam")
RUNS = ("clean", "spiked", "clipped")  # the SpikeResponse fields drawn as SERIES
DESCRIPTION = (
    "Adam's update norm per step, on a log scale, for a noisy gradient of 50 coordinates "
    "over 300 steps: without a spike, with every coordinate multiplied by the spike size at "
    "step 100 (a dotted line), and with that spike clipped to a global norm before Adam. "
    "Controls: the spike size, Adam's β₂ and the clip threshold (or no clipping). A text "
    "gives the mean size of the next 100 updates relative to the run without a spike.")


def chart_steps(n_steps=300, spike_step=100):
    """The steps a chart keeps: every fifth, and every step of the 20 after the spike."""
    return np.unique(np.concatenate([np.arange(0, n_steps, 5),
                                     np.arange(spike_step, spike_step + 21)]))


def threshold_label(threshold):
    """The threshold as the chart's menu shows it: ``"10"``, ``"100000"``, ``"no clipping"``."""
    return NO_CLIP if math.isinf(threshold) else f"{threshold:g}"


def chart_tables():
    """``spike_responses`` on the chart's grid: a table of states (β₂, spike, threshold label,
    the ratios of the next updates, the numbers of the three curves) and one of the distinct
    curves (number, packed ``log10`` update norms at ``chart_steps``)."""
    keep = chart_steps()
    curves = {}  # packed text -> its number
    states = {key: [] for key in ("beta2", "spike", "clip", "shrink_spiked", "shrink_clipped")
              + RUNS}
    for beta2 in BETA2S:
        responses = adam_spike.spike_responses(CHART_SPIKES, beta2, CHART_THRESHOLDS)
        for (spike, threshold), r in responses.items():
            states["beta2"].append(beta2)
            states["spike"].append(spike)
            states["clip"].append(threshold_label(threshold))
            states["shrink_spiked"].append(r.shrink_spiked)
            states["shrink_clipped"].append(r.shrink_clipped)
            for run in RUNS:
                packed = charts.packed_log10(getattr(r, run)[keep], 2)
                states[run].append(curves.setdefault(packed, len(curves)))
    return states, {"curve": list(curves.values()), "log_norm": list(curves)}


def chart(spike=1000, beta2=0.999, threshold=10):
    """The explorer as a Vega-Lite chart (``charts.show`` it) over ``chart_tables``."""
    if spike not in CHART_SPIKES or beta2 not in BETA2S or threshold not in CHART_THRESHOLDS:
        raise ValueError(f"the chart's grid: spike in {CHART_SPIKES}, beta2 in {BETA2S}, "
                         f"threshold in {CHART_THRESHOLDS}")
    labels = [threshold_label(c) for c in CHART_THRESHOLDS]
    controls = [
        alt.param(name="spike", value=spike,
                  bind=alt.binding_select(options=list(CHART_SPIKES), name="spike size × ",
                                          labels=[f"{s:g}" for s in CHART_SPIKES])),
        alt.param(name="beta2", value=beta2,
                  bind=alt.binding_radio(options=list(BETA2S), name="β₂ ")),
        alt.param(name="clip", value=threshold_label(threshold),
                  bind=alt.binding_select(options=labels, name="clip at ")),
    ]
    states, curves = chart_tables()
    state = (alt.Chart(charts.table(states, digits=3))
             .transform_filter("datum.spike == spike && abs(datum.beta2 - beta2) < 1e-9 && "
                               "datum.clip == clip"))
    runs = (
        state.transform_fold(list(RUNS), as_=["run", "curve"])
        .transform_lookup(lookup="curve",
                          from_=alt.LookupData(charts.table(curves), "curve", ["log_norm"]))
        .transform_calculate(
            series=" : ".join(f"datum.run == '{run}' ? '{name}'"
                              for run, name in zip(RUNS, SERIES)) + " : ''",
            index=f"indexof({list(RUNS)}, datum.run)",
            k="'" + " ".join(map(str, chart_steps())) + "'")
    )
    points = charts.unpack(runs, ["k", "log_norm"])
    encodings = charts.series("series", SERIES, title=None)
    x = alt.X("k:Q", title="step", scale=alt.Scale(domain=[0, 300], nice=False))
    y = alt.Y("log_norm:Q", title="Adam update norm (log scale)",
              scale=alt.Scale(domain=list(LOG_RANGE), nice=False),
              axis=alt.Axis(labelExpr="'1e' + datum.value", values=list(range(-5, -1))))
    lines = points.mark_line().encode(x=x, y=y, color=encodings["color"],
                                      strokeDash=encodings["strokeDash"])
    # A marker every 25 steps, each series 10 steps after the last, so curves on top of each
    # other still show every marker.
    markers = points.transform_filter("datum.k % 25 == 10 * datum.index").mark_point(
        opacity=1).encode(
        x=x, y=y, color=encodings["color"], shape=encodings["shape"])
    spike_step = alt.Chart(alt.sequence(0, 1, as_="one")).mark_rule(
        color="#888888", strokeDash=[2, 3], strokeWidth=1).encode(x=alt.datum(100))
    readout = state.transform_calculate(
        text="'next 100 updates against no spike:\\n×' + format(datum.shrink_spiked, '.2f') "
             "+ ' unclipped' + (clip == 'no clipping' ? '' : ', ×' + "
             "format(datum.shrink_clipped, '.2f') + ' clipped')"
    ).mark_text(align="left", baseline="top", lineBreak="\n", fontSize=13).encode(
        x=alt.value(8), y=alt.value(6), text="text:N")
    title = alt.Title(alt.expr("'spike ×' + spike + ', β₂ = ' + beta2 + ', ' + "
                               "(clip == 'no clipping' ? 'no clipping' : 'clip at ' + clip)"))
    return (alt.layer(spike_step, lines, markers, readout).add_params(*controls)
            .properties(name="adam_spike", width="container", height=300, title=title,
                        description=DESCRIPTION))
