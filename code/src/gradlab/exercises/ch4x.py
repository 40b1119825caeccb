r"""The exercises of chapter 4's second notebook, ``04_clipping_experiments.ipynb``.

The distance bound of clipped momentum, the classic learning rate equal to an averaged
one, and the early gradient norms of the recurrent network on the adding problem.
"""

from functools import lru_cache

import numpy as np

from ..experiments import adding
from ..judging import Exercise, accepts_numbers, number_judge, vector_judge

NOTEBOOK, CHAPTER = "04_clipping_experiments.ipynb", 4
EXERCISES = []

# --- the experiments section: how far can clipped weights travel? ---

_X_LR, _X_MU, _X_CLIP, _X_STEPS = 0.01, 0.9, 1.0, 16 * 100
_TRAVEL = _X_STEPS * _X_LR * _X_CLIP / (1 - _X_MU)
EXERCISES.append(Exercise(
    "ch4x_travel_bound",
    number_judge(_TRAVEL, mistakes=[
        (_X_STEPS * _X_LR * _X_CLIP, "each step can be up to 1 / (1 - mu) clipped gradients "
                                     "long, because momentum accumulates them."),
        (_X_LR * _X_CLIP / (1 - _X_MU), "that bounds one step; the weights take 1600 of them."),
        (_X_STEPS * _X_CLIP / (1 - _X_MU), "the step is the learning rate times the velocity.")]),
    hint="Each step is at most eta c / (1 - mu) long; add up 16 * 100 steps (triangle "
         "inequality).",
    solution=f"1600 * 0.01 * 1 / (1 - 0.9) = {_TRAVEL:g}; the measured distance is far smaller."))

# --- averaged momentum at lr 3, mu 0.99: the classic learning rate with the same steps ---

_AVG_LR, _AVG_MU = 3.0, 0.99
_CLASSIC_LR = (1 - _AVG_MU) * _AVG_LR
EXERCISES.append(Exercise(
    "ch4x_classic_lr",
    number_judge(_CLASSIC_LR, rtol=1e-6, mistakes=[
        (_AVG_LR / (1 - _AVG_MU), "the averaged form multiplies the gradient by (1 - mu), so "
                                  "its learning rate is *smaller* in classic terms."),
        (_AVG_LR, "the two forms take different steps at the same learning rate.")]),
    hint="The averaged form v <- mu v + (1 - mu) g at rate eta equals the classic form at rate "
         "(1 - mu) eta.",
    solution=f"(1 - 0.99) * 3 = {_CLASSIC_LR:g}."))

# --- the early gradient norms of the clipped adding-problem runs at lr 0.1 ---

EARLY_STEPS, THRESHOLD = 100, 1.0


@lru_cache(maxsize=1)
def early_norm_stats():
    """Median, 90th percentile and share above 1 of the first 100 pre-clipping norms.

    Runs: the adding problem, lr 0.1, global clipping at 1, seeds 0-4, 1000 steps each
    (as in the chapter; about a second).
    """
    runs = adding.run_many([(0.1, 1.0)], np.arange(5), steps=1000)
    early = runs.grad_norm[0, :, :EARLY_STEPS]
    early = early[np.isfinite(early)]
    return np.array([np.median(early), np.percentile(early, 90), np.mean(early > THRESHOLD)])


def _judge_norm_stats(answer):
    stats = early_norm_stats()
    percent = stats * [1, 1, 100]
    return vector_judge(stats, rtol=1e-3, atol=0.0, mistakes=[
        (percent, "give the share as a fraction between 0 and 1, not a percentage."),
        (stats[[1, 0, 2]], "the median and the percentile are swapped: median first.")])(answer)


EXERCISES.append(Exercise(
    "ch4x_norm_stats", _judge_norm_stats,
    hint="early = rnn_runs.grad_norm[3, :, :100]; keep the finite values; then np.median, "
         "np.percentile(early, 90) and np.mean(early > 1.0). Answer the three numbers in "
         "that order.",
    solution="[np.median(early), np.percentile(early, 90), np.mean(early > 1.0)]: the median "
             "is above 1, so a threshold of 1.0 clips most ordinary steps (tight).",
    accepts="each entry " + accepts_numbers(1e-3)))
