"""The exercises of chapters 1-4: right, wrong, untouched and trick answers for each one."""

import numpy as np
import pytest

from gradlab import checks
from gradlab.checks import FAIL, NOT_ATTEMPTED, OPEN, PASS, evaluate
from gradlab import exercises, judging
from gradlab.exercises import ch1, ch2, ch3, ch4, ch4x

# Right answers, worked out the way a student would (by hand or with the package).
RIGHT = {
    "ch1_depth": 6,
    "ch1_negative_signals": [16, -8, 4, -2, 1],
    "ch1_negative_grads": np.full(5, 16.0),
    "ch1_largest_grad_layer": 5,
    "ch1_largest_update_layer": 5.0,
    "ch1_best_eps": 1e-5,
    "ch2_sigmoid_ratio": 0.5**20,
    "ch2_sigmoid_sigma": 4,
    "ch2_he_c": 2,
    "ch2_normal_growth": np.sqrt(16),
    "ch2_alarm_leads": lambda: (ch2.slow_run().history.diverged.step - ch2.alarm_steps()).tolist(),
    "ch2_largest_stable_lr": lambda: max(ch2.surviving_rates()),
    "ch3_sigmoid_sigma": 4.0,
    "ch3_sigmoid_fraction": 0.75**50,
    "ch3_scalar_interval": (10 ** (-3 / 99), 10 ** (3 / 99)),
    "ch3_flip_drive": lambda: float(np.mean(ch3.sign_change_bracket())),
    "ch3_windows": lambda: ch3.smallest_windows().astype(int).tolist(),
    "ch4_by_norm": [1.2, -1.6],
    "ch4_by_value": np.array([2.0, -2.0]),
    "ch4_value_angle": np.degrees(np.arccos(14 / (5 * 2 * np.sqrt(2)))),
    "ch4_direction_example": ([7.0, 0.0, -7.0], 2.0),
    "ch4_global_small_norm": 0.5 * 1.0 / np.hypot(1000.0, 0.5),
    "ch4_momentum_bound": 0.1 * 1.0 / (1 - 0.9),
    "ch4_momentum_step100": 0.1 * (1 - 0.9**100) / (1 - 0.9),
    "ch4_box_shares": lambda: list(ch4.small_box()),
    "ch4x_travel_bound": 160,
    "ch4x_classic_lr": 0.03,
    "ch4x_norm_stats": lambda: ch4x.early_norm_stats().tolist(),
}

# (typical wrong answer, words its message must contain)
WRONG = {
    "ch1_depth": (5, "still smaller than w_1"),
    "ch1_negative_signals": ([16, 8, 4, 2, 1], "sign flips"),
    "ch1_negative_grads": ([16, -8, 4, -2, 1], "those are the signals"),
    "ch1_largest_grad_layer": (1, "largest weight"),
    "ch1_largest_update_layer": (4.5, "not a whole number"),
    "ch1_best_eps": (1e-12, "round-off"),
    "ch2_sigmoid_ratio": (2.0**20, "inverse"),
    "ch2_sigmoid_sigma": (0.25, "gamma itself"),
    "ch2_he_c": (1, "halves the variance"),
    "ch2_normal_growth": (np.sqrt(32), "divide the variance by 2"),
    "ch2_alarm_leads": (lambda: ch2.alarm_steps(), "steps at which the alarm rings"),
    "ch2_largest_stable_lr": (0.002, "diverges"),
    "ch3_sigmoid_sigma": (1.0, "tanh"),
    "ch3_sigmoid_fraction": (0.75 * 50, "factors multiply"),
    "ch3_scalar_interval": ([10 ** (-3 / 100), 10 ** (3 / 100)], "99 steps"),
    "ch3_flip_drive": (0.25, "already vanishes"),
    "ch3_windows": (lambda: (ch3.smallest_windows() - 1).tolist(), "below 0.99"),
    "ch4_by_norm": ([2.0, -2.0], "clipping by value"),
    "ch4_by_value": ([1.2, -1.6], "clipping by norm"),
    "ch4_value_angle": (0.1419, "radians"),
    "ch4_direction_example": (([7.0, 1.0, -7.0], 2.0), "turns this g"),
    "ch4_global_small_norm": (0.5, "per-tensor"),
    "ch4_momentum_bound": (0.1, "velocity sums"),
    "ch4_momentum_step100": (1.0, "only in the limit"),
    "ch4_box_shares": (lambda: (100 * ch4.small_box()).tolist(), "not percentages"),
    "ch4x_travel_bound": (16, "1 / (1 - mu)"),
    "ch4x_classic_lr": (300, "smaller"),
    "ch4x_norm_stats": (lambda: (ch4x.early_norm_stats() * [1, 1, 100]).tolist(), "fraction"),
}

