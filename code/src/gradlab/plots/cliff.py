"""Figures of the cliff (``gradlab.cliff`` and ``experiments.cliff_runs``)."""

from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib import patheffects
from matplotlib.colors import LogNorm
from matplotlib.patches import Rectangle

from .. import cliff
from .style import PALETTE, SEQUENTIAL_CMAP, figure, log_y, note, retitle, style

FLOOR = 1e-12  # smallest gradient norm shown on a log colour scale
ZOOM_GRID = 121  # points per side of the zoom panel's map
LOSS_FLOOR = 1e-4  # losses below this share the darkest colour, so the plateaus' 0.09 and
# 0.49 on either side of the wall differ visibly
LEVELS = 24  # colours of the maps: bands read like contours (and keep the images small)


def plot_map(surface, ax, quantity="loss", colorbar=True):
    """Loss or gradient norm over the (w, b) grid on a log colour scale, with the wall dotted."""
    values = surface.loss if quantity == "loss" else surface.grad_norm
    label = "loss E(w, b)" if quantity == "loss" else "gradient norm ||∇E||"
    values = np.maximum(values, LOSS_FLOOR if quantity == "loss" else FLOOR)
    mesh = ax.pcolormesh(surface.w, surface.b, values, shading="auto", rasterized=True,
                         norm=LogNorm(vmin=values.min(), vmax=values.max()),
                         cmap=mpl.colormaps[SEQUENTIAL_CMAP].resampled(LEVELS))
    ax.plot(surface.w, cliff.wall_b(surface.w), color="black", linestyle=":", marker="",
            linewidth=1.2, label="b = 0.5 − w σ(0.5)")
    ax.set_xlim(surface.w[0], surface.w[-1])
    ax.set_ylim(surface.b[0], surface.b[-1])
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=f"{label} (log scale)")
    return mesh


def plot_surface_and_norm(surface, axes=None):
    """Two maps side by side: the loss and the gradient norm."""
    if axes is None:
        _, axes = figure(ncols=2, width=7.6, height=3.1)
    for ax, quantity in zip(axes, ("loss", "grad_norm")):
        plot_map(surface, ax, quantity)
    axes[0].legend(loc="lower left", fontsize=8)
    return axes


