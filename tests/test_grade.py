"""The grader on synthetic submissions written by the test itself.

One batch of small notebooks (all correct, all wrong, untouched, a crashing cell,
an infinite loop, a tampered checker, trick objects, invalid JSON, missing cells)
is graded once by the command line; every test reads the resulting table.
"""

import csv
import json
import subprocess
import sys

import nbformat
import pytest

from gradlab import checks, grade

NAMES = checks.scored_names(5)

CORRECT = {
    "depth_w3": "depth_w3 = 3 ** 4",
    "depth_w09": "depth_w09 = 0.9 ** 4",
    "depth_constant": "depth_constant = 1",
    "clip_34": "clip_34 = [1.2, 1.6]",
    "clip_68": "clip_68 = np.array([1.2, 1.6])",
    "long_101": "long_101 = 1.01 ** 100",
    "long_099": "long_099 = 0.99 ** 100",
    "global_norm_value": "global_norm_value = (100**2 + 0.1**2) ** 0.5",
    "global_clipped": "global_clipped = [[0.9999995, 0.0], [0.0, 0.0009999995]]",
    "global_shrink": "global_shrink = 100.0",
    "clip_by_value": "def clip_by_value(g, c):\n    return np.clip(g, -c, c)",
    "clip_by_global_norm": (
        "def clip_by_global_norm(grads, max_norm):\n"
        "    total = np.sqrt(sum(np.sum(g**2) for g in grads))\n"
        "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total"),
    "linear_backward": ("def linear_backward(x, W, b, grad_out):\n"
                        "    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=0)"),
    "bptt_step": ("def bptt_step(grad_h, h, h_prev, W_rec):\n"
                  "    grad_a = grad_h * (1 - h**2)\n"
                  "    return grad_a @ W_rec.T, h_prev.T @ grad_a"),
    "sweep_best": ('sweep_best = {"global norm": 5.0, "value": 0.1, '
                   '"global norm and value": 5.0}'),
}

WRONG = {
    "depth_w3": "depth_w3 = 3 ** 5",
    "depth_w09": "depth_w09 = 0.9 * 4",
    "depth_constant": "depth_constant = 0",
    "clip_34": "clip_34 = [2, 2]",
    "clip_68": "clip_68 = [6, 8]",
    "long_101": "long_101 = 2.0",
    "long_099": "long_099 = 0.0",
    "global_norm_value": "global_norm_value = 100.1",
    "global_clipped": "global_clipped = [[1, 0], [0, 0.1]]",
    "global_shrink": "global_shrink = 1",
    "clip_by_value": "def clip_by_value(g, c):\n    return g",
    "clip_by_global_norm": "def clip_by_global_norm(grads, max_norm):\n    return grads, 1.0",
    "linear_backward": ("def linear_backward(x, W, b, grad_out):\n"
                        "    return grad_out @ W.T, x.T @ grad_out, grad_out.mean(axis=0)"),
    "bptt_step": ("def bptt_step(grad_h, h, h_prev, W_rec):\n"
                  "    return grad_h @ W_rec.T, h_prev.T @ grad_h"),
    "sweep_best": 'sweep_best = {"global norm": 100.0, "value": 100.0, '
                  '"global norm and value": 100.0}',
}

UNTOUCHED = {
    name: (f"def {name}(*args):\n    raise NotImplementedError"
           if name in ("clip_by_value", "clip_by_global_norm", "linear_backward", "bptt_step")
           else f"{name} = ...")
    for name in NAMES}

TRICKS = dict(
    UNTOUCHED,
    depth_w3="class Always:\n    def __eq__(self, other):\n        return True\n"
             "depth_w3 = Always()",
    depth_w09="depth_w09 = float('nan')",
    depth_constant="depth_constant = float('inf')",
    clip_34="clip_34 = [1.2, 1.6, 0.0]",
    long_101="long_101 = [2.7048]",
    clip_by_value="def clip_by_value(g, c):\n    return g",
    clip_by_global_norm=("def clip_by_global_norm(grads, max_norm):\n"
                         "    total = np.sqrt(sum(np.sum(g**2) for g in grads))\n"
                         "    for g in grads:\n"
                         "        g *= min(1.0, max_norm / (total + 1e-6))\n"
                         "    return grads, total"),
    linear_backward=("def linear_backward(x, W, b, grad_out):\n"
                     "    import gradlab\n    return None"),
)

TAMPER = """
import gradlab.checks
gradlab.checks.evaluate = lambda name, answer: gradlab.checks.Result("pass", "forged")
def check(name, answer):
    print("✓ Correct")
for exercise in gradlab.checks.REGISTRY.values():
    exercise.judge = lambda answer: gradlab.checks.passed()
"""


def notebook(cells, header="import numpy as np\nfrom gradlab.checks import check"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(header)]
    for name, source in cells.items():
        nb.cells.append(nbformat.v4.new_code_cell(source))
        nb.cells.append(nbformat.v4.new_code_cell(f"check({name!r}, {name})"))
    return nb


