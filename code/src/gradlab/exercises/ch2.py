r"""The exercises of ``02_vanishing_exploding.ipynb`` (chapter 2).

The singular-value bound through 20 sigmoid layers, the variance recursion of ReLU
layers (He's constant, the growth of N(0, 1) weights at width 32), the warning time of
``deep_mlp.first_alarm`` on the slowly diverging regression run, and the largest
learning rate that trains the regression network on the raw target.
"""

from functools import lru_cache

import numpy as np

from .. import nn
from ..experiments import deep_mlp, regression
from ..judging import Exercise, accepts_numbers, choice_judge, number_judge, vector_judge

NOTEBOOK, CHAPTER = "02_vanishing_exploding.ipynb", 2
EXERCISES = []

SIGMOID_GAMMA = float(nn.activation("sigmoid").derivative(np.zeros(1))[0])  # max of sigma'

# --- how much can 20 sigmoid layers shrink a gradient (sigma_max <= 2)? ---

_LAYERS, _SIGMA = 20, 2.0
_RATIO = (SIGMOID_GAMMA * _SIGMA) ** _LAYERS
EXERCISES.append(Exercise(
    "ch2_sigmoid_ratio",
    number_judge(_RATIO, rtol=1e-3, mistakes=[
        (1 / _RATIO, "that is the inverse: the bound says how small the input-side gradient "
                     "can be relative to the output side, a number below 1."),
        ((SIGMOID_GAMMA * _SIGMA) ** (_LAYERS - 1), "20 layers contribute 20 factors."),
        (_SIGMA ** _LAYERS, "the sigmoid's derivative (at most 1/4) enters every factor too.")]),
    hint="Each layer contributes at most gamma * sigma_max with gamma = max sigma'(a) = 1/4; "
         "multiply the 20 factors.",
    solution=f"(2 / 4)**20 = 2**-20 = {_RATIO:.3g}."))

EXERCISES.append(Exercise(
    "ch2_sigmoid_sigma",
    number_judge(1 / SIGMOID_GAMMA, mistakes=[
        (SIGMOID_GAMMA, "that is gamma itself; the bound reaches 1 when gamma * sigma_max = 1."),
        (_SIGMA, "that is the sigma_max of the question, which gives a ratio far below 1.")]),
    hint="The bound per layer is gamma * sigma_max: set it to 1.",
    solution=f"sigma_max >= 1 / gamma = {1 / SIGMOID_GAMMA:g}."))

# --- the variance recursion of ReLU layers ---

_WIDTH = 32


def relu_scale_factor(c):
    """Predicted per-layer factor of the activation scale for ReLU weights of variance c/n."""
    return float(np.sqrt(c / 2.0))


EXERCISES.append(Exercise(
    "ch2_he_c",
    number_judge(2.0, mistakes=[
        (1.0, "with c = 1 (LeCun's variance) ReLU halves the variance at every layer."),
        (np.sqrt(2.0), "c multiplies the variance, not the standard deviation.")]),
    hint="The factor per layer is sqrt(n * (c/n) / 2) = sqrt(c/2). Which c makes it 1?",
    solution="sqrt(c/2) = 1 gives c = 2: He's initialisation, variance 2/n."))


@lru_cache(maxsize=1)
def measured_growth():
    """The measured growth per layer of a 30-layer ReLU MLP of width 32 with N(0, 1) weights."""
    p = deep_mlp.profile(depth=30, width=_WIDTH, init="normal", activation="relu")
    return deep_mlp.growth_per_layer(p.activation_scale)


def _judge_normal_growth(answer):
    return number_judge(relu_scale_factor(_WIDTH), rtol=1e-6, mistakes=[
        (measured_growth(), "that is the measured growth; the question asks first for the "
                            "prediction of the variance recursion."),
        (np.sqrt(_WIDTH), "ReLU zeroes half of the pre-activations: divide the variance by 2."),
        (_WIDTH / 2, "that is the factor for the variance; the scale is its square root.")])(
        answer)


EXERCISES.append(Exercise(
    "ch2_normal_growth", _judge_normal_growth,
    hint="N(0, 1) weights have variance 1 = c/n, so c = n = 32; use the factor sqrt(c/2).",
    solution=f"sqrt(32 / 2) = {relu_scale_factor(_WIDTH):g}; the measurement scatters around it.",
    accepts=accepts_numbers(1e-6)))

# --- how early does the alarm ring on the raw-target run at lr 0.002? ---

ALARM_FACTORS = (3, 10, 30, 100)


@lru_cache(maxsize=1)
def slow_run():
    """The chapter's raw-target regression run at learning rate 0.002 (it diverges)."""
    return regression.run(regression.load(), lr=0.002)


def alarm_steps():
    """Step of the first alarm for each of ``ALARM_FACTORS`` on ``slow_run``."""
    return np.array([deep_mlp.first_alarm(slow_run().history.grad_norm, factor=f)
                     for f in ALARM_FACTORS], dtype=float)


def _judge_alarm_leads(answer):
    steps = alarm_steps()
    leads = slow_run().history.diverged.step - steps
    return vector_judge(leads, rtol=0.0, atol=1e-9, mistakes=[
        (steps, "those are the steps at which the alarm rings; the question asks how many "
                "steps before the divergence it rings."),
        (leads[::-1], "the order is reversed: factor 3 first, factor 100 last.")])(answer)


EXERCISES.append(Exercise(
    "ch2_alarm_leads", _judge_alarm_leads,
    hint="For each factor: slow.history.diverged.step - deep_mlp.first_alarm("
         "slow.history.grad_norm, factor=factor). Four whole numbers, factor 3 first.",
    solution="[slow.history.diverged.step - deep_mlp.first_alarm(slow.history.grad_norm, "
             "factor=f) for f in (3, 10, 30, 100)]: the smaller the factor, the earlier.",
    accepts="whole numbers of steps, exactly"))

# --- is a smaller learning rate enough? ---

LEARNING_RATES = (0.005, 0.002, 0.001, 0.0005)


@lru_cache(maxsize=1)
def surviving_rates():
    """The rates of ``LEARNING_RATES`` whose raw-target run trains 100 epochs without diverging."""
    raw = regression.load()
    return tuple(lr for lr in LEARNING_RATES if regression.run(raw, lr=lr).history.diverged is None)


def _judge_largest_stable(answer):
    survivors = surviving_rates()
    diverging = [lr for lr in LEARNING_RATES if lr not in survivors]
    mistakes = [(lr, "that rate diverges before the 100 epochs are over: look at "
                     "history.diverged.") for lr in diverging]
    mistakes += [(lr, "that rate survives, but a larger one survives too.")
                 for lr in survivors[1:]]
    return choice_judge(LEARNING_RATES, max(survivors), mistakes)(answer)


EXERCISES.append(Exercise(
    "ch2_largest_stable_lr", _judge_largest_stable,
    hint="regression.run(raw, lr=lr).history.diverged is None for a run that survived; "
         "answer with the largest such rate of the four.",
    solution="Of the four, the rates that survive are the two smallest; the largest of them is "
             "the answer, and its test MSE is still far above that of the standardised target.",
    accepts="one of " + ", ".join(f"{lr:g}" for lr in LEARNING_RATES)))
