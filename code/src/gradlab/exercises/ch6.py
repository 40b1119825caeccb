r"""The exercises of ``06_modern.ipynb`` (chapter 6, clipping in modern training).

AGC for one ``Linear`` weight (units are columns), one ZClip step by hand, DP-SGD's
clipped mean of per-example gradients, the global norm from shard norms, and an open
question: why an always-active clip does almost nothing under Adam.
"""

import numpy as np

from .. import clip, clip_adaptive, clip_private, clip_sharded
from ..judging import (Case, Exercise, Wrong, as_array, close, open_judge, passed, returned,
                       vector_judge)

NOTEBOOK, CHAPTER = "06_modern.ipynb", 6
EXERCISES = []

# --- AGC for one layer: the student's function on random (n_in, n_out) weights ---


def _agc_calls(rng):
    cases = []
    for n_in, n_out, scale in ((5, 3, 1.0), (4, 6, 0.05), (3, 2, 10.0)):
        weight = rng.standard_normal((n_in, n_out))
        weight[:, -1] = 0.0  # a unit whose weights are zero: the floor eps decides
        grad = scale * rng.standard_normal((n_in, n_out))
        grad[:, 0] *= 1e-4  # a unit already within the bound: it must stay unchanged
        cases.append(Case((grad, weight), clip_adaptive.agc(grad, weight)))
    return cases


def _rows_as_units(grad, weight, lam=0.01, eps=1e-3):
    w = np.maximum(np.linalg.norm(weight, axis=1, keepdims=True), eps)
    g = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-6)
    return grad * np.minimum(1.0, lam * w / g)


def _judge_agc(cases, outcomes):
    for case, outcome in zip(cases, outcomes):
        grad, weight = case.args
        out = as_array(returned(outcome), grad.shape, "your function's output")
        if close(out, case.reference, 1e-9, 1e-15):
            continue
        if close(out, _rows_as_units(grad, weight), 1e-9, 1e-15):
            raise Wrong("you took the units along rows; in gradlab's Linear the weight is "
                        "(n_in, n_out), so an output unit is a column (norms over axis 0).")
        if not close(out[:, 0], grad[:, 0], 1e-9, 1e-15):
            raise Wrong("a unit whose ratio ||G_i|| / max(||W_i||, eps) is already below "
                        "lambda must stay unchanged (the factor is min(1, ...)).")
        if not close(out[:, -1], case.reference[:, -1], 1e-9, 1e-15):
            raise Wrong("the unit with zero weights is wrong: its weight norm is floored at "
                        "eps before it is multiplied by lambda.")
        raise Wrong("your output differs from gradlab.clip_adaptive.agc.")
    return passed("your AGC matches the package on random layers, including a zero-weight "
                  "unit and a unit within the bound.")


EXERCISES.append(Exercise(
    "ch6_agc", _judge_agc, calls=_agc_calls,
    hint="Norms over axis 0 with keepdims=True give one norm per column; the factor is "
         "min(1, clipping * max(||W_i||, eps) / ||G_i||).",
    solution="w = np.maximum(np.linalg.norm(weight, axis=0, keepdims=True), eps); "
             "g = np.maximum(np.linalg.norm(grad, axis=0, keepdims=True), 1e-6); "
             "return grad * np.minimum(1, clipping * w / g)"))

# --- one ZClip step by hand ---

_Z_MEAN, _Z_VAR, _Z_ALPHA, _Z_THRESH, _Z_NORM = 2.0, 0.25, 0.97, 2.5, 8.0


def zclip_step():
    """[z, clipped norm, new mean, new variance] for the exercise's numbers (eps = 0)."""
    std = np.sqrt(_Z_VAR)
    z = (_Z_NORM - _Z_MEAN) / std
    target = clip_adaptive.zclip_target(_Z_NORM, _Z_MEAN, _Z_VAR, _Z_THRESH, eps=0.0)
    mean, var = clip_adaptive.ema_update(_Z_MEAN, _Z_VAR, target, _Z_ALPHA)
    return np.array([z, target, mean, var])


def _zclip_mistakes():
    z, target, mean, var = zclip_step()
    old_mean_var = _Z_ALPHA * _Z_VAR + (1 - _Z_ALPHA) * (target - _Z_MEAN) ** 2
    plain_bound = _Z_MEAN + _Z_THRESH * np.sqrt(_Z_VAR)
    pb_mean = _Z_ALPHA * _Z_MEAN + (1 - _Z_ALPHA) * plain_bound
    pb_var = _Z_ALPHA * _Z_VAR + (1 - _Z_ALPHA) * (plain_bound - pb_mean) ** 2
    spike_mean = _Z_ALPHA * _Z_MEAN + (1 - _Z_ALPHA) * _Z_NORM
    spike_var = _Z_ALPHA * _Z_VAR + (1 - _Z_ALPHA) * (_Z_NORM - spike_mean) ** 2
    return [
        ([z, target, mean, old_mean_var], "the variance update uses the *new* mean."),
        ([z, plain_bound, pb_mean, pb_var], "ZClip clips to mu + z_thres^2 sigma / z, closer "
                                            "to the mean the larger the outlier, not to "
                                            "mu + z_thres sigma."),
        ([z, target, spike_mean, spike_var], "the averages are updated with the clipped norm, "
                                             "not with the spike.")]


