r"""The exercises of chapter 4's first notebook, ``04_clipping.ipynb`` (clipping).

Clipping (3, -4) at 2 by norm and by value and the angle value clipping turns it by; an
example of value clipping that keeps the direction (checked by its properties); the norm
global clipping leaves to a small tensor; the longest step with clipped momentum; and
the cliff's box count.
"""

from functools import lru_cache

import numpy as np

from .. import optim
from ..experiments import cliff_runs, clipping
from ..judging import (Exercise, Wrong, accepts_numbers, as_array, as_number, number_judge,
                       passed, vector_judge)

NOTEBOOK, CHAPTER = "04_clipping.ipynb", 4
EXERCISES = []

# --- clipping (3, -4) at c = 2 by hand ---

_G, _C = np.array([3.0, -4.0]), 2.0
_BY_NORM = clipping.clip_vector(_G, _C, "norm")
_BY_VALUE = clipping.clip_vector(_G, _C, "value")


def _norm_clip_properties(array):
    norm = float(np.linalg.norm(array))
    if norm > _C * (1 + 1e-6):
        raise Wrong(f"your vector's norm is {norm:.4g}, above the threshold {_C:g}.")
    if norm == 0 or float(array @ _G) / (norm * np.linalg.norm(_G)) < 1 - 1e-9:
        raise Wrong("the direction changed: norm clipping only rescales g.")
    raise Wrong(f"the direction is right but the norm is {norm:.4g}; g is longer than the "
                f"threshold, so it is scaled to norm exactly {_C:g}.")


def _value_clip_properties(array):
    if np.any(np.abs(array) > _C * (1 + 1e-9)):
        raise Wrong(f"an entry lies outside [-{_C:g}, {_C:g}]: value clipping bounds every entry.")
    if np.any(np.sign(array) != np.sign(_G)):
        raise Wrong("an entry changed sign: value clipping keeps the sign of every entry.")


EXERCISES.append(Exercise(
    "ch4_by_norm",
    vector_judge(_BY_NORM.after, properties=_norm_clip_properties, mistakes=[
        (_BY_VALUE.after, "that is clipping by value; by norm rescales the whole vector.")]),
    hint="||g|| = 5 is above c = 2: multiply g by c / ||g||.",
    solution=f"g * 2/5 = {_BY_NORM.after.tolist()}."))

EXERCISES.append(Exercise(
    "ch4_by_value",
    vector_judge(_BY_VALUE.after, properties=_value_clip_properties, mistakes=[
        (_BY_NORM.after, "that is clipping by norm; by value clamps each entry to [-c, c].")]),
    hint="Clamp each entry to [-2, 2], keeping its sign.",
    solution=f"{_BY_VALUE.after.tolist()}: both entries are cut to size 2."))

EXERCISES.append(Exercise(
    "ch4_value_angle",
    number_judge(_BY_VALUE.angle_deg, rtol=1e-3, mistakes=[
        (np.radians(_BY_VALUE.angle_deg), "that is the angle in radians; give it in degrees."),
        (0.0, "zero is the angle of norm clipping; value clipping turns (3, -4) here.")]),
    hint="cos(angle) = g . g_clipped / (||g|| ||g_clipped||); np.degrees(np.arccos(...)).",
    solution=f"arccos(14 / (5 * 2 sqrt 2)) = {_BY_VALUE.angle_deg:.2f} degrees."))

# --- an example where value clipping cuts entries and keeps the direction ---