def plot_wall_scans(scans, axes=None):
    """Gradient norm against the offset from the wall's centre, one panel per scan (log y)."""
    if axes is None:
        _, axes = figure(ncols=len(scans), width=7.2, height=3.0)
    axes = np.atleast_1d(axes)
    for i, (ax, scan) in enumerate(zip(axes, scans)):
        ax.plot(scan.offset, scan.grad_norm, markevery=len(scan.offset) // 10, **style(i))
        ax.axhline(1.0, color=PALETTE["black"], linestyle="--", linewidth=0.8, marker="")
        ax.set_xlabel("b − b_wall")
        log_y(ax, "||∇E||")
        ax.set_title(f"w = {scan.w:g}: max {scan.maximum:.2g} (dashed: 1)", fontsize=10)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    return axes


@dataclass
class CliffView:
    """Artists of the descent figure: the map, a zoom on the paths, and the loss per step."""

    map_ax: object
    zoom_ax: object
    loss_ax: object
    paths: list
    curves: list
    message: object
    zoom_box: object


def draw_cliff_view(surface, n_steps=100, width=9.0, height=3.1):
    """The descent figure, with empty paths to fill with ``update_cliff_view``."""
    fig, (map_ax, zoom_ax, loss_ax) = figure(ncols=3, width=width, height=height)
    plot_map(surface, map_ax, "loss")
    labels = ("no clipping", "clipped")
    outline = [patheffects.withStroke(linewidth=4, foreground="white")]
    paths = [map_ax.plot([], [], label=label, markevery=10, path_effects=outline, **style(i))[0]
             for i, label in enumerate(labels)]
    curves = [loss_ax.plot([], [], label=label, markevery=10, **style(i))[0]
              for i, label in enumerate(labels)]
    zoom_box = Rectangle((0, 0), 0, 0, fill=False, edgecolor=PALETTE["black"], linewidth=1.0)
    map_ax.add_patch(zoom_box)
    map_ax.legend(loc="lower left", fontsize=8)
    loss_ax.set_xlim(0, n_steps)
    loss_ax.set_ylim(1e-8, 1.0)
    loss_ax.set_xlabel("step")
    log_y(loss_ax, "loss E")
    loss_ax.legend(loc="lower left", fontsize=8)
    message = note(map_ax, "")
    message.set_fontsize(8)
    message.set_position((0.5, 0.92))
    message.set_visible(False)
    return fig, CliffView(map_ax, zoom_ax, loss_ax, paths, curves, message, zoom_box)


def zoom_window(comparison, pad=0.2, min_half=0.25):
    """``((w_low, w_high), (b_low, b_high))`` around where the paths run before any jump.

    The window holds the clipped path and the unclipped one up to its longest step
    (the finite points only), widened by ``pad`` of its size and to at least
    ``min_half`` on each side of its centre.
    """
    points = np.concatenate([comparison.clipped.params,
                             comparison.plain.params[:comparison.jump_step + 1]])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    half = np.maximum((high - low) / 2 * (1 + pad), min_half)
    return tuple((float(c - h), float(c + h)) for c, h in zip(centre, half))


def _draw_zoom(view, comparison):
    """Redraw the zoom panel: a fine map of the window and both paths inside it.

    The previous map and paths are removed, not the axes cleared: ``cla`` would also throw
    away the axes' ticks, and making new ones costs more than the whole map.
    """
    (w_low, w_high), (b_low, b_high) = zoom_window(comparison)
    ax = view.zoom_ax
    for artist in [*ax.collections, *ax.lines]:
        artist.remove()
    plot_map(cliff.surface((w_low, w_high), (b_low, b_high), n=ZOOM_GRID), ax, "loss",
             colorbar=False)
    for i, trajectory in enumerate((comparison.plain, comparison.clipped)):
        ax.plot(trajectory.params[:, 0], trajectory.params[:, 1], markevery=10, **style(i))
    ax.set_xlim(w_low, w_high)
    ax.set_ylim(b_low, b_high)
    ax.set_ylabel("")
    ax.set_title("zoom: the box on the map", fontsize=9)
    view.zoom_box.set_bounds(w_low, b_low, w_high - w_low, b_high - b_low)


def _left_the_map(view, trajectory, margin=0.05):
    """First step at which the path is beyond the map by more than ``margin`` of its size."""
    outside = np.zeros(len(trajectory.params), dtype=bool)
    for column, (low, high) in enumerate((view.map_ax.get_xlim(), view.map_ax.get_ylim())):
        slack = margin * (high - low)
        values = trajectory.params[:, column]
        outside |= (values < low - slack) | (values > high + slack)
    return int(np.argmax(outside)) if outside.any() else None


def update_cliff_view(view, comparison):
    """Draw a ``CliffComparison``; a path that leaves the map or overflows is named in a note."""
    messages = []
    for name, trajectory, path, curve in zip(("unclipped", "clipped"),
                                             (comparison.plain, comparison.clipped),
                                             view.paths, view.curves):
        path.set_data(trajectory.params[:, 0], trajectory.params[:, 1])
        finite = np.isfinite(trajectory.loss)
        steps = np.arange(len(trajectory.loss))
        curve.set_data(steps[finite], np.maximum(trajectory.loss[finite], 1e-8))
        if not finite.all():
            messages.append(f"{name} run overflowed (non-finite) at step {np.argmin(finite)}")
            continue
        left = _left_the_map(view, trajectory)
        if left is not None:
            w, b = trajectory.params[left]
            messages.append(f"{name} run left the map at step {left},\nto ({w:.3g}, {b:.3g})")
    _draw_zoom(view, comparison)
    view.message.set_text("\n".join(messages))
    view.message.set_visible(bool(messages))
    retitle(view.loss_ax, f"lr = {comparison.lr:.3g}, threshold = {comparison.threshold:.3g}", 10)


def plot_comparison(surface, comparison):
    """The descent figure for one comparison; returns the figure."""
    fig, view = draw_cliff_view(surface, len(comparison.plain.loss) - 1)
    update_cliff_view(view, comparison)
    jump = comparison.jump_step
    view.loss_ax.axvline(jump, color=PALETTE["black"], linestyle=":", linewidth=0.8, marker="")
    return fig


def plot_box_share(box, axes=None):
    """Starts in the box marked by whether descent reached a low loss, without and with clipping."""
    if axes is None:
        _, axes = figure(ncols=2, width=7.2, height=3.5, sharey=True)
    size = 12 * min(1.0, 441 / len(box.starts))  # markers shrink as the grid of starts grows
    for ax, (title, final, share) in zip(axes, (("no clipping", box.plain_loss, box.plain),
                                                ("clipped", box.clipped_loss, box.clipped))):
        good = final < box.low_loss
        ax.scatter(*box.starts[good].T, s=size, marker="o", color=PALETTE["green"],
                   linewidths=0, label=f"E < {box.low_loss:g}")
        ax.scatter(*box.starts[~good].T, s=1.2 * size, marker="x", color=PALETTE["vermillion"],
                   label="stalled")
        ax.set_title(f"{title}: {100 * share.fraction:.0f} % "
                     f"({100 * share.low:.0f}–{100 * share.high:.0f} %)\nreach E < {box.low_loss:g}",
                     fontsize=10)
        ax.set_xlabel("start w")
        ax.set_aspect("equal")
    axes[0].set_ylabel("start b")
    axes[0].legend(loc="upper left", fontsize=8, bbox_to_anchor=(0, -0.18), ncols=2,
                   markerscale=max(1.0, 12 / size) ** 0.5)
    return axes


def plot_threshold_sweep(thresholds, shares, plain, chosen=None, ax=None):
    """Share of starts reaching a low loss against the clipping threshold (log x).

    ``shares`` holds one ``stats.Share`` per threshold and ``plain`` the unclipped one;
    the band is the 95 % Wilson interval of each share.
    """
    if ax is None:
        _, ax = figure(width=6.0, height=3.4)
    fraction = [s.fraction for s in shares]
    ax.fill_between(thresholds, [s.low for s in shares], [s.high for s in shares],
                    color=style(0)["color"], alpha=0.25, linewidth=0, label="95 % interval")
    ax.plot(thresholds, fraction, label="clipped", **style(0))
    ax.axhline(plain.fraction, label="no clipping", **{**style(1), "marker": ""})
    for i, (label, value) in enumerate((chosen or {}).items()):
        ax.axvline(value, color=PALETTE["black"], linestyle=(":", "-.", "--")[i % 3], marker="",
                   linewidth=0.9, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("clipping threshold c (log scale)")
    ax.set_ylabel("share of starts reaching low loss")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=8, loc="lower right", frameon=True, framealpha=0.9, edgecolor="none")
    return ax
