"""The benchmark suite runs end to end at tiny sizes, so it cannot rot between real runs."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_every_section(bench, tmp_path):
    out = tmp_path / "results.md"
    bench.main(["--quick", "--out", str(out), "--skip", "notebooks", "book"])
    text = out.read_text()
    for heading in ("cores", "NumPy", "RNN forward + full BPTT, T=25",
                    f"BPTT({bench.TRUNCATION}), T=50", "MLP training step", "cliff surface"):
        assert heading in text


def test_linearity_is_zero_for_exactly_linear_costs(bench):
    rows = [(T, bench.Timing(f"RNN forward + full BPTT, T={T}", [T * 1e-5])) for T in (25, 100)]
    assert bench.linearity(rows) == pytest.approx(0.0)
    rows.append((50, bench.Timing("RNN forward + full BPTT, T=50", [50 * 2e-5])))
    assert bench.linearity(rows) == pytest.approx(1.0)


def test_notebook_runner_reports_time_and_memory(bench, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    seconds, peak = bench.run_notebook(path)
    assert seconds > 0
    assert np.isnan(peak) or peak > 1
