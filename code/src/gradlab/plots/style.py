"""One figure style for the whole course: colour-blind-safe, never colour alone.

Colours are the Okabe-Ito palette; every colour in the cycle comes with its
own line style and marker, so curves stay distinguishable in grey scale.
"""

from cycler import cycler
import matplotlib as mpl
import matplotlib.pyplot as plt

from . import inline

# Okabe and Ito (2008), "Color Universal Design".
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
SEQUENTIAL_CMAP = "cividis"

RC = {
    "axes.prop_cycle": cycler(color=COLORS) + cycler(linestyle=LINESTYLES) + cycler(marker=MARKERS),
    "lines.markersize": 4,
    "lines.linewidth": 1.8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "legend.frameon": False,
    "image.cmap": SEQUENTIAL_CMAP,
}


def use_style():
    """Apply the course style to every later figure, stored as a compact PNG in a notebook."""
    mpl.rcParams.update(RC)
    inline.store_compact_png()


def style(index):
    """Colour, line style and marker of curve ``index``, for plots drawn one by one."""
    i = index % len(COLORS)
    return {"color": COLORS[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i]}


def figure(ncols=1, nrows=1, width=6.4, height=3.8, **kwargs):
    """A new figure in the course style; returns ``(fig, axes)``."""
    with mpl.rc_context(RC):
        return plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)


def log_y(ax, label):
    """Log-scaled y axis with a label that says so."""
    ax.set_yscale("log")
    ax.set_ylabel(f"{label} (log scale)")


def retitle(ax, title, fontsize):
    """Set ``ax``'s centre title in place. ``set_title`` also re-places the left and right
    titles, which makes a blitted explorer (``widgets.png``) redraw all its axes."""
    ax.title.set_text(title)
    ax.title.set_fontsize(fontsize)


def note(ax, message):
    """Write a readable message inside the axes (overflow, empty data); returns the Text."""
    return ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=11, color=PALETTE["vermillion"],
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": PALETTE["vermillion"]})
