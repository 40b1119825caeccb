"""A mixed batch of 30 submissions, as an instructor receives them, graded once and timed.

Honest notebooks (in several styles, some with a crashing, slow, loud or offline cell)
get every mark they earned; wrong and untouched ones get none; hostile ones get no mark
for the attack and lose nothing else; files that are not regular notebooks are refused
without being read. The whole batch must finish in under five minutes on two cores.
"""

import os
import time

import pytest

from notebooks import (CORRECT, NAMES, STYLES, UNTOUCHED, WRONG, grade, notebook, once,
                       scores, write)

TIMEOUT, CALL_TIMEOUT = 15, 3
ESCAPE = "\\x1b[31mred\\x1b]0;title\\x07\\rover\\u202e"

BASE_LOOP = ("import numpy as np\n"
             "def clip_by_value(g, c):\n"
             "    while True:\n"
             "        try:\n"
             "            while True:\n"
             "                pass\n"
             "        except BaseException:\n"
             "            continue")
NESTED = "step_lengths = []\nfor _ in range(100_000):\n    step_lengths = [step_lengths]"
DEEP_LINE = ("del clip_rate\nimport gradlab.harness as h, os\n"  # the only clip_rate answer:
             "with open(f'/proc/{os.getppid()}/fd/1', 'w') as out:\n"  # 100 000 brackets
             "    out.write(f\"{h.MARKER} clip_rate {'[' * 100_000}\\n\")")

TOTAL = len(NAMES)  # every scored exercise of chapter 5
HONEST = {  # stem -> (notebook, expected total, words the error column must contain)
    "honest_plain": (notebook(CORRECT), TOTAL, ""),
    "honest_styles": (notebook(STYLES), TOTAL, ""),
    "honest_styles_2": (notebook(STYLES, header="import numpy as np\nfrom gradlab import checks\n"
                                                "check = checks.check"), TOTAL, ""),
    "honest_crash": (notebook(CORRECT, before=["1 / 0"]), TOTAL, "ZeroDivisionError"),
    "honest_slow_tail": (notebook(CORRECT, after=["import time\ntime.sleep(0.9)"] * 40), TOTAL,
                         "time limit"),
    "honest_loud": (notebook(CORRECT, before=["print('x' * 100_000_000)"]), TOTAL, ""),
    "honest_offline": (notebook(CORRECT, before=[
        "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)"]), TOTAL,
        "OSError"),
    "honest_fork_bomb": (notebook(CORRECT, after=[
        "import os, time\nfor _ in range(2000):\n    if os.fork() == 0:\n"
        "        time.sleep(60)\n        os._exit(0)"]), TOTAL, "Error"),
    "honest_memory_hog": (notebook(CORRECT, after=["hog = bytearray(16 << 30)"]), TOTAL,
                          "MemoryError"),
    "honest_escapes": (notebook(CORRECT, after=[f"raise ValueError('{ESCAPE}')"]), TOTAL,
                       "ValueError"),
    "honest_partial": (notebook(dict(list(CORRECT.items())[:5])), 5, "missing answer cells"),
    "=1+1": (notebook(CORRECT), TOTAL, ""),
}

COSTS_ONE = {  # stem -> (notebook, the exercise it loses)
    "big_int": (notebook(dict(CORRECT, depth_w3="depth_w3 = 3 ** 5000")), "depth_w3"),
    "catches_base_exception": (notebook(dict(CORRECT, clip_by_value=BASE_LOOP)),
                               "clip_by_value"),
    "nested_answer": (notebook(dict(CORRECT, step_lengths=NESTED)), "step_lengths"),
    "deep_json_line": (notebook(CORRECT, after=[DEEP_LINE]), None),
}

