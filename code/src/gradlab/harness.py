"""Calling a student's answers, in the student's own kernel, and reading back what they gave.

``call_all(function, calls)`` calls a function answer on copies of each argument tuple
and records each outcome as plain data: what it returned, what it raised, or that it
changed its input. ``check()`` in a notebook runs it in a forked child process killed
after a time limit (``in_child``); the grader's last cell uses ``collect``, which does
the same for every exercise and writes one line per answer to a new file::

    GRADLAB-ANSWER <name> <plain JSON>

Nothing here decides anything: the lines are data, judged outside the sandbox
(``read_calls`` turns a function's line back into outcomes).
"""

import json
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

import numpy as np

from . import plain

MARKER = "GRADLAB-ANSWER"
MAX_ANSWER_BYTES = 4_000_000
RETURNED, RAISED, NOT_IMPLEMENTED, CHANGED_INPUT, UNREADABLE = (
    "returned", "raised", "not_implemented", "changed_input", "unreadable")


def call_all(function, calls):
    """Plain data for ``function`` called on copies of each argument tuple of ``calls``."""
    if not callable(function):
        return {"t": "not_callable", "value": plain.encode(function)}
    return {"t": "calls", "outcomes": [_call(function, args) for args in calls]}


def _call(function, args):
    copies = [_copy(a) for a in args]
    try:
        output = function(*copies)
    except NotImplementedError:
        return {NOT_IMPLEMENTED: True}
    except Exception as error:
        return {RAISED: f"{type(error).__name__}: {str(error)[:300]}"}
    if not all(map(_same, args, copies)):
        return {CHANGED_INPUT: True}
    try:
        return {RETURNED: plain.encode(output)}
    except Exception as error:
        return {UNREADABLE: f"{type(error).__name__}: {str(error)[:300]}"}


def _copy(value):
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value.copy() if isinstance(value, np.ndarray) else value


def _same(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    return a is b or a == b


# --- reading a function's outcomes back (in the grader and in check) ---

@dataclass(frozen=True)
class Outcome:
    """One call of a student's function: ``kind`` (returned, raised, ...) and its value."""

    kind: str
    value: object = None


@dataclass(frozen=True)
class NotCallable:
    """The answer to a function exercise was not a function; ``value`` is what it was."""

    value: object


def read_calls(data, expected):
    """Outcomes of ``expected`` calls from plain data (``plain.Unreadable`` if malformed)."""
    tag = plain.field(data, "t", str)
    if tag in ("missing", "unreadable"):
        return plain.decode(data)
    if tag == "not_callable":
        return NotCallable(plain.decode(data.get("value")))
    outcomes = plain.field(data, "outcomes", list)
    if tag != "calls" or len(outcomes) != expected:
        raise plain.Unreadable(f"{len(outcomes)} outcomes came back for {expected} calls")
    return [_outcome(item) for item in outcomes]


def _outcome(item):
    if not isinstance(item, dict) or len(item) != 1:
        raise plain.Unreadable("an outcome is not a one-entry dict")
    (kind, value), = item.items()
    if kind == RETURNED:
        return Outcome(kind, plain.decode(value))
    if kind in (RAISED, UNREADABLE) and isinstance(value, str):
        return Outcome(kind, value[:300])
    if kind in (NOT_IMPLEMENTED, CHANGED_INPUT) and value is True:
        return Outcome(kind)
    raise plain.Unreadable(f"an outcome has an unknown kind {str(kind)[:20]!r}")


# --- the grader's last cell: every answer, each in a child process with a time limit ---

def in_child(job, seconds):
    """``job()``'s plain data as JSON text, computed in a forked child killed after ``seconds``.

    Where there is no ``fork`` (Windows), ``job`` runs here, without a time limit.
    """
    if not hasattr(os, "fork"):
        return json.dumps(job(), allow_nan=False)
    _reap()
    return _in_child(job, seconds)


def _reap():
    """Collect the notebook's finished child processes, which still count against its limit."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def collect(namespace, request):
    """Write one ``MARKER`` line per requested answer of ``namespace`` (the notebook's globals).

    ``request``: ``{"values": [names], "functions": {name: [plain argument tuples]},
    "value_seconds": s, "call_seconds": s, "path": new file to write}``.
    """
    jobs = [(name, request["value_seconds"], _value_job(namespace, name))
            for name in request["values"]]
    jobs += [(name, request["call_seconds"], _function_job(namespace, name, calls))
             for name, calls in request["functions"].items()]
    fd = os.open(request["path"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        for name, seconds, job in jobs:
            out.write(f"{MARKER} {name} {in_child(job, seconds)}\n")
            out.flush()


def _value_job(namespace, name):
    return lambda: plain.encode(namespace[name]) if name in namespace else {"t": "missing"}


def _function_job(namespace, name, calls):
    def job():
        if name not in namespace:
            return {"t": "missing"}
        return call_all(namespace[name], [tuple(plain.decode(a)) for a in calls])
    return job


def _in_child(job, seconds):
    """Run ``job`` in a forked child; its plain-data result as JSON text, or why there is none."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError as error:
        os.close(read_end)
        os.close(write_end)
        return json.dumps({"t": "unreadable", "why": f"no process could be started ({error})"})
    if pid == 0:  # the child: no output of its own, one JSON document on the pipe, then exit
        os.close(read_end)
        _silence()
        try:
            text = json.dumps(job(), allow_nan=False)
        except BaseException as error:  # noqa: B902 - the child reports everything and exits
            text = json.dumps({"t": "unreadable", "why": f"{type(error).__name__}: "
                                                        f"{str(error)[:200]}"})
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(text)
        os._exit(0)
    os.close(write_end)
    chunks, size, deadline = [], 0, time.monotonic() + seconds
    problem = None
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem = f"it took longer than {seconds:g} s"
                break
            ready, _, _ = select.select([pipe], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                problem = f"it is larger than {MAX_ANSWER_BYTES} bytes as plain data"
                break
            chunks.append(chunk)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if problem:
        return json.dumps({"t": "unreadable", "why": problem})
    return b"".join(chunks).decode("utf-8", "replace")


def _silence():
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w")
