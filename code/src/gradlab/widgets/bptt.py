"""Explorer of chapter 3: sequence length, spectral radius, activation → gradient across time."""

import ipywidgets as widgets
import numpy as np

from ..experiments import bptt
from ..plots.bptt import GradientTimeView
from .png import png_interactive
from .twin import kernel_free_twin

N_HIDDEN = 32
TWIN_RADII = tuple(np.round(np.arange(0.5, 1.51, 0.1), 2))


def explorer_trace(steps, radius, activation, drive=0.5, seed=0):
    """The explorer's compute step: one fixed Gaussian W_rec (H = 32) rescaled to ``radius``.

    Returns the ``GradientTrace`` and the overflow/underflow message (or None).
    """
    base = bptt.gaussian_recurrence(N_HIDDEN, 1.0, np.random.default_rng(seed))
    trace = bptt.gradient_through_time(base * radius, activation, steps, drive, seed + 1)
    return trace, bptt.numerical_failure(trace.norms)


def explorer(steps=100, radius=1.1, activation="tanh", drive=0.5):
    """Sliders for T, the spectral radius, the activation and the input std; returns
    ``widgets.interactive`` whose ``result`` is the redrawn figure."""
    view = GradientTimeView()

    def show(steps, radius, activation, drive):
        view.update(*explorer_trace(steps, radius, activation, drive))
        return view.fig

    return png_interactive(
        show,
        steps=widgets.IntSlider(steps, min=2, max=1000, step=1, description="T"),
        radius=widgets.FloatSlider(radius, min=0.05, max=3.0, step=0.05,
                                   description="radius ρ"),
        activation=widgets.Dropdown(options=["identity", "tanh"], value=activation,
                                    description="activation"),
        drive=widgets.FloatSlider(drive, min=0.0, max=3.0, step=0.25, description="input std"))


def explorer_twin(radii=TWIN_RADII, steps=100, activation="tanh", drive=0.5, dpi=80):
    """The kernel-free twin: the explorer's figure pre-rendered for every radius in ``radii``."""
    view = GradientTimeView(dpi=dpi)

    def update(radius):
        view.update(*explorer_trace(steps, radius, activation, drive))

    update(radii[0])
    return kernel_free_twin(view.fig, update, radii, name="spectral radius ρ", fmt="{:.2f}")
