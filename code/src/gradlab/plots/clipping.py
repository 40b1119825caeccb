"""Figures of chapter 4's clipping demonstrations (results from ``experiments.clipping``)."""

from dataclasses import dataclass

import numpy as np
from matplotlib.patches import Circle, Rectangle

from .style import PALETTE, figure, log_y, retitle, style

HATCHES = ("", "//", "..")


def plot_worked_example(example, axes=None):
    """Components of g, its norm-clipped and its value-clipped version; then their directions.

    Left: the components with the threshold :math:`\\pm c` dashed. Right: each
    vector divided by its norm: norm clipping keeps the direction, value clipping does not.
    """
    if axes is None:
        _, axes = figure(ncols=2, width=7.2, height=3.1)
    vectors = {"g": example.g, "clipped by norm": example.by_norm.after,
               "clipped by value": example.by_value.after}
    index = np.arange(len(example.g))
    width = 0.26
    for panel, unit in zip(axes, (False, True)):
        for i, (label, v) in enumerate(vectors.items()):
            heights = v / np.linalg.norm(v) if unit else v
            panel.bar(index + (i - 1) * width, heights, width, label=label, color=style(i)["color"],
                      hatch=HATCHES[i], edgecolor="black", linewidth=0.6)
        panel.axhline(0, color="black", linewidth=0.8, marker="")
        panel.set_xticks(index, [f"$g_{k + 1}$" for k in index])
    for sign in (1, -1):
        axes[0].axhline(sign * example.threshold, color=PALETTE["black"], linestyle="--",
                        linewidth=1, marker="")
    axes[0].set_ylabel(f"component (threshold ±{example.threshold:g} dashed)")
    axes[0].set_title("the vectors")
    axes[1].set_ylabel("component of v / ||v||")
    axes[1].set_title("their directions")
    axes[0].legend(loc="upper right", fontsize=8)
    return axes


@dataclass
class VectorPanel:
    """The artists of one 2-D clipping panel, updated in place by ``update_vector_panel``."""

    ax: object
    before: object
    after: object
    circle: object
    square: object
    text: object


def draw_vector_panel(ax, limit=6.5):
    """Axes with the gradient (solid, circle tip) and its clipped version (dashed, square tip)."""
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("$g_1$")
    ax.set_ylabel("$g_2$")
    region = {"facecolor": PALETTE["sky"], "alpha": 0.25, "edgecolor": PALETTE["blue"]}
    circle = ax.add_patch(Circle((0, 0), 1.0, **region))
    square = ax.add_patch(Rectangle((-1, -1), 2, 2, **region))
    (before,) = ax.plot([0, 0], [0, 0], label="gradient g", markevery=[1], markersize=8,
                        **style(0))
    (after,) = ax.plot([0, 0], [0, 0], label="after clipping", markevery=[1], markersize=8,
                       linewidth=2.6, **style(3))
    text = ax.text(0.02, 0.98, "", transform=ax.transAxes, va="top", fontsize=8,
                   bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    ax.legend(loc="lower right", fontsize=8)
    return VectorPanel(ax, before, after, circle, square, text)


def update_vector_panel(panel, result):
    """Show one ``experiments.clipping.ClipResult`` (2-D) in the panel."""
    c = result.threshold
    panel.before.set_data([0, result.before[0]], [0, result.before[1]])
    panel.after.set_data([0, result.after[0]], [0, result.after[1]])
    panel.circle.set_radius(c)
    panel.square.set_bounds(-c, -c, 2 * c, 2 * c)
    panel.circle.set_visible(result.mode == "norm")
    panel.square.set_visible(result.mode == "value")
    region = "disc ||g|| ≤ c" if result.mode == "norm" else "square |g_i| ≤ c"
    retitle(panel.ax, f"clip by {result.mode} (shaded: {region})", 9)
    panel.text.set_text(f"c = {c:.3g}\n"
                        f"||g|| = {result.norm_before:.3g} → {result.norm_after:.3g}\n"
                        f"direction turned by {result.angle_deg:.1f}°")


def plot_optimizer_traces(traces, threshold, axes=None):
    """Step length per step for each optimiser, without and with clipping (log scale).

    ``traces`` maps an optimiser name to ``(unclipped, clipped)`` ``OptimizerTrace`` pairs.
    """
    if axes is None:
        _, axes = figure(ncols=len(traces), width=7.2, height=3.0)
    axes = np.atleast_1d(axes)
    for ax, (name, pair) in zip(axes, traces.items()):
        for i, (label, trace) in enumerate(zip(("no clipping", f"clipped at {threshold:g}"), pair)):
            ax.plot(trace.step_length, label=label, markevery=5, **style(i))
        spike = int(np.argmax(pair[0].grad_norm))
        ax.axvline(spike, color=PALETTE["black"], linewidth=0.8, linestyle=":", marker="")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step (dotted: the gradient spike)")
        log_y(ax, "step length ||Δw||")
        ax.legend(fontsize=8)
    return axes


def plot_policy_runs(runs_by_scenario, axes=None):
    """Toy loss per step under each non-finite policy, one panel per scenario (log scale).

    ``runs_by_scenario`` maps a scenario name to a list of ``PolicyRun``.
    """
    if axes is None:
        _, axes = figure(ncols=len(runs_by_scenario), width=7.2, height=3.0, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (scenario, runs) in zip(axes, runs_by_scenario.items()):
        for i, run in enumerate(runs):
            label = run.policy
            if run.stopped_at is not None:
                label += f" (stopped at step {run.stopped_at})"
            ax.plot(run.loss, label=label, markevery=6, **style(i))
        ax.set_title(f"non-finite gradients: {scenario}", fontsize=10)
        ax.set_xlabel("step")
        log_y(ax, "toy loss")
        ax.legend(fontsize=8)
    return axes

