"""Notebooks that try to change the verdict, in one batch; then an honest batch after them.

Every tampering notebook answers wrongly and must score nothing. The honest notebook
graded afterwards must score full marks, the package's and the venv's files must be
unchanged, and nothing may appear in the instructor's working directory or outlive
the grader.
"""

import json
import sys
import time
from pathlib import Path

import pytest

from notebooks import (CORRECT, NAMES, PACKAGE, WRONG, grade, notebook, once, processes_with,
                       scores, tree_digest, write)

MARKER = "gradlab-detached-7f3a"
SITE = next(p for p in sys.path if p.endswith("site-packages"))
FORGED = {name: {"t": "int", "v": "1"} for name in NAMES}

TAMPERING = {
    # write a pass-everything judge into the installed package (an editable install)
    "edit_package": [
        "import gradlab, pathlib\n"
        "for name in ('judging.py', 'checks.py', 'grade.py'):\n"
        "    path = pathlib.Path(gradlab.__file__).parent / name\n"
        "    path.write_text(path.read_text() + '\\nverdict = lambda *a, **k: None\\n')"],
    # drop a .pth file into the venv that patches every later Python
    "pth_file": [
        f"open({SITE + '/zz_gradlab_patch.pth'!r}, 'w').write("
        "'import gradlab.judging as j; j.verdict = lambda *a: j.passed()\\n')"],
    # a csv.py (and a gradlab.py) in every working directory the notebook can guess
    "shadow_modules": [
        "import os\n"
        "for folder in (os.getcwd(), os.path.expanduser('~'), '/work', '/root', '/tmp', "
        f"{str(PACKAGE.parent)!r}):\n"
        "    for name in ('csv.py', 'gradlab.py', 'json.py'):\n"
        "        try:\n"
        "            open(os.path.join(folder, name), 'w').write('raise SystemExit(0)')\n"
        "        except OSError:\n"
        "            pass"],
    # reach the package's modules through numpy and patch the judges and checks
    "reach_through_numpy": [
        "sys_ = np._core._internal.sys if hasattr(np, '_core') else np.core._internal.sys\n"
        "import gradlab.checks\n"
        "for mod in list(sys_.modules.values()):\n"
        "    if getattr(mod, '__name__', '').startswith('gradlab'):\n"
        "        for attr in ('verdict', 'evaluate', 'close', 'as_number', 'as_array'):\n"
        "            if hasattr(mod, attr):\n"
        "                setattr(mod, attr, lambda *a, **k: gradlab.judging.passed())"],
    # a default argument that swaps sys.stdout when the function is defined
    "default_argument": [
        "import sys, io\n"
        "def clip_by_value(g, c, _=setattr(sys, 'stdout', io.StringIO())):\n"
        "    return g"],
    # tuple and for-loop targets rebind numpy's comparisons
    "rebind_numpy": [
        "(np.allclose, np.array_equal) = (lambda *a, **k: True, lambda *a, **k: True)\n"
        "for np.isclose in [lambda *a, **k: True]:\n"
        "    pass\n"
        "import numpy\n"
        "numpy.linalg.norm = lambda *a, **k: 0.0"],
    # exec of a string built at run time
    "exec_string": [
        "import builtins\n"
        "builtins.exec(''.join(['import gradlab.judging as j\\n', 'j.verdict = ',"
        " 'lambda *a, **k: j.passed()']))"],
    # every judge in the registry, check() and evaluate() replaced; the notebook prints ✓
    "replace_registry": [
        "import gradlab.checks as c, gradlab.judging as j\n"
        "c.evaluate = lambda name, answer: j.passed('forged')\n"
        "for exercise in c.REGISTRY.values():\n"
        "    exercise.judge = lambda *a: j.passed()\n"
        "def check(name, answer):\n"
        "    print('✓ Correct')"],
    # the grader's answer collector replaced, and forged answer lines written everywhere
    "forge_answers": [
        "import gradlab.harness as h, json, os\n"
        f"forged = {json.dumps(FORGED)!r}\n"
        "def collect(namespace, request):\n"
        "    for name in request['values'] + list(request['functions']):\n"
        "        print(h.MARKER, name, json.dumps({'status': 'pass'}))\n"
        "h.collect = collect\n"
        "for name, data in json.loads(forged).items():\n"
        "    line = f'{h.MARKER} {name} {json.dumps(data)}\\n'\n"
        "    for fd_path in (f'/proc/{os.getppid()}/fd/1', '/proc/1/fd/1'):\n"
        "        try:\n"
        "            with open(fd_path, 'w') as out:\n"
        "                out.write(line + 'done\\n')\n"
        "        except OSError:\n"
        "            pass"],
    # a classmate's notebook: run its cells, blank one file, move another
    "harm_classmates": [
        "import glob, json, os\n"
        "found = glob.glob(os.path.join(FOLDER, 'classmate*.ipynb'))\n"
        "for path in found:\n"
        "    for cell in json.load(open(path))['cells']:\n"
        "        if cell['cell_type'] == 'code':\n"
        "            exec(''.join(cell['source']))\n"
        "for path in found:\n"
        "    try:\n"
        "        open(path, 'w').close()\n"
        "        os.rename(path, path + '.moved')\n"
        "    except OSError:\n"
        "        pass"],
    # a detached process that waits for the grader to exit, then rewrites scores.csv
    "rewrite_scores_later": [
        "import subprocess, sys\n"
        "script = ('import sys, time\\n'\n"
        f"          '# {MARKER}\\n'\n"
        "          'time.sleep(4)\\n'\n"
        "          'open(sys.argv[1], \"w\").write(\"submission,total\\\\nx,15\\\\n\")')\n"
        "subprocess.Popen([sys.executable, '-c', script, SCORES], start_new_session=True,\n"
        "                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL)"],
}


