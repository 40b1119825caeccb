"""Plotting: the shared style here; one module per topic beside it."""

from .style import PALETTE, SEQUENTIAL_CMAP, figure, log_y, note, style, use_style

__all__ = ["PALETTE", "SEQUENTIAL_CMAP", "figure", "log_y", "note", "style", "use_style"]
