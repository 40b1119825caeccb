"""The exercises of chapter 6: right, wrong, untouched and trick answers for each one."""

import numpy as np
import pytest

from gradlab import checks, clip_private, exercises
from gradlab.checks import FAIL, NOT_ATTEMPTED, OPEN, PASS, evaluate
from gradlab.exercises import ch6


def right_agc(grad, weight, clipping=0.01, eps=1e-3):
    w = np.maximum(np.linalg.norm(weight, axis=0, keepdims=True), eps)
    g = np.maximum(np.linalg.norm(grad, axis=0, keepdims=True), 1e-6)
    return grad * np.minimum(1.0, clipping * w / g)


def rows_agc(grad, weight, clipping=0.01, eps=1e-3):
    w = np.maximum(np.linalg.norm(weight, axis=1, keepdims=True), eps)
    g = np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-6)
    return grad * np.minimum(1.0, clipping * w / g)


def no_floor_agc(grad, weight, clipping=0.01, eps=1e-3):
    w = np.linalg.norm(weight, axis=0, keepdims=True)
    g = np.maximum(np.linalg.norm(grad, axis=0, keepdims=True), 1e-6)
    return grad * np.minimum(1.0, clipping * w / g)


def always_agc(grad, weight, clipping=0.01, eps=1e-3):
    w = np.maximum(np.linalg.norm(weight, axis=0, keepdims=True), eps)
    return grad * clipping * w / np.linalg.norm(grad, axis=0, keepdims=True)


def right_dp(g, C):
    return (g / np.maximum(1.0, np.linalg.norm(g, axis=1, keepdims=True) / C)).mean(axis=0)


def mean_then_clip(g, C):
    m = g.mean(axis=0)
    return m * min(1.0, C / (np.linalg.norm(m) + 1e-6))


def stub(*args):
    raise NotImplementedError


RIGHT = {
    "ch6_agc": right_agc,
    "ch6_zclip_step": [12.0, 2.0 + 6.25 * 0.5 / 12, 2.0078125, None],
    "ch6_dp_mean": right_dp,
    "ch6_shard_answer": [85.0, 1 / (85 + 1e-6)],
}
RIGHT["ch6_zclip_step"][3] = 0.97 * 0.25 + 0.03 * (RIGHT["ch6_zclip_step"][1] - 2.0078125) ** 2

WRONG = {
    "ch6_agc": [(rows_agc, "column"), (no_floor_agc, "floored"), (always_agc, "unchanged")],
    "ch6_zclip_step": [(lambda: ch6._zclip_mistakes()[0][0], "new* mean"),
                       (lambda: ch6._zclip_mistakes()[1][0], "closer"),
                       (lambda: ch6._zclip_mistakes()[2][0], "clipped norm")],
    "ch6_dp_mean": [(mean_then_clip, "clips every example"),
                    (lambda g, C: right_dp(g, C) * len(g), "batch size")],
    "ch6_shard_answer": [([103.0, 1 / 103.000001], "do not add"), ([85.0, 85.0], "at most 1")],
}
FUNCTIONS = ("ch6_agc", "ch6_dp_mean")


def test_module_is_registered_and_named_after_its_notebook():
    assert exercises.find_module("06_modern") is ch6
    assert all(e.name.startswith("ch6_") for e in ch6.EXERCISES)
    assert set(checks.scored_names(6)) == set(RIGHT)


def _answer(name, answer):
    if name in FUNCTIONS:
        return answer
    return answer() if callable(answer) else answer


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_answer_passes(name):
    result = evaluate(name, _answer(name, RIGHT[name]))
    assert result.status == PASS, result.message


@pytest.mark.parametrize("name,answer,words",
                         [(n, a, w) for n, cases in WRONG.items() for a, w in cases])
def test_wrong_answer_fails_with_specific_message(name, answer, words):
    result = evaluate(name, _answer(name, answer))
    assert result.status == FAIL
    assert words in result.message, result.message


@pytest.mark.parametrize("name", [e.name for e in ch6.EXERCISES])
def test_placeholder_and_stub_are_not_attempted(name, capsys):
    assert evaluate(name, ...).status == NOT_ATTEMPTED
    if name in FUNCTIONS:
        assert evaluate(name, stub).status == NOT_ATTEMPTED
    checks.hint(name)
    checks.solution(name)
    assert "Hint:" in capsys.readouterr().out


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 85.0


def test_tricks_and_nan_fail():
    assert evaluate("ch6_shard_answer", AlwaysEqual()).status == FAIL
    assert evaluate("ch6_shard_answer", [np.nan, np.nan]).status == FAIL
    assert evaluate("ch6_dp_mean", lambda g, C: np.full(g.shape[1], np.nan)).status == FAIL
    assert evaluate("ch6_agc", lambda g, w: g).status == FAIL


def test_open_question_shows_the_rubric():
    assert evaluate("ch6_adam_open", "").status == NOT_ATTEMPTED
    text = ("Adam divides the first moment by the root of the second, so a common factor on "
            "every gradient cancels except for epsilon; only spikes matter, as they enter v.")
    assert evaluate("ch6_adam_open", text).status == OPEN


def test_reference_values():
    np.testing.assert_allclose(ch6.zclip_step(), [12.0, 2.2604167, 2.0078125, 0.2444],
                               rtol=1e-4)
    g = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(right_dp(g, 1.0), clip_private.clipped_noisy_mean(
        g, 1.0, 0.0, np.random.default_rng(0)))
