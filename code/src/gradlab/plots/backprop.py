"""Figures of chapter 1: the computational graph and the scalar chain's gradients."""

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.transforms import offset_copy

from ..experiments.backprop import nonfinite_report
from .style import PALETTE, figure, log_y, style

FORWARD = PALETTE["black"]
BACKWARD = PALETTE["vermillion"]

# The graph of a 2-layer MLP with an MSE loss: (name, label, kind, (x, y)).
_NODES = [
    ("x", "$x$", "data", (0.0, 0.0)),
    ("lin1", "Linear", "op", (1.6, 0.0)),
    ("z1", "$z_1$", "data", (3.2, 0.0)),
    ("act", "tanh", "op", (4.8, 0.0)),
    ("h", "$h$", "data", (6.4, 0.0)),
    ("lin2", "Linear", "op", (8.0, 0.0)),
    ("yhat", r"$\hat y$", "data", (9.6, 0.0)),
    ("loss", "MSE", "op", (11.2, 0.0)),
    ("L", r"$\mathcal{L}$", "data", (12.8, 0.0)),
    ("W1", "$W_1$", "param", (1.1, 1.5)),
    ("b1", "$b_1$", "param", (2.1, 1.5)),
    ("W2", "$W_2$", "param", (7.5, 1.5)),
    ("b2", "$b_2$", "param", (8.5, 1.5)),
    ("y", "$y$", "data", (11.2, 1.5)),
]
_FORWARD_EDGES = [("x", "lin1"), ("lin1", "z1"), ("z1", "act"), ("act", "h"), ("h", "lin2"),
                  ("lin2", "yhat"), ("yhat", "loss"), ("loss", "L"), ("W1", "lin1"),
                  ("b1", "lin1"), ("W2", "lin2"), ("b2", "lin2"), ("y", "loss")]
# Backward edges: (from, to, label); each carries dL/d(to).
_BACKWARD_EDGES = [("L", "yhat", r"$\partial \mathcal{L}/\partial \hat y$"),
                   ("yhat", "h", r"$\partial \mathcal{L}/\partial h$"),
                   ("h", "z1", r"$\partial \mathcal{L}/\partial z_1$"),
                   ("z1", "x", r"$\partial \mathcal{L}/\partial x$"),
                   ("lin1", "W1", r"$\partial \mathcal{L}/\partial W_1$"),
                   ("lin2", "W2", r"$\partial \mathcal{L}/\partial W_2$")]
_RADIUS = 0.42


def draw_graph(ax=None):
    """Draw the computational graph of a 2-layer MLP with an MSE loss.

    Circles are values (inputs, intermediate results, the loss; parameters shaded),
    boxes are operations. Solid black arrows are the forward pass; dashed vermillion
    arrows are the backward pass, each labelled with the gradient it carries.

    Returns:
        the axes.
    """
    if ax is None:
        _, ax = figure(width=9.0, height=3.0)
    positions = {name: np.array(xy) for name, _, _, xy in _NODES}
    patches = {}
    for name, label, kind, xy in _NODES:
        if kind == "op":
            patch = FancyBboxPatch((xy[0] - 0.55, xy[1] - 0.3), 1.1, 0.6,
                                   boxstyle="round,pad=0.05", facecolor="#CFE8F7",
                                   edgecolor=FORWARD)
        else:
            face = "#FAF5B8" if kind == "param" else "white"
            patch = Circle(xy, _RADIUS, facecolor=face, edgecolor=FORWARD)
        patches[name] = ax.add_patch(patch)
        ax.text(*xy, label, ha="center", va="center", fontsize=11)
    arrow = {"arrowstyle": "-|>", "mutation_scale": 12, "shrinkA": 1, "shrinkB": 1}
    for start, end in _FORWARD_EDGES:
        ax.add_patch(FancyArrowPatch(positions[start], positions[end], color=FORWARD,
                                     patchA=patches[start], patchB=patches[end], **arrow))
    for start, end, label in _BACKWARD_EDGES:
        along_chain = positions[start][1] == positions[end][1]
        bend = -0.45 if along_chain else -0.5
        ax.add_patch(FancyArrowPatch(positions[start], positions[end], color=BACKWARD,
                                     linestyle="--", connectionstyle=f"arc3,rad={bend}",
                                     patchA=patches[start], patchB=patches[end], **arrow))
        middle = (positions[start] + positions[end]) / 2
        offset = np.array([0.0, -0.95]) if along_chain else np.array([-1.0, 0.0])
        ax.text(*(middle + offset), label, ha="center", va="center", fontsize=10,
                color=BACKWARD)
    ax.plot([], [], color=FORWARD, linestyle="-", marker="", label="forward: values")
    ax.plot([], [], color=BACKWARD, linestyle="--", marker="", label="backward: gradients")
    ax.legend(loc="upper center", bbox_to_anchor=(0.36, 1.0))
    ax.set_xlim(-0.7, 13.5)
    ax.set_ylim(-1.25, 2.05)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