def package_state():
    return [tree_digest(PACKAGE), sorted(p.name for p in Path(SITE).iterdir())]


def run_batches(root):
    instructor = root / "instructor"  # the working directory the grader is run from
    instructor.mkdir()
    first, second = root / "batch1", root / "batch2"
    # the attacks know where the classmates and the scores are
    where = f"FOLDER, SCORES = {str(first)!r}, {str(instructor / 'scores.csv')!r}"
    write(first, {stem: notebook(WRONG, before=[where, *cells])
                  for stem, cells in TAMPERING.items()})
    write(first, {"classmate_a": notebook(CORRECT), "classmate_b": notebook(CORRECT)})
    submitted, before = tree_digest(first), package_state()
    batch1 = grade(first, instructor / "scores.csv", instructor, "--timeout", "60")
    after_first = tree_digest(first)
    time.sleep(5)  # longer than the detached process waits before it strikes
    csv_after_wait = (instructor / "scores.csv").read_text()
    write(second, {"honest": notebook(CORRECT)})
    batch2 = grade(second, instructor / "scores2.csv", instructor, "--timeout", "60")
    return dict(batch1=batch1, batch2=batch2, before=before, after=package_state(),
                submitted=submitted, after_first=after_first, csv_after_wait=csv_after_wait,
                instructor_files=sorted(p.name for p in instructor.iterdir()))


@pytest.fixture(scope="module")
def batches(tmp_path_factory, worker_id):
    return once(tmp_path_factory, worker_id, "tampering", run_batches)


@pytest.mark.parametrize("stem", sorted(TAMPERING))
def test_tampering_notebook_scores_nothing(batches, stem):
    row = batches["batch1"]["rows"][f"{stem}.ipynb"]
    assert scores(row) == {name: 0 for name in NAMES}, row


def test_writes_to_the_package_and_the_venv_fail(batches):
    for stem in ("edit_package", "pth_file"):
        assert "Read-only file system" in batches["batch1"]["rows"][f"{stem}.ipynb"]["error"]


def test_classmates_are_scored_and_untouched(batches):
    assert batches["batch1"]["returncode"] == 0, batches["batch1"]["stderr"]
    for stem in ("classmate_a", "classmate_b"):
        row = batches["batch1"]["rows"][f"{stem}.ipynb"]
        assert int(row["total"]) == len(NAMES) and row["error"] == "", row
    assert batches["after_first"] == batches["submitted"]


def test_nothing_persists_into_the_next_batch(batches):
    assert batches["batch2"]["returncode"] == 0, batches["batch2"]["stderr"]
    row = batches["batch2"]["rows"]["honest.ipynb"]
    assert scores(row) == {name: 1 for name in NAMES} and row["error"] == ""
    assert batches["after"] == batches["before"]  # package files and site-packages unchanged
    assert batches["instructor_files"] == ["scores.csv", "scores2.csv"]


def test_no_detached_process_outlives_the_grader(batches):
    assert processes_with(MARKER) == []
    assert batches["csv_after_wait"].startswith("submission,depth_w3")
    assert len(batches["csv_after_wait"].splitlines()) == len(TAMPERING) + 3
