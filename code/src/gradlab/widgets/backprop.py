"""Chapter 1 explorer: depth and weight of the scalar chain -> both gradients per layer."""

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..experiments.backprop import PRECISIONS, scalar_chain
from ..plots import figure
from ..plots.backprop import ChainView
from .png import png_interactive
from .twin import kernel_free_twin

# Exact, roughly log-spaced weights: 0.5, 1 and 2 are reachable, so the chapter's table can
# be replayed on the slider.
WEIGHTS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0)
MAX_DEPTH = 100


def chain_figure(width=6.4, height=3.6, dpi=100):
    """A closed figure holding an empty ChainView (displayed explicitly, never twice)."""
    fig, ax = figure(width=width, height=height, dpi=dpi)
    plt.close(fig)
    return fig, ChainView(ax)


def show_chain(view, depth, weight, precision):
    """The per-value redraw shared by the explorer and its twin; returns the messages."""
    return view.update(scalar_chain(depth, weight, precision=precision))


def explorer(depth=20, weight=2.0, precision="float32"):
    """Sliders for depth L and weight w, a precision menu, and the chain's gradients.

    Args:
        depth: initial number of layers (1..100).
        weight: initial weight, one of ``WEIGHTS``.
        precision: ``"float32"`` (overflows above about 3.4e38, as a framework would)
            or ``"float64"``.

    Returns:
        ``ipywidgets.interactive``; its ``result`` is the redrawn figure.
    """
    fig, view = chain_figure()

    def draw(depth, weight, precision):
        show_chain(view, depth, weight, precision)
        view.ax.set_title(f"L = {depth}, w = {weight:g}, {precision}")
        return fig

    return png_interactive(
        draw,
        depth=widgets.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth L",
                                continuous_update=False),
        weight=widgets.SelectionSlider(options=WEIGHTS, value=weight, description="weight w",
                                       continuous_update=False),
        precision=widgets.Dropdown(options=PRECISIONS, value=precision, description="precision"))


def twin(depth=40, precision="float32", weights=WEIGHTS):
    """Kernel-free twin of ``explorer``: one pre-rendered frame per weight at a fixed depth."""
    fig, view = chain_figure(width=5.6, height=3.2, dpi=80)
    view.ax.set_title(f"depth L = {depth}, {precision}")
    return kernel_free_twin(fig, lambda w: show_chain(view, depth, w, precision), weights,
                            name="weight w")