OPEN_QUESTIONS = ("ch3_rho_sigma",)
VECTORS = {"ch1_negative_signals": 5, "ch1_negative_grads": 5, "ch2_alarm_leads": 4,
           "ch3_scalar_interval": 2,
           "ch3_windows": 2, "ch4_by_norm": 2, "ch4_by_value": 2, "ch4_box_shares": 2,
           "ch4x_norm_stats": 3}
NUMBERS = sorted(set(RIGHT) - set(VECTORS) - {"ch4_direction_example"})


def value(answer):
    """Answers computed from the package are stored as functions (computed when needed)."""
    return answer() if callable(answer) else answer


def chapter_names():
    return {e.name for m in (ch1, ch2, ch3, ch4, ch4x) for e in m.EXERCISES}


def test_every_exercise_of_chapters_1_to_4_is_covered():
    assert set(RIGHT) == set(WRONG) == set(checks.scored_names(1) + checks.scored_names(2)
                                           + checks.scored_names(3) + checks.scored_names(4))
    assert chapter_names() == set(RIGHT) | set(OPEN_QUESTIONS)
    for module in (ch1, ch2, ch3, ch4, ch4x):  # one module per notebook, named after it
        short = module.__name__.rsplit(".", 1)[-1]
        assert all(e.name.startswith(short + "_") for e in module.EXERCISES)
        assert exercises.find_module(module.NOTEBOOK.removesuffix(".ipynb")) is module


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_right_answer_passes(name):
    result = evaluate(name, value(RIGHT[name]))
    assert result.status == PASS, result.message


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_answer_fails_with_specific_message(name):
    answer, words = WRONG[name]
    result = evaluate(name, value(answer))
    assert result.status == FAIL
    assert words in result.message