NOTHING = {
    "wrong_1": notebook(WRONG), "wrong_2": notebook(WRONG), "wrong_3": notebook(WRONG),
    "untouched_1": notebook(UNTOUCHED), "untouched_2": notebook(UNTOUCHED),
    "untouched_3": notebook(UNTOUCHED),
    "kills_its_grader": notebook(WRONG, before=["import os, signal\n"
                                                "os.kill(os.getppid(), signal.SIGTERM)"]),
    "tricks": notebook(dict(UNTOUCHED, depth_w3="class Always:\n    def __eq__(self, o):\n"
                                                "        return True\ndepth_w3 = Always()",
                            depth_w09="depth_w09 = float('nan')",
                            step_lengths="step_lengths = [1.2, 1.6, 0.0]",
                            clip_by_value="clip_by_value = lambda g, c: g * np.nan")),
    "infinite_loop": notebook(WRONG, before=["while True:\n    pass"]),
    "reads_solutions": notebook(WRONG, before=["import gradlab.checks as c\n"
                                               "for e in c.REGISTRY.values():\n"
                                               "    print(e.solution)"]),
}

NOT_FILES = ("fifo", "to_dev_zero", "to_etc_passwd", "invalid_json")


def run_batch(root):
    folder = root / "submissions"
    write(folder, {stem: entry[0] for stem, entry in {**HONEST, **COSTS_ONE}.items()})
    write(folder, NOTHING)
    os.mkfifo(folder / "fifo.ipynb")
    os.symlink("/dev/zero", folder / "to_dev_zero.ipynb")
    os.symlink("/etc/passwd", folder / "to_etc_passwd.ipynb")
    (folder / "invalid_json.ipynb").write_text('{"cells": [ this is not json')
    count = len(list(folder.glob("*.ipynb")))
    started = time.monotonic()
    result = grade(folder, root / "scores.csv", root, "--timeout", str(TIMEOUT),
                   "--call-timeout", str(CALL_TIMEOUT))
    return dict(result, count=count, seconds=time.monotonic() - started,
                csv=(root / "scores.csv").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory, worker_id):
    return once(tmp_path_factory, worker_id, "mixed", run_batch)


def row_of(batch, stem):
    rows = batch["rows"]
    return rows.get(f"{stem}.ipynb") or rows[f"'{stem}.ipynb"]


def test_thirty_notebooks_in_under_five_minutes(batch):
    assert batch["returncode"] == 0, batch["stderr"]
    assert batch["count"] == len(batch["rows"]) == 30
    assert batch["seconds"] < 300, f"the batch took {batch['seconds']:.0f} s"
    assert "[30/30]" in batch["stderr"]  # one progress line per notebook
    print(f"\n30 notebooks graded in {batch['seconds']:.1f} s")


@pytest.mark.parametrize("stem", sorted(HONEST))
def test_honest_work_gets_its_marks(batch, stem):
    _, expected, words = HONEST[stem]
    row = row_of(batch, stem)
    assert int(row["total"]) == expected, row
    assert words in row["error"], row


@pytest.mark.parametrize("stem", sorted(COSTS_ONE))
def test_a_bad_answer_costs_its_exercise_only(batch, stem):
    lost = COSTS_ONE[stem][1] or "clip_rate"
    row = row_of(batch, stem)
    assert scores(row) == {name: int(name != lost) for name in NAMES}, row


@pytest.mark.parametrize("stem", sorted(NOTHING))
def test_wrong_untouched_and_hostile_get_nothing(batch, stem):
    assert int(row_of(batch, stem)["total"]) == 0


@pytest.mark.parametrize("stem", NOT_FILES)
def test_files_that_are_not_notebooks_are_refused_unread(batch, stem):
    row = row_of(batch, stem)
    assert int(row["total"]) == 0 and row["error"].startswith("not graded")
    assert "root:" not in batch["csv"]


def test_each_limit_holds(batch):
    slow = batch["stderr"].split("honest_slow_tail.ipynb: ")[1]
    assert float(slow.split("(")[1].split(" s)")[0]) < TIMEOUT + 10  # wall clock, not per cell
    assert "time limit" in row_of(batch, "infinite_loop")["error"]
    assert "ended early" in row_of(batch, "kills_its_grader")["error"]
    base = row_of(batch, "catches_base_exception")
    assert int(base["total"]) == len(NAMES) - 1


def test_messages_are_clean_and_cells_are_not_formulas(batch):
    text = batch["csv"] + batch["stdout"] + batch["stderr"]
    assert not any(ch in text for ch in "\x1b\x07\r\u202e")
    assert "'=1+1.ipynb" in batch["csv"]
    assert "redover" in row_of(batch, "honest_escapes")["error"].replace(" ", "")
