"""Notebook figures are stored as palette PNGs (plots.inline)."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gradlab.plots import figure, inline  # noqa: E402


def test_a_figure_becomes_a_palette_png_on_white_and_smaller():
    fig, ax = figure()
    ax.imshow(np.random.default_rng(0).random((60, 60)), cmap="cividis")
    ax.plot([0, 59], [0, 59], color="#0072B2", linewidth=3)
    compact = inline.compact_png(fig)
    image = Image.open(io.BytesIO(compact))
    assert image.format == "PNG" and image.mode == "P"
    assert len(image.getcolors(maxcolors=1000)) <= inline.COLOURS
    assert image.convert("RGB").getpixel((0, 0)) == (255, 255, 255)  # no transparent corner
    full = io.BytesIO()
    fig.savefig(full, format="png", bbox_inches="tight")
    assert len(compact) < 0.7 * len(full.getvalue())
    plt.close(fig)

