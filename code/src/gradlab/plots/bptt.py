"""Figures of chapter 3: gradient norms across time, the counterexamples, truncation."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .style import figure, log_y, note, style

GRADIENT_LABEL = r"$\|\partial \mathcal{L}/\partial h_k\|$"
LEGEND_SIZE = 9  # points: at least 9 px on screen once a page scales the figure to its column
WIDTH = 8.0  # inches of a multi-panel figure, about the width of the book's text column


def _axes(ax, ncols=1, width=6.4, height=3.8):
    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes[0].figure, axes
    fig, axes = figure(ncols, width=width, height=height)
    return fig, np.atleast_1d(axes)


def _drawn(values, digits=10):
    """``values`` rounded to ``digits`` significant digits for drawing.

    Two machines' sums differ in the last bits, and that can move an antialiased pixel;
    rounded first, the same curve gives the same image everywhere.
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (np.floor(np.log10(np.abs(values))) - (digits - 1))
        rounded = np.round(values / scale) * scale
    return np.where(np.isfinite(rounded), rounded, values)


def _legend_below(panel, ncols=1):
    """The panel's legend under its x label, where it cannot cover a curve."""
    panel.legend(fontsize=LEGEND_SIZE, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                 ncols=ncols)


def _marks(trace):
    """Marker spacing so a 100-step curve shows about ten markers."""
    return max(1, len(trace.norms) // 10)


def plot_unrolled(steps=4, ax=None):
    r"""Diagram of the RNN unrolled over ``steps`` steps, with the BPTT paths.

    Inputs :math:`x_t` (bottom) feed states :math:`h_t` (middle) through :math:`W_{in}`;
    each state feeds the next through the same :math:`W_{rec}` and a loss :math:`\mathcal{L}_t`
    (top) through the readout :math:`V`. Dashed arrows run backwards: the Jacobians :math:`J_t = \partial h_t/\partial h_{t-1}`.
    """
    fig, (ax,) = _axes(ax, width=7.2, height=3.2)
    box = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "0.2"}
    forward = {"arrowstyle": "-|>", "color": "0.2", "lw": 1.4, "shrinkA": 14, "shrinkB": 14}
    backward = {"arrowstyle": "-|>", "color": style(3)["color"], "lw": 1.4, "linestyle": "--",
                "shrinkA": 14, "shrinkB": 14, "connectionstyle": "arc3,rad=-0.45"}
    ax.text(0, 1, "$h_0$", ha="center", va="center", bbox=box, fontsize=11)
    for t in range(1, steps + 1):
        ax.text(t, 0, f"$x_{t}$", ha="center", va="center", bbox=box, fontsize=11)
        ax.text(t, 1, f"$h_{t}$", ha="center", va="center", bbox=box, fontsize=11)
        ax.text(t, 2, rf"$\mathcal{{L}}_{t}$", ha="center", va="center", bbox=box, fontsize=11)
        ax.annotate("", (t, 1), (t, 0), arrowprops=forward)
        ax.annotate("", (t, 2), (t, 1), arrowprops=forward)
        ax.annotate("", (t, 1), (t - 1, 1), arrowprops=forward)
        ax.annotate("", (t - 1, 1), (t, 1), arrowprops=backward)
        ax.text(t - 0.5, 1.1, "$W_{rec}$", ha="center", va="bottom", fontsize=9)
        ax.text(t - 0.5, 0.72, f"$J_{t}$", ha="center", va="top", fontsize=9,
                color=style(3)["color"])
        ax.text(t + 0.06, 0.45, "$W_{in}$", ha="left", va="center", fontsize=9)
        ax.text(t + 0.06, 1.5, "$V$", ha="left", va="center", fontsize=9)
    ax.text(steps + 0.45, 1.0, "forward: solid\nbackward (BPTT): dashed", ha="left",
            va="center", fontsize=9)
    ax.set_xlim(-0.4, steps + 1.6)
    ax.set_ylim(-0.4, 2.4)
    ax.set_axis_off()
    return fig


