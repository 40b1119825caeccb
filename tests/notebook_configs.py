"""Strict nbval over the chapter notebooks under several BLAS configurations.

The committed outputs must not depend on the order in which a machine sums a matrix
product. OpenBLAS picks its kernel from the CPU (AVX-512 "SkylakeX", AVX2 "Haswell", AVX
"Sandybridge"); ``OPENBLAS_CORETYPE`` forces one the CPU supports, and one thread or two
changes how products are split. This runs nbval under the first two kernels that start on
this machine (checked with a product, and by the kernel OpenBLAS reports), each with one
thread and with two, and says which it used.

    python tests/notebook_configs.py NOTEBOOK... [-- PYTEST_ARGS...]
"""

import os
import subprocess
import sys
from pathlib import Path

CANDIDATES = ("SkylakeX", "Haswell", "Sandybridge")
THREADS = (1, 2)
HERE = Path(__file__).resolve().parent
_PROBE = ("import numpy as np; from threadpoolctl import threadpool_info; "
          "a = np.random.default_rng(0).standard_normal((300, 300)); a @ a; "
          "print(*[i.get('architecture') for i in threadpool_info() "
          "if i['internal_api'] == 'openblas'])")


def runs_here(coretype):
    """Whether NumPy's OpenBLAS starts with ``coretype`` forced and reports using it."""
    env = dict(os.environ, OPENBLAS_CORETYPE=coretype, OPENBLAS_NUM_THREADS="1")
    probe = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                           text=True, timeout=120)
    return probe.returncode == 0 and probe.stdout.split() == [coretype]


def configurations():
    """(coretype, threads) pairs: two kernels that run here, one and two threads each."""
    kernels = [k for k in CANDIDATES if runs_here(k)]
    if len(kernels) < 2:
        raise SystemExit(f"need two OpenBLAS kernels that run here; only {kernels} of "
                         f"{list(CANDIDATES)} did")
    return [(k, t) for k in kernels[:2] for t in THREADS]


def main(argv):
    split = argv.index("--") if "--" in argv else len(argv)
    notebooks, extra = argv[:split], argv[split + 1:]
    if not notebooks:
        raise SystemExit("usage: python tests/notebook_configs.py NOTEBOOK... [-- PYTEST_ARGS]")
    failed = []
    for coretype, threads in configurations():
        label = f"OPENBLAS_CORETYPE={coretype} OPENBLAS_NUM_THREADS={threads}"
        print(f"\n=== strict nbval with {label}", flush=True)
        env = dict(os.environ, OPENBLAS_CORETYPE=coretype, OPENBLAS_NUM_THREADS=str(threads),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(HERE),
                                                            os.environ.get("PYTHONPATH")])))
        env.pop("GRADLAB_WEBSITE", None)
        command = [sys.executable, "-m", "pytest", "-p", "nbval_kernels", "--nbval",
                   "--nbval-sanitize-with", str(HERE / "nbval_sanitize.cfg"), "-n", "2",
                   "--dist", "loadfile", *extra, *notebooks]
        if subprocess.run(command, env=env).returncode != 0:
            failed.append(label)
    if failed:
        print("\nstrict nbval failed under: " + "; ".join(failed), flush=True)
        return 1
    print("\nstrict nbval passed under every configuration above", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
