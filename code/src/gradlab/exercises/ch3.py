r"""The exercises of ``03_bptt.ipynb`` (chapter 3, backpropagation through time).

The sigmoid's threshold on sigma_max(W_rec) and the fraction of a gradient that survives
50 steps, the interval of scalar weights that keep a 100-step gradient within 10^{+-3},
the input level at which saturation turns growth into decay, the smallest truncation
windows that keep the gradient's direction, and an open question (rho <= sigma_max).
"""

from functools import lru_cache

import numpy as np

from ..experiments import bptt
from ..judging import (Exercise, Wrong, accepts_numbers, as_array, as_number, matches,
                       number_judge, open_judge, passed)
from .ch2 import SIGMOID_GAMMA

NOTEBOOK, CHAPTER = "03_bptt.ipynb", 3
EXERCISES = []

# --- the sigmoid's threshold ---

_SIGMA, _STEPS = 3.0, 50
EXERCISES.append(Exercise(
    "ch3_sigmoid_sigma",
    number_judge(1 / SIGMOID_GAMMA, mistakes=[
        (SIGMOID_GAMMA, "that is gamma; vanishing is guaranteed while gamma * sigma_max < 1."),
        (1.0, "that threshold is for tanh (gamma = 1); the sigmoid's derivative is at most 1/4.")]),
    hint="The bound is (gamma * sigma_max)**(t - k) with gamma = 1/4 for the sigmoid: when does "
         "the base fall below 1?",
    solution=f"gamma * sigma_max < 1, so sigma_max < 1 / gamma = {1 / SIGMOID_GAMMA:g}."))

_FRACTION = (SIGMOID_GAMMA * _SIGMA) ** _STEPS
EXERCISES.append(Exercise(
    "ch3_sigmoid_fraction",
    number_judge(_FRACTION, rtol=1e-3, mistakes=[
        ((SIGMOID_GAMMA * _SIGMA) ** (_STEPS - 1), "50 steps contribute 50 factors."),
        (SIGMOID_GAMMA * _SIGMA * _STEPS, "the factors multiply: use a power, not a product "
                                          "with 50."),
        (_SIGMA ** _STEPS, "the sigmoid's derivative (at most 1/4) enters every factor.")]),
    hint="The factor per step is at most gamma * sigma_max = 3/4; apply it 50 times.",
    solution=f"(3/4)**50 = {_FRACTION:.3g}."))

# --- how close to 1 must a scalar recurrent weight be (T = 100, within 10**+-3)? ---

_T, _DECADES = 100, 3.0


def scalar_interval(steps=_T, decades=_DECADES):
    """The w > 0 with 10**-decades <= w**(steps-1) <= 10**decades, as [low, high]."""
    return 10.0 ** (np.array([-decades, decades]) / (steps - 1))


def gain_to_first_step(w, steps=_T):
    """||dL/dh_1|| / ||dL/dh_T|| of the one-unit linear recurrence with weight ``w``."""
    trace = bptt.gradient_through_time(np.array([[w]]), "identity", steps=steps, drive=1.0)
    return float(trace.norms[0] / trace.norms[-1])


def _judge_scalar_interval(answer):
    low, high = as_array(answer, (2,))
    if low >= high:
        raise Wrong("give the interval as [low, high] with low < high.")
    if low <= 0:
        raise Wrong("the question asks for w > 0: the lower end must be positive.")
    expected = scalar_interval()
    if matches([low, high], expected, rtol=1e-4):
        return passed()
    if np.allclose([low, high], 10.0 ** (np.array([-_DECADES, _DECADES]) / _T), rtol=1e-4):
        raise Wrong("the gradient at h_1 crosses 99 steps from h_100, not 100.")
    for end, value, target in (("lower", low, 10**-_DECADES), ("upper", high, 10**_DECADES)):
        gain = gain_to_first_step(value)
        if not np.isclose(gain, target, rtol=1e-3):
            raise Wrong(f"at your {end} end w = {value:.6g} the gradient at h_1 is {gain:.4g} "
                        f"times the gradient at h_100, not {target:g}.")
    raise Wrong("the interval is not right yet.")


EXERCISES.append(Exercise(
    "ch3_scalar_interval", _judge_scalar_interval,
    hint="Solve 10**-3 <= w**99 <= 10**3 for w: take the 99th root. Answer [low, high].",
    solution="10**(-3/99) <= w <= 10**(3/99), within about 7 % of 1.",
    accepts="each end " + accepts_numbers(1e-4)))

# --- how much input stops the explosion (W_rec = 1.1 Q, tanh)? ---

DRIVES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)


def saturation_slope(drive):
    """Fitted log-gradient slope per step of counterexample 2 at input std ``drive``."""
    return bptt.saturation_counterexample(drive, n_hidden=32, scale=1.1, steps=100).slope


@lru_cache(maxsize=1)
def sign_change_bracket():
    """The two neighbouring ``DRIVES`` between which the fitted slope turns negative."""
    slopes = [saturation_slope(d) for d in DRIVES]
    flip = next(i for i, s in enumerate(slopes) if s < 0)
    return DRIVES[flip - 1], DRIVES[flip]


