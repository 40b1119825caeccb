"""Grade a folder of submitted notebooks: ``python -m gradlab.grade SUBMISSIONS --out scores.csv``.

The verdict is computed where no student code runs. For each ``*.ipynb`` (two at a time):

1. **Read** it safely (``gradlab.submissions``): regular files only, size-limited.
2. **Run** it in its own bubblewrap sandbox (``gradlab.sandbox``) in a fresh kernel
   (``gradlab.kernel_run``), under a wall-clock limit enforced by killing the sandbox.
   The last cell collects the answers as plain data (``gradlab.harness``): each value,
   and each function called on inputs drawn now, with a fresh random seed, each in a
   child process killed after its own time limit.
3. **Judge** in this process, from that data only (``gradlab.plain`` checks every field),
   with the same judges ``check()`` uses in the notebook. An answer that cannot be read
   or took too long costs its own exercise only.

The exercises are those of the chapter notebook the submissions answer, found from the
names their cells check (or named with ``--notebook``). The CSV has one row per
submission: ``submission``, one 1/0 column per scored exercise, ``total`` and ``error``
(why a notebook was not fully graded); it is rewritten after every notebook. The exit
status is 0 whenever the batch completed, whatever the scores.
"""

import argparse
import json
import os
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import exercises, harness, judging, plain, sandbox, scoresheet, submissions

VALUE_SECONDS = 5  # for reading back one value answer in the kernel
STARTUP_SECONDS = 20  # Python, the sandbox and the kernel, on top of --timeout
UNPROTECTED = (
    "WARNING: grading WITHOUT a sandbox (--no-sandbox-i-understand). Not protected: the "
    "notebooks can write anywhere this user can (the package, the venv, the working "
    "directory, other submissions, the output), read other submissions, use the "
    "network, and leave processes running. Still protected: the verdict is computed "
    "outside the notebooks' kernels, from plain data, with time and size limits.")


@dataclass
class Run:
    """What came back from one sandbox: raw answer texts by name, notes, how it ended."""

    answers: dict
    notes: list
    completed: bool
    seconds: float


def plan(module, seed):
    """The exercises to collect and, for function exercises, the cases drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    chosen = exercises.scored(module)
    cases = {e.name: e.calls(rng) for e in chosen if e.calls is not None}
    collect = {"values": [e.name for e in chosen if e.calls is None],
               "functions": {name: [plain.encode(c.args) for c in drawn]
                             for name, drawn in cases.items()},
               "value_seconds": VALUE_SECONDS}
    return collect, cases


def run_submission(submission, collect, options):
    """Execute one notebook in its sandbox and read its answer lines back."""
    collect = dict(collect, call_seconds=options.call_timeout)
    collect_seconds = (VALUE_SECONDS * len(collect["values"])
                       + options.call_timeout * len(collect["functions"]) + 10)
    limits = sandbox.Limits()
    wall = options.timeout + collect_seconds + STARTUP_SECONDS
    request = {"cells": submission.cells, "seconds": options.timeout,
               "sandboxed": not options.no_sandbox,
               "collect": collect, "collect_seconds": collect_seconds,
               "limits": {"memory": limits.memory, "cpu": int(wall) + 1,
                          "file_size": limits.file_size,
                          "processes": None if os.geteuid() == 0 else limits.processes}}
    finished = sandbox.run([sys.executable, "-I", "-m", "gradlab.kernel_run"],
                           json.dumps(request).encode(), wall, limits,
                           sandboxed=not options.no_sandbox)
    run = parse_output(finished.stdout)
    run.seconds = finished.seconds
    if finished.stopped:
        run.notes.append(finished.stopped)
    elif not run.completed:
        run.notes.append("the notebook's grader process ended early (the notebook stopped it)")
    return run


def parse_output(stdout):
    """Answer lines, notes and the final ``done`` from a sandbox's stdout (untrusted text)."""
    run = Run({}, [], False, 0.0)
    for line in stdout.decode("utf-8", "replace").splitlines():
        word, _, rest = line.partition(" ")
        if word == harness.MARKER:
            name, _, text = rest.partition(" ")
            run.answers.setdefault(name, []).append(text)
        elif word == "note" and len(run.notes) < 5:
            try:
                run.notes.append(str(json.loads(rest)))
            except (ValueError, RecursionError):
                run.notes.append("an unreadable note")
        elif line == "done":
            run.completed = True
    return run


def judge(name, module, run, cases):
    """Score one submission from its run: a ``scoresheet.Row``, every message cleaned."""
    chosen = exercises.scored(module)
    row = scoresheet.Row(scoresheet.clean(name), scores={e.name: 0 for e in chosen})
    row.errors += [scoresheet.clean(note) for note in run.notes]
    missing = []
    for exercise in chosen:
        texts = run.answers.get(exercise.name, [])
        if not texts:
            missing.append(exercise.name)
            continue
        result = _verdict(exercise, texts, cases.get(exercise.name))
        if result is plain.MISSING:
            missing.append(exercise.name)
            continue
        row.scores[exercise.name] = int(result.passed)
        row.messages[exercise.name] = scoresheet.clean(result.message, limit=500)
    if len(missing) == len(chosen) and not run.answers:
        row.errors.append("no answers were collected")
    elif missing:
        row.errors.append(f"missing answer cells: {', '.join(missing)}")
    return row


