"""Figures and tables of chapter 4's training experiments (regression, spiral, adding problem).

Every function takes computed results and an optional ``ax``; curves use the
course style (colour, line style and marker together) and log axes where the
quantity spans decades. Non-finite values are never drawn: a run that diverged
ends where it diverged and gets an annotation saying so.
"""

import numpy as np
from IPython.display import Markdown
from matplotlib.ticker import MaxNLocator

from .style import PALETTE, SEQUENTIAL_CMAP, figure, log_y, note, style


def markdown_table(rows, columns, formats=None):
    """A Markdown table from a list of dicts; ``formats`` maps a column to a format string."""
    formats = formats or {}

    def cell(row, column):
        value = row[column]
        if isinstance(value, float) and not np.isfinite(value):
            return "NaN" if np.isnan(value) else str(value)
        return formats.get(column, "{}").format(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row, c) for c in columns) + " |" for row in rows]
    return Markdown("\n".join(lines))


def _axes(ax, **figure_kwargs):
    return figure(**figure_kwargs) if ax is None else (ax.figure, ax)


def threshold_sweep(thresholds, results, ax=None):
    """Final test MSE against clipping threshold (log-log), one curve per mode.

    ``results`` maps a label to an (n_thresholds, n_seeds) array; the curve is the
    median over seeds, the shaded band spans the smallest to the largest seed.
    """
    fig, ax = _axes(ax)
    thresholds = np.asarray(thresholds, float)
    for i, (label, values) in enumerate(results.items()):
        values = np.asarray(values, float)
        ax.plot(thresholds, np.nanmedian(values, axis=1), label=label, **style(i))
        ax.fill_between(thresholds, np.nanmin(values, axis=1), np.nanmax(values, axis=1),
                        color=style(i)["color"], alpha=0.15, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("clipping threshold (log scale)")
    log_y(ax, "final test MSE")
    ax.legend()
    return fig


def running_mean(values, window):
    """Mean of each full window of ``window`` consecutive values (NaN inside stays NaN).

    Output ``i`` averages ``values[i : i + window]``; length ``len(values) - window + 1``.
    """
    values = np.asarray(values, float)
    if window <= 1:
        return values
    return np.convolve(values, np.full(window, 1.0 / window), mode="valid")


def curves(ax, series, xlabel, ylabel, log=True, x=None, smooth=1, ylim=None):
    """Draw each labelled 1-D series (NaN where it has stopped); mark where it stopped.

    ``series`` maps a label to an array; a trailing run of NaN after finite values
    is treated as a divergence and marked with a cross at the last finite point.
    ``smooth`` > 1 draws the running mean over that many points instead. ``ylim``
    fixes the vertical range (values outside leave the chart; set it when a series
    reaches values near overflow, which automatic log limits cannot handle).
    """
    for i, (label, values) in enumerate(series.items()):
        with np.errstate(invalid="ignore", over="ignore"):
            values = running_mean(values, smooth)
        steps = (np.arange(1, len(values) + 1) + smooth - 1 if x is None
                 else np.asarray(x)[smooth - 1:])
        finite = np.isfinite(values)
        ax.plot(steps[finite], values[finite], label=label, markevery=max(len(values) // 8, 1),
                **style(i))
        if finite.any() and not finite[-1]:
            last = np.flatnonzero(finite)[-1]
            ax.plot(steps[last], values[last], marker="X", markersize=10, linestyle="none",
                    color=style(i)["color"])
    if ylim is not None:
        ax.set_ylim(*ylim)
    if log:
        log_y(ax, ylabel)
    else:
        ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.legend()
    return ax


def seed_strip(ax, rows, xlabel, log=True, reference=None):
    """One row per label: every seed's value as a dot, the median as a bar, the
    quartiles as a line; non-finite values (diverged runs) are counted at the right.

    ``rows`` maps a label to a 1-D array over seeds; ``reference`` optionally maps a
    label to a published value, drawn as a star. For chaotic runs, whose single
    values move between machines while their spread does not.
    """
    labels = list(rows)
    for i, label in enumerate(labels):
        values = np.asarray(rows[label], float)
        finite = values[np.isfinite(values)]
        y = len(labels) - 1 - i
        color = style(i)["color"]
        if finite.size:
            q1, median, q3 = np.percentile(finite, [25, 50, 75])
            ax.plot([q1, q3], [y, y], color=color, linewidth=3, alpha=0.5, marker="none")
            ax.plot([median], [y], marker="|", markersize=16, markeredgewidth=2.5,
                    color=color, linestyle="none")
            ax.plot(finite, np.full(finite.size, y) + _jitter(finite.size), linestyle="none",
                    marker=style(i)["marker"], markersize=4, color=color, alpha=0.7)
        if finite.size < values.size:
            ax.text(1.0, y, f"{values.size - finite.size} diverged ", ha="right", va="center",
                    transform=ax.get_yaxis_transform(), fontsize=9,
                    color=PALETTE["vermillion"])
        if reference and label in reference:
            ax.plot([reference[label]], [y], marker="*", markersize=11, linestyle="none",
                    color=PALETTE["black"])
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.grid(False, axis="y")
    if log:
        ax.set_xscale("log")
        xlabel += " (log scale)"
    ax.set_xlabel(xlabel)
    return ax


def _jitter(n, width=0.25):
    """Fixed vertical offsets spreading ``n`` dots over ``[-width, width]``."""
    return np.linspace(-width, width, n) if n > 1 else np.zeros(n)


def shares(ax, rows, xlabel):
    """One row per label: a ``stats.Share`` as a dot with its 95 % Wilson interval."""
    labels = list(rows)
    for i, label in enumerate(labels):
        share = rows[label]
        y = len(labels) - 1 - i
        ax.errorbar([100 * share.fraction], [y],
                    xerr=[[100 * max(share.fraction - share.low, 0.0)],
                          [100 * max(share.high - share.fraction, 0.0)]],
                    capsize=4, linestyle="none", color=style(i)["color"],
                    marker=style(i)["marker"])
        ax.text(100 * share.high + 2, y, f"{share.k} of {share.n}", va="center", fontsize=9)
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlim(0, 115)
    ax.grid(False, axis="y")
    ax.set_xlabel(xlabel)
    return ax


def order_drift(ax, runs, labels):
    """Relative difference of the test MSE between each pair of ``order_twins`` runs.

    ``runs`` is ``regression.order_twins``'s result: rows ``2 i`` and ``2 i + 1`` are
    one setting summed in two orders. A difference of exactly 0 is drawn at 1e-17.
    """
    curves_ = {}
    for i, label in enumerate(labels):
        first, second = runs.test_curve[2 * i, 0], runs.test_curve[2 * i + 1, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            curves_[label] = np.maximum(np.abs(second - first) / np.abs(first), 1e-17)
    curves(ax, curves_, "epoch", "relative difference of the test MSE", ylim=(1e-17, 10))
    ax.axhline(2.2e-16, color=PALETTE["black"], linewidth=1, linestyle=":")
    ax.text(1, 3e-16, "one rounding step (2.2e-16)", fontsize=8, va="bottom")
    return ax


def parameter_gradients(ax, norms, names, floor=1e-8):
    """Each parameter's gradient norm per step (log scale); exact zeros drawn at ``floor``.

    ``norms`` is (steps, n_parameters), NaN after a divergence.
    """
    steps = np.arange(len(norms))
    for i, name in enumerate(names):
        values = np.where(norms[:, i] == 0.0, floor, norms[:, i])
        ax.plot(steps, values, label=f"gradient of {name}", markevery=max(len(steps) // 8, 1),
                **style(i))
    ax.axhline(floor, color=PALETTE["black"], linewidth=1, linestyle=":")
    ax.text(steps[-1], floor * 3, "exactly 0", ha="right", va="bottom", fontsize=8)
    log_y(ax, "gradient norm")
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    return ax


def decision_boundary(xs, ys, p, X, y, ax=None, title=None):
    """P(class 1) over the plane in bands of 0.1, with the 0.5 contour and the training points.

    Bands rather than a smooth shading: they read as well and keep the figure small.
    """
    fig, ax = _axes(ax, width=3.4, height=3.2)
    image = ax.contourf(xs, ys, p, levels=np.linspace(0.0, 1.0, 11), cmap=SEQUENTIAL_CMAP,
                        vmin=0.0, vmax=1.0)
    if np.nanmin(p) < 0.5 < np.nanmax(p):
        ax.contour(xs, ys, p, levels=[0.5], colors=[PALETTE["vermillion"]], linewidths=1.5)
    labels = np.asarray(y).ravel() > 0.5
    for i, (cls, marker) in enumerate(((False, "o"), (True, "^"))):
        pts = X[labels == cls]
        ax.scatter(pts[:, 0], pts[:, 1], s=9, marker=marker, edgecolors="black", linewidths=0.4,
                   facecolors="white" if cls else PALETTE["black"], label=f"class {int(cls)}")
    ax.set_aspect("equal")
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig, image


def explorer_figure(epochs):
    """The training explorer's figure: test MSE per epoch, without and with clipping.

    Returns ``(fig, artists)``; ``artists`` holds the two lines, the divergence
    markers and the annotation text that ``update_explorer`` changes.
    """
    fig, ax = figure(width=5.6, height=3.4)
    x = np.arange(1, epochs + 1)
    lines = [ax.plot(x, np.full(epochs, np.nan), label=label, markevery=max(epochs // 8, 1),
                     **style(i))[0]
             for i, label in enumerate(("no clipping", "clipped (global norm)"))]
    crosses = [ax.plot([], [], marker="X", markersize=10, linestyle="none",
                       color=style(i)["color"])[0] for i in range(2)]
    ax.set_xlim(0.5, epochs + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    log_y(ax, "test MSE")
    ax.legend(loc="upper right")
    text = note(ax, "")
    text.set_position((0.5, 0.25))
    text.set_visible(False)
    return fig, {"ax": ax, "lines": lines, "crosses": crosses, "note": text}


def update_explorer(artists, runs):
    """Redraw the explorer for a two-row ``regression.ManyRuns`` (unclipped, clipped)."""
    messages = []
    finite_values = []
    for row, (line, cross, name) in enumerate(zip(artists["lines"], artists["crosses"],
                                                  ("no clipping", "clipped"))):
        curve = runs.test_curve[row, 0]
        line.set_ydata(curve)
        if runs.diverged_epoch[row, 0] >= 0:
            epoch, step = runs.diverged_epoch[row, 0], runs.diverged_step[row, 0]
            messages.append(f"{name}: diverged at epoch {epoch}, step {step}")
            finite = np.flatnonzero(np.isfinite(curve))
            cross.set_data(([finite[-1] + 1], [curve[finite[-1]]]) if finite.size else ([], []))
        else:
            cross.set_data([], [])
        finite_values.append(curve[np.isfinite(curve)])
    values = np.concatenate(finite_values)
    ax = artists["ax"]
    if values.size:
        low, high = values.min(), values.max()
        ax.set_ylim(max(low, 1e-12) / 2, max(high, 1e-12) * 2)
    else:
        messages.append("no finite test MSE to plot")
    text = artists["note"]
    text.set_text("\n".join(messages))
    text.set_visible(bool(messages))
    return artists


def gradient_norm_traces(steps_series, limit=None, ax=None):
    """Global gradient norm per step (log scale), with the clipping threshold as a line."""
    fig, ax = _axes(ax)
    curves(ax, steps_series, "training step", "global gradient norm")
    if limit is not None:
        ax.axhline(limit, color=PALETTE["black"], linewidth=1, linestyle=":",
                   label=f"threshold {limit:g}")
        ax.legend()
    return fig
