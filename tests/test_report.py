"""Numbers for the prose keep only stated digits; last-digit quantities become bounds."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from gradlab import report, stats


@pytest.mark.parametrize("value, digits, expected", [
    (456.153182875463, 4, 456.2), (456.1531828754631, 4, 456.2), (0.000123456, 2, 0.00012),
    (-98765.4321, 3, -98800.0), (2.5, 1, 2.0), (7, 3, 7), (0.0, 3, 0.0)])
def test_significant_keeps_the_stated_digits(value, digits, expected):
    assert report.significant(value, digits) == expected


def test_significant_passes_infinity_and_nan_and_refuses_bad_input():
    assert report.significant(math.inf, 3) == math.inf
    assert math.isnan(report.significant(math.nan, 3))
    with pytest.raises(ValueError, match="positive integer"):
        report.significant(1.0, 0)
    with pytest.raises(TypeError, match="bool"):
        report.significant(True, 2)
    with pytest.raises(TypeError, match="real number"):
        report.significant("1.5", 2)


@given(st.floats(min_value=1e-300, max_value=1e300), st.integers(1, 12))
def test_significant_is_within_half_a_unit_of_the_last_kept_digit(value, digits):
    rounded = report.significant(value, digits)
    unit = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    assert abs(rounded - value) <= 0.5 * unit * (1 + 1e-9)


def test_two_sums_of_the_same_numbers_agree_once_rounded():
    rng = np.random.default_rng(0)
    terms = rng.standard_normal(10_000)
    forward, backward = float(np.sum(terms)), float(sum(terms[::-1]))
    assert forward != backward  # the order of a sum changes its last bits ...
    assert report.significant(forward, 6) == report.significant(backward, 6)  # ... not these


def test_number_is_text_with_the_stated_digits():
    assert report.number(456.153182875463, 4) == "456.2"
    assert report.number(1.23e-7, 2) == "1.2e-7"
    assert report.number(12, 2) == "12"
    assert report.number(141.3, 2) == "140" and report.number(0.000123, 2) == "0.00012"
    assert report.number(3.2e153, 2) == "3.2e153" and report.number(2.5e6, 3) == "2.50e6"
    assert report.number(0.0, 3) == "0" and report.number(math.inf, 3) == "inf"


def test_below_states_the_bound_and_refuses_a_value_that_breaks_it():
    assert report.below(2e-10, 1e-9) == "below 1e-9"
    assert repr(report.below(-3e-12, 1e-9)) == "below 1e-9"
    with pytest.raises(ValueError, match="not below"):
        report.below(2e-9, 1e-9)
    with pytest.raises(ValueError, match="not below"):
        report.below(math.nan, 1e-9)
    with pytest.raises(ValueError, match="positive"):
        report.below(1e-12, 0)


def test_glue_stores_the_rounded_value_and_refuses_a_float_without_digits(monkeypatch):
    glued = {}
    monkeypatch.setattr("myst_nb.glue", lambda name, value, display: glued.update(
        {name: (value, display)}))
    assert report.glue("x", 456.153182875463, digits=4) == 456.2
    assert report.glue("steps", np.int64(140)) == 140
    assert report.glue("err", report.below(2e-10, 1e-9)) == "below 1e-9"
    assert glued["x"] == (456.2, False) and type(glued["steps"][0]) is int
    assert repr(glued["err"][0]) == "below 1e-9"
    with pytest.raises(ValueError, match="digits"):
        report.glue("y", 1.5)
    with pytest.raises(ValueError, match="digits apply to numbers"):
        report.glue("z", "text", digits=2)
    with pytest.raises(TypeError, match="glue a number or a text"):
        report.glue("w", [1.0])


def test_share_has_the_wilson_interval():
    # Wilson (1927) interval for 3 of 10 at 95 %: 0.108 to 0.603 (e.g. Agresti and Coull, 1998).
    s = stats.share(np.array([True] * 3 + [False] * 7))
    assert (s.k, s.n) == (3, 10)
    assert s.low == pytest.approx(0.1078, abs=5e-4) and s.high == pytest.approx(0.6032, abs=5e-4)
    assert str(s) == "3 of 10 (30 %, 95 % interval 11–60 %)"
    none = stats.share(np.zeros(20, dtype=bool))
    assert none.low == 0.0 and 0.1 < none.high < 0.2


def test_share_prints_enough_decimals_to_tell_its_ends_apart():
    assert str(stats.share(np.ones(1000, dtype=bool))).endswith("(100.0 %, 95 % interval "
                                                                 "99.6–100.0 %)")
    assert "interval 0.0–0.2 %" in str(stats.share(np.zeros(1681, dtype=bool)))
    assert str(stats.share(np.arange(12) < 5)) == "5 of 12 (42 %, 95 % interval 19–68 %)"


def test_share_refuses_anything_but_booleans():
    with pytest.raises(ValueError, match="booleans"):
        stats.share([1, 0, 1])
    with pytest.raises(ValueError, match="non-empty"):
        stats.share(np.array([], dtype=bool))


def test_spread_ignores_non_finite_runs_and_formats_its_digits():
    s = stats.spread([1.0, 2.0, 3.0, 4.0, 5.0, np.inf, np.nan])
    assert (s.median, s.q1, s.q3, s.n) == (3.0, 2.0, 4.0, 5)
    assert stats.spread([0.123456, 0.2, 0.3]).format(2) == "0.2 (0.16–0.25)"
    with pytest.raises(ValueError, match="finite"):
        stats.spread([np.nan, np.inf])


def test_at_least_states_a_checked_lower_bound():
    assert str(report.at_least(99.5, 99)) == "at least 99"
    assert str(report.at_least(100.0, 99)) == "at least 99"
    with pytest.raises(ValueError, match="not at least 99"):
        report.at_least(98.9, 99)
    with pytest.raises(TypeError):
        report.at_least("99.5", 99)
