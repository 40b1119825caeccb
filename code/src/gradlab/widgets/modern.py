"""Explorer of chapter 6: spike size, β₂ and a clip threshold → Adam's next updates."""

import ipywidgets as widgets

from ..experiments import adam_spike
from ..plots.modern import SpikeView
from .png import png_interactive
from .twin import kernel_free_twin

TWIN_SPIKES = (1.0, 10.0, 100.0, 1000.0, 10000.0)  # five frames: the page stays under 1 MB


def explorer(spike=1000.0, beta2=0.999, threshold=10.0):
    """Sliders for the spike's size, Adam's β₂ and the clip threshold; returns
    ``widgets.interactive`` whose ``result`` is the redrawn figure."""
    view = SpikeView()
    view.ax.title.set_animated(True)  # a new title each move, drawn over the figure (widgets.png)

    def show(spike, beta2, threshold):
        view.update(adam_spike.spike_response(spike, beta2, threshold))
        return view.fig

    return png_interactive(
        show,
        spike=widgets.FloatLogSlider(spike, base=10, min=0, max=4, step=0.25,
                                     description="spike ×"),
        beta2=widgets.SelectionSlider(options=[0.9, 0.95, 0.98, 0.99, 0.995, 0.999],
                                      value=beta2, description="β₂"),
        threshold=widgets.FloatLogSlider(threshold, base=10, min=0, max=5, step=0.25,
                                         description="clip at"))


def twin(spikes=TWIN_SPIKES, beta2=0.999, threshold=10.0, dpi=80):
    """The kernel-free twin: the explorer's figure pre-rendered for every spike size."""
    view = SpikeView(dpi=dpi)

    def update(spike):
        view.update(adam_spike.spike_response(spike, beta2, threshold))

    update(spikes[0])
    return kernel_free_twin(view.fig, update, spikes, name="spike size ×", fmt="{:g}")
