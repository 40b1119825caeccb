"""Explorer: gradient descent on the cliff with and without clipping.

``explorer`` is the ipywidget (learning rate, threshold, start point);
``cliff_twin`` pre-renders it over a grid of learning rates for the static
website. Both call ``experiments.cliff_runs.compare`` and draw through
``plots.cliff``.
"""

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .. import cliff
from ..experiments.cliff_runs import CliffComparison, compare, trajectories
from ..plots.cliff import draw_cliff_view, update_cliff_view
from .png import png_interactive
from .twin import kernel_free_twin

N_STEPS = 100
THRESHOLD_EXPONENTS = np.round(np.arange(-2.0, 2.0001, 0.05), 2)  # the slider's stops, log10


def background(n=161):
    """The loss map under the paths, coarse enough to draw fast."""
    return cliff.surface(n=n)


class ThresholdRow:
    """``compare`` for the explorer, the clipped run computed for every threshold on the slider at
    once: ``trajectories`` runs its columns in one vectorised pass, so 82 runs cost about what
    two do, and a threshold move after the first finds its run already made. A threshold off
    the slider's stops is run alone."""

    def __init__(self, exponents):
        self.thresholds = [float(10.0 ** e) for e in exponents]
        self.key, self.plain, self.clipped = None, None, {}

    def compare(self, start, lr, threshold):
        if (tuple(start), lr) != self.key:
            self.plain, *clipped = trajectories(start, lr, N_STEPS, [None, *self.thresholds])
            self.key, self.clipped = (tuple(start), lr), dict(zip(self.thresholds, clipped))
        if threshold not in self.clipped:
            return compare(start, lr, N_STEPS, threshold)
        return CliffComparison(tuple(map(float, start)), float(lr), float(threshold),
                               self.plain, self.clipped[threshold])


def explorer(surface=None, start=(4.0, -4.0), lr=0.5, threshold=1.0):
    """Sliders for lr, threshold and the start (w, b); returns ``widgets.interactive``."""
    surface = background() if surface is None else surface
    fig, view = draw_cliff_view(surface, N_STEPS)
    plt.close(fig)  # shown through the widget's output only
    view.map_ax.collections[0].colorbar.minorticks_off()

    # What a move changes is drawn over the cached map and axes (widgets.png); the zoom panel
    # is redrawn alone.
    for artist in (*view.paths, *view.curves, view.message, view.zoom_box, view.loss_ax.title):
        artist.set_animated(True)

    runs = ThresholdRow(THRESHOLD_EXPONENTS)

    def show(lr, threshold, w0, b0):
        update_cliff_view(view, runs.compare((w0, b0), lr, threshold))
        return fig

    # The axes' limits never change, so the layout found for the first frame holds for all:
    # freezing it (and dropping the colour bar's minor ticks) halves the time of a redraw.
    show(lr, threshold, *start)
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")
    log_slider = dict(base=10, step=0.05, readout_format=".3g")
    explorer = png_interactive(
        show,
        lr=widgets.FloatLogSlider(value=lr, min=-2, max=1, description="lr", **log_slider),
        threshold=widgets.FloatLogSlider(value=threshold, min=THRESHOLD_EXPONENTS[0],
                                         max=THRESHOLD_EXPONENTS[-1], description="threshold",
                                         **log_slider),
        w0=widgets.FloatSlider(value=start[0], min=-10, max=10, step=0.05, description="start w"),
        b0=widgets.FloatSlider(value=start[1], min=-10, max=10, step=0.05, description="start b"),
    )
    return explorer


def twin_figure(surface, start=(4.0, -4.0), threshold=1.0):
    """The explorer's figure with ``update(lr)`` for a fixed start and threshold."""
    fig, view = draw_cliff_view(surface, N_STEPS, width=9.0, height=3.2)

    def update(lr):
        update_cliff_view(view, compare(start, lr, N_STEPS, threshold))

    update(0.5)
    return fig, update


def cliff_twin(surface=None, lrs=None, start=(4.0, -4.0), threshold=1.0, dpi=80):
    """Kernel-free twin: the descent figure over a grid of learning rates (six frames keep the
    chapter's page under 1 MB until this explorer has its chart)."""
    surface = background() if surface is None else surface
    lrs = np.round(np.geomspace(0.2, 2.0, 6), 3) if lrs is None else lrs
    fig, update = twin_figure(surface, start, threshold)
    with mpl.rc_context({"savefig.dpi": dpi}):  # the player's frames are saved at this dpi
        return kernel_free_twin(fig, update, lrs, name="learning rate", fmt="{:.3g}")