def _judge_direction_example(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong("a pair (g, c) is expected: a gradient of three entries and a threshold.")
    g = as_array(answer[0], (3,), "your g")
    c = as_number(answer[1], "your threshold c")
    if c <= 0:
        raise Wrong("the threshold c must be positive.")
    if not np.any(g):
        raise Wrong("g = 0 has no direction; choose a non-zero gradient.")
    if not np.any(np.abs(g) > c):
        raise Wrong("no entry of g is larger than c in size, so nothing is cut; the question "
                    "asks for an example in which some entries are cut.")
    result = clipping.clip_vector(g, c, "value")
    if result.angle_deg > 1e-6:
        raise Wrong(f"value clipping at c = {c:g} turns this g by {result.angle_deg:.3g} degrees: "
                    "the cut entries would need the same size, and no non-zero entry may stay "
                    "below c.")
    return passed(f"g is cut to {result.after.tolist()}, a positive multiple of g.")


EXERCISES.append(Exercise(
    "ch4_direction_example", _judge_direction_example,
    hint="An entry below c keeps its value, an entry above c is multiplied by c / |g_i|: for "
         "one common factor, every non-zero entry must exceed c by the same ratio.",
    solution="For example g = (7, 0, -7) with c = 2, clipped to (2, 0, -2): all non-zero "
             "entries have the same size and exceed c.",
    accepts="any pair (g, c) that answers the question"))

# --- global clipping shrinks a healthy tensor: norms 1000 and 0.5, c = 1 ---

_TENSORS = [np.array([1000.0]), np.array([0.5])]
_GLOBAL = clipping.global_versus_per_tensor(_TENSORS, max_norm=1.0)
EXERCISES.append(Exercise(
    "ch4_global_small_norm",
    number_judge(_GLOBAL.norms_global[1], rtol=1e-4, mistakes=[
        (_GLOBAL.norms_per_tensor[1], "that is per-tensor clipping, which leaves the small "
                                      "tensor alone; global clipping uses one factor for both."),
        (1.0, "the threshold bounds the norm of both tensors together, not the small one's.")]),
    hint="The global norm is N = sqrt(a**2 + b**2); every tensor is multiplied by c / N.",
    solution=f"b c / sqrt(a**2 + b**2) = {_GLOBAL.norms_global[1]:.4g}, about b c / a."))

# --- the longest step with clipped momentum (lr 0.1, mu 0.9, c = 1) ---

_LR, _MU, _CLIP = 0.1, 0.9, 1.0
EXERCISES.append(Exercise(
    "ch4_momentum_bound",
    number_judge(_LR * _CLIP / (1 - _MU), mistakes=[
        (_LR * _CLIP, "that is one clipped gradient step; the velocity sums up to "
                      "1 / (1 - mu) of them."),
        (_CLIP / (1 - _MU), "that bounds the velocity; the step is the learning rate times it.")]),
    hint="||v_t|| <= c (1 + mu + mu**2 + ...) and the step is lr * ||v_t||.",
    solution=f"eta c / (1 - mu) = {_LR * _CLIP / (1 - _MU):g}."))


def _sgd_momentum(params, **clipping_options):
    return optim.SGD(params, lr=_LR, momentum=_MU, **clipping_options)


@lru_cache(maxsize=1)
def step_after_100():
    """Step length after 100 steps of a norm-100 gradient, clipped at 1, with momentum 0.9."""
    constant = np.tile([60.0, 80.0], (100, 1))
    return float(clipping.optimizer_trace(constant, _sgd_momentum,
                                          global_clipnorm=_CLIP).step_length[-1])


def _judge_step_100(answer):
    return number_judge(step_after_100(), rtol=1e-6, mistakes=[
        (_LR * _CLIP / (1 - _MU), "that is the bound, reached only in the limit; after 100 "
                                  "steps the step is a little shorter.")])(answer)


EXERCISES.append(Exercise(
    "ch4_momentum_step100", _judge_step_100,
    hint="clipping.optimizer_trace(np.tile([60.0, 80.0], (100, 1)), sgd_momentum, "
         "global_clipnorm=1).step_length[-1]; keep all digits.",
    solution="eta c (1 - mu**100) / (1 - mu): within 3e-5 of the bound.",
    accepts=accepts_numbers(1e-6)))

# --- the cliff: a box of half-width 0.1 around (4, -4) at lr 0.5 ---


@lru_cache(maxsize=1)
def small_box():
    """Shares of low-loss runs from the half-width 0.1 box at lr 0.5: (unclipped, clipped)."""
    b = cliff_runs.box_share((4.0, -4.0), 0.1, 0.5, threshold=1.0)
    return np.array([b.plain_share, b.clipped_share])


def _judge_box(answer):
    shares = small_box()
    return vector_judge(shares, rtol=1e-6, mistakes=[
        (100 * shares, "give the shares as fractions between 0 and 1, not percentages."),
        (shares[::-1], "the order is reversed: unclipped first, then clipped.")])(answer)


EXERCISES.append(Exercise(
    "ch4_box_shares", _judge_box,
    hint="b = cliff_runs.box_share((4.0, -4.0), 0.1, 0.5, threshold=1.0); answer "
         "[b.plain_share, b.clipped_share].",
    solution="[b.plain_share, b.clipped_share]: clipping still raises the share of runs that "
             "reach a low loss.",
    accepts="each entry " + accepts_numbers(1e-6)))
