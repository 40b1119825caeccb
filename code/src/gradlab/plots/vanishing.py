"""Figures of chapter 2: activation derivatives, deep MLPs at initialisation, divergence.

Every function takes computed results (from ``gradlab.experiments``) and draws
them; none of them trains or initialises anything.
"""

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from .. import nn
from ..experiments import deep_mlp
from .style import PALETTE, RC, figure, log_y, note, style


def _positive(values):
    """Values as floats with non-finite and non-positive entries masked (gaps on a log axis)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _log_limits(values, fallback=(0.1, 10.0)):
    """Log-axis limits around the finite positive values, with a margin; ``fallback`` if none."""
    shown = _positive(values)
    shown = shown[np.isfinite(shown)]
    if not shown.size:
        return fallback
    return shown.min() / 3.0, min(shown.max() * 3.0, np.finfo(np.float64).max)


def _round_depth(depth):
    """The x axis' right end: ``depth`` rounded up to a step of 1, 5 or 10 layers."""
    step = 10 if depth > 20 else 5 if depth > 5 else 1
    return step * int(np.ceil(depth / step))


def _round_decades(limits):
    """Log limits widened to whole decades (to tens of decades over a span of more than 20),
    inside the float64 range: the axis moves in steps, not with every value."""
    low, high = np.log10(limits)
    step = 10 if high - low > 20 else 1
    low, high = step * np.floor(low / step), step * np.ceil(high / step)
    largest = np.finfo(np.float64).max
    return 10.0 ** max(low, -300), 10.0 ** high if high <= 308 else largest


class _FiniteLogLocator(LogLocator):
    """Log-axis ticks without those beyond the float64 range.

    Over a span of ~300 decades matplotlib's locator puts its last tick past 1.8e308,
    i.e. at inf, which its formatter cannot label (OverflowError on drawing).
    """

    def tick_values(self, vmin, vmax):
        with np.errstate(over="ignore"):
            ticks = super().tick_values(vmin, vmax)
        return ticks[np.isfinite(ticks)]


def plot_activation_derivatives(x=None, names=("sigmoid", "tanh", "relu", "identity"), ax=None):
    """Each activation's derivative over ``x``, with the sigmoid's ceiling 1/4 marked."""
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=np.float64)
    if ax is None:
        _, ax = figure(width=6.4, height=3.2)
    for i, name in enumerate(names):
        ax.plot(x, nn.activation(name).derivative(x), label=name, markevery=40, **style(i))
    ax.axhline(0.25, color=PALETTE["black"], linewidth=0.8, linestyle=":")
    ax.annotate("sigmoid' ≤ 1/4", (x[0], 0.25), xytext=(0, 4), textcoords="offset points")
    ax.set_xlabel("pre-activation $a$")
    ax.set_ylabel(r"derivative $\phi'(a)$")
    ax.legend(loc="center right")
    return ax


