"""Grade a folder of submitted notebooks: ``python -m gradlab.grade SUBMISSIONS --out scores.csv``.

For each ``*.ipynb`` (in name order):

1. **Run** it in its own fresh kernel (nbclient) under a time limit for the whole
   notebook. A cell that raises does not stop the run; the first error is reported.
2. **Collect** the answers: one extra cell, appended by the grader, prints every
   answer variable as JSON (numbers, arrays, lists, dicts, text; a function as its
   source code; any other object as its type name).
3. **Judge** the answers in a separate, fresh Python process with
   ``gradlab.checks.evaluate``. Nothing the notebook did to ``check`` or to
   ``gradlab`` in its kernel reaches that process; at worst a notebook can forge the
   printed answers, which are still judged. A function's source is executed there
   only if it passes a static screen (imports of numpy and math only, no dunder
   names, no ``sys``/``os``/``gradlab``, no assignment to module attributes), and
   each check runs under a time limit.

The CSV has one row per submission: ``submission`` (file name), one 1/0 column per
scored exercise, ``total`` and ``error`` (empty, or why some or all of the notebook
could not be graded: invalid JSON, a crashing cell, a timeout, missing answer cells).
The exit status is 0 whenever the batch completed, whatever the scores.
"""

import argparse
import ast
import csv
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "GRADLAB-ANSWERS:"
CHECK_TIME_LIMIT = 20  # seconds for one exercise's check in the judging process

# Runs in the student's kernel after their last cell; it only reads and prints.
_DUMP_CELL = r'''
def _gradlab_dump(names):
    import inspect, json, numbers, textwrap
    import numpy
    def encode(value, depth=0):
        if depth > 4:
            return {"kind": "object", "type": type(value).__name__}
        if value is Ellipsis:
            return {"kind": "placeholder"}
        if value is None:
            return {"kind": "none"}
        if isinstance(value, (bool, numpy.bool_)):
            return {"kind": "bool", "value": bool(value)}
        if isinstance(value, numbers.Real):
            return {"kind": "number", "value": float(value)}
        if isinstance(value, str):
            return {"kind": "text", "value": value}
        if isinstance(value, numpy.ndarray) and value.dtype.kind in "iuf":
            return {"kind": "array", "value": value.astype(float).tolist(),
                    "shape": list(value.shape)}
        if isinstance(value, (list, tuple)):
            return {"kind": type(value).__name__,
                    "items": [encode(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            return {"kind": "dict", "items": [[key, encode(item, depth + 1)]
                                              for key, item in value.items()
                                              if isinstance(key, str)]}
        if inspect.isfunction(value):
            try:
                source = textwrap.dedent(inspect.getsource(value))
            except (OSError, TypeError):
                source = None
            return {"kind": "function", "name": value.__name__, "source": source}
        return {"kind": "object", "type": type(value).__name__}
    found = globals()
    answers = {name: encode(found[name]) for name in names if name in found}
    print("MARKER" + json.dumps(answers))
_gradlab_dump(NAMES)
'''


@dataclass
class Graded:
    """One submission's row: per-exercise 1/0, the messages, and why grading was partial."""

    submission: str
    scores: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    @property
    def total(self):
        return sum(self.scores.values())


def dump_cell_source(names):
    return _DUMP_CELL.replace('"MARKER"', repr(MARKER)).replace("NAMES", repr(list(names)))