SUBMISSIONS = {
    "a_correct": notebook(CORRECT),
    "b_wrong": notebook(WRONG),
    "c_untouched": notebook(UNTOUCHED),
    "d_crash": notebook({**dict(list(CORRECT.items())[:3]), "crash": "1 / 0",
                         **dict(list(CORRECT.items())[3:])}),
    "e_loop": notebook({"depth_w3": CORRECT["depth_w3"], "loop": "while True:\n    pass"}),
    "f_tampered": notebook(WRONG, header="import numpy as np\n" + TAMPER),
    "g_tricks": notebook(TRICKS),
    "i_missing": notebook(dict(list(CORRECT.items())[:5])),
}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for stem, nb in SUBMISSIONS.items():
        nbformat.write(nb, folder / f"{stem}.ipynb")
    (folder / "h_invalid.ipynb").write_text('{"cells": [ this is not json')
    out = folder / "scores.csv"
    done = subprocess.run([sys.executable, "-m", "gradlab.grade", str(folder), "--out", str(out),
                           "--timeout", "8"], capture_output=True, text=True, timeout=300)
    with open(out, newline="") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    return done, rows


def scores(row):
    return {name: int(row[name]) for name in NAMES}


def test_batch_completes_and_prints_summary(table):
    done, rows = table
    assert done.returncode == 0, done.stderr
    assert "Mean score per exercise" in done.stdout
    assert "9/9" in done.stderr  # the progress bar reached the end
    assert len(rows) == 9


def test_columns(table):
    _, rows = table
    assert list(next(iter(rows.values()))) == ["submission", *NAMES, "total", "error"]


def test_all_correct_scores_everything(table):
    row = table[1]["a_correct.ipynb"]
    assert scores(row) == {n: 1 for n in NAMES}
    assert int(row["total"]) == len(NAMES) and row["error"] == ""


@pytest.mark.parametrize("stem", ["b_wrong", "c_untouched", "f_tampered"])
def test_wrong_untouched_and_tampered_score_nothing(table, stem):
    row = table[1][f"{stem}.ipynb"]
    assert scores(row) == {n: 0 for n in NAMES}
    assert int(row["total"]) == 0 and row["error"] == ""


def test_crashing_cell_is_reported_and_the_rest_graded(table):
    row = table[1]["d_crash.ipynb"]
    assert scores(row) == {n: 1 for n in NAMES}
    assert "ZeroDivisionError" in row["error"]


def test_infinite_loop_times_out(table):
    row = table[1]["e_loop.ipynb"]
    assert int(row["total"]) == 0 and "timed out" in row["error"]


def test_invalid_json_is_reported(table):
    row = table[1]["h_invalid.ipynb"]
    assert int(row["total"]) == 0 and "not a valid notebook" in row["error"]


def test_missing_cells_are_reported(table):
    row = table[1]["i_missing.ipynb"]
    assert int(row["total"]) == 5 and "missing answer cells" in row["error"]
    assert "bptt_step" in row["error"]


def test_trick_objects_score_nothing(table):
    row = table[1]["g_tricks.ipynb"]
    assert scores(row) == {n: 0 for n in NAMES}


def test_screen_refuses_dangerous_sources():
    assert grade.screen_source("def f(g):\n    return np.clip(g, -1, 1)") is None
    for source in ("def f(g):\n    import sys\n    return g",
                   "def f(g):\n    np.allclose = lambda *a, **k: True\n    return g",
                   "def f(g):\n    return g.__class__",
                   "def f(g):\n    return globals()"):
        assert grade.screen_source(source) is not None


def test_decode_turns_unknown_objects_into_opaque_ones():
    value = grade.decode({"kind": "object", "type": "Always"})
    assert type(value).__name__ == "Always"
    assert "Always" in checks.evaluate("depth_w3", value).message


def test_answers_round_trip_through_json():
    encoded = {"depth_w3": {"kind": "number", "value": 81.0},
               "clip_34": {"kind": "array", "value": [1.2, 1.6], "shape": [2]}}
    results = grade.judge_answers(json.loads(json.dumps(encoded)), ["depth_w3", "clip_34"])
    assert [r["status"] for r in results.values()] == ["pass", "pass"]
    assert grade.MARKER in grade.dump_cell_source(["depth_w3"])


def test_chapter_notebook_scores_full_marks_and_its_student_edition_none(tmp_path):
    """The real chapter 5: the instructor notebook passes every check, the student one none."""
    from pathlib import Path

    from gradlab import editions

    chapter = Path(__file__).resolve().parents[1] / "chapters" / "05_exercises.ipynb"
    instructor = nbformat.read(chapter, as_version=4)
    nbformat.write(instructor, tmp_path / "instructor.ipynb")
    nbformat.write(editions.strip_notebook(instructor), tmp_path / "student.ipynb")
    names, rows = grade.grade_folder(tmp_path, timeout=120, progress=grade._Progress(0))
    totals = {row.submission: (row.total, row.errors) for row in rows}
    assert totals == {"instructor.ipynb": (len(names), []), "student.ipynb": (0, [])}


def test_prefix_selects_one_notebook_of_a_chapter(tmp_path):
    names, rows = grade.grade_folder(tmp_path, chapter=4, prefix="ch4x_",
                                     progress=grade._Progress(0))
    assert names and all(name.startswith("ch4x_") for name in names) and rows == []
    with pytest.raises(ValueError, match="no scored exercise"):
        grade.grade_folder(tmp_path, chapter=5, prefix="ch4x_")
