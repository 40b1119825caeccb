"""A bubblewrap sandbox for one submission, with a wall clock and a cap on its output.

The sandbox's root is read-only and holds only what Python needs: ``/usr``, a few files of ``/etc``
(not ``/etc/shadow``), the virtual environment, the Python installation and the
package's source folder; not the submissions, not the instructor's working directory,
not the output. ``/tmp`` (also the working directory and ``HOME``) is a private tmpfs
of limited size that disappears with the sandbox. There is no network (a new network
namespace with only loopback), a new PID namespace that dies with bwrap
(``--die-with-parent``; no process outlives its submission), a new session (no
terminal injection) and an unprivileged user. Resource limits (memory, CPU time, file
size, processes) are set by the first process inside (``gradlab.kernel_run``). As root,
where ``RLIMIT_NPROC`` does not apply, child cgroups of the grader's own bound the number
of processes and the memory of all of them together, where the machine offers them.

``run`` enforces the wall clock by killing the sandbox's process group (bwrap and,
with it, the whole PID namespace) and reads at most ``max_output`` bytes of its stdout.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 65534
ETC_FILES = ("ld.so.cache", "localtime", "nsswitch.conf", "passwd", "group", "hosts")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Sizes in bytes, times in seconds."""

    memory: int = 4 << 30  # address space of each process
    total_memory: int = 6 << 30  # all processes and /tmp together (a memory cgroup, as root)
    processes: int = 256
    file_size: int = 64 << 20
    tmp_size: int = 512 << 20
    max_output: int = 16 << 20


@dataclass
class Finished:
    """How a sandboxed command ended: its (capped) stdout, the end of its stderr, and why."""

    stdout: bytes
    stderr: bytes
    seconds: float
    stopped: str = ""  # empty, or why the grader stopped it (time limit, too much output)


def bwrap():
    return shutil.which("bwrap")


def read_only_folders():
    """Folders the sandbox needs: the venv, the Python installation and the package's source."""
    import gradlab

    package_root = Path(gradlab.__file__).resolve().parent.parent
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package_root}
    return sorted(f for f in folders if not _inside(f, Path("/usr")))


def _inside(path, folder):
    return path == folder or folder in path.parents


def command(argv, limits, env):
    """The bwrap command line that runs ``argv`` sealed off, as described above."""
    args = [bwrap(), "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_UID), "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for folder in read_only_folders():
        args += ["--ro-bind", str(folder), str(folder)]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_size),
             "--tmpfs", "/tmp", "--dir", "/tmp/work", "--remount-ro", "/", "--chdir",
             "/tmp/work", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--", *argv]


def environment(home="/tmp"):
    """The environment inside: the venv first on PATH, caches and Jupyter files in ``home``."""
    return {"PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", "HOME": home,
            "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "agg",
            "MPLCONFIGDIR": f"{home}/matplotlib", "IPYTHONDIR": f"{home}/ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/jupyter", "JUPYTER_DATA_DIR": f"{home}/jupyter",
            "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
            "PYTHONDONTWRITEBYTECODE": "1"}


def problem():
    """Why no sandbox can be made here (None if one can): bwrap missing or refusing."""
    if bwrap() is None:
        return ("bubblewrap (bwrap) is not installed: run tools/install_bubblewrap.sh "
                "(Debian/Ubuntu: apt-get install bubblewrap)")
    probe = command([sys.executable, "-I", "-c", "import gradlab"], Limits(), environment())
    try:
        done = subprocess.run(probe, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start a sandbox ({error})"
    if done.returncode != 0:
        last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap could not start a sandbox ({last[:200]})"
    return None


def run(argv, stdin, seconds, limits, sandboxed=True):
    """Run ``argv`` (in the sandbox unless ``sandboxed=False``) with ``stdin`` bytes."""
    if sandboxed:
        with _cgroups(limits) as groups:
            argv = command(argv, limits, environment())
            if groups:  # the shell joins the cgroups, then becomes bwrap
                argv = ["/bin/sh", "-c", 'IFS=:; for g in $0; do echo $$ > "$g/cgroup.procs" '
                        '|| exit 125; done; exec "$@"', ":".join(map(str, groups.values())), *argv]
            return _supervise(argv, stdin, seconds, limits.max_output, env=None, cwd=None)
    with _scratch() as scratch:
        env = environment(scratch)
        return _supervise(argv, stdin, seconds, limits.max_output, env=env, cwd=scratch)


def _supervise(argv, stdin, seconds, max_output, env, cwd):
    started = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True, env=env,
                               cwd=cwd)
    threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True).start()
    out, err, stopped = bytearray(), bytearray(), ""
    streams = {process.stdout.fileno(): out, process.stderr.fileno(): err}
    deadline = started + seconds
    while streams and not stopped:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            stopped = f"stopped after the wall-clock limit of {seconds:g} s"
            break
        ready, _, _ = select.select(list(streams), [], [], min(remaining, 1.0))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                del streams[fd]
                continue
            buffer = streams[fd]
            buffer += chunk
            if fd == process.stderr.fileno():
                del buffer[:-4096]  # only the end of stderr is kept, for diagnostics
            elif len(buffer) > max_output:
                del buffer[max_output:]
                stopped = f"stopped: it wrote more than {max_output} bytes of answers"
    _kill(process)
    process.stdout.close()
    process.stderr.close()
    return Finished(bytes(out), bytes(err), time.monotonic() - started, stopped)


def _feed(pipe, data):
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # the command exited without reading everything
        pass


def _kill(process):
    """Kill the whole process group (bwrap, hence its PID namespace) and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@contextmanager
def _scratch():
    with tempfile.TemporaryDirectory(prefix="gradlab-") as folder:
        yield folder


# controller -> (its limit file in cgroup v1, in cgroup v2, the ``Limits`` field)
CGROUP_LIMITS = {"pids": ("pids.max", "pids.max", "processes"),
                 "memory": ("memory.limit_in_bytes", "memory.max", "total_memory")}


def _own_cgroup(controller):
    """This process's cgroup folder for ``controller`` (v1, else v2), or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = Path("/sys/fs/cgroup") / controller / path.lstrip("/")
            return folder, CGROUP_LIMITS[controller][0]
    for line in lines:
        if line.startswith("0::"):
            folder = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
            return folder, CGROUP_LIMITS[controller][1]
    return None


@contextmanager
def _cgroups(limits):
    """Fresh child cgroups by controller, bounding processes and total memory (none unless root)."""
    groups = {}
    for controller, (_, _, field) in CGROUP_LIMITS.items() if os.geteuid() == 0 else ():
        found = _own_cgroup(controller)
        if found is None:
            continue
        candidate = found[0] / f"gradlab-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            candidate.mkdir()
            (candidate / found[1]).write_text(str(getattr(limits, field)))
            groups[controller] = candidate
        except OSError:
            if candidate.exists():
                candidate.rmdir()
    try:
        yield groups
    finally:
        for group in groups.values():
            remove_cgroup(group)


def remove_cgroup(group):
    for _ in range(50):
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)


def cgroups_available():
    """The controllers that bound a sandbox run as root (``pids``, ``memory``) on this machine."""
    with _cgroups(Limits()) as groups:
        return sorted(groups)