def run_notebook(path, names, timeout):
    """Execute ``path`` in a fresh kernel; return (answers JSON or None, list of errors)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # unreadable JSON or not a notebook at all
        return None, [f"not a valid notebook ({type(error).__name__}: "
                      f"{str(error).splitlines()[0][:120]})"]
    notebook.cells.append(nbformat.v4.new_code_cell(dump_cell_source(names)))
    errors = []
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                allow_errors=True, interrupt_on_timeout=False,
                                resources={"metadata": {"path": workdir}})
        deadline = time.monotonic() + timeout
        try:
            with client.setup_kernel(env=_kernel_env()):
                for index, cell in enumerate(notebook.cells):
                    client.timeout = max(1, math.ceil(deadline - time.monotonic()))
                    client.execute_cell(cell, index)
                    if cell.cell_type == "code" and index < len(notebook.cells) - 1:
                        problem = _cell_error(cell)
                        if problem and not errors:
                            errors.append(f"cell {index + 1} raised {problem}")
        except CellTimeoutError:
            return None, errors + [f"timed out after {timeout:g} s (in cell {index + 1})"]
        except DeadKernelError:
            return None, errors + [f"the kernel died (in cell {index + 1})"]
    return _answers_from(notebook.cells[-1]), errors


def _kernel_env():
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["GRADLAB_SOLUTIONS"] = "off"
    return env


def _cell_error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue', '')[:100]}"
    return None


def _answers_from(cell):
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    for line in text.splitlines():
        if line.startswith(MARKER):
            try:
                answers = json.loads(line[len(MARKER):])
            except json.JSONDecodeError:
                return None
            return answers if isinstance(answers, dict) else None
    return None


# --- judging, in a fresh process -------------------------------------------------

_ALLOWED_IMPORTS = {"numpy", "math"}
_FORBIDDEN_NAMES = {"sys", "os", "gradlab", "builtins", "importlib", "globals", "locals",
                    "vars", "setattr", "delattr", "getattr", "exec", "eval", "compile", "open",
                    "input", "breakpoint", "subprocess", "signal"}


def screen_source(source):
    """Return why a function's source may not be run by the grader, or None if it may."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return f"its source does not parse ({error.msg})"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            bad = [m for m in modules if m.split(".")[0] not in _ALLOWED_IMPORTS]
            if bad:
                return f"it imports {bad[0]} (only numpy and math are allowed)"
        elif isinstance(node, ast.Name) and (node.id in _FORBIDDEN_NAMES
                                             or node.id.startswith("__")):
            return f"it uses {node.id}"
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            return f"it uses the attribute {node.attr}"
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                   for t in targets):
                return "it assigns to an attribute of a module or object"
        elif isinstance(node, ast.Global):
            return "it declares global names"
    return None


class _Opaque:
    """Stands for an answer object the dump could not encode; shows its original type name."""


