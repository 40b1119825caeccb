"""Explorer of chapter 2: depth, init scheme and activation → per-layer scales at initialisation.

A thin layer: ``deep_mlp.profile`` computes, ``plots.vanishing.ProfileView`` draws.
"""

import ipywidgets as widgets

from ..experiments import deep_mlp
from ..plots.vanishing import ProfileView
from .png import png_interactive
from .twin import kernel_free_twin

DEPTH_RANGE = (1, 300)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")


def explorer(depth=50, init="normal", activation="relu", width=128, seed=0):
    """An ``ipywidgets.interactive``: sliders for depth, init and activation.

    Children 0, 1, 2 are the depth slider and the init and activation menus;
    setting a value redraws at once. ``w.result`` is the figure.
    """
    view = ProfileView(deep_mlp.profile(depth, width, init, activation, seed=seed))

    def show(depth, init, activation):
        view.update(deep_mlp.profile(depth, width, init, activation, seed=seed))
        return view.fig

    w = png_interactive(
        show,
        depth=widgets.IntSlider(value=depth, min=DEPTH_RANGE[0], max=DEPTH_RANGE[1],
                                description="depth", continuous_update=False),
        init=widgets.Dropdown(options=deep_mlp.INIT_SCHEMES, value=init, description="init"),
        activation=widgets.Dropdown(options=ACTIVATIONS, value=activation,
                                    description="activation"))
    w.view = view
    return w


def depth_updater(view, init, activation, width=128, seed=0):
    """``update(depth)`` redrawing ``view`` for a fixed init and activation (for the twin)."""
    def update(depth):
        return view.update(deep_mlp.profile(int(depth), width, init, activation, seed=seed))
    return update


def twin(depths, init="normal", activation="relu", width=128, seed=0):
    """Kernel-free twin of the explorer: frames over ``depths`` for one init and activation."""
    view = ProfileView(deep_mlp.profile(int(depths[0]), width, init, activation, seed=seed))
    return kernel_free_twin(view.fig, depth_updater(view, init, activation, width, seed),
                            depths, name="depth", fmt="{:d}")
