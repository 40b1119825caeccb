"""How an explorer shows its figure in JupyterLab: one PNG per control move, within a frame.

A move costs what changed, not the whole figure (``FigurePNG``):

- *Blitting.* An explorer marks the artists a move changes as animated
  (``artist.set_animated(True)``). Matplotlib then leaves them out of a canvas draw and does not
  mark the figure stale when they change, so while ``fig.stale`` is false the rest of the figure
  (axes, ticks, legend, a colour map) is the cached background: restore it, draw the animated
  artists on it in z-order. Anything else that changes (new axis limits) makes the figure stale:
  the axes that changed are drawn again over the background (with any axes their labels reach
  into), or, when all did or something outside them changed, the whole figure.
- *Layout only when the text moved.* Constrained layout measures every text on each draw
  (half of a full draw). It only depends on the texts around the axes, so it is run again
  only when one of them (a tick label, a title, a legend entry) reads differently.
- *Cheap encoding.* RGB, zlib level 1: a third of the encoding time of ``savefig``'s level 6
  for a few per cent more bytes.
- *No re-display.* The PNG goes into one ``ipywidgets.Image`` whose value is replaced (a binary
  message), instead of clearing the ``Output`` and displaying a new base64 image.
"""

import functools
import io

import ipywidgets as widgets
import matplotlib as mpl
import numpy as np
from IPython.display import display
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import IdentityTransform
from PIL import Image

COMPRESS_LEVEL = 1


class FigurePNG:
    """Renders ``fig`` to PNG bytes, redrawing only its animated artists while nothing else changed.

    The figure is rendered at ``savefig.dpi`` (as ``savefig`` would) and its layout engine is
    taken over: run before a draw whose surrounding texts changed, never on its own.
    """

    def __init__(self, fig):
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        dpi = mpl.rcParams["savefig.dpi"]
        if dpi != "figure":
            fig.set_dpi(dpi)
        self.layout = fig.get_layout_engine()
        if isinstance(self.layout, PlaceHolderLayoutEngine):  # a layout frozen by the caller
            self.layout = None
        if self.layout is not None:
            fig.set_layout_engine("none")
        self.texts = None
        self.background = None
        self.animated, self.boxes, self.measure = [], {}, False
        self.full_draws = 0  # how many renders drew the whole figure (the rest blitted)

    def png(self):
        """The figure's current state as PNG bytes."""
        if self.background is None or not self._redraw_stale_axes():
            self._draw_all()
        self.canvas.restore_region(self.background)
        for artist in self.animated:
            self.fig.draw_artist(artist)
        return encode(self.canvas.buffer_rgba())

    def _draw_all(self):
        """Lay out (if the texts changed) and draw every non-animated artist: the background."""
        fig, canvas = self.fig, self.canvas
        if self.layout is not None:
            texts = layout_texts(fig)
            if texts != self.texts:
                self.layout.execute(fig)
            self.texts = texts
        canvas.draw()
        self.background = canvas.copy_from_bbox(fig.bbox)
        if self.measure:  # for redrawing some axes alone (measuring them costs time)
            renderer = canvas.get_renderer()
            self.boxes = {ax: ax.get_tightbbox(renderer) for ax in fig.axes}
        _drawn(fig)
        self.animated = animated_artists(fig)
        self.full_draws += 1

    def _redraw_stale_axes(self):
        """Bring the background up to date by redrawing only the axes that changed, each over
        a blank of the area it covered (its ticks and labels included).

        Returns False when that cannot do: something outside the axes changed, or a text that
        the layout depends on.
        """
        fig, canvas = self.fig, self.canvas
        if not fig.stale:
            return True
        stale = [child for child in fig.get_children() if child.stale]
        if not all(isinstance(child, Axes) for child in stale) or len(stale) == len(fig.axes) or (
                self.layout is not None and layout_texts(fig) != self.texts):
            return False
        if not self.measure:  # the first time some axes changed alone: measure from now on
            self.measure = True
            return False
        # An axes whose labels reach into a cleared area is redrawn too.
        while True:
            more = [ax for ax in fig.axes if ax not in stale and any(
                self.boxes[ax].overlaps(self.boxes[other].padded(2)) for other in stale)]
            if not more:
                break
            stale += more
        renderer = canvas.get_renderer()
        canvas.restore_region(self.background)
        for ax in stale:
            box = self.boxes[ax].padded(2)
            Rectangle(box.p0, box.width, box.height, transform=IdentityTransform(),
                      facecolor=fig.get_facecolor(), edgecolor="none", figure=fig).draw(renderer)
        for ax in fig.axes:  # in the figure's order, as a whole draw would
            if ax in stale:
                ax.draw(renderer)
                self.boxes[ax] = ax.get_tightbbox(renderer)
        _drawn(fig)
        self.background = canvas.copy_from_bbox(fig.bbox)
        self.animated = animated_artists(fig)
        return True


def animated_artists(fig):
    """``fig``'s animated artists in z-order. Adding an artist makes the figure stale, so the
    list holds until the next draw of the background."""
    return sorted(fig.findobj(lambda artist: artist.get_animated()),
                  key=lambda artist: artist.get_zorder())


def _drawn(fig):
    """Mark ``fig`` as drawn: measuring an axes (``get_tightbbox``) re-places its titles, which
    marks it stale although nothing on it changed."""
    for ax in fig.axes:
        ax.stale = False
    fig.stale = False


def layout_texts(fig):
    """What the layout depends on, as text: every visible, non-animated text and its size,
    tick labels as the next draw shows them; not a legend inside an axes (it moves no margin)."""
    tick_ids = {id(text) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                for tick in axis.majorTicks + axis.minorTicks
                for text in (tick.label1, tick.label2)}
    inner = {id(text) for ax in fig.axes if ax.get_legend() is not None
             and ax.get_legend().get_bbox_to_anchor() is ax.bbox
             for text in ax.get_legend().findobj(Text)}
    ticks = [label for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
             for label in axis.get_ticklabels(which="both")]
    others = [text for text in fig.findobj(Text) if id(text) not in tick_ids | inner]
    return tuple((text.get_text(), text.get_fontsize()) for text in ticks + others
                 if text.get_visible() and not text.get_animated())


def encode(rgba):
    """An RGBA pixel buffer as PNG bytes (RGB, zlib ``COMPRESS_LEVEL``)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgba)[..., :3]).save(buffer, format="png",
                                                   compress_level=COMPRESS_LEVEL)
    return buffer.getvalue()


def png_interactive(draw, **controls):
    """``widgets.interactive(draw, **controls)`` that shows the figure ``draw`` returns.

    ``draw`` takes the controls' values and returns the redrawn (closed) figure, always the
    same one, which stays available as the widget's ``result`` for tests. Its output holds one
    ``widgets.Image`` (the widget's ``image``) whose value each move replaces.
    """
    image = widgets.Image(format="png")
    shown = {}

    @functools.wraps(draw)
    def draw_and_show(*args, **kwargs):
        fig = draw(*args, **kwargs)
        renderer = shown.get("renderer")
        if renderer is None:
            display(image)
        if renderer is None or renderer.fig is not fig:
            renderer = shown["renderer"] = FigurePNG(fig)
        image.value = renderer.png()
        return fig

    explorer = widgets.interactive(draw_and_show, clear_output=False, **controls)
    explorer.image = image
    return explorer
