"""Kernel-free twins of the explorers, for the static website.

On a page without a Python kernel an ipywidget shows only its first state. A twin
evaluates the explorer's drawing function over a grid of its main parameter when the
notebook runs and stores every frame in a self-contained HTML player (matplotlib's
``Animation.to_jshtml``: a slider and buttons, no external JavaScript). The player's link to
Font Awesome on a CDN is dropped (the book's theme ships the icons and the site must work
offline) and its image gets alt text.

Twins are made only when the website is built (``on_website()``: the book's build sets
``GRADLAB_WEBSITE=1``). In a committed notebook or a student's kernel a twin cell has no
output: its frames would be most of the file's bytes, and JupyterLab has the live explorer.
"""

from html import escape
import os
import re

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.animation import FuncAnimation

_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet"\s+href="https?://[^"]*">\s*')
WEBSITE_VARIABLE = "GRADLAB_WEBSITE"


def on_website():
    """Whether this kernel runs for the website's build (``GRADLAB_WEBSITE=1``)."""
    return os.environ.get(WEBSITE_VARIABLE) == "1"


def kernel_free_twin(fig, update, values, *, name, fmt="{:g}", interval_ms=600, alt=None):
    """Pre-render ``update(value)`` for every value into an HTML slider player.

    Args:
        fig: the explorer's figure, already drawn once.
        update: callable redrawing ``fig``'s artists for one parameter value.
        values: the grid of the main parameter, one frame each (keep it to a few dozen:
            every frame is an embedded PNG).
        name: the parameter's name, shown with its value as the figure's title.
        fmt: format of the value in the title.
        alt: alt text of the player's image; by default it names the parameter and its range.

    Returns:
        ``IPython.display.HTML`` holding the player, or ``None`` outside the website's
        build; the figure is closed.
    """
    values = list(values)
    if not values:
        raise ValueError("kernel_free_twin needs at least one parameter value")
    if not on_website():
        plt.close(fig)
        return None

    def draw_frame(i):
        update(values[i])
        fig.suptitle(f"{name} = {fmt.format(values[i])}")

    animation = FuncAnimation(fig, draw_frame, frames=len(values), interval=interval_ms,
                              repeat=False)
    html = _CDN_STYLESHEET.sub("", animation.to_jshtml(default_mode="once"))
    if alt is None:
        alt = (f"The explorer's figure for {name} from {fmt.format(values[0])} to "
               f"{fmt.format(values[-1])}, one frame per value, stepped by the slider below.")
    html = html.replace("<img id=", f'<img alt="{escape(alt)}" id=', 1)
    plt.close(fig)
    return HTML(html)
