"""Explorers show one PNG per slider move and keep the figure as their result."""

import ipywidgets as widgets
import matplotlib.pyplot as plt

from gradlab.widgets import png


def test_png_interactive_displays_a_png_of_the_returned_figure(monkeypatch):
    shown = []
    monkeypatch.setattr(png, "display", shown.append)
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 0])

    def draw(height):
        line.set_ydata([0, height])
        return fig

    explorer = png.png_interactive(draw, height=widgets.FloatSlider(value=1.0, min=0, max=5))
    explorer.children[0].value = 3.0
    assert explorer.result is fig and list(line.get_ydata()) == [0, 3.0]
    assert len(shown) == 2  # the first frame, then one per move
    assert all(image.data.startswith(b"\x89PNG") for image in shown)
    assert shown[0].data != shown[1].data
