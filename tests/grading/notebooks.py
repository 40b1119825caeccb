"""Submitted notebooks for the grader's tests, written from small tables with nbformat.

``notebook(cells)`` makes a chapter 5 submission: a first cell importing ``check``,
then for each exercise its answer cell and its check cell (as the chapter does).
``grade(folder, ...)`` runs the command line on a folder and returns its CSV rows.
``once`` runs a batch once per test session, even when pytest-xdist splits its tests.
"""

import csv
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from gradlab import checks, exercises

NAMES = checks.scored_names(5)
FUNCTIONS = [e.name for e in exercises.scored(exercises.ch5) if e.calls is not None]
PACKAGE = Path(exercises.__file__).resolve().parents[1]

CORRECT = {
    "depth_w3": "depth_w3 = 3 ** 4",
    "depth_w09": "depth_w09 = 0.9 ** 4",
    "depth_constant": "depth_constant = 1",
    "step_lengths": "step_lengths = [0.05, 0.1, 0.08, 0.1, 0.1, 0.025]",
    "clip_rate": "clip_rate = np.float64(0.5)",
    "long_101": "long_101 = 1.01 ** 100",
    "long_099": "long_099 = 0.99 ** 100",
    "quad_factor": "quad_factor = abs(1 - 0.1 * 100)",
    "quad_cycle": "quad_cycle = np.array([-0.06, 0.04])",
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

# The same answers written as students do: a lambda, a helper, a closure, an alias.
STYLES = dict(
    CORRECT,
    clip_by_value="import numpy as npy\nclip_by_value = lambda g, c: npy.clip(g, -c, c)",
    clip_by_global_norm=(
        "import math\n"
        "def _norm(tensors):\n"
        "    return math.sqrt(sum(float((t * t).sum()) for t in tensors))\n"
        "def clip_by_global_norm(grads, max_norm):\n"
        "    total = _norm(grads)\n"
        "    scale = min(1.0, max_norm / (total + 1e-6))\n"
        "    return [g * scale for g in grads], total"),
    linear_backward=(
        "def make_backward(axis):\n"
        "    def backward(x, W, b, grad_out):\n"
        "        return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=axis)\n"
        "    return backward\n"
        "linear_backward = make_backward(0)"),
    bptt_step=("import numpy as npy\n"
               "class Step:\n"
               "    def __call__(self, grad_h, h, h_prev, W_rec):\n"
               "        grad_a = npy.multiply(grad_h, 1 - h**2)\n"
               "        return npy.dot(grad_a, W_rec.T), npy.dot(h_prev.T, grad_a)\n"
               "bptt_step = Step()"),
)

WRONG = {
    "depth_w3": "depth_w3 = 3 ** 5",
    "depth_w09": "depth_w09 = 0.9 * 4",
    "depth_constant": "depth_constant = 0",
    "step_lengths": "step_lengths = [0.05, 0.4, 0.08, 1.0, 0.2, 0.025]",
    "clip_rate": "clip_rate = 3",
    "long_101": "long_101 = 2.0",
    "long_099": "long_099 = 0.0",
    "quad_factor": "quad_factor = 10",
    "quad_cycle": "quad_cycle = [0.04, -0.06]",
    "clip_by_value": "def clip_by_value(g, c):\n    return g",
    "clip_by_global_norm": "def clip_by_global_norm(grads, max_norm):\n    return grads, 1.0",
    "linear_backward": ("def linear_backward(x, W, b, grad_out):\n"
                        "    return grad_out @ W.T, x.T @ grad_out, grad_out.mean(axis=0)"),
    "bptt_step": ("def bptt_step(grad_h, h, h_prev, W_rec):\n"
                  "    return grad_h @ W_rec.T, h_prev.T @ grad_h"),
    "sweep_best": 'sweep_best = {"global norm": 100.0, "value": 100.0, '
                  '"global norm and value": 100.0}',
}

UNTOUCHED = {name: (f"def {name}(*args):\n    raise NotImplementedError" if name in FUNCTIONS
                    else f"{name} = ...") for name in NAMES}


HEADER = "import numpy as np\nfrom gradlab.checks import check"


def notebook(answers, before=(), after=(), header=HEADER):
    """A chapter 5 submission: ``before`` cells, each answer and its check, ``after`` cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(header)]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in before]
    for name, source in answers.items():
        nb.cells.append(nbformat.v4.new_code_cell(source))
        nb.cells.append(nbformat.v4.new_code_cell(f"check({name!r}, {name})"))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in after]
    return nb


def write(folder, submissions):
    folder.mkdir(parents=True, exist_ok=True)
    for stem, nb in submissions.items():
        nbformat.write(nb, folder / f"{stem}.ipynb")


def grade(folder, out, cwd, *options, timeout=600):
    """Run ``python -m gradlab.grade`` from ``cwd``: exit status, output, rows by submission."""
    done = subprocess.run([sys.executable, "-m", "gradlab.grade", str(folder), "--out", str(out),
                           *options], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
            "rows": rows}


def once(tmp_path_factory, worker_id, name, produce):
    """``produce(folder)``, a JSON-ready result, computed by the first worker that asks."""
    if worker_id == "master":
        return produce(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cache = shared / f"{name}.json"
        if not cache.exists():
            (shared / name).mkdir()
            cache.write_text(json.dumps(produce(shared / name)))
        return json.loads(cache.read_text())


def scores(row):
    return {name: int(row[name]) for name in NAMES}


def tree_digest(*folders):
    """A digest of every file's path and content under ``folders`` (symlinks by target)."""
    digest = hashlib.sha256()
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                path = Path(root) / name
                digest.update(str(path).encode())
                digest.update(os.readlink(path).encode() if path.is_symlink()
                              else path.read_bytes())
    return digest.hexdigest()


def processes_with(marker):
    """Pids of live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