@pytest.mark.parametrize("name", sorted(chapter_names()))
def test_placeholder_is_not_attempted(name):
    assert evaluate(name, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("name", sorted(chapter_names()))
def test_every_exercise_has_a_hint_and_a_solution(name, capsys):
    checks.hint(name)
    checks.solution(name)
    out = capsys.readouterr().out
    assert out.startswith("Hint: ") and "Solution: " in out


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 4.0


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("trick, words", [
    (AlwaysEqual(), "AlwaysEqual"), (float("nan"), "NaN"), (float("inf"), "infinite"),
    ([4.0], "list"), ("4", "text"), (True, "truth value"), (None, "None")])
def test_number_tricks_fail_with_a_message(name, trick, words):
    result = evaluate(name, trick)
    assert result.status == FAIL
    assert words in result.message


@pytest.mark.parametrize("name", sorted(VECTORS))
@pytest.mark.parametrize("trick, words", [
    (AlwaysEqual(), "AlwaysEqual"), (3.0, "float"), ("text", "text"), (None, "None")])
def test_vector_tricks_fail_with_a_message(name, trick, words):
    result = evaluate(name, trick)
    assert result.status == FAIL
    assert words in result.message


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_nan_and_wrong_shape_fail(name):
    size = VECTORS[name]
    right = np.asarray(value(RIGHT[name]), dtype=float)
    with_nan = right.copy()
    with_nan[0] = np.nan
    assert "NaN" in evaluate(name, with_nan).message
    assert "shape" in evaluate(name, np.zeros(size + 1)).message
    assert evaluate(name, [[x] for x in right]).status == FAIL


def test_direction_example_tricks():
    assert "pair" in evaluate("ch4_direction_example", [7.0, 0.0, -7.0]).message
    assert "nothing is cut" in evaluate("ch4_direction_example", ([1.0, 1.0, 1.0], 2.0)).message
    assert "positive" in evaluate("ch4_direction_example", ([7.0, 0.0, -7.0], -2.0)).message
    assert "NaN" in evaluate("ch4_direction_example", ([np.nan, 0.0, 7.0], 2.0)).message
    assert "no direction" in evaluate("ch4_direction_example", ([0.0, 0.0, 0.0], 2.0)).message


def test_choice_questions_reject_values_outside_the_choices():
    assert "not one of the values" in evaluate("ch1_best_eps", 3e-5).message
    assert "not one of the values" in evaluate("ch2_largest_stable_lr", 0.01).message


def test_flip_drive_says_which_side_and_rejects_negative_inputs():
    assert "still grows" in evaluate("ch3_flip_drive", 0.0).message
    assert "negative" in evaluate("ch3_flip_drive", -0.1).message


def test_interval_and_windows_messages_use_the_package():
    message = evaluate("ch3_scalar_interval", [0.93, 1.08]).message
    assert "times the gradient at h_100" in message
    windows = ch3.smallest_windows()
    assert "reversed" in evaluate("ch3_windows", windows[::-1]).message
    assert "smaller window" in evaluate("ch3_windows", windows + [0, 1]).message
    assert "not a window" in evaluate("ch3_windows", [0, 70]).message
    assert "low < high" in evaluate("ch3_scalar_interval", [1.07, 0.93]).message


def test_whole_number_and_choice_helpers():
    assert judging.whole_number_judge(3, "a count")(3.0).passed
    assert judging.choice_judge((1.0, 2.0), 2.0)(2.0).passed
    assert ch1.first_overwriting_depth(2.0, 0.1) == 6  # 0.1 * 2**(L-2) > 1 first at L = 6
    assert ch1.first_overwriting_depth(4.0, 0.1) == 4  # 0.1 * 4**(L-1) / 4 > 1 first at L = 4


def test_open_question_shows_the_rubric():
    assert evaluate("ch3_rho_sigma", "").status == NOT_ATTEMPTED
    assert evaluate("ch3_rho_sigma", "too short").status == FAIL
    assert "text answer" in evaluate("ch3_rho_sigma", 42).message
    assert "text answer" in evaluate("ch3_rho_sigma", AlwaysEqual()).message
    answer = ("For a unit eigenvector v of the largest eigenvalue, rho equals the norm of W v, "
              "which is at most the largest stretch sigma_max.")
    result = evaluate("ch3_rho_sigma", answer)
    assert result.status == OPEN and "eigenvector" in result.message
    assert "ch3_rho_sigma" not in checks.scored_names(3)


def test_package_values_behind_the_answers():
    assert ch2.SIGMOID_GAMMA == 0.25
    assert ch2.relu_scale_factor(2.0) == 1.0
    low, high = ch3.scalar_interval()
    assert low**99 == pytest.approx(1e-3) and high**99 == pytest.approx(1e3)
    assert ch3.gain_to_first_step(high) == pytest.approx(1e3, rel=1e-6)
    # the closed form eta c (1 - mu**100) / (1 - mu), up to the 1e-6 in the clipping factor
    assert ch4.step_after_100() == pytest.approx(0.1 * (1 - 0.9**100) / (1 - 0.9), rel=1e-7)


@pytest.mark.parametrize("name, answer", [
    ("ch3_scalar_interval", [0.933, 1.072]),   # 10**(-3/99) = 0.93258..., 10**(3/99) = 1.0723...
    ("ch4_value_angle", 8.1),                   # 8.1301...°, rounded to two digits
    ("ch4_value_angle", 8.13),
])
def test_hand_rounded_answers_pass(name, answer):
    result = evaluate(name, answer)
    assert result.status == PASS, result.message


@pytest.mark.parametrize("name, answer", [
    ("ch4_value_angle", 8),        # one significant digit: only an exact value would pass
    ("ch4_value_angle", 8.2),      # two digits, but not the rounding of 8.13
    ("ch3_scalar_interval", [0.932, 1.072]),
])
def test_badly_rounded_answers_fail_and_state_the_rule(name, answer):
    result = evaluate(name, answer)
    assert result.status == FAIL
    if name == "ch4_value_angle":
        assert "rounded to the digits you give" in result.message


def test_typed_digits_and_matches():
    assert judging.typed_digits(0.933) == (3, 0.0005)
    assert judging.typed_digits(80.0) == (1, 5.0)
    assert judging.typed_digits(10 ** (-3 / 99))[0] >= 15
    assert judging.matches([2.7, 0.93], [2.7048, 0.93258], rtol=1e-9)
    assert not judging.matches(3.0, 2.7048, rtol=1e-9)       # too few digits
    assert not judging.matches(2.6, 2.7048, rtol=1e-9)


def test_rounding_that_cannot_tell_a_mistake_asks_for_more_digits():
    judge = judging.number_judge(1.234, mistakes=[(1.236, "a common slip.")])
    with pytest.raises(judging.Wrong, match="more significant digits"):
        judge(1.2)
    assert judge(1.234).passed
