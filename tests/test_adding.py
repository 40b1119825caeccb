"""The adding-problem experiment: stacked runs equal the package's RNN trained by fit."""

import numpy as np
import pytest

from gradlab import losses, optim, train
from gradlab.experiments import adding


def fit_reference(lr, clip, seed, steps):
    model = adding.build_model(seed)
    x, y = adding.training_stream(seed, steps)
    clipping = {} if clip is None else {"global_clipnorm": clip}
    optimizer = optim.SGD(model.parameters(), lr, **clipping)
    return train.fit(model, losses.MSELoss(), optimizer, x, y, epochs=1, batch_size=32,
                     batch_axis=1, shuffle=False)


@pytest.mark.parametrize("lr, clip", [(0.1, None), (0.2, 0.5)])
def test_stacked_runs_equal_fit(lr, clip):
    runs = adding.run_many([(lr, clip)], [0, 1], steps=40)
    for j, seed in enumerate([0, 1]):
        history = fit_reference(lr, clip, seed, 40)
        np.testing.assert_allclose(runs.loss[0, j], history.loss, rtol=1e-9)
        np.testing.assert_allclose(runs.grad_norm[0, j], history.grad_norm, rtol=1e-9)


def test_divergence_step_matches_fit():
    runs = adding.run_many([(0.2, None)], [0], steps=300)
    history = fit_reference(0.2, None, 0, 300)
    assert history.diverged is not None
    assert runs.diverged_step[0, 0] == history.diverged.step
    assert np.all(np.isnan(runs.loss[0, 0, history.diverged.step + 1:]))
    assert np.isnan(runs.test_mse[0, 0])


def test_clipped_step_is_bounded_by_lr_times_threshold():
    runs = adding.run_many([(0.5, 0.1)], [0], steps=30)
    rec = runs.rec_norm[0, 0]
    assert np.all(np.abs(np.diff(rec)) <= 0.5 * 0.1 + 1e-12)


def test_summaries_on_hand_made_results():
    nan = np.nan
    runs = adding.AddingRuns(
        settings=[(0.1, None), (0.1, 1.0)], seeds=np.array([0, 1]),
        loss=np.zeros((2, 2, 2)),
        grad_norm=np.array([[[5.0, nan], [0.5, 0.5]], [[2.0, 0.5], [3.0, 4.0]]]),
        rec_norm=np.zeros((2, 2, 2)),
        test_mse=np.array([[nan, 0.04], [0.06, 0.01]]),
        diverged_step=np.array([[1, -1], [-1, -1]]))
    np.testing.assert_array_equal(runs.converged, [[False, True], [False, True]])
    np.testing.assert_allclose(runs.share_converged(), [0.5, 0.5])
    np.testing.assert_allclose(runs.share_diverged(), [0.5, 0.0])
    # unclipped: never active; clipped at 1: seed 0 one step of two, seed 1 both steps
    np.testing.assert_allclose(runs.share_clipped(), [0.0, 0.75])
    rows = runs.summary()
    assert rows[0]["NaN at step"] == "1–1" and rows[1]["NaN at step"] == "–"
    assert rows[0]["median test MSE"] == 0.04 and rows[1]["clipping"] == "global norm 1"


def test_blow_up_step_dates_the_growth_of_the_recurrent_weights():
    nan = np.nan
    runs = adding.AddingRuns(
        settings=[(0.2, None)], seeds=np.array([0, 1]), loss=np.zeros((1, 2, 4)),
        grad_norm=np.zeros((1, 2, 4)),
        rec_norm=np.array([[[5.0, 6.0, 11.0, nan], [5.0, 5.0, 5.0, 5.0]]]),
        test_mse=np.full((1, 2), nan), diverged_step=np.array([[3, -1]]))
    np.testing.assert_array_equal(runs.blow_up_step(), [[2, -1]])


def test_baseline_is_the_variance_of_the_target():
    _, y = adding.training_stream(0, 200)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(adding.BASELINE_MSE, abs=0.01)


@pytest.mark.parametrize("settings", [[(-0.1, None)], [(0.1, 0.0)]])
def test_bad_settings_are_rejected(settings):
    with pytest.raises(ValueError):
        adding.run_many(settings, [0], steps=2)