EXERCISES.append(Exercise(
    "ch6_zclip_step",
    vector_judge(zclip_step(), rtol=1e-4, atol=1e-9, mistakes=_zclip_mistakes()),
    hint="sigma = sqrt(0.25); z = (8 - 2) / sigma; clip to mu + 2.5**2 * sigma / z; then "
         "update mu first and use the new mu in the variance.",
    solution="z = 12, clipped norm 2.2604, new mean 2.0078, new variance 0.2444."))

# --- DP-SGD's clipped mean (no noise): the student's function on random batches ---


def _dp_calls(rng):
    cases = []
    for batch, dim, scale, c in ((8, 3, 2.0, 1.0), (16, 5, 0.3, 1.0), (5, 4, 10.0, 0.5)):
        g = scale * rng.standard_normal((batch, dim))
        cases.append(Case((g, c), clip_private.clipped_noisy_mean(
            g, c, 0.0, np.random.default_rng(0))))
    return cases


def _judge_dp(cases, outcomes):
    for case, outcome in zip(cases, outcomes):
        g, c = case.args
        out = as_array(returned(outcome), (g.shape[1],), "your function's output")
        if close(out, case.reference, 1e-9, 1e-15):
            continue
        mean_clipped, _ = clip.clip_by_global_norm(g.mean(axis=0), c)
        if close(out, mean_clipped, 1e-6, 1e-12):
            raise Wrong("you clipped the mean gradient; DP-SGD clips every example's "
                        "gradient first, then averages (a different, biased vector).")
        if close(out, case.reference * g.shape[0], 1e-9, 1e-12):
            raise Wrong("that is the sum of the clipped gradients: divide by the batch size.")
        raise Wrong("your output differs from clip_private.clipped_noisy_mean with "
                    "noise_multiplier 0.")
    return passed("your clipped mean matches the package on random batches.")


EXERCISES.append(Exercise(
    "ch6_dp_mean", _judge_dp, calls=_dp_calls,
    hint="One norm per row (axis=1, keepdims=True); divide each row by max(1, norm / C); "
         "then average over the rows.",
    solution="norms = np.linalg.norm(g, axis=1, keepdims=True); "
             "return (g / np.maximum(1, norms / C)).mean(axis=0)"))

# --- the global norm from shard norms ---

_SHARD_NORMS = (3.0, 4.0, 12.0, 84.0)
_GLOBAL = clip_sharded.global_norm_from_shard_norms(_SHARD_NORMS)
EXERCISES.append(Exercise(
    "ch6_shard_answer",
    vector_judge([_GLOBAL, float(clip.clip_coefficient(_GLOBAL, 1.0))], rtol=1e-6, mistakes=[
        ([sum(_SHARD_NORMS), 1.0 / (sum(_SHARD_NORMS) + 1e-6)],
         "norms do not add: the global norm is the square root of the sum of the squared "
         "shard norms."),
        ([_GLOBAL, _GLOBAL], "the factor multiplies the gradients and is at most 1: "
                             "min(1, c / (N + 1e-6))."),
        ([sum(n * n for n in _SHARD_NORMS), 1.0 / (sum(n * n for n in _SHARD_NORMS) + 1e-6)],
         "take the square root of the summed squares.")]),
    hint="One all-reduce sums the squared shard norms; the global norm is its square root.",
    solution=f"sqrt(9 + 16 + 144 + 7056) = {_GLOBAL:g}; factor 1 / (85 + 1e-6)."))

# --- the open question ---

EXERCISES.append(Exercise(
    "ch6_adam_open",
    open_judge([
        "Adam's update m_hat / (sqrt(v_hat) + eps) is unchanged by a common factor on every "
        "gradient (up to eps), so an always-active clip with a slowly varying factor hardly "
        "changes the updates.",
        "The clip still matters where its factor changes sharply from step to step (a spike): "
        "it keeps that gradient's square out of v, which would shrink the next ~1/(1 - beta2) "
        "updates.",
        "An experiment settles it: rerun without the clip (or with every gradient times a "
        "constant) and compare the updates and the loss."]),
    hint="Multiply every gradient by s > 0 in Adam's two averages: what happens to "
         "m_hat / sqrt(v_hat)?",
    solution="See the rubric: scale invariance, the exception of spikes, and the experiment "
             "that tests it.",
    scored=False))
