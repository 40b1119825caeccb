"""The grader's parts: plain data, reading submissions, the report, the sandbox, the CLI.

The attack batches are in ``tests/grading``; here each part is tested on its own, plus
the real chapter 5 notebook (instructor edition: full marks; student edition: none).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest

from gradlab import editions, exercises, grade, harness, plain, sandbox, scoresheet, submissions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))
from notebooks import CORRECT, NAMES, notebook, write  # noqa: E402


def options(**changes):
    values = dict(timeout=120, call_timeout=10, notebook=None, jobs=2, no_sandbox=False)
    return SimpleNamespace(**{**values, **changes})


# --- plain data ---

@pytest.mark.parametrize("value", [81, -3, 2.5, float("nan"), float("inf"), True, None, ...,
                                   "text", [1, [2.0, "a"]], (1, 2), {"k": 1.0}])
def test_plain_values_round_trip(value):
    back = plain.decode(plain.parse(json.dumps(plain.encode(value))))
    assert type(back) is type(value) and (back == value or back != back or back is value)


def test_arrays_round_trip_as_float64_and_other_dtypes_keep_only_their_kind():
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = plain.decode(plain.encode(array))
    assert back.dtype == np.float64 and np.array_equal(back, array)
    assert plain.decode(plain.encode(np.array(["a", "b"]))).dtype.kind == "U"


def test_objects_become_opaque_stand_ins_named_after_their_type():
    class Always:
        def __eq__(self, other):
            return True

    back = plain.decode(plain.encode(Always()))
    assert isinstance(back, plain.Opaque) and type(back).__name__ == "Always"
    assert plain.decode({"t": "object", "type": "x; rm -rf /"}).__class__.__name__ == "object"


@pytest.mark.parametrize("text", [
    '{"t": "float", "v": NaN}', "[" * 100_000, '{"t": "array", "dtype": "float64", '
    '"shape": [3], "b64": "AAAA"}', '{"t": "array", "dtype": "float64", "shape": [-1], '
    '"b64": ""}', '{"t": "int", "v": "1e5"}', '{"t": "eval"}', '{"t": "dict", "items": [[1, 2]]}',
    '{"t": "unreadable", "why": "too slow"}', '"just text"'])
def test_malformed_plain_data_is_unreadable(text):
    with pytest.raises(plain.Unreadable):
        plain.decode(plain.parse(text))


def test_too_large_or_deep_values_cannot_be_encoded():
    nested = []
    for _ in range(100):
        nested = [nested]
    with pytest.raises(plain.Unreadable):
        plain.encode(nested)
    with pytest.raises(plain.Unreadable):
        plain.encode(np.zeros(plain.MAX_ELEMENTS + 1))
    assert plain.decode(plain.encode(3**5000)) == float("inf")


def test_call_outcomes_are_validated():
    calls = [(np.ones(2), 1.0)]
    data = harness.call_all(lambda g, c: g, calls)
    assert harness.read_calls(json.loads(json.dumps(data)), 1)[0].kind == harness.RETURNED
    with pytest.raises(plain.Unreadable):
        harness.read_calls(data, 2)
    with pytest.raises(plain.Unreadable):
        harness.read_calls({"t": "calls", "outcomes": [{"status": "pass"}]}, 1)


# --- reading submissions ---

def test_only_regular_files_of_limited_size_are_read(tmp_path):
    (tmp_path / "ok.ipynb").write_text("{}")
    os.mkfifo(tmp_path / "fifo.ipynb")
    os.symlink("/dev/zero", tmp_path / "zero.ipynb")
    (tmp_path / "big.ipynb").write_bytes(b" " * 101)
    assert submissions.read_bytes(tmp_path / "ok.ipynb") == b"{}"
    for name, words in (("fifo", "not a regular file"), ("zero", "symbolic link"),
                        ("big", "larger than")):
        with pytest.raises(submissions.Refused, match=words):
            submissions.read_bytes(tmp_path / f"{name}.ipynb", max_bytes=100)


def test_the_notebook_answered_is_found_from_the_checked_names(tmp_path):
    nbformat.write(notebook({"ch4x_classic_lr": "ch4x_classic_lr = 0.03"}), tmp_path / "a.ipynb")
    nbformat.write(notebook(CORRECT), tmp_path / "b.ipynb")
    nbformat.write(notebook(CORRECT), tmp_path / "c.ipynb")
    loaded = [submissions.load(tmp_path / f"{n}.ipynb") for n in "abc"]
    assert submissions.module_of(loaded[0]) is exercises.ch4x
    assert submissions.majority_module(loaded) is exercises.ch5
    with pytest.raises(ValueError, match="--notebook"):
        submissions.majority_module(loaded[:2])
    assert exercises.find_module("04_clipping_experiments") is exercises.ch4x
    assert exercises.find_module("ch4") is exercises.ch4
    with pytest.raises(KeyError, match="known notebooks"):
        exercises.find_module("ch9")


# --- the report ---

def test_messages_are_cleaned_and_cells_cannot_be_formulas():
    assert scoresheet.clean("\x1b[31mred\x1b[0m\r\nnext\u202e\x07 line") == "red next line"
    assert scoresheet.clean("x" * 400, limit=10) == "x" * 9 + "…"
    assert [scoresheet.cell(t) for t in ("=1+1", "+1", "-1", "@A", "\tx", "ok")] == [
        "'=1+1", "'+1", "'-1", "'@A", "'\tx", "ok"]


def test_the_csv_is_replaced_whole(tmp_path):
    out = tmp_path / "scores.csv"
    row = scoresheet.Row("=a.ipynb", scores={"x": 1}, errors=["+bad"])
    scoresheet.write_csv(out, ["x"], [row])
    scoresheet.write_csv(out, ["x"], [row, scoresheet.Row("b.ipynb", scores={"x": 0})])
    assert out.read_text().splitlines() == ["submission,x,total,error", "'=a.ipynb,1,1,'+bad",
                                            "b.ipynb,0,0,"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


# --- judging a run ---

def test_answers_are_judged_outside_from_their_lines():
    collect, cases = grade.plan(exercises.ch5, seed=1)
    lines = [f"{harness.MARKER} depth_w3 {json.dumps(plain.encode(81))}",
             f"{harness.MARKER} depth_w09 {json.dumps(plain.encode(0.6561))}",
             f"{harness.MARKER} depth_w09 {json.dumps(plain.encode(0.6561))}",
             f"{harness.MARKER} step_lengths {'[' * 50_000}",
             f"{harness.MARKER} clip_by_value "
             + json.dumps(harness.call_all(lambda g, c: np.clip(g, -c, c),
                                           [c.args for c in cases["clip_by_value"]])),
             "note " + json.dumps("cell 2 raised \x1b[1mValueError"), "garbage", "done"]
    run = grade.parse_output("\n".join(lines).encode())
    row = grade.judge("s.ipynb", exercises.ch5, run, cases)
    assert {n for n, s in row.scores.items() if s} == {"depth_w3", "clip_by_value"}
    assert "more than once" in row.messages["depth_w09"]
    assert "could not be read back" in row.messages["step_lengths"]
    assert row.errors[0] == "cell 2 raised ValueError"
    assert row.errors[1].startswith("missing answer cells: depth_constant")


def test_fresh_cases_are_drawn_for_every_submission():
    first = grade.plan(exercises.ch5, seed=1)[1]["clip_by_value"][0].args[0]
    second = grade.plan(exercises.ch5, seed=2)[1]["clip_by_value"][0].args[0]
    assert not np.allclose(first, second)


# --- the sandbox ---

SANDBOX_PROBE = r"""
import os, socket
assert os.getuid() == 65534, os.getuid()
for path in ("/usr/x", "/etc/x"):
    try:
        open(path, "w")
        raise SystemExit(f"wrote {path}")
    except OSError as error:
        assert error.errno in (13, 30), error