def plot_sweep(sweep, ax=None):
    r"""One panel per activation: :math:`\|\partial \mathcal{L}/\partial h_k\|` against k for each radius.

    ``sweep`` is the dict of :func:`gradlab.experiments.bptt.spectral_radius_sweep`.
    The legend gives each radius with its fitted slope (to compare with :math:`\log\rho`).
    """
    activations = list(dict.fromkeys(activation for activation, _ in sweep))
    fig, axes = _axes(ax, ncols=len(activations), width=WIDTH, height=4.8)
    for panel, activation in zip(axes, activations):
        radii = [radius for act, radius in sweep if act == activation]
        for i, radius in enumerate(radii):
            trace = sweep[activation, radius]
            panel.plot(trace.steps, _drawn(trace.norms), markevery=_marks(trace), **style(i),
                       label=rf"$\rho$ = {radius:g}: slope {trace.slope:+.3f}")
        panel.set_title(f"{activation} activation")
        panel.set_xlabel("time step k (loss at the last step)")
        log_y(panel, GRADIENT_LABEL)
        _legend_below(panel, ncols=2)
    return fig


def plot_counterexamples(gaussian, saturated, undriven, ax=None):
    r"""Two panels: the singular value bound is loose, and saturation beats a large bound.

    Left: ``gaussian`` (identity activation) with the bound :math:`\sigma_{\max}^{T-k}` and
    :math:`\rho^{T-k}`. Right: ``saturated`` and ``undriven`` (tanh, orthogonal recurrence)
    with the bound :math:`\sigma_{\max}^{T-k}`. Arguments are ``GradientTrace`` objects.
    """
    fig, (left, right) = _axes(ax, ncols=2, width=WIDTH, height=4.6)
    distance = gaussian.steps[::-1] - 1
    left.plot(gaussian.steps, _drawn(gaussian.norms), markevery=_marks(gaussian), **style(0),
              label=rf"measured (slope {gaussian.slope:+.3f} per step)")
    left.plot(gaussian.steps, _drawn(gaussian.sigma_max ** distance.astype(float)), **style(3),
              markevery=_marks(gaussian),
              label=rf"bound $\sigma_{{\max}}^{{T-k}}$, $\sigma_{{\max}}$ = {gaussian.sigma_max:.3g}")
    left.plot(gaussian.steps, _drawn(gaussian.radius ** distance.astype(float)), color="0.4",
              linestyle=":", marker="none", label=rf"$\rho^{{T-k}}$, $\rho$ = {gaussian.radius:.3g}")
    left.set_title("Gaussian $W_{rec}$, identity activation")
    distance = saturated.steps[::-1] - 1
    for i, trace in enumerate((undriven, saturated)):
        right.plot(trace.steps, _drawn(trace.norms), markevery=_marks(trace), **style(i + 1),
                   label=f"input std {trace.drive:g} (slope {trace.slope:+.3f} per step)")
    right.plot(saturated.steps, _drawn(saturated.sigma_max ** distance.astype(float)),
               color="0.4", linestyle=":", marker="none",
               label=rf"bound $\sigma_{{\max}}^{{T-k}}$, $\sigma_{{\max}}$ = {saturated.sigma_max:.3g}")
    right.set_title(r"orthogonal $W_{rec}$ $\times$ " f"{saturated.sigma_max:.3g}, tanh")
    for panel in (left, right):
        panel.set_xlabel("time step k (loss at the last step)")
        log_y(panel, GRADIENT_LABEL)
        _legend_below(panel)
    return fig


