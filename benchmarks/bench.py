"""The course's benchmark suite: notebooks, book build, widget latency, package hot paths.

Run with ``make bench`` (or ``python benchmarks/bench.py --help``). Prints a Markdown report
and writes it to ``benchmarks/results.md``. ``--quick`` shrinks every size so a smoke test
can run the whole suite in seconds.
"""

import argparse
import contextlib
import importlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEQUENCE_LENGTHS = (25, 50, 100, 200, 400)
RNN_SIZES = {"batch": 32, "hidden": 64, "n_in": 8}
TRUNCATION = 20


@dataclass
class Timing:
    """Repeated wall-clock measurements of one thing, in seconds."""

    label: str
    seconds: list
    note: str = ""
    steps: list = None  # a second kind of measurement of the same thing, if any

    @property
    def median(self):
        return statistics.median(self.seconds)

    @property
    def spread(self):
        """Half the range between the fastest and the slowest run."""
        return (max(self.seconds) - min(self.seconds)) / 2

    def percentile(self, q):
        return float(np.percentile(self.seconds, q))


def measure(label, fn, repeat, note=""):
    """Time ``fn()`` ``repeat`` times after one warm-up call."""
    return measure_interleaved({label: fn}, repeat)[0]


def measure_interleaved(functions, repeat):
    """Time several ``{label: fn}`` in turn, one call each per round, so that a slow
    phase of the machine hits them all alike; returns one ``Timing`` per label."""
    for fn in functions.values():
        fn()
    seconds = {label: [] for label in functions}
    for _ in range(repeat):
        for label, fn in functions.items():
            start = time.perf_counter()
            fn()
            seconds[label].append(time.perf_counter() - start)
    return [Timing(label, values) for label, values in seconds.items()]


# --- machine -------------------------------------------------------------------------------

def machine_description():
    """Cores, CPU model, Python and NumPy versions, as Markdown lines."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return [f"- CPU: {cpu}, {os.cpu_count()} cores",
            f"- Python {platform.python_version()}, NumPy {np.__version__}, {platform.system()}"]


# --- package hot paths ------------------------------------------------------------------------

def rnn_step(steps, truncate=None, seed=0):
    """One forward + BPTT pass of an RNN at the benchmark's sizes, as a zero-argument callable."""
    from gradlab.rnn import RNN

    rng = np.random.default_rng(seed)
    model = RNN(RNN_SIZES["n_in"], RNN_SIZES["hidden"], "tanh", rng=rng, truncate=truncate)
    x = rng.normal(size=(steps, RNN_SIZES["batch"], RNN_SIZES["n_in"]))
    grad_h = rng.normal(size=(steps, RNN_SIZES["batch"], RNN_SIZES["hidden"]))

    def step():
        model.zero_grad()
        model.forward(x)
        model.backward(grad_h)

    return step


def torch_rnn_step(steps, seed=0):
    """The same RNN forward + backward in PyTorch float64 on the CPU, or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    # One thread, like NumPy here (make bench sets OPENBLAS_NUM_THREADS=1): with more, PyTorch's
    # OpenMP threads keep spinning after each call and slow the NumPy runs interleaved with it,
    # and at these sizes (32 x 64 per time step) a second thread does not make PyTorch faster.
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    shape = (steps, RNN_SIZES["batch"], RNN_SIZES["n_in"])
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    grad_h = torch.randn((steps, RNN_SIZES["batch"], RNN_SIZES["hidden"]), generator=gen,
                         dtype=torch.float64)
    model = torch.nn.RNN(RNN_SIZES["n_in"], RNN_SIZES["hidden"], nonlinearity="tanh",
                         dtype=torch.float64)

    def step():
        model.zero_grad()
        hs, _ = model(x)
        hs.backward(grad_h)

    return step


def mlp_step():
    """One SGD step of chapter 2's regression MLP (20 -> 25 -> 1, batch 32)."""
    from gradlab.experiments import regression
    from gradlab.losses import MSELoss
    from gradlab.optim import SGD

    data = regression.load()
    model = regression.build_model(seed=0)
    loss_fn = MSELoss()
    optimizer = SGD(model.parameters(), lr=1e-4, momentum=0.9, global_clipnorm=1.0)
    X, y = data.X_train[:32], data.y_train[:32]

    def step():
        optimizer.zero_grad()
        loss_fn(model.forward(X), y)
        model.backward(loss_fn.backward())
        optimizer.step()

    return step


