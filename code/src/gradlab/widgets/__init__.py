"""Interactive explorers: thin ipywidgets layers over tested compute functions.

One module per explorer topic. Each builder returns an ``ipywidgets`` object
whose callback calls a pure function from ``gradlab.experiments`` and draws it
with ``gradlab.plots``.
"""
