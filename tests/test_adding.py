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


def hand_made(**fields):
    shape = fields["test_mse"].shape
    steps = fields.get("loss", np.zeros(shape + (2,))).shape[-1]
    defaults = dict(settings=[(0.1, None)] * shape[0], seeds=np.arange(shape[1]),
                    loss=np.zeros(shape + (steps,)), grad_norm=np.zeros(shape + (steps,)),
                    param_grad_norm=np.ones(shape + (steps, 5)),
                    rec_norm=np.zeros(shape + (steps,)), out_norm=np.ones(shape + (steps,)),
                    diverged_step=np.full(shape, -1))
    return adding.AddingRuns(**(defaults | fields))


def test_summaries_on_hand_made_results():
    nan = np.nan
    runs = hand_made(
        settings=[(0.1, None), (0.1, 1.0)],
        grad_norm=np.array([[[5.0, nan], [0.5, 0.5]], [[2.0, 0.5], [3.0, 4.0]]]),
        test_mse=np.array([[nan, 0.04], [0.06, 0.01]]),
        diverged_step=np.array([[1, -1], [-1, -1]]))
    np.testing.assert_array_equal(runs.converged, [[False, True], [False, True]])
    np.testing.assert_allclose(runs.share_converged(), [0.5, 0.5])
    np.testing.assert_allclose(runs.share_diverged(), [0.5, 0.0])
    # unclipped: never active; clipped at 1: seed 0 one step of two, seed 1 both steps
    np.testing.assert_allclose(runs.share_clipped(), [0.0, 0.75])
    assert runs.summary() == [{"lr": 0.1, "clipping": "none", "diverged": "1 of 2"},
                              {"lr": 0.1, "clipping": "global norm 1", "diverged": "0 of 2"}]


def test_frozen_step_and_readout_growth_on_hand_made_results():
    grads = np.ones((1, 2, 4, 5))
    grads[0, 0, 2:, :3] = 0.0  # seed 0: W_in, W_rec and b stop learning at step 2
    grads[0, 1, 3, :2] = 0.0   # seed 1: b still has a gradient, so it never froze
    out = np.array([[[1.0, 2.0, 6.0, 18.0], [1.0, 1.0, 1.0, 1.0]]])
    runs = hand_made(param_grad_norm=grads, out_norm=out, loss=np.zeros((1, 2, 4)),
                     test_mse=np.zeros((1, 2)))
    np.testing.assert_array_equal(runs.frozen_step(), [[2, -1]])
    np.testing.assert_allclose(runs.readout_growth(), [[3.0, np.nan]])


def test_a_saturated_rnn_freezes_and_its_readout_grows_by_the_predicted_factor():
    runs = adding.run_many([(0.2, None)], [0], steps=200)
    frozen = runs.frozen_step()[0, 0]
    assert 0 < frozen < runs.diverged_step[0, 0]
    after = runs.param_grad_norm[0, 0, frozen:runs.diverged_step[0, 0], :3]
    assert np.mean(np.any(after > 0, axis=1)) < 0.1  # exact zeros, apart from rare kicks
    assert runs.readout_growth()[0, 0] == pytest.approx(adding.readout_factor(0.2), rel=1e-3)
    assert adding.readout_factor(0.2) == pytest.approx(12.2)


def test_parameter_norms_make_up_the_global_norm():
    runs = adding.run_many([(0.1, None)], [0], steps=5)
    np.testing.assert_allclose(np.linalg.norm(runs.param_grad_norm[0, 0], axis=-1),
                               runs.grad_norm[0, 0], rtol=1e-12)


def test_baseline_is_the_variance_of_the_target():
    _, y = adding.training_stream(0, 200)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(adding.BASELINE_MSE, abs=0.01)


@pytest.mark.parametrize("settings", [[(-0.1, None)], [(0.1, 0.0)]])
def test_bad_settings_are_rejected(settings):
    with pytest.raises(ValueError):
        adding.run_many(settings, [0], steps=2)
