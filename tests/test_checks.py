"""The answer checker: right, wrong, untouched and trick answers for every exercise."""

import re

import numpy as np
import pytest

from gradlab import checks, exercises
from gradlab.checks import FAIL, NOT_ATTEMPTED, OPEN, PASS, evaluate


def clip_value_ok(g, c):
    return np.clip(g, -c, c)


def global_ok(grads, max_norm):
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total


def linear_ok(x, W, b, grad_out):
    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=0)


def bptt_ok(grad_h, h, h_prev, W_rec):
    grad_a = grad_h * (1 - h**2)
    return grad_a @ W_rec.T, h_prev.T @ grad_a


RIGHT = {
    "depth_w3": 81,
    "depth_w09": np.float64(0.6561),
    "depth_constant": 1.0,
    "step_lengths": [0.05, 0.1, 0.08, 0.1, 0.1, 0.025],
    "clip_rate": 0.5,
    "long_101": 2.7048,
    "long_099": 0.3660,
    "quad_factor": 9,
    "quad_cycle": np.array([-0.06, 0.04]),
    "clip_by_value": clip_value_ok,
    "clip_by_global_norm": global_ok,
    "linear_backward": linear_ok,
    "bptt_step": bptt_ok,
    "sweep_best": {"global norm": 5.0, "value": 0.1, "global norm and value": 5.0},
}

# (wrong answer, words the message must contain)
WRONG = {
    "depth_w3": (243, "four weights"),
    "depth_w09": (0.59049, "fifth"),
    "depth_constant": (-1, "sign"),
    "step_lengths": ([0.05, 0.4, 0.08, 1.0, 0.2, 0.025], "unclipped steps"),
    "clip_rate": (3, "number of clipped steps"),
    "long_101": (2.0, "multiply"),
    "long_099": (0.5, "rounded to the digits you give"),
    "quad_factor": (1.0, "rounded to the digits you give"),
    "quad_cycle": ([0.04, -0.06], "smaller value first"),
    "clip_by_value": (lambda g, c: g, "must lie in [-c, c]"),
    "clip_by_global_norm": (
        lambda grads, m: ([g * min(1, m / np.linalg.norm(g)) for g in grads],
                          np.sqrt(sum(np.sum(g**2) for g in grads))), "different factors"),
    "linear_backward": (lambda x, W, b, g: (g @ W.T, x.T @ g, g.mean(axis=0)), "averages"),
    "bptt_step": (lambda gh, h, hp, W: (gh @ W.T, hp.T @ gh), "tanh derivative"),
    "sweep_best": ({"global norm": 100.0, "value": 0.1, "global norm and value": 5.0},
                   "lower median"),
}

FUNCTIONS = ("clip_by_value", "clip_by_global_norm", "linear_backward", "bptt_step")


def stub(*args):
    raise NotImplementedError