def decode(encoded):
    """Rebuild an answer from the dump: plain Python values, arrays, functions, opaque objects."""
    import numpy as np

    kind = encoded.get("kind")
    if kind == "placeholder":
        return Ellipsis
    if kind == "none":
        return None
    if kind in ("bool", "number", "text"):
        return encoded["value"]
    if kind == "array":
        return np.array(encoded["value"], dtype=float).reshape(encoded["shape"])
    if kind in ("list", "tuple"):
        items = [decode(item) for item in encoded["items"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {key: decode(item) for key, item in encoded["items"]}
    if kind == "function":
        return _function_from(encoded)
    return type(str(encoded.get("type", "object")), (_Opaque,), {})()


def _function_from(encoded):
    import numpy as np

    source, name = encoded.get("source"), encoded.get("name", "function")
    if source is None:
        return _refuse(f"the grader could not read the source of {name}")
    reason = screen_source(source)
    if reason:
        return _refuse(f"the grader does not run {name}: {reason}")
    namespace = {"np": np, "numpy": np, "math": math}
    try:
        exec(compile(source, f"<submission {name}>", "exec"), namespace)
        return namespace[name]
    except Exception as error:
        return _refuse(f"defining {name} failed ({type(error).__name__}: {error})")


def _refuse(reason):
    def refused(*args, **kwargs):
        raise RuntimeError(reason)
    return refused


class _TookTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise _TookTooLong


def judge_answers(answers, names):
    """Judge decoded answers; returns name -> {"status", "message"}. Run in a fresh process."""
    from gradlab import checks

    signal.signal(signal.SIGALRM, _alarm)
    results = {}
    for name in names:
        if name not in answers:
            results[name] = {"status": "missing", "message": "no answer cell"}
            continue
        try:
            signal.alarm(CHECK_TIME_LIMIT)
            result = checks.evaluate(name, decode(answers[name]))
            results[name] = {"status": result.status, "message": result.message}
        except _TookTooLong:
            results[name] = {"status": "fail",
                             "message": f"the check took longer than {CHECK_TIME_LIMIT} s"}
        finally:
            signal.alarm(0)
    return results


def judge_in_subprocess(answers, names, timeout):
    """Run ``judge_answers`` in a fresh interpreter; returns (results or None, error)."""
    payload = json.dumps({"answers": answers, "names": list(names)})
    try:
        done = subprocess.run([sys.executable, "-m", "gradlab.grade", "--judge"], input=payload,
                              capture_output=True, text=True, timeout=timeout,
                              env=_kernel_env())
    except subprocess.TimeoutExpired:
        return None, f"judging the answers took longer than {timeout:g} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"judging the answers failed ({last[:120]})"
    return json.loads(done.stdout), None


# --- the batch ------------------------------------------------------------------

def grade_one(path, names, timeout):
    graded = Graded(path.name, scores={n: 0 for n in names})
    answers, graded.errors = run_notebook(path, names, timeout)
    if answers is None:
        if not graded.errors:
            graded.errors.append("the answers could not be read back from the notebook")
        return graded
    results, problem = judge_in_subprocess(answers, names, timeout=timeout + 60)
    if problem:
        graded.errors.append(problem)
        return graded
    missing = [n for n in names if results[n]["status"] == "missing"]
    if missing:
        graded.errors.append(f"missing answer cells: {', '.join(missing)}")
    for name in names:
        graded.scores[name] = int(results[name]["status"] == "pass")
        graded.messages[name] = results[name]["message"]
    return graded


def grade_folder(folder, timeout=60, chapter=5, progress=None, prefix=""):
    """Grade every ``*.ipynb`` in ``folder``; returns (exercise names, list of ``Graded``).

    The exercises are the scored ones of ``chapter`` whose names start with ``prefix``
    (chapter 4 spans two notebooks: ``ch4_`` and ``ch4x_``).
    """
    from gradlab import checks

    names = [name for name in checks.scored_names(chapter) if name.startswith(prefix)]
    if not names:
        raise ValueError(f"chapter {chapter} has no scored exercise whose name starts with "
                         f"{prefix!r}")
    paths = sorted(Path(folder).glob("*.ipynb"))
    progress = progress or _Progress(len(paths))
    rows = []
    for path in paths:
        rows.append(grade_one(path, names, timeout))
        progress.advance(path.name)
    progress.close()
    return names, rows


def write_csv(out, names, rows):
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", *names, "total", "error"])
        for row in rows:
            writer.writerow([row.submission, *(row.scores[n] for n in names), row.total,
                             "; ".join(row.errors)])


def summary(names, rows):
    """A printable summary: mean score per exercise, then every submission with a problem."""
    if not rows:
        return "No submissions found."
    width = max(len(n) for n in names)
    lines = [f"{len(rows)} submission(s); mean total {sum(r.total for r in rows) / len(rows):.2f}"
             f" of {len(names)}", "Mean score per exercise:"]
    lines += [f"  {n:<{width}}  {sum(r.scores[n] for r in rows) / len(rows):.2f}" for n in names]
    problems = [r for r in rows if r.errors]
    if problems:
        lines.append("Not fully graded:")
        lines += [f"  {r.submission}: {'; '.join(r.errors)}" for r in problems]
    return "\n".join(lines)


class _Progress:
    """A plain-text progress bar on stderr (tqdm is not needed)."""

    def __init__(self, total, width=30):
        self.total, self.done, self.width = total, 0, width

    def advance(self, label):
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        print(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
              f"{label[:40]:<40}", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.total:
            print(file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="gradlab-grade", description="Execute and grade a folder of submitted notebooks.")
    parser.add_argument("submissions", nargs="?", help="folder holding the *.ipynb submissions")
    parser.add_argument("--out", default="scores.csv", help="CSV file to write")
    parser.add_argument("--timeout", type=float, default=120,
                        help="time limit per notebook, in seconds (default 120)")
    parser.add_argument("--chapter", type=int, default=5, help="chapter whose exercises count")
    parser.add_argument("--prefix", default="",
                        help="only the exercises whose name starts with this (e.g. ch4x_)")
    parser.add_argument("--judge", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.judge:  # the fresh judging process: JSON in on stdin, JSON out on stdout
        request = json.load(sys.stdin)
        print(json.dumps(judge_answers(request["answers"], request["names"])))
        return 0
    if args.submissions is None or not Path(args.submissions).is_dir():
        parser.error(f"{args.submissions!r} is not a folder")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    try:
        names, rows = grade_folder(args.submissions, args.timeout, args.chapter,
                                   prefix=args.prefix)
    except ValueError as error:
        parser.error(str(error))
    write_csv(args.out, names, rows)
    print(summary(names, rows))
    print(f"Scores written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
