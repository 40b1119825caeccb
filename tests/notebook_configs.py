"""Strict nbval over the chapter notebooks under several BLAS configurations.

The committed outputs must not depend on the order in which a machine sums a matrix
product. OpenBLAS picks its kernel from the CPU (AVX-512 "SkylakeX", AVX2 "Haswell", AVX
"Sandybridge"); ``OPENBLAS_CORETYPE`` forces one the CPU supports, and one thread or two
changes how products are split. NumPy's own loops (exp, log, power, ...) dispatch by CPU
too, and its AVX-512 and AVX2 versions differ in the last bit; ``NPY_DISABLE_CPU_FEATURES``
switches off the dispatch targets a machine with that BLAS kernel would lack, so the "Haswell"
configuration computes as an AVX2 machine does. This runs nbval under the first two kernels
that start on this machine (checked with a product, and by the kernel OpenBLAS reports), each
with one thread and with two, and says which it used.

    python tests/notebook_configs.py NOTEBOOK... [-- PYTEST_ARGS...]
"""

import os
import subprocess
import sys
from pathlib import Path

CANDIDATES = ("SkylakeX", "Haswell", "Sandybridge")
# NumPy dispatch targets (2.x names, then 1.x names) a CPU with that OpenBLAS kernel lacks.
BEYOND = {"SkylakeX": (), "Haswell": ("X86_V4", "AVX512"),
          "Sandybridge": ("X86_V4", "AVX512", "X86_V3", "AVX2", "FMA3", "F16C")}
THREADS = (1, 2)
HERE = Path(__file__).resolve().parent
_PROBE = ("import numpy as np; from threadpoolctl import threadpool_info; "
          "a = np.random.default_rng(0).standard_normal((300, 300)); a @ a; "
          "print(*[i.get('architecture') for i in threadpool_info() "
          "if i['internal_api'] == 'openblas'])")


_TARGETS = ("try:\n    import numpy._core._multiarray_umath as m\n"
            "except ImportError:\n    import numpy.core._multiarray_umath as m  # NumPy 1.x\n"
            "print(*m.__cpu_dispatch__)")


def numpy_targets():
    """The SIMD targets NumPy dispatches to on this machine (``__cpu_dispatch__``)."""
    probe = subprocess.run([sys.executable, "-c", _TARGETS], capture_output=True, text=True,
                           timeout=120, check=True)
    return probe.stdout.split()


def disabled_targets(coretype, targets):
    """The targets in ``targets`` a machine whose BLAS kernel is ``coretype`` would not have."""
    return [t for t in targets if t.startswith(BEYOND[coretype])]


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
    failed, targets = [], numpy_targets()
    for coretype, threads in configurations():
        disabled = " ".join(disabled_targets(coretype, targets))
        label = f"OPENBLAS_CORETYPE={coretype} OPENBLAS_NUM_THREADS={threads}" + (
            f" NPY_DISABLE_CPU_FEATURES='{disabled}'" if disabled else "")
        print(f"\n=== strict nbval with {label}", flush=True)
        env = dict(os.environ, OPENBLAS_CORETYPE=coretype, OPENBLAS_NUM_THREADS=str(threads),
                   NPY_DISABLE_CPU_FEATURES=disabled,
                   PYTHONPATH=os.pathsep.join(filter(None, [str(HERE),
                                                            os.environ.get("PYTHONPATH")])))
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
