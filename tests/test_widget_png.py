"""Explorers show one PNG per control move, drawing only what changed, and keep the figure."""

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from gradlab.plots import figure
from gradlab.widgets import png


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def full_render(fig):
    """The figure drawn whole, animated artists included (as savefig draws them)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return pixels(buffer.getvalue())


def test_png_interactive_shows_one_image_whose_value_each_move_replaces(monkeypatch):
    shown = []
    monkeypatch.setattr(png, "display", shown.append)
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 0])

    def draw(height):
        line.set_ydata([0, height])
        return fig

    explorer = png.png_interactive(draw, height=widgets.FloatSlider(value=1.0, min=0, max=5))
    first = bytes(explorer.image.value)
    explorer.children[0].value = 3.0
    assert explorer.result is fig and list(line.get_ydata()) == [0, 3.0]
    assert shown == [explorer.image]  # displayed once, with the first frame
    assert first.startswith(b"\x89PNG") and bytes(explorer.image.value).startswith(b"\x89PNG")
    assert bytes(explorer.image.value) != first


def test_a_blitted_frame_is_the_figure_drawn_whole():
    fig, ax = figure()
    plt.close(fig)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_title("fixed")
    (line,) = ax.plot([2, 5], [2, 5], label="moves", marker="o")
    ax.legend(loc="lower left")
    line.set_animated(True)  # drawn last: it crosses nothing drawn above it in a whole draw
    renderer = png.FigurePNG(fig)
    renderer.png()
    line.set_data([2, 8], [8, 6])
    blitted = pixels(renderer.png())
    assert renderer.full_draws == 1  # the second frame only redrew the line
    assert np.array_equal(blitted, full_render(fig))


def test_a_change_outside_the_animated_artists_redraws_and_lays_out_again_only_for_new_text():
    fig, ax = figure()
    plt.close(fig)
    (line,) = ax.plot([0, 1], [0, 1])
    renderer = png.FigurePNG(fig)
    renderer.png()
    position = ax.get_position().bounds
    line.set_ydata([0, 0.5])  # not animated: the figure is stale
    renderer.png()
    assert renderer.full_draws == 2
    assert ax.get_position().bounds == position  # the same texts: no new layout
    ax.set_ylabel("a label that needs room")
    frame = pixels(renderer.png())
    assert ax.get_position().bounds != position  # laid out again for the new text
    assert np.array_equal(frame, full_render(fig))


def test_only_the_changed_axes_are_redrawn_over_the_background():
    fig, (left, right) = plt.subplots(1, 2)  # no layout engine: new ticks move no axes
    plt.close(fig)
    left.plot([0, 1], [0, 1])
    (moving,) = right.plot([0, 1], [1, 0])
    renderer = png.FigurePNG(fig)
    renderer.png()
    right.set_xlim(0, 4)  # the first time one axes changes alone: drawn whole, and measured
    renderer.png()
    right.set_xlim(0, 5)  # new ticks on the right axes only
    moving.set_data([0, 5], [1, 0])
    frame = pixels(renderer.png())
    assert renderer.full_draws == 2
    assert np.array_equal(frame, full_render(fig))


def test_an_axes_whose_labels_reach_into_a_redrawn_one_is_redrawn_too():
    fig, (left, right) = plt.subplots(1, 2)
    plt.close(fig)
    fig.subplots_adjust(wspace=0.02)  # the right axes' tick labels reach over the left axes
    left.plot([0, 1], [0, 1])
    right.plot([0, 1], [0, 1000])
    renderer = png.FigurePNG(fig)
    renderer.png()
    left.set_xlim(0, 1.5)  # the first time one axes changes alone: drawn whole, and measured
    renderer.png()
    assert renderer.boxes[right].overlaps(renderer.boxes[left])
    left.set_xlim(0, 2)  # only the left axes changed
    frame = pixels(renderer.png())
    assert renderer.full_draws == 2
    assert np.array_equal(frame, full_render(fig))