def plot_init_profiles(profiles, axes=None):
    """Rows: activations; columns: activation scale and gradient norm per layer (log scale).

    ``profiles`` maps ``(activation, init)`` to ``deep_mlp.InitProfile``.
    """
    activations = list(dict.fromkeys(a for a, _ in profiles))
    inits = list(dict.fromkeys(i for _, i in profiles))
    if axes is None:
        _, axes = figure(ncols=2, nrows=len(activations), width=7.2,
                         height=2.6 * len(activations), sharex=True, squeeze=False)
    for row, activation in zip(axes, activations):
        for i, init in enumerate(inits):
            p = profiles[(activation, init)]
            every = max(1, p.depth // 10)
            row[0].plot(p.layers, _positive(p.activation_scale), label=init, markevery=every,
                        **style(i))
            row[1].plot(p.layers, _positive(p.gradient_norm), label=init, markevery=every,
                        **style(i))
        for ax, what in zip(row, ("activation scale", "gradient norm")):
            ax.axhline(1.0, color=PALETTE["black"], linewidth=0.8)
            log_y(ax, what)
            ax.set_title(f"{activation}: {what}")
        row[0].legend(title="init")
    for ax in axes[-1]:
        ax.set_xlabel("layer (0 = input)")
    return axes


def plot_jacobian_bounds(bounds, ax=None):
    """Measured gradient norm below the output between its singular-value bounds."""
    if ax is None:
        _, ax = figure(width=6.4, height=3.4)
    layers = np.arange(len(bounds.ratio))
    # the notation of the text: J_l = D_l W_l, gamma = max |phi'|, products over l > k
    curves = [(bounds.loose_upper, r"$\prod\ \gamma\,\sigma_{\max}(W_l)$"),
              (bounds.upper, r"$\prod\ \sigma_{\max}(J_l)$"),
              (bounds.ratio, "measured ratio"),
              (bounds.lower, r"$\prod\ \sigma_{\min}(J_l)$")]
    every = max(1, len(layers) // 10)
    for i, (values, label) in enumerate(curves):
        ax.plot(layers, _positive(values), label=label, markevery=every, **style(i))
    log_y(ax, "gradient norm ratio")
    ax.set_xlabel("layer $k$ (0 = input)")
    ax.legend(loc="lower right")
    return ax


def _mark_divergence(ax, history):
    """Vertical line and note at the step where training stopped."""
    if history.diverged is None:
        return
    step = history.diverged.step
    ax.axvline(step, color=PALETTE["vermillion"], linewidth=1.0, linestyle="--")
    reason = history.diverged.reason.removeprefix("the ")
    note(ax, f"{reason}\nat step {step} (epoch {history.diverged.epoch})").set_fontsize(9)


def plot_divergence_trace(history, ax=None):
    """Global gradient norm per step up to the failure (log scale), the failure marked."""
    if ax is None:
        _, ax = figure(width=6.4, height=3.4)
    norms = np.asarray(history.grad_norm, dtype=np.float64)
    ax.plot(np.arange(len(norms)), _positive(norms), **style(0))
    _mark_divergence(ax, history)
    log_y(ax, "global gradient norm")
    ax.set_xlabel("step (0-based)")
    return ax


def _cap_top(ax, series, headroom=100.0):
    """Keep the typical values readable: cut the axis ``headroom`` above their 90th percentile.

    An explosion then leaves the panel at the top instead of flattening everything else.
    """
    values = _positive(np.concatenate([np.asarray(v, dtype=np.float64) for v in series]))
    values = values[np.isfinite(values)]
    if values.size:
        ax.set_ylim(values.min() / 3.0, np.percentile(values, 90) * headroom)


def plot_monitor(histories, axes=None):
    """The three monitoring panels for training runs, one curve per run.

    ``histories`` maps a label to a ``train.History``. Panels: global gradient
    norm per step, each parameter's gradient norm (first run only, the one under
    diagnosis), and the update-to-weight ratio per step; all log scale.
    """
    if axes is None:
        _, axes = figure(nrows=3, width=7.2, height=6.0, sharex=True)
    labels = list(histories)
    for i, label in enumerate(labels):
        h = histories[label]
        steps = np.arange(len(h.grad_norm))
        every = max(1, len(steps) // 12)
        axes[0].plot(steps, _positive(h.grad_norm), label=label, markevery=every, **style(i))
        axes[2].plot(steps, _positive(h.update_ratio), label=label, markevery=every, **style(i))
    first = histories[labels[0]]
    for i, (name, norms) in enumerate(first.layer_grad_norms.items()):
        axes[1].plot(np.arange(len(norms)), _positive(norms), label=name,
                     markevery=max(1, len(norms) // 12), **style(i))
    _cap_top(axes[0], [h.grad_norm for h in histories.values()])
    _cap_top(axes[1], list(first.layer_grad_norms.values()))
    _cap_top(axes[2], [h.update_ratio for h in histories.values()])
    log_y(axes[0], "global grad norm")
    log_y(axes[1], "grad norm")
    log_y(axes[2], "‖Δw‖ / ‖w‖")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].legend(loc="upper left", fontsize=8, ncols=2, title=labels[0], title_fontsize=8)
    axes[2].legend(loc="upper left", fontsize=8)
    for ax in axes:
        if first.diverged is not None:
            ax.axvline(first.diverged.step, color=PALETTE["vermillion"], linewidth=1.0,
                       linestyle="--")
    axes[-1].set_xlabel("step")
    return axes


def plot_test_mse(results, ax=None):
    """Test MSE over seeds, one row per run (original target units, log scale).

    ``results`` maps a label to the test MSEs of its seeds (NaN where a seed diverged).
    Each seed is a dot, the box spans the quartiles with the median as a bar, and the
    number of diverged seeds is written on the right.
    """
    if ax is None:
        _, ax = figure(width=6.4, height=0.55 * len(results) + 1.2)
    labels = list(results)
    for y, label in enumerate(labels):
        values = np.asarray(results[label], dtype=np.float64).ravel()
        finite = values[np.isfinite(values)]
        if finite.size:
            spread = (np.arange(finite.size) % 9 - 4) * 0.05   # fixed offsets, no randomness
            ax.plot(finite, y + spread, linestyle="none", marker=".", markersize=4,
                    color=PALETTE["blue"])
            q1, median, q3 = np.percentile(finite, [25, 50, 75])
            ax.add_patch(mpl.patches.Rectangle((q1, y - 0.3), q3 - q1, 0.6, fill=False,
                                               edgecolor=PALETTE["black"], linewidth=1.2))
            ax.plot([median, median], [y - 0.3, y + 0.3], color=PALETTE["vermillion"],
                    linewidth=2.5, linestyle="-", marker="none")
        lost = values.size - finite.size
        if lost:
            ax.annotate(f"{lost} of {values.size} diverged", (1, y),
                        xycoords=("axes fraction", "data"), xytext=(-4, 0),
                        textcoords="offset points", ha="right", va="center",
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlabel("test MSE, original target units (log scale)")
    ax.grid(axis="y", visible=False)
    return ax


class ProfileView:
    """The explorer's figure: activation scale and gradient norm per layer for one profile.

    Built once; ``update(profile)`` moves the existing artists (no new figure). Its axes
    move in steps (``_round_depth``, ``_round_decades``), so most moves of the live explorer
    redraw only the curves (``widgets.png``). Values outside the float64 range leave gaps
    and a note on the plot says where they overflowed.
    """

    def __init__(self, profile, width=7.2, height=3.0, dpi=80):
        with mpl.rc_context(RC):
            # Fixed margins: a layout engine would re-measure every tick label on each redraw.
            self.fig = Figure(figsize=(width, height), dpi=dpi)
            self.fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.83, wspace=0.32)
            self.axes = self.fig.subplots(1, 2)
        self.lines = []
        for i, (ax, what) in enumerate(zip(self.axes, ("activation scale", "gradient norm"))):
            ax.axhline(1.0, color=PALETTE["black"], linewidth=0.8)
            (line,) = ax.plot([], [], **style(i))
            self.lines.append(line)
            log_y(ax, what)
            ax.yaxis.set_major_locator(_FiniteLogLocator())
            ax.yaxis.set_minor_locator(_FiniteLogLocator(subs="auto"))
            ax.set_xlabel("layer (0 = input)")
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        self.notes = [note(ax, "") for ax in self.axes]
        for text in self.notes:
            text.set_fontsize(9)
        self.update(profile)

    def update(self, profile):
        """Redraw for ``profile``; returns the overflow messages joined ('' if all finite).

        Activation messages go on the left panel, gradient messages on the right.
        """
        every = max(1, profile.depth // 12)
        for ax, line, values in zip(self.axes, self.lines,
                                    (profile.activation_scale, profile.gradient_norm)):
            line.set_data(profile.layers, _positive(values))
            line.set_markevery(every)
            xlim, ylim = (0, _round_depth(max(profile.depth, 1))), _round_decades(
                _log_limits(values))
            if ax.get_xlim() != xlim:  # setting equal limits would still redraw the axes
                ax.set_xlim(*xlim)
            if ax.get_ylim() != ylim:
                ax.set_ylim(*ylim)
        title = f"{profile.activation}, {profile.init} init"
        if self.axes[0].get_title() != title:
            self.axes[0].set_title(title, fontsize=10)
        messages = deep_mlp.failures(profile)
        for text, prefix in zip(self.notes, ("activations", "gradient")):
            mine = [m.replace(" to ", "\nto ", 1) for m in messages if m.startswith(prefix)]
            text.set_text("\n".join(mine))
            text.set_visible(bool(mine))
        return "\n".join(messages)
