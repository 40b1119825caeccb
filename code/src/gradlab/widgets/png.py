"""How an explorer shows its figure in JupyterLab: one PNG per slider move.

The inline backend would display the returned figure with ``bbox_inches="tight"``,
which lays the figure out and renders it twice; the course's figures already use
constrained layout, so one ``savefig`` gives the same picture in about half the time.
"""

import functools
import io

import ipywidgets as widgets
from IPython.display import Image, display


def show_png(fig):
    """Display ``fig`` as a PNG in the current output area (a widget's Output)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    display(Image(buffer.getvalue(), format="png"))


def png_interactive(draw, **controls):
    """``widgets.interactive(draw, **controls)`` that shows the figure ``draw`` returns.

    ``draw`` takes the controls' values and returns the redrawn (closed) figure, which
    stays available as the widget's ``result`` for tests.
    """

    @functools.wraps(draw)
    def draw_and_show(*args, **kwargs):
        fig = draw(*args, **kwargs)
        show_png(fig)
        return fig

    return widgets.interactive(draw_and_show, **controls)
