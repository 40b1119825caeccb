"""Figures of chapter 6: Adam after a spike, clipping rules over seeds, (L0, L1)-smoothness,
bad batches, DP-SGD's clipping bias."""

import matplotlib.pyplot as plt
import numpy as np

from .style import PALETTE, figure, log_y, style

LEGEND_SIZE = 8


# Adam's update norms of every run the explorers offer, with room for the legend.
LOG_RANGE = (-5.5, -1.3)  # log10
UPDATE_LIMITS = tuple(10.0 ** e for e in LOG_RANGE)


class SpikeView:
    """Adam's update norm per step: no spike, one spike, the spike clipped before Adam.

    ``update(response)`` (an ``adam_spike.SpikeResponse``) only changes artists.
    """

    def __init__(self, width=6.4, height=3.6):
        self.fig, self.ax = figure(width=width, height=height)
        plt.close(self.fig)
        labels = ("no spike", "one spike, no clipping", "spike clipped before Adam")
        self.lines = [self.ax.plot([], [], **style(i), markevery=25, label=label)[0]
                      for i, label in enumerate(labels)]
        self.marker = self.ax.axvline(0, color="0.5", linestyle=":", linewidth=1)
        self.ax.set_xlabel("step")
        log_y(self.ax, "Adam update norm")
        self.ax.legend(loc="lower right", fontsize=LEGEND_SIZE)

    def update(self, response):
        steps = np.arange(len(response.clean))
        for line, run in zip(self.lines, (response.clean, response.spiked, response.clipped)):
            line.set_data(steps, run)
        self.marker.set_xdata([response.spike_step, response.spike_step])
        self.ax.set_xlim(0, len(steps))
        self.ax.set_ylim(*UPDATE_LIMITS)  # fixed: moves compare, and the layout holds
        self.ax.set_title(f"spike ×{response.spike:g}, β₂ = {response.beta2:g}, clip at "
                          f"{response.threshold:g}: next {response.window} updates "
                          f"{response.shrink_spiked:.2f}× (clipped {response.shrink_clipped:.2f}×)",
                          fontsize=9)


def plot_spikes(responses):
    """One ``SpikeView``-like panel per response, side by side."""
    fig, axes = figure(ncols=len(responses), width=6.4 * len(responses) / 1.6, height=3.4,
                       sharey=True)
    for ax, r in zip(np.atleast_1d(axes), responses):
        steps = np.arange(len(r.clean))
        for i, (run, label) in enumerate(((r.clean, "no spike"), (r.spiked, "one spike"),
                                          (r.clipped, "spike clipped first"))):
            ax.plot(steps, run, **style(i), markevery=25, label=label)
        ax.axvline(r.spike_step, color="0.5", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(f"β₂ = {r.beta2:g}, spike ×{r.spike:g}", fontsize=10)
    np.atleast_1d(axes)[0].set_ylabel("Adam update norm (log scale)")
    np.atleast_1d(axes)[0].legend(fontsize=LEGEND_SIZE, loc="lower left")
    return fig


def plot_rules(runs_by_task):
    """Final relative error per rule, one dot per seed with median and quartiles, per task."""
    fig, axes = figure(ncols=len(runs_by_task), width=6.8, height=3.4, sharey=True)
    rng = np.random.default_rng(0)  # horizontal jitter only
    for ax, (title, runs) in zip(np.atleast_1d(axes), runs_by_task.items()):
        for i, rule in enumerate(runs.rules):
            e = runs.error[i]
            x = i + 0.25 * (rng.random(e.size) - 0.5)
            ax.plot(x, e, linestyle="none", marker=".", markersize=2, alpha=0.35,
                    color=style(i)["color"])
            q1, med, q3 = np.percentile(e, [25, 50, 75])
            ax.errorbar(i, med, yerr=[[med - q1], [q3 - med]], color="black", marker="_",
                        markersize=14, capsize=3, linestyle="none")
        ax.set_xticks(range(len(runs.rules)), runs.rules)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("clipping rule")
    np.atleast_1d(axes)[0].set_ylabel("final |w − w*|² / |w*|² (log scale)")
    return fig


def plot_smoothness(quartic_runs, trace):
    """Left: |x_t| on x⁴/4 for each run (log scale). Right: local smoothness against the
    gradient norm along a training run (log-log)."""
    fig, (left, right) = figure(ncols=2, width=7.2, height=3.4)
    for i, (label, xs) in enumerate(quartic_runs.items()):
        left.plot(np.arange(len(xs)), np.abs(xs), **style(i), markevery=40, label=label)
    left.set_yscale("log")
    left.set_ylim(1e-2, 1e6)
    left.set_xlabel("step")
    left.set_ylabel("|x| (log scale)")
    left.legend(fontsize=LEGEND_SIZE)
    left.set_title("f(x) = x⁴/4 from x₀ = 10", fontsize=10)
    right.loglog(trace.grad_norm, trace.smoothness, linestyle="none", marker="o",
                 markersize=3, color=PALETTE["blue"], alpha=0.6)
    right.set_xlabel("gradient norm ‖∇f(w)‖ (log scale)")
    right.set_ylabel("local smoothness (log scale)")
    right.set_title(f"regression MLP, log-log slope {trace.slope():.2f}", fontsize=10)
    return fig


def plot_bad_batches(runs):
    """Median relative error over seeds per step for each policy; dotted lines at bad batches."""
    fig, ax = figure(width=6.4, height=3.6)
    steps = np.arange(1, runs.median_error_curve.shape[1] + 1)
    for i, policy in enumerate(runs.policies):
        ax.plot(steps, runs.median_error_curve[i], **style(i), markevery=40, label=policy)
    for s in runs.bad_steps:
        ax.axvline(s + 1, color="0.5", linestyle=":", linewidth=1)
    log_y(ax, "median |w − w*|² / |w*|²")
    ax.set_xlabel("step")
    ax.legend(fontsize=LEGEND_SIZE, ncols=2)
    return fig


def plot_dp(thresholds, start_fraction, end_fraction, loss, reference_loss):
    """Share of clipped examples (left) and final loss (right) against the clip norm C."""
    fig, (left, right) = figure(ncols=2, width=7.2, height=3.2)
    left.semilogx(thresholds, start_fraction, **style(0), label="at the start (w = 0)")
    left.semilogx(thresholds, end_fraction, **style(1), label="at the end")
    left.set_xlabel("clip norm C (log scale)")
    left.set_ylabel("share of examples clipped")
    left.legend(fontsize=LEGEND_SIZE)
    right.semilogx(thresholds, loss, **style(2), label="DP-SGD without noise")
    right.axhline(reference_loss, color="0.4", linestyle=":", label="no clipping (optimum)")
    right.set_xlabel("clip norm C (log scale)")
    right.set_ylabel("final training loss")
    right.legend(fontsize=LEGEND_SIZE)
    return fig
