"""Inside the sandbox: run a notebook's cells in a fresh kernel, then collect its answers.

``python -I -m gradlab.kernel_run`` reads one JSON request on stdin::

    {"cells": [source, ...], "seconds": 120, "sandboxed": true, "collect": {harness request},
     "collect_seconds": 60, "limits": {"memory": bytes, "cpu": s, "file_size": bytes,
     "processes": n or null}}

It first lowers its own resource limits (inherited by the kernel and everything it
starts), then executes the code cells one by one in a fresh IPython kernel until the
wall-clock budget ``seconds`` is spent (a running cell is interrupted; later cells are
skipped), keeping only the first error of a cell, never cell output. Then it kills the
processes the notebook left behind. Last, it runs one
cell of its own that calls ``gradlab.harness.collect``, which writes the answers to a
new file with an unguessable name. Its stdout, lines of text::

    note <JSON text>                     (a problem worth reporting)
    GRADLAB-ANSWER <name> <plain JSON>   (forwarded from that file)
    done

None of this is trusted by the grader: the notebook runs in the same sandbox and can
replace any of it; it can only spoil its own answers.
"""

import json
import os
import queue
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time

from .harness import MARKER

MAX_REQUEST = 64_000_000
MAX_FORWARDED = 12_000_000
_INTERRUPT_GRACE = 3.0


def main():
    request = json.loads(sys.stdin.buffer.read(MAX_REQUEST))
    _limit(request["limits"])
    from jupyter_client.manager import start_new_kernel

    started = time.monotonic()
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + request["seconds"]
        if _run_cells(kc, km, request["cells"], deadline):
            _stop_strays(km.provisioner.process.pid, request["sandboxed"])
            _collect(kc, request["collect"], request["collect_seconds"])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print("done", flush=True)


def _limit(limits):
    """Lower this process's resource limits (soft and hard: nothing below can raise them)."""
    pairs = [(resource.RLIMIT_AS, limits["memory"]), (resource.RLIMIT_CPU, limits["cpu"]),
             (resource.RLIMIT_FSIZE, limits["file_size"]), (resource.RLIMIT_CORE, 0)]
    if limits.get("processes"):
        pairs.append((resource.RLIMIT_NPROC, limits["processes"]))
    for which, value in pairs:
        resource.setrlimit(which, (int(value), int(value)))


def _note(text):
    print("note", json.dumps(text[:500]), flush=True)


def _run_cells(kc, km, cells, deadline):
    """Execute ``cells`` until ``deadline``; False if the kernel could not be stopped."""
    noted = False
    for number, source in enumerate(cells, start=1):
        msg_id = kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
        finished, error = _wait(kc, msg_id, deadline)
        if error and not noted:
            _note(f"cell {number} raised {error}")
            noted = True
        if not finished:
            _note(f"the time limit was reached in cell {number}; later cells were not run")
            km.interrupt_kernel()
            if not _wait(kc, msg_id, time.monotonic() + _INTERRUPT_GRACE)[0]:
                _note("the kernel did not stop when interrupted; no answers were collected")
                return False
            return True
    return True


def _wait(kc, msg_id, deadline):
    """Wait until the kernel is done with ``msg_id``: (finished in time, first error)."""
    error = None
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=min(deadline - time.monotonic(), 1.0))
        except (queue.Empty, ValueError):
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error" and error is None:
            error = f"{content.get('ename', '')}: {str(content.get('evalue', ''))[:200]}"
        elif kind == "status" and content.get("execution_state") == "idle":
            return True, error
    return False, error


def _stop_strays(kernel, sandboxed):
    """Kill the processes the notebook left running (they would hold its process quota).

    In the sandbox that is every process but the namespace's init, this one and the
    kernel; without a sandbox, only the kernel's descendants.
    """
    keep = {1, os.getpid(), kernel}
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parents[int(entry)] = int(stat.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue

    def descends(pid):
        seen = set()
        while pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
            if pid == kernel:
                return True
        return False

    for pid in parents:
        if pid not in keep and (sandboxed or descends(pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _collect(kc, collect, seconds):
    """Run the harness cell, then forward its answer lines (at most ``MAX_FORWARDED`` bytes)."""
    path = os.path.join(tempfile.gettempdir(), f"gradlab-{secrets.token_hex(8)}.answers")
    collect = dict(collect, path=path)
    source = ("from gradlab.harness import collect as _gradlab_collect\n"
              f"_gradlab_collect(globals(), __import__('json').loads({json.dumps(collect)!r}))")
    msg_id = kc.execute(source, store_history=False, allow_stdin=False, stop_on_error=False)
    finished, error = _wait(kc, msg_id, time.monotonic() + seconds)
    if error:
        _note(f"collecting the answers raised {error}")
    if not finished:
        _note("collecting the answers took too long")
    try:
        with open(path, "rb") as answers:
            lines = answers.read(MAX_FORWARDED).decode("utf-8", "replace").splitlines()
    except OSError:
        return
    for line in lines:
        if line.startswith(MARKER + " "):
            print(line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