def test_every_scored_chapter5_exercise_is_covered():
    assert set(checks.scored_names(5)) == set(RIGHT) == set(WRONG)


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_answer_passes(name):
    result = evaluate(name, RIGHT[name])
    assert result.status == PASS, result.message


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answer_fails_with_specific_message(name):
    answer, words = WRONG[name]
    result = evaluate(name, answer)
    assert result.status == FAIL
    assert words in result.message


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_placeholder_is_not_attempted(name):
    assert evaluate(name, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stubs_are_not_attempted(name):
    def empty(*args):
        ...

    assert evaluate(name, stub).status == NOT_ATTEMPTED
    assert evaluate(name, empty).status == NOT_ATTEMPTED


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 81.0


class Exploding:
    def __eq__(self, other):
        raise RuntimeError("boom")

    __float__ = __bool__ = __len__ = __array__ = __eq__


NUMBERS = [n for n in RIGHT if isinstance(RIGHT[n], (int, float, np.floating))]
VECTORS = ["quad_cycle"]  # the one pair among the answers


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("trick, words", [
    (AlwaysEqual(), "AlwaysEqual"), (float("nan"), "NaN"), (float("inf"), "infinite"),
    ([81.0], "list"), ("81", "text"), (True, "truth value"), (None, "None"),
    (np.array([81.0]), "array of shape (1,)"), (Exploding(), "Exploding")])
def test_trick_numbers_fail_with_a_message(name, trick, words):
    result = evaluate(name, trick)
    assert result.status == FAIL and words in result.message


@pytest.mark.parametrize("name", VECTORS)
@pytest.mark.parametrize("trick, words", [
    (AlwaysEqual(), "AlwaysEqual"), ([np.nan, 1.6], "NaN"), ([1.2, 1.6, 0.0], "shape"),
    (1.2, "array of shape"), (["1.2", "1.6"], "text"), ([[1.2], [1.6, 0.0]], "ragged"),
    (np.array(["a", "b"]), "numbers are expected"), ([AlwaysEqual(), 1.6], "AlwaysEqual")])
def test_trick_vectors_fail_with_a_message(name, trick, words):
    if words == "NaN":  # a NaN entry in an answer of the right shape
        trick = np.where(np.arange(np.size(RIGHT[name])) == 0, np.nan, 1.0).reshape(
            np.shape(RIGHT[name]))
    result = evaluate(name, trick)
    assert result.status == FAIL and words in result.message


def test_identity_and_mutating_functions_fail():
    def mutating(g, c):
        np.clip(g, -c, c, out=g)
        return g

    def mutating_global(grads, max_norm):
        clipped, total = global_ok(grads, max_norm)
        grads[0] *= 0.5
        return clipped, total

    assert "changed its input" in evaluate("clip_by_value", mutating).message
    assert "changed its input" in evaluate("clip_by_global_norm", mutating_global).message
    identity = evaluate("clip_by_global_norm", lambda grads, m: (grads, global_ok(grads, m)[1]))
    assert identity.status == FAIL and "above the threshold" in identity.message


def test_functions_returning_tricks_fail():
    assert "NaN" in evaluate("clip_by_value", lambda g, c: g * np.nan).message
    assert "shape" in evaluate("clip_by_value", lambda g, c: np.clip(g, -c, c).ravel()).message
    assert "AlwaysEqual" in evaluate("clip_by_value", lambda g, c: AlwaysEqual()).message
    only_list = evaluate("clip_by_global_norm", lambda grads, m: global_ok(grads, m)[0])
    assert "the total norm you return is an array" in only_list.message
    only_norm = evaluate("clip_by_global_norm", lambda grads, m: global_ok(grads, m)[1])
    assert "return 2 things" in only_norm.message
    raised = evaluate("linear_backward", lambda *args: 1 / 0)
    assert raised.status == FAIL and "ZeroDivisionError" in raised.message
    assert "a function is expected" in evaluate("bptt_step", 3.0).message


def test_global_norm_checks_the_total_and_the_eps():
    wrong_total = evaluate("clip_by_global_norm",
                           lambda grads, m: (global_ok(grads, m)[0], 1.0))
    assert "total norm you return" in wrong_total.message
    no_eps = evaluate("clip_by_global_norm", lambda grads, m: (
        [g * min(1.0, m / global_ok(grads, m)[1]) for g in grads], global_ok(grads, m)[1]))
    assert no_eps.status == PASS  # 1e-6 is within the tolerance of an exact rescale
    too_small = evaluate("clip_by_global_norm", lambda grads, m: (
        [g * min(1.0, 0.5 * m / global_ok(grads, m)[1]) for g in grads],
        global_ok(grads, m)[1]))
    assert "too far below the threshold" in too_small.message


def test_bptt_step_without_transpose_fails():
    result = evaluate("bptt_step", lambda gh, h, hp, W: ((gh * (1 - h**2)) @ W,
                                                         hp.T @ (gh * (1 - h**2))))
    assert result.status == FAIL and "transpose" in result.message


def test_sweep_answers_are_validated():
    assert "no entry" in evaluate("sweep_best", {"global norm": 5.0}).message
    assert "not one of the thresholds" in evaluate(
        "sweep_best", {"global norm": 3.0, "value": 0.1, "global norm and value": 5.0}).message
    assert "a dict is expected" in evaluate("sweep_best", [5.0, 0.1, 5.0]).message


def test_sweep_reference_is_u_shaped_for_global_norm():
    medians = exercises.ch5.sweep_medians()["global norm"]
    best = int(np.argmin(medians))
    assert 0 < best < len(medians) - 1


def test_failure_messages_never_reveal_numeric_answers():
    for name in NUMBERS:
        expected = RIGHT[name]
        message = evaluate(name, 12345.0).message
        shown = re.escape(f"{float(expected):.4g}")
        assert not re.search(rf"(?<![\d.e-]){shown}(?![\d.e])", message), message


def test_open_question_shows_rubric_only_after_real_text():
    assert evaluate("diagnosis", "").status == NOT_ATTEMPTED
    assert evaluate("diagnosis", "exploding").status == FAIL
    assert evaluate("diagnosis", 42).status == FAIL
    answer = "I would log the global gradient norm at every step and per layer " * 2
    result = evaluate("diagnosis", answer)
    assert result.status == OPEN and "rubric" in result.message
    assert "diagnosis" not in checks.scored_names()


def test_check_hint_and_solution_print(capsys):
    checks.check("depth_w3", 81)
    checks.hint("depth_w3")
    checks.solution("depth_w3")
    checks.solution("clip_by_value")  # never shown
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Correct")
    assert lines[1].startswith("Hint:")
    assert lines[2].startswith("Solution:")
    assert "not shown" in lines[3]


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match="no exercise called"):
        evaluate("no_such_exercise", 1)


def test_answers_too_large_or_deep_for_plain_data_fail_that_exercise_only():
    nested = []
    for _ in range(100):
        nested = [nested]
    assert "plain data" in evaluate("step_lengths", nested).message
    assert "infinite" in evaluate("depth_w3", 3**5000).message
    assert evaluate("depth_w3", 81).passed


def test_lambdas_helpers_closures_and_aliases_pass():
    import numpy as npy

    def helper(g, c):
        return npy.minimum(npy.maximum(g, -c), c)

    def make(limit_of):
        return lambda g, c: helper(g, limit_of(c))

    assert evaluate("clip_by_value", lambda g, c: npy.clip(g, -c, c)).passed
    assert evaluate("clip_by_value", make(lambda c: c)).passed