def _judge_flip_drive(answer):
    drive = as_number(answer)
    if drive < 0:
        raise Wrong("a standard deviation is never negative.")
    low, high = sign_change_bracket()
    if low <= drive <= high:
        return passed(f"the slope changes sign between input std {low:g} and {high:g}.")
    slope = saturation_slope(drive)
    trend = "the gradient still grows" if slope > 0 else "the gradient already vanishes"
    raise Wrong(f"at input std {drive:g} the fitted slope is {slope:+.4f} per step: {trend}, "
                f"so the sign change lies {'above' if slope > 0 else 'below'} it. Scan finer "
                f"(steps of {DRIVES[1] - DRIVES[0]:g}).")


EXERCISES.append(Exercise(
    "ch3_flip_drive", _judge_flip_drive,
    hint="bptt.saturation_counterexample(d, n_hidden=32, scale=1.1, steps=100).slope for d in "
         "steps of 0.05 from 0; answer an input std where the slope is near zero.",
    solution="The slope is positive without input and negative from a small input std on; any "
             "value between the last positive and the first negative grid point counts.",
    accepts=f"an input std where the slope changes sign, to the grid's {DRIVES[1] - DRIVES[0]:g}"))

# --- choosing a truncation window (delayed recall, rho = 1.0 and 1.5) ---

RADII, MAX_WINDOW, TARGET_COSINE = (1.0, 1.5), 60, 0.99


@lru_cache(maxsize=1)
def truncation_cosines():
    """Cosine with the full gradient for windows 1..60, one row per radius of ``RADII``."""
    rows = []
    for radius in RADII:
        task = bptt.recall_task(bptt.gaussian_recurrence(32, radius, np.random.default_rng(0)),
                                "tanh", steps=60, delay=20, drive=0.5, seed=0)
        rows.append(bptt.compare_truncation(task, list(range(1, MAX_WINDOW + 1))).cosine)
    return np.array(rows)


def smallest_windows():
    """The smallest window reaching ``TARGET_COSINE`` for each radius."""
    return np.argmax(truncation_cosines() >= TARGET_COSINE, axis=1) + 1.0


def _judge_windows(answer):
    windows = as_array(answer, (len(RADII),))
    expected = smallest_windows()
    if np.array_equal(windows, expected):
        return passed()
    if np.array_equal(windows, expected[::-1]):
        raise Wrong("the order is reversed: rho = 1.0 first, then rho = 1.5.")
    cosines = truncation_cosines()
    for radius, window, row in zip(RADII, windows, cosines):
        if window != round(window) or not 1 <= window <= MAX_WINDOW:
            raise Wrong(f"{window:g} is not a window of 1 to {MAX_WINDOW} steps.")
        cosine = row[int(window) - 1]
        if cosine < TARGET_COSINE:
            raise Wrong(f"at rho = {radius:g} the window {window:g} reaches a cosine of only "
                        f"{cosine:.4f}, below {TARGET_COSINE:g}.")
        if window != (np.argmax(row >= TARGET_COSINE) + 1):
            raise Wrong(f"at rho = {radius:g} a smaller window than {window:g} already reaches "
                        f"a cosine of {TARGET_COSINE:g}.")
    raise Wrong("the windows are not right yet.")


EXERCISES.append(Exercise(
    "ch3_windows", _judge_windows,
    hint="bptt.compare_truncation(task, list(range(1, 61))) gives .windows and .cosine; the "
         "first window with cosine >= 0.99 is windows[np.argmax(cosine >= 0.99)]. Answer "
         "[window for rho = 1.0, window for rho = 1.5].",
    solution="For each radius: c.windows[np.argmax(c.cosine >= 0.99)]. Both windows are "
             "shorter than the delay of 20 steps, so they cut the link from a target to its "
             "input.",
    accepts="whole numbers of steps, exactly"))

# --- rho(W) <= sigma_max(W): an open question ---

EXERCISES.append(Exercise(
    "ch3_rho_sigma",
    open_judge([
        "Take an eigenvector v with ||v|| = 1 (complex if needed) and W v = lambda v, "
        "|lambda| = rho(W).",
        "Then rho(W) = ||lambda v|| = ||W v|| <= max over unit u of ||W u|| = sigma_max(W).",
        "A normal matrix is unitarily diagonalisable, W = U Lambda U*, so its singular values "
        "are the |lambda_i| and sigma_max = rho.",
        "Since rho <= sigma_max, sigma_max < 1/gamma implies rho < 1/gamma but not the other way "
        "round: the sigma_max condition excludes more matrices (counterexample 1 has rho = 0.9 "
        "and sigma_max well above 1).",
    ]),
    hint="Apply W to a unit eigenvector of the largest |eigenvalue| and compare with the "
         "definition of sigma_max as the largest stretch of a unit vector.",
    solution="rho = ||W v|| <= sigma_max for a unit eigenvector v; equality for normal W; so "
             "the sigma_max condition is the stronger one.",
    scored=False))
