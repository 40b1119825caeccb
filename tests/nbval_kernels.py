"""A pytest plugin for nbval: notebook kernels that talk over Unix sockets, not TCP ports.

``make test`` runs nbval on two workers (``-n 2 --dist loadfile``), each starting a kernel
per notebook. jupyter_client picks a kernel's five TCP ports by binding port 0 and letting
go; it remembers the ports it handed out only within one process, so two workers starting
kernels at the same moment can be given the same free port. The kernel that loses the bind
exits, and nbval reports "Kernel died before replying to kernel_info" for every cell of that
notebook (seen once under load). With the ``ipc`` transport each kernel's sockets are files
in a folder of its own: there are no ports to collide. A kernel that still fails to start is
started once more, saying why.

Use with ``-p nbval_kernels`` and ``tests`` on ``PYTHONPATH`` (the Makefile does).
"""

import itertools
import shutil
import sys
import tempfile
from pathlib import Path

import nbval.kernel

_ATTEMPTS = 2
_count = itertools.count()
_folders = []


def start_new_kernel(startup_timeout=60, kernel_name="python", **kwargs):
    """nbval's ``start_new_kernel`` with the ``ipc`` transport in a private folder."""
    for attempt in range(1, _ATTEMPTS + 1):
        folder = Path(tempfile.mkdtemp(prefix="nbval-kernel-"))
        _folders.append(folder)
        manager = nbval.kernel.KernelManager(
            kernel_name=kernel_name, kernel_spec_manager=nbval.kernel.NbvalKernelspecManager(),
            transport="ipc", ip=str(folder / f"kernel-{next(_count)}"))
        manager.start_kernel(**kwargs)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=startup_timeout)
        except RuntimeError as error:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
            if attempt == _ATTEMPTS:
                raise
            print(f"nbval_kernels: kernel failed to start ({error}); starting it again",
                  file=sys.stderr)
            continue
        return manager, client
    raise AssertionError("unreachable")


def pytest_configure(config):
    nbval.kernel.start_new_kernel = start_new_kernel


def pytest_unconfigure(config):
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)