def _verdict(exercise, texts, cases):
    if len(texts) > 1:
        return judging.failed("your answer came back more than once, so it cannot be trusted.")
    try:
        if cases is None:
            answer = plain.decode(plain.parse(texts[0]))
        else:
            answer = harness.read_calls(plain.parse(texts[0]), len(cases))
    except plain.Unreadable as reason:
        return judging.failed(f"your answer could not be read back: {reason}.")
    if answer is plain.MISSING:
        return plain.MISSING
    return judging.verdict(exercise, answer, cases)


def refused_row(name, module, reason):
    row = scoresheet.Row(scoresheet.clean(name), scores={e.name: 0 for e in exercises.scored(module)})
    row.errors.append(scoresheet.clean(f"not graded: {reason}"))
    return row


def grade_folder(folder, options, out=None, log=None):
    """Grade every ``*.ipynb`` in ``folder``; returns (exercise names, rows).

    Rows go to ``out`` (CSV) as soon as each is known and a progress line to ``log``.
    """
    paths = sorted(Path(folder).glob("*.ipynb"), key=lambda p: p.name)
    loaded, refused = [], {}
    for path in paths:
        try:
            loaded.append(submissions.load(path))
        except submissions.Refused as reason:
            refused[path.name] = str(reason)
    module = (exercises.find_module(options.notebook) if options.notebook
              else submissions.majority_module(loaded))
    names = [e.name for e in exercises.scored(module)]
    rows = []

    def record(row, seconds):
        rows.append(row)
        if out is not None:
            scoresheet.write_csv(out, names, rows)
        if log is not None:
            print(scoresheet.progress_line(len(rows), len(paths), row, names, seconds), file=log,
                  flush=True)

    for name, reason in refused.items():
        record(refused_row(name, module, reason), 0.0)
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = {}
        for submission in loaded:
            collect, cases = plan(module, secrets.randbits(64))
            future = pool.submit(run_submission, submission, collect, options)
            futures[future] = (submission, cases)
        for future in as_completed(futures):
            submission, cases = futures[future]
            try:
                run = future.result()
            except Exception as error:  # the grader's own failure costs this notebook only
                record(refused_row(submission.name, module, f"the grader failed "
                                   f"({type(error).__name__}: {error})"), 0.0)
                continue
            row = judge(submission.name, module, run, cases)
            other = submissions.module_of(submission)
            if other is not None and other is not module:
                row.errors.insert(0, f"it checks the exercises of {other.NOTEBOOK}, "
                                     f"not {module.NOTEBOOK}")
            record(row, run.seconds)
    return names, rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="gradlab-grade", description="Execute and grade a folder of submitted notebooks, "
                                          "each in its own sandbox.")
    parser.add_argument("submissions", help="folder holding the *.ipynb submissions")
    parser.add_argument("--out", default="scores.csv", help="CSV file to write")
    parser.add_argument("--timeout", type=float, default=120,
                        help="wall-clock seconds per notebook for its cells (default 120)")
    parser.add_argument("--call-timeout", type=float, default=10,
                        help="seconds for each function answer's calls (default 10)")
    parser.add_argument("--notebook", help="the chapter notebook answered, e.g. 05_exercises "
                                           "or ch4x (default: found from the checked names)")
    parser.add_argument("--jobs", type=int, default=2, help="sandboxes at once (default 2)")
    parser.add_argument("--no-sandbox-i-understand", dest="no_sandbox", action="store_true",
                        help="grade without bubblewrap, knowing what that leaves unprotected")
    options = parser.parse_args(argv)
    if not Path(options.submissions).is_dir():
        parser.error(f"{options.submissions!r} is not a folder")
    if options.timeout <= 0 or options.call_timeout <= 0 or options.jobs < 1:
        parser.error("--timeout and --call-timeout must be positive, --jobs at least 1")
    if options.no_sandbox:
        print(UNPROTECTED, file=sys.stderr)
    elif (reason := sandbox.problem()) is not None:
        print(f"gradlab-grade: refusing to run student notebooks without a sandbox: {reason}."
              " To grade anyway, unprotected, pass --no-sandbox-i-understand.", file=sys.stderr)
        return 2
    try:
        names, rows = grade_folder(options.submissions, options, out=options.out,
                                   log=sys.stderr)
    except (ValueError, KeyError) as error:
        parser.error(str(error).strip("'\""))
    if not rows:
        scoresheet.write_csv(options.out, names, rows)
    print(scoresheet.summary(names, rows))
    if options.no_sandbox:
        print(UNPROTECTED)
    print(f"Scores written to {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
