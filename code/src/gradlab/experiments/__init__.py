"""Compute functions behind the chapters' experiments and explorers (NumPy only).

One module per topic; each returns plain arrays or small dataclasses so the
plots, widgets and tests can share it.
"""
