"""The spiral experiment: momentum forms, runs, ablation and the decision-boundary grid."""

import numpy as np
import pytest

from gradlab.experiments import spiral


def test_effective_learning_rate():
    assert spiral.effective_lr(0.1, "averaged") == pytest.approx(0.01)
    assert spiral.effective_lr(0.1, "pytorch") == 0.1


def test_averaged_form_is_classic_form_at_a_tenth_of_the_rate():
    X, y = spiral.load()
    averaged = spiral.run(X, y, 0.5, "averaged", epochs=15)
    classic = spiral.run(X, y, 0.05, "pytorch", epochs=15)
    np.testing.assert_allclose(averaged.history.loss, classic.history.loss, rtol=1e-10)


def test_model_architecture():
    model = spiral.build_model(0)
    shapes = [p.shape for p in model.parameters()]
    assert shapes == [(2, 128), (128,), (128, 64), (64,), (64, 1), (1,)]
    p = model.forward(np.array([[0.0, 0.0], [100.0, -100.0]]))
    assert p.shape == (2, 1) and np.all((p >= 0) & (p <= 1))


def test_clip_share_and_saturation_are_fractions():
    X, y = spiral.load()
    never = spiral.run(X, y, 0.1, epochs=3)
    always = spiral.run(X, y, 0.1, clipvalue=1e-9, epochs=3)
    assert never.history.share_clipped() == 0.0
    assert always.history.share_clipped() == 1.0
    assert 0.0 <= never.saturated <= 1.0 and 0.0 <= never.accuracy <= 1.0


def test_standardised_inputs():
    X, _ = spiral.load(standardise=True)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0)
    raw, _ = spiral.load()
    assert np.abs(raw).max() > 10


def test_ablation_covers_every_combination():
    cases = spiral.ablation([("averaged", 0.1), ("pytorch", 0.01)], [None, 1.0],
                            ["raw", "standardised"], seeds=[0, 1], epochs=2)
    assert len(cases) == 8
    assert all(len(c.runs) == 2 for c in cases)
    assert spiral.label(cases[1]) == "averaged 0.1, raw, clip 1"
    assert spiral.label(cases[0]) == "averaged 0.1, raw"
    rows = spiral.saturation_rows(cases)
    assert len(rows) == len(cases) // 2
    assert rows[0]["momentum form, lr (effective)"] == "averaged, 0.1 (0.01)"
    assert rows[0]["saturated, no clip / clip"] == (
        f"{100 * cases[0].saturated:.0f} % / {100 * cases[1].saturated:.0f} %")
    assert all(r.history.diverged is None for c in cases for r in c.runs)


def test_probability_grid_indexing():
    model = spiral.build_model(0)
    xs, ys, p = spiral.probability_grid(model, 5.0, resolution=7)
    assert p.shape == (7, 7) and xs[0] == -5.0 and xs[-1] == 5.0
    point = model.forward(np.array([[xs[1], ys[4]]]))[0, 0]
    assert p[4, 1] == pytest.approx(point)