class ChainView:
    """Per-layer |signal| and |weight gradient| of a scalar chain on a log axis.

    ``update(chain)`` redraws in place (line data, limits and one note), so an
    explorer can call it on every slider move. Values that overflowed to ``inf`` or
    underflowed to 0 cannot sit on a log axis: they are left out of the lines and
    named in the note instead.
    """

    SERIES = (("signals", r"signal $|\partial \mathcal{L}/\partial a_i|$"),
              ("weight_grads", r"weight gradient $|\partial \mathcal{L}/\partial w_i|$"))

    MESSAGE_LINES = 3  # at most one message each for activations, signals and weight gradients

    def __init__(self, ax):
        self.ax = ax
        self.lines = [ax.plot([], [], label=label, **style(i))[0]
                      for i, (_, label) in enumerate(self.SERIES)]
        log_y(ax, "gradient magnitude")
        ax.set_xlabel("layer i (1 = input side)")
        # Under the x label at a fixed distance in points, whatever the axes' height.
        below_label = offset_copy(ax.transAxes, ax.figure, y=-34, units="points")
        legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0),
                           bbox_transform=below_label, ncols=2)
        # Under the legend, outside the axes, so it never hides a curve; always as many lines
        # high, so the axes keep their size whether or not something overflowed.
        self.message = ax.annotate("", (0.5, 0.0), xycoords=legend, xytext=(0, -2),
                                   textcoords="offset points", ha="center", va="top",
                                   fontsize=9, color=PALETTE["vermillion"])
        self._show([])

    def _show(self, messages):
        self.message.set_text("\n".join(messages + [" "] * (self.MESSAGE_LINES - len(messages))))

    def update(self, chain):
        """Show ``chain`` (a ``ScalarChain``); returns the list of overflow messages."""
        shown = []
        for line, (attribute, _) in zip(self.lines, self.SERIES):
            magnitude = np.abs(getattr(chain, attribute).astype(np.float64))
            magnitude[~np.isfinite(magnitude) | (magnitude == 0)] = np.nan
            line.set_data(chain.layers, magnitude)
            line.set_markevery(max(1, chain.depth // 25))
            shown.append(magnitude)
        self.ax.set_xlim(0.5, chain.depth + 0.5)
        self.ax.set_ylim(*_decade_limits(np.concatenate(shown)))
        messages = nonfinite_report(chain)
        self._show(messages)
        return messages


def _decade_limits(values):
    """Whole-decade log-axis limits with a margin around the finite values (at least two)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.1, 10.0
    low = np.floor(np.log10(finite.min()) - 0.3)
    high = np.ceil(np.log10(finite.max()) + 0.3)
    return 10.0 ** low, 10.0 ** high


def plot_weight_comparison(chains, axes=None):
    """Signals (left) and weight gradients (right) per layer for chains of different w.

    Args:
        chains: ScalarChains of one depth with uniform weights.
        axes: two axes, or ``None`` for a new figure.

    Returns:
        the two axes.
    """
    if axes is None:
        _, axes = figure(ncols=2, width=8.0, height=3.4, sharey=True)
    titles = (r"signal $|\partial \mathcal{L}/\partial a_i|$", r"weight gradient $|\partial \mathcal{L}/\partial w_i|$")
    for ax, attribute, title in zip(axes, ("signals", "weight_grads"), titles):
        for i, chain in enumerate(chains):
            ax.plot(chain.layers, np.abs(getattr(chain, attribute)),
                    label=f"w = {chain.weights[0]:g}", **style(i))
        ax.set_title(title)
        ax.set_xlabel("layer i (1 = input side)")
        ax.set_xticks(chains[0].layers)
    log_y(axes[0], "magnitude")
    # One legend for both panels, under them: inside, it would cover the w = 1 line.
    axes[0].figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                          ncols=len(chains))
    return axes


def plot_eps_sweep(eps_values, errors, ax=None):
    """Gradient-check relative error against the finite-difference step, log-log."""
    if ax is None:
        _, ax = figure(width=5.6, height=3.4)
    ax.plot(eps_values, errors, **style(0))
    ax.set_xscale("log")
    log_y(ax, "relative error")
    ax.set_xlabel(r"finite-difference step $\epsilon$ (log scale)")
    return ax