def hot_paths(repeat, lengths, cliff_n):
    """Timings of the package's hot paths; interleaves gradlab and PyTorch where both exist."""
    from gradlab import cliff

    rows = []
    for steps in lengths:
        functions = {f"RNN forward + full BPTT, T={steps}": rnn_step(steps),
                     f"RNN forward + BPTT({TRUNCATION}), T={steps}":
                         rnn_step(steps, truncate=TRUNCATION)}
        theirs = torch_rnn_step(steps)
        if theirs is not None:
            functions["PyTorch"] = theirs
        full, truncated, *torch_timing = measure_interleaved(functions, repeat)
        full.note = ("PyTorch not installed" if not torch_timing else
                     f"PyTorch {torch_timing[0].median * 1e3:.2f} ms, "
                     f"gradlab/PyTorch = {full.median / torch_timing[0].median:.2f}")
        rows += [(steps, full), (steps, truncated)]
    rows.append((None, measure("MLP training step (chapter 2 model, batch 32)", mlp_step(),
                               repeat)))
    rows.append((None, measure(f"cliff surface, {cliff_n}x{cliff_n} grid",
                               lambda: cliff.surface(n=cliff_n), max(1, repeat // 5))))
    return rows


def linearity(rows):
    """Largest relative deviation of the full-BPTT time per step of T from its median."""
    per_step = [t.median / steps for steps, t in rows if steps and "full" in t.label]
    centre = statistics.median(per_step)
    return max(abs(p - centre) / centre for p in per_step)


# --- widgets ----------------------------------------------------------------------------------

def sliders(widget):
    """Every numeric slider inside an ipywidgets tree."""
    import ipywidgets

    found = []
    stack = [widget]
    while stack:
        node = stack.pop()
        if isinstance(node, (ipywidgets.IntSlider, ipywidgets.FloatSlider,
                             ipywidgets.FloatLogSlider)):
            found.append(node)
        stack.extend(getattr(node, "children", ()))
    return found


def widget_latency(builder, samples, seed=0):
    """Time from setting a slider value to the explorer's new image being ready.

    Setting a value runs the explorer's callback synchronously: compute, artist updates
    and the PNG that JupyterLab receives (``widgets.png``). Outside a kernel ``display``
    only prints the image's repr, which is discarded here. Two kinds of move: a random
    slider set to a random value (``Timing.seconds``), and the first slider moved one step
    at a time, as the JupyterLab test's arrow key does (``Timing.steps``).
    """

    rng = np.random.default_rng(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        widget = builder()
    controls = sliders(widget)
    if not controls:
        raise ValueError(f"{builder.__module__}.{builder.__name__} has no slider")
    seconds = [_timed_move(slider, _random_value(slider, rng))
               for slider in (controls[rng.integers(len(controls))] for _ in range(samples))]
    first = next(child for child in widget.children if child in controls)
    steps = [_timed_move(first, _step(first)) for _ in range(samples)]
    return Timing(f"{builder.__module__}.{builder.__name__}", seconds, steps=steps)


def _random_value(slider, rng):
    if hasattr(slider, "base"):  # FloatLogSlider: min/max are exponents
        return slider.base ** rng.uniform(slider.min, slider.max)
    if isinstance(slider.value, int):
        return int(rng.integers(slider.min, slider.max + 1))
    return float(rng.uniform(slider.min, slider.max))


def _step(slider):
    """The value one step up (down at the top), as an arrow key moves the slider."""
    if hasattr(slider, "base"):
        exponent = np.log10(slider.value) / np.log10(slider.base)
        # The browser's slider snaps to min + k * step before it moves one step.
        exponent = slider.min + round((exponent - slider.min) / slider.step) * slider.step
        up = exponent + slider.step <= slider.max + 1e-9
        return slider.base ** (exponent + (slider.step if up else -slider.step))
    up = slider.value + slider.step <= slider.max
    return slider.value + (slider.step if up else -slider.step)


def _timed_move(slider, value):
    with contextlib.redirect_stdout(io.StringIO()):
        start = time.perf_counter()
        slider.value = value
        return time.perf_counter() - start


def explorer_builders():
    """Every public ``*explorer`` builder in the ``gradlab.widgets`` modules."""
    import pkgutil

    import gradlab.widgets

    builders = []
    for info in pkgutil.iter_modules(gradlab.widgets.__path__):
        module = importlib.import_module(f"gradlab.widgets.{info.name}")
        builders += [getattr(module, name) for name in sorted(dir(module))
                     if name.endswith("explorer") and callable(getattr(module, name))]
    return builders


# --- notebooks and the book -------------------------------------------------------------------

def peak_memory_mib(pid):
    """Peak resident memory (VmHWM) of a live process in MiB, NaN where /proc is absent."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return float("nan")
    line = next(l for l in status.read_text().splitlines() if l.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def run_notebook(path, timeout=600):
    """Execute a notebook in a fresh kernel; return (seconds, peak kernel memory in MiB).

    The peak is read after every cell, while the kernel is alive (VmHWM only grows).
    """
    import nbformat
    from nbclient import NotebookClient

    peaks = [float("nan")]

    def after_cell(**_):
        peaks.append(peak_memory_mib(client.km.provisioner.process.pid))

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}},
                            on_cell_executed=after_cell)
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, peaks[-1]


def notebook_timings(paths, repeat):
    rows = []
    for path in paths:
        runs = [run_notebook(path) for _ in range(repeat)]
        timing = Timing(Path(path).name, [seconds for seconds, _ in runs])
        rows.append((timing, max(peak for _, peak in runs)))
    return rows


def book_build_time():
    """Seconds for a full ``jupyter-book build`` of a fresh copy, every notebook executed."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git"))
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(copy)],
                       check=True, capture_output=True)
        return time.perf_counter() - start


# --- report -----------------------------------------------------------------------------------

def ms(seconds):
    return f"{seconds * 1e3:.2f}"


def report(machine, hot, notebooks, widgets, book_seconds):
    lines = ["# Benchmark results", "", *machine, ""]
    lines += ["## Package hot paths", "",
              f"RNN: batch {RNN_SIZES['batch']}, hidden {RNN_SIZES['hidden']}, "
              f"input {RNN_SIZES['n_in']}, tanh, float64.", "",
              "| what | median (ms) | ± (ms) | per step of T (µs) | note |",
              "|---|---:|---:|---:|---|"]
    for steps, t in hot:
        per_step = f"{t.median / steps * 1e6:.1f}" if steps else ""
        lines.append(f"| {t.label} | {ms(t.median)} | {ms(t.spread)} | {per_step} | {t.note} |")
    lines += ["", f"Full BPTT time per step of T deviates at most {linearity(hot):.0%} "
              "from its median across sequence lengths (target: within 20 %).", ""]
    if notebooks:
        total = sum(t.median for t, _ in notebooks)
        lines += ["## Chapter notebooks (fresh kernel each run)", "",
                  "| notebook | median (s) | ± (s) | peak kernel memory (MiB) |",
                  "|---|---:|---:|---:|"]
        lines += [f"| {t.label} | {t.median:.1f} | {t.spread:.1f} | {peak:.0f} |"
                  for t, peak in notebooks]
        lines += [f"| **total** | {total:.1f} | | |", ""]
    if widgets:
        lines += widget_section(widgets)
    if book_seconds is not None:
        lines += ["## Book build", "", f"Full `jupyter-book build`, every notebook executed: "
                  f"{book_seconds:.0f} s.", ""]
    return "\n".join(lines)


def widget_section(widgets):
    """The report's explorer latency section (Markdown lines, ending with a blank one)."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = ["## Explorer latency (set a slider value → figure redrawn)", "",
             f"Load average while measured (1, 5, 15 min): {load}. A random move sets a random "
             "slider to a random value; a step moves the first slider by one step, as the "
             "JupyterLab test's arrow key does (`tests/browser/test_lab.py` adds the browser's "
             "round trip).", "",
             "| explorer | random move: median (ms) | 95th percentile (ms) | step: median (ms) "
             "| samples |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {t.label} | {ms(t.median)} | {ms(t.percentile(95))} | "
              f"{ms(statistics.median(t.steps))} | {len(t.seconds)} |" for t in widgets]
    return lines + [""]


def replace_section(text, heading, lines):
    """``text`` (a report) with the section that starts with ``heading`` replaced by ``lines``."""
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[:start] + "\n".join(lines) + ("" if end < 0 else text[end:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one repeat (a smoke test, not a measurement)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["notebooks", "widgets", "book"], help="sections to leave out")
    parser.add_argument("--widgets-only", action="store_true",
                        help="measure the explorers only and rewrite that section of --out")
    args = parser.parse_args(argv)
    if args.widgets_only:
        section = widget_section([widget_latency(b, 3 if args.quick else 40)
                                  for b in explorer_builders()])
        args.out.write_text(replace_section(args.out.read_text(), "## Explorer latency", section))
        print("\n".join(section))
        return

    repeat = 1 if args.quick else 15
    lengths = SEQUENCE_LENGTHS[:2] if args.quick else SEQUENCE_LENGTHS
    hot = hot_paths(repeat, lengths, cliff_n=21 if args.quick else 401)
    notebooks = []
    if "notebooks" not in args.skip:
        paths = sorted((ROOT / "chapters").glob("*.ipynb"))
        notebooks = notebook_timings(paths, 1 if args.quick else 3)
    widgets = []
    if "widgets" not in args.skip:
        widgets = [widget_latency(b, 3 if args.quick else 40) for b in explorer_builders()]
    book_seconds = None if "book" in args.skip or args.quick else book_build_time()
    text = report(machine_description(), hot, notebooks, widgets, book_seconds)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