open("/tmp/work/scratch", "w").write("ok")
assert not os.path.exists("/work") and not os.path.exists("/root/.ssh")
assert not os.path.exists("/etc/shadow")
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    raise SystemExit("network reached")
except OSError:
    pass
assert len([p for p in os.listdir("/proc") if p.isdigit()]) <= 3
print("sealed")
"""


def run_probe(prefix, monkeypatch):
    monkeypatch.setattr(sandbox, "read_only_folders", lambda: [])  # only /usr's python3
    argv = [*prefix, *sandbox.command(["/usr/bin/python3", "-I", "-c", SANDBOX_PROBE],
                                      sandbox.Limits(), {"PATH": "/usr/bin"})]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_the_sandbox_is_sealed(monkeypatch):
    done = run_probe([], monkeypatch)
    assert done.stdout.strip() == "sealed", done.stderr


def test_the_sandbox_is_sealed_for_an_unprivileged_user(monkeypatch):
    """As root, bwrap itself runs as an unprivileged user here; otherwise we already are one."""
    prefix = (["setpriv", "--reuid=60001", "--regid=60001", "--clear-groups", "--"]
              if os.geteuid() == 0 else [])
    done = run_probe(prefix, monkeypatch)
    assert done.stdout.strip() == "sealed", done.stderr


def test_root_bounds_processes_and_memory_with_cgroups():
    if os.geteuid() != 0:  # an unprivileged user's processes are bounded by RLIMIT_NPROC
        assert sandbox.cgroups_available() == []
        return
    assert sandbox.cgroups_available() == ["memory", "pids"]


MEMORY_PROBE = ("import os\nfor _ in range(3):\n    if os.fork() == 0:\n"
                "        b = bytearray(400 << 20)\n        import time; time.sleep(5)\n"
                "        os._exit(0)\nprint(sum(os.wait()[1] == 0 for _ in range(3)))")


def test_the_memory_of_all_processes_together_is_bounded(monkeypatch):
    if os.geteuid() != 0:
        return  # without root there is no memory cgroup; RLIMIT_AS bounds each process
    monkeypatch.setattr(sandbox, "read_only_folders", lambda: [])
    limits = sandbox.Limits(total_memory=1 << 30)
    finished = sandbox.run(["/usr/bin/python3", "-I", "-c", MEMORY_PROBE], b"", 30, limits)
    assert finished.stdout.strip() == b"2", finished.stderr  # the third was killed


def test_the_wall_clock_kills_the_whole_sandbox():
    started = time.monotonic()
    finished = sandbox.run(["/bin/sh", "-c", "sleep 100 & sleep 100"], b"", 2, sandbox.Limits())
    assert time.monotonic() - started < 10 and "wall-clock" in finished.stopped


def test_output_beyond_the_cap_is_not_kept():
    limits = sandbox.Limits(max_output=1000)
    finished = sandbox.run(["/usr/bin/yes"], b"", 20, limits)
    assert len(finished.stdout) == 1000 and "more than 1000 bytes" in finished.stopped


# --- the command line ---

def test_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch, capsys):
    write(tmp_path / "in", {"a": notebook(CORRECT)})
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    assert grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "s.csv")]) == 2
    assert "refusing" in capsys.readouterr().err and not (tmp_path / "s.csv").exists()
    assert grade.main([str(tmp_path / "in"), "--out", str(tmp_path / "s.csv"),
                       "--no-sandbox-i-understand"]) == 0
    printed = capsys.readouterr()
    assert "WITHOUT a sandbox" in printed.err and "WITHOUT a sandbox" in printed.out
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("a.ipynb,1,1,1")


def test_a_killed_grader_leaves_every_row_it_had_written(tmp_path):
    folder = tmp_path / "in"
    write(folder, {f"n{i}": notebook(CORRECT) for i in range(6)})
    out = tmp_path / "scores.csv"
    process = subprocess.Popen([sys.executable, "-m", "gradlab.grade", str(folder), "--out",
                                str(out), "--jobs", "1"], stderr=subprocess.PIPE, text=True,
                               cwd=tmp_path, start_new_session=True)
    for line in process.stderr:
        if line.startswith("[2/6]"):
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for group in Path("/sys/fs/cgroup").glob(f"*/**/gradlab-{process.pid}-*"):
        sandbox.remove_cgroup(group)  # a killed grader cannot remove its sandboxes' cgroups
    lines = out.read_text().splitlines()
    assert lines[0].startswith("submission,") and len(lines) >= 3
    assert all(line.count(",") == len(NAMES) + 2 for line in lines)
    assert all(line.endswith(f",{len(NAMES)},") for line in lines[1:])


def test_chapter_5_solved_scores_full_marks_its_student_edition_none_and_its_own_none(tmp_path):
    chapter = ROOT / "chapters" / "05_exercises.ipynb"
    instructor = nbformat.read(chapter, as_version=4)
    nbformat.write(instructor, tmp_path / "instructor.ipynb")
    nbformat.write(editions.strip_notebook(instructor), tmp_path / "student.ipynb")
    solved = nbformat.from_dict(instructor)  # a student who typed in every solution's code
    for cell in solved.cells:
        if cell.cell_type == "markdown":
            cell.source = editions.GATE.sub("", cell.source)
    nbformat.write(solved, tmp_path / "solved.ipynb")
    names, rows = grade.grade_folder(tmp_path, options())
    assert names == NAMES
    verdicts = {r.submission: (r.total, r.errors) for r in rows}
    assert verdicts["solved.ipynb"] == (len(NAMES), [])
    assert verdicts["student.ipynb"] == (0, [])
    total, errors = verdicts["instructor.ipynb"]  # the untouched instructor notebook is refused
    assert total == 0 and "still holds the solutions" in errors[0]


def test_notebook_option_overrides_the_detection(tmp_path):
    write(tmp_path, {"a": notebook(CORRECT)})
    names, rows = grade.grade_folder(tmp_path, options(notebook="04_clipping_experiments"))
    assert names == [e.name for e in exercises.scored(exercises.ch4x)]
    assert rows[0].total == 0 and "05_exercises.ipynb" in rows[0].errors[0]