def plot_truncation(comparisons, delay=None, ax=None):
    """Three panels over ``{radius: TruncationComparison}``: cosine and norm ratio of the
    truncated to the full gradient against the window, and the share of the full
    :math:`W_{rec}` gradient at each distance t - k. With ``delay``, the distances from the
    task's delay on (the terms that link a target to the input it recalls) are shaded in
    the right panel and each curve is marked at the delay itself."""
    fig, (cos_ax, ratio_ax, share_ax) = _axes(ax, ncols=3, width=WIDTH, height=3.6)
    for i, (radius, comparison) in enumerate(comparisons.items()):
        label = rf"$\rho$ = {radius:g}"
        cos_ax.plot(comparison.windows, _drawn(comparison.cosine), **style(i), label=label)
        ratio_ax.plot(comparison.windows, _drawn(comparison.norm_ratio), **style(i), label=label)
        share = _drawn(comparison.distance_share)
        share_ax.plot(np.arange(len(share)), np.where(share > 0, share, np.nan), **style(i),
                      markevery=max(1, len(share) // 10), label=label)
        if delay is not None:
            share_ax.plot([delay], [share[delay]], linestyle="none", markersize=9,
                          markerfacecolor="none", markeredgewidth=1.6,
                          **{k: v for k, v in style(i).items() if k != "linestyle"})
    if delay is not None:
        share_ax.axvspan(delay, len(share) - 1, color="0.5", alpha=0.12, linewidth=0)
        share_ax.axvline(delay, color="0.3", linestyle=":", marker="none")
        share_ax.text(delay + 1, 0.03, rf"$t - k \geq \Delta$ = {delay}", fontsize=LEGEND_SIZE,
                      transform=share_ax.get_xaxis_transform(), ha="left", va="bottom")
    cos_ax.set_ylabel("cosine(truncated, full)")
    ratio_ax.set_ylabel("norm truncated / norm full")
    for panel in (cos_ax, ratio_ax):
        panel.set_xscale("log")
        panel.set_xlabel("window w (steps, log scale)")
    share_ax.set_xlabel("distance t - k (steps)")
    log_y(share_ax, "share of the full gradient")
    cos_ax.legend(fontsize=LEGEND_SIZE)
    return fig


class GradientTimeView:
    r"""The explorer's figure: :math:`\|\partial \mathcal{L}/\partial h_k\|` against k, log scale, with the
    linear-RNN reference :math:`\rho^{T-k}` and a note when the gradient overflows or underflows.

    The curve is drawn as :math:`\log_{10}` of the norm on a linear axis whose ticks read
    :math:`10^{n}`: it stays readable from subnormal numbers (1e-320) to the largest
    float (1e308), where matplotlib's log axis overflows while placing its ticks.
    ``update(trace, message)`` only changes artists, so redraws are cheap.
    """

    def __init__(self, width=6.4, height=3.6, dpi=None):
        self.fig, self.ax = figure(width=width, height=height)
        plt.close(self.fig)  # shown by the caller, never twice by the inline backend
        if dpi is not None:
            self.fig.set_dpi(dpi)
        (self.line,) = self.ax.plot([], [], **style(0), markevery=10, label="BPTT")
        (self.reference,) = self.ax.plot([], [], color="0.4", linestyle=":", marker="none",
                                         label=r"$\rho^{T-k}$ (linear RNN)")
        self.ax.set_xlabel("time step k (loss at the last step)")
        self.ax.set_ylabel(f"{GRADIENT_LABEL} (log scale)")
        self.ax.yaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        self.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"$10^{{{v:.0f}}}$"))
        self.note = note(self.ax, "")
        self.note.set_visible(False)

    def update(self, trace, message=None):
        """Show ``trace`` (a ``GradientTrace``); ``message`` (or None) in the note."""
        steps = trace.steps
        with np.errstate(divide="ignore", invalid="ignore"):
            shown = np.log10(trace.norms)
            reference = (steps[::-1] - 1) * np.log10(trace.radius)
        shown[~np.isfinite(shown)] = np.nan
        self.line.set_data(steps, shown)
        self.line.set_markevery(max(1, len(steps) // 10))
        self.reference.set_data(steps, reference)
        self.line.set_label(f"BPTT, {trace.activation} (slope {trace.slope:+.3f} per step)")
        self.ax.legend(loc="best", fontsize=LEGEND_SIZE)
        self.ax.set_xlim(0, len(steps) + 1)
        self.ax.set_ylim(*_decade_limits(np.concatenate([shown, reference])))
        self.ax.set_title(rf"T = {len(steps)}, $\rho$ = {trace.radius:.3g}, "
                          f"input std {trace.drive:g}", fontsize=10)
        self.note.set_text(message or "")
        self.note.set_visible(message is not None)


def _decade_limits(exponents):
    """Axis limits in decades around the finite ``exponents``, one decade of margin."""
    exponents = exponents[np.isfinite(exponents)]
    if exponents.size == 0:
        return -3.0, 3.0
    return np.floor(exponents.min()) - 1, np.ceil(exponents.max()) + 1
