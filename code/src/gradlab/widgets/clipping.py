"""Explorer: a 2-D gradient clipped by value or by norm, before and after.

``clip_vector_explorer`` is the ipywidget (threshold, mode, the gradient's two
components); ``clip_vector_twin`` pre-renders both modes over a grid of
thresholds for the static website. Both draw through ``plots.clipping``.
"""

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..experiments.clipping import MODES, clip_vector
from ..plots.clipping import draw_vector_panel, update_vector_panel
from ..plots.style import figure
from .png import png_interactive
from .twin import kernel_free_twin

LIMIT = 6.0  # slider range of each gradient component


def clip_vector_explorer(g=(4.0, 1.5), threshold=2.0, mode="value"):
    """Sliders for the threshold and the gradient, a mode toggle; a ``widgets.interactive``."""
    fig, ax = figure(width=4.6, height=4.4)
    plt.close(fig)  # shown through the widget's output only
    panel = draw_vector_panel(ax, limit=LIMIT + 0.5)

    def show(threshold, mode, g1, g2):
        update_vector_panel(panel, clip_vector(np.array([g1, g2]), threshold, mode))
        return fig

    return png_interactive(
        show,
        threshold=widgets.FloatSlider(value=threshold, min=0.1, max=8.0, step=0.1,
                                      description="threshold c"),
        mode=widgets.ToggleButtons(options=MODES, value=mode, description="mode"),
        g1=widgets.FloatSlider(value=g[0], min=-LIMIT, max=LIMIT, step=0.1, description="g₁"),
        g2=widgets.FloatSlider(value=g[1], min=-LIMIT, max=LIMIT, step=0.1, description="g₂"),
    )


def twin_figure(g):
    """Both modes side by side for one gradient ``g``; returns ``(fig, update(threshold))``."""
    fig, axes = figure(ncols=2, width=7.0, height=3.7)
    panels = [draw_vector_panel(ax, limit=LIMIT + 0.5) for ax in axes]
    g = np.asarray(g, np.float64)

    def update(threshold):
        for panel, mode in zip(panels, MODES):
            update_vector_panel(panel, clip_vector(g, threshold, mode))

    update(1.0)
    return fig, update


def clip_vector_twin(g=(4.0, 1.5), thresholds=None, dpi=80):
    """Kernel-free twin: both modes over a grid of thresholds (an HTML slider player)."""
    thresholds = np.round(np.linspace(0.5, 5.0, 10), 2) if thresholds is None else thresholds
    fig, update = twin_figure(g)
    with mpl.rc_context({"savefig.dpi": dpi}):  # the player's frames are saved at this dpi
        return kernel_free_twin(fig, update, thresholds, name="threshold c", fmt="{:.2f}")
