"""Shared test helpers: a finite-difference report printed at the end of every run."""

import sys

import pytest

GRADCHECK_KEY = "gradcheck"


@pytest.fixture(autouse=True)
def close_figures():
    """Close the figures a test opened (pyplot keeps them alive until closed)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def report_gradcheck(record_property):
    """Record a gradient check so the terminal summary lists its largest relative error.

    ``record_property`` travels with the test report, so this also works under pytest-xdist.
    """

    def report(label, result):
        record_property(GRADCHECK_KEY, (label, result.max_error))

    return report


def pytest_terminal_summary(terminalreporter):
    rows = [value for report in terminalreporter.stats.get("passed", [])
            for key, value in report.user_properties if key == GRADCHECK_KEY]
    if not rows:
        return
    terminalreporter.section("finite-difference checks (largest relative error)")
    width = max(len(label) for label, _ in rows)
    for label, error in sorted(rows):
        terminalreporter.write_line(f"{label:<{width}}  {error:.2e}")
