r"""The exercises of ``01_backprop.ipynb`` (chapter 1, backpropagation).

Scalar chains from ``experiments.backprop``: the depth at which one SGD step overwrites
the first weight, the signals and weight gradients of a chain with a negative weight,
the layer that receives the largest gradient when the weights differ, and the best
finite-difference step of the chapter's two-layer network.
"""

from functools import lru_cache

import numpy as np

from .. import nn
from ..experiments import backprop
from ..judging import Exercise, choice_judge, vector_judge, whole_number_judge

NOTEBOOK, CHAPTER = "01_backprop.ipynb", 1
EXERCISES = []

LR = 0.1  # the chapter's learning rate


# --- how deep before one step overwrites the weight (w = 2, x = 1, lr 0.1) ---


def first_overwriting_depth(weight=2.0, lr=LR, max_depth=60):
    """Smallest depth at which one SGD update of w_1 is larger than w_1 itself."""
    return next(d for d in range(1, max_depth)
                if backprop.scalar_chain(d, weight).relative_updates(lr)[0] > 1)


_DEPTH = first_overwriting_depth()
EXERCISES.append(Exercise(
    "ch1_depth",
    whole_number_judge(_DEPTH, "a depth (a number of layers)", mistakes=[
        (_DEPTH - 1, "at that depth the update of w_1 is still smaller than w_1: compute "
                     "0.1 * 2**(L - 1) / 2 for it."),
        (_DEPTH + 1, "one layer fewer already gives an update larger than w_1.")]),
    hint="The weight gradient of layer 1 is 2**(L-1); the update is 0.1 times that and w_1 = 2. "
         "For which smallest L is the update divided by w_1 above 1?",
    solution=f"0.1 * 2**(L-2) > 1 needs 2**(L-2) > 10: L = {_DEPTH} "
             f"(backprop.scalar_chain({_DEPTH}, 2.0).relative_updates(0.1)[0] = "
             f"{backprop.scalar_chain(_DEPTH, 2.0).relative_updates(LR)[0]:g})."))

# --- a negative weight: w = -2, five layers, x = 1 ---

_NEGATIVE = backprop.scalar_chain(5, -2.0)
_POSITIVE = backprop.scalar_chain(5, 2.0)
EXERCISES.append(Exercise(
    "ch1_negative_signals",
    vector_judge(_NEGATIVE.signals, mistakes=[
        (_POSITIVE.signals, "those are the signals of w = 2: with w = -2 the sign flips at "
                            "every layer."),
        (_NEGATIVE.signals[::-1], "the order is reversed: give layer 1 first, layer 5 last."),
        (-_NEGATIVE.signals, "every sign is flipped: the signal at the last layer is "
                             "dL/da_5 = 1.")]),
    hint="The signal at layer 5 is 1; each layer further down multiplies it by w = -2. "
         "Give five numbers, layer 1 first.",
    solution=f"(-2)**(5-i) for i = 1..5: {_NEGATIVE.signals.tolist()}."))

EXERCISES.append(Exercise(
    "ch1_negative_grads",
    vector_judge(_NEGATIVE.weight_grads, mistakes=[
        (_NEGATIVE.signals, "those are the signals dL/da_i; the weight gradient multiplies "
                            "the signal by the layer's input a_(i-1)."),
        (-_NEGATIVE.weight_grads, "every sign is flipped: (-2)**4 is positive."),
        (_NEGATIVE.weight_grads[::-1], "the order is reversed: layer 1 first.")]),
    hint="dL/dw_i = signal of layer i times the layer's input, the product of all weights but "
         "w_i times x. Give five numbers, layer 1 first.",
    solution=f"(-2)**4 * x in every layer: {_NEGATIVE.weight_grads.tolist()}, the same as "
             "for w = 2."))

# --- different weights per layer: (4, 2, 1, 0.5, 0.25) ---

_MIXED = backprop.scalar_chain(5, np.array([4.0, 2.0, 1.0, 0.5, 0.25]))
_BIGGEST_WEIGHT = int(_MIXED.layers[np.argmax(_MIXED.weights)])
for _name, _values, _what in (("ch1_largest_grad_layer", _MIXED.weight_grads, "weight gradient"),
                              ("ch1_largest_update_layer", _MIXED.relative_updates(LR),
                               "update relative to its weight")):
    EXERCISES.append(Exercise(
        _name,
        whole_number_judge(int(_MIXED.layers[np.argmax(np.abs(_values))]), "a layer number "
                           "from 1 to 5", mistakes=[
            (_BIGGEST_WEIGHT, "that layer has the largest weight, but its gradient is the "
                              "product of all the *other* weights.")]),
        hint="With x = 1 the weight gradient of layer i is the product of all weights divided "
             "by w_i; the relative update divides once more by w_i.",
        solution=f"The product of the weights is 1, so the {_what} is 1/w_i (times 0.1/w_i for "
                 f"the update): largest for the smallest weight, layer "
                 f"{int(_MIXED.layers[np.argmin(_MIXED.weights)])}."))

# --- the best finite-difference step of the chapter's two-layer network ---

EPS_VALUES = 10.0 ** -np.arange(1, 13)


def two_layer_network():
    """The chapter's network ``mlp([3, 4, 1], tanh, xavier)`` and its 5 inputs, seed 0."""
    rng = np.random.default_rng(0)
    model = nn.mlp([3, 4, 1], "tanh", init="xavier", rng=rng)
    return model, rng.normal(size=(5, 3))


@lru_cache(maxsize=1)
def best_eps():
    """The step of ``EPS_VALUES`` with the smallest gradient-check error (computed once)."""
    errors = backprop.eps_sweep(*two_layer_network(), EPS_VALUES)
    return float(EPS_VALUES[np.argmin(errors)])


def _judge_best_eps(answer):
    return choice_judge(EPS_VALUES, best_eps(), rtol=1e-6, mistakes=[
        (EPS_VALUES[-1], "the smallest step is not the best: round-off error grows like "
                         "u / eps when eps shrinks."),
        (EPS_VALUES[0], "the largest step suffers most from the truncation error, which "
                        "grows like eps**2.")])(answer)


EXERCISES.append(Exercise(
    "ch1_best_eps", _judge_best_eps,
    hint="backprop.eps_sweep(model, X, eps_values) returns one error per step; take the step "
         "where it is smallest (np.argmin).",
    solution="eps_values[np.argmin(backprop.eps_sweep(model, X, eps_values))]: a middle step, "
             "near u**(1/3) for float64, where truncation and round-off errors balance.",
    accepts="one of " + ", ".join(f"{e:g}" for e in EPS_VALUES)))
