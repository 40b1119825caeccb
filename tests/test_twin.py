"""The kernel-free twin renders one frame per parameter value into self-contained HTML."""

import re

import numpy as np
import pytest

from gradlab.plots import figure
from gradlab.widgets.twin import WEBSITE_VARIABLE, kernel_free_twin


def test_twin_holds_one_distinct_frame_per_value_and_no_external_script(website):
    fig, ax = figure()
    (line,) = ax.plot([0, 1], [0, 0])
    ax.set_ylim(0, 3)
    html = kernel_free_twin(fig, lambda v: line.set_ydata([v, v]), [0.5, 1.5, 2.5], name="w").data
    frames = re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]+)"', html)
    assert len(frames) == 3 and len(set(frames)) == 3
    assert not re.search(r'<script[^>]+src=', html)
    assert not re.search(r'<link[^>]+href="https?://', html)
    assert re.search(r'<img alt="The explorer[^"]+ w from 0.5 to 2.5', html)


def test_twin_without_values_is_refused():
    fig, _ = figure()
    with pytest.raises(ValueError, match="at least one"):
        kernel_free_twin(fig, lambda v: None, np.array([]), name="w")


def test_twin_is_not_made_outside_the_website_build(monkeypatch):
    monkeypatch.delenv(WEBSITE_VARIABLE, raising=False)
    fig, ax = figure()
    (line,) = ax.plot([0, 1], [0, 0])
    assert kernel_free_twin(fig, lambda v: line.set_ydata([v, v]), [0.5, 1.5], name="w") is None
