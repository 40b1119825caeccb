"""Kernel-free twins of the explorers, for the static website.

On a page without a Python kernel an ipywidget shows only its first state. A twin
evaluates the explorer's drawing function over a grid of its main parameter when the
notebook runs and stores every frame in a self-contained HTML player (matplotlib's
``Animation.to_jshtml``: a slider and buttons, no external JavaScript).
"""

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.animation import FuncAnimation


def kernel_free_twin(fig, update, values, *, name, fmt="{:g}", interval_ms=600):
    """Pre-render ``update(value)`` for every value into an HTML slider player.

    Args:
        fig: the explorer's figure, already drawn once.
        update: callable redrawing ``fig``'s artists for one parameter value.
        values: the grid of the main parameter, one frame each (keep it to a few dozen:
            every frame is an embedded PNG).
        name: the parameter's name, shown with its value as the figure's title.
        fmt: format of the value in the title.

    Returns:
        ``IPython.display.HTML`` holding the player; the figure is closed.
    """
    values = list(values)
    if not values:
        raise ValueError("kernel_free_twin needs at least one parameter value")

    def draw_frame(i):
        update(values[i])
        fig.suptitle(f"{name} = {fmt.format(values[i])}")

    animation = FuncAnimation(fig, draw_frame, frames=len(values), interval=interval_ms,
                              repeat=False)
    html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)
