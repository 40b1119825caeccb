"""How a notebook stores its figures: PNGs of 256 colours.

The inline backend saves a figure as a true-colour PNG. The course's figures are flat colours
with anti-aliased edges (and a few colour maps), which 256 palette colours reproduce without a
visible difference at a third of the bytes: chapter 4's figures took 350 KB as true colour
and 124 KB as palette PNGs. ``store_compact_png`` makes every later figure of the session
display that way; it needs IPython (in a plain Python process it does nothing).
"""

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image

COLOURS = 256


def compact_png(fig, dpi=None):
    """``fig`` as PNG bytes with at most ``COLOURS`` colours, on white, as the inline backend
    crops it (``bbox_inches="tight"``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or "figure", bbox_inches="tight",
                facecolor="white")
    image = Image.open(buffer)
    flat = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    palette = flat.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def store_compact_png():
    """Display every later matplotlib figure of this IPython session as ``compact_png``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    # The inline backend registers its own PNG formatter when it loads, which pyplot does
    # lazily, at the first figure: load it now, so that ours comes after.
    plt.switch_backend(mpl.get_backend())
    shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
