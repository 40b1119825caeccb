"""Explorer: training the regression MLP with and without clipping.

Two sliders, learning rate and global-norm threshold (both on log scales), drive
``experiments.regression.compare_clipping``; the figure shows the test MSE per
epoch of the unclipped and the clipped run. A run that diverges ends with a cross
and an annotation such as "no clipping: diverged at epoch 1, step 8".
"""

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..experiments import regression
from ..plots import training as plots
from .png import png_interactive
from .twin import kernel_free_twin

LR_RANGE = (-4.0, 0.0)          # log10 of the learning rate
THRESHOLD_RANGE = (-2.0, 3.0)   # log10 of the clipping threshold


class TrainingExplorer:
    """The figure plus an ``update(lr, threshold)`` that recomputes and redraws it."""

    def __init__(self, epochs=20, seed=0, dataset=None):
        self.epochs, self.seed = epochs, seed
        self.dataset = regression.load() if dataset is None else dataset
        self.fig, self.artists = plots.explorer_figure(epochs)
        self.threshold = 1.0

    def update(self, lr, threshold=None):
        """Train both runs at ``lr`` (and ``threshold``) and redraw; returns the figure."""
        if threshold is not None:
            self.threshold = threshold
        runs = regression.compare_clipping(self.dataset, lr, self.threshold, seed=self.seed,
                                           epochs=self.epochs)
        plots.update_explorer(self.artists, runs)
        return self.fig


def explorer(epochs=20, seed=0, lr=0.01, threshold=1.0):
    """An ``ipywidgets.interactive``: children[0] learning rate, children[1] threshold."""
    explorer = TrainingExplorer(epochs, seed)
    plt.close(explorer.fig)  # shown through the widget's output only
    # The axes are fixed: a move redraws the curves, crosses and note over them (widgets.png).
    for artist in (*explorer.artists["lines"], *explorer.artists["crosses"],
                   explorer.artists["note"]):
        artist.set_animated(True)
    lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=LR_RANGE[0], max=LR_RANGE[1],
                                       step=0.25, description="learning rate",
                                       continuous_update=False, readout_format=".2g")
    threshold_slider = widgets.FloatLogSlider(
        value=threshold, base=10, min=THRESHOLD_RANGE[0], max=THRESHOLD_RANGE[1], step=0.25,
        description="threshold", continuous_update=False, readout_format=".2g")
    return png_interactive(explorer.update, lr=lr_slider, threshold=threshold_slider)


def twin(lrs=None, threshold=1.0, dpi=80):
    """Kernel-free twin of ``explorer``: one frame per learning rate (log grid
    from 1e-4 to 1 by default) at a fixed threshold; ``None`` outside the website build."""
    lrs = np.logspace(*LR_RANGE, 11) if lrs is None else lrs
    explorer = TrainingExplorer()
    explorer.update(lrs[0], threshold)
    with mpl.rc_context({"savefig.dpi": dpi}):  # the player's frames are saved at this dpi
        return kernel_free_twin(explorer.fig, explorer.update, lrs, name="learning rate",
                                fmt="{:.2g}")
