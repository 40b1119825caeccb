"""The training loop: the chapter 2 regression diverges, clipping prevents it, records add up."""

import numpy as np
import pytest

from gradlab import data, losses, nn, optim, rnn, train


@pytest.fixture(scope="module")
def regression():
    X, y = data.make_regression(1000, 20, n_informative=10, noise=0.1, random_state=1)
    return data.train_test_split_half(X, y[:, None])


def regression_run(regression, seed=0, epochs=100, **clipping):
    Xtr, Xte, ytr, yte = regression
    model = nn.mlp([20, 25, 1], "relu", init="he_uniform", output_init="xavier_uniform",
                   rng=np.random.default_rng(seed))
    opt = optim.SGD(model.parameters(), 0.01, momentum=0.9, **clipping)
    history = train.fit(model, losses.MSELoss(), opt, Xtr, ytr, epochs=epochs, batch_size=32,
                        seed=seed, X_val=Xte, y_val=yte)
    return model, history


def test_regression_without_clipping_diverges_and_is_reported(regression):
    _, history = regression_run(regression)
    assert history.diverged is not None
    assert history.diverged.epoch == 1
    assert 5 <= history.diverged.step <= 12
    assert "diverged in epoch 1" in history.summary()
    norms = np.array(history.grad_norm)
    assert np.all(np.diff(norms[np.isfinite(norms)]) > 0)  # a runaway, not noise
    assert len(history.epoch_loss) == 0  # stopped at once


@pytest.mark.parametrize("clipping", [{"global_clipnorm": 1.0}, {"clipvalue": 5.0},
                                      {"clipnorm": 1.0}], ids=str)
def test_regression_with_clipping_does_not_diverge(regression, clipping):
    _, history = regression_run(regression, epochs=20, **clipping)
    assert history.diverged is None
    assert len(history.epoch_loss) == 20 and len(history.val_loss) == 20
    assert history.val_loss[-1] < 0.1 * np.var(regression[3])


def test_history_records_are_consistent(regression):
    _, history = regression_run(regression, epochs=2, global_clipnorm=1.0)
    n = history.steps
    assert n == 2 * 16
    for series in (history.grad_norm, history.clipped_norm, history.clip_coef,
                   history.update_ratio):
        assert len(series) == n
    assert set(history.layer_grad_norms) == {"layer1.weight", "layer1.bias",
                                             "layer2.weight", "layer2.bias"}
    np.testing.assert_allclose(history.clipped_norm, np.minimum(history.grad_norm, 1.0),
                               rtol=1e-5)
    assert history.share_clipped() == 1.0


def test_training_is_deterministic(regression):
    a = regression_run(regression, epochs=3, clipvalue=5.0)[1]
    b = regression_run(regression, epochs=3, clipvalue=5.0)[1]
    assert a.loss == b.loss


def test_rnn_training_with_time_major_batches():
    x, y = data.make_adding_problem(64, 6, seed=0)
    model = rnn.LastStepRegressor(rnn.RNN(2, 8, rng=np.random.default_rng(0)),
                                  rng=np.random.default_rng(1))
    opt = optim.SGD(model.parameters(), 0.05)
    history = train.fit(model, losses.MSELoss(), opt, x, y, epochs=5, batch_size=16, batch_axis=1)
    assert history.steps == 20 and history.diverged is None
    assert history.epoch_loss[-1] < history.epoch_loss[0]


def test_bad_training_arguments(regression):
    Xtr, _, ytr, _ = regression
    model = nn.mlp([20, 2, 1])
    opt = optim.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        train.fit(model, losses.MSELoss(), opt, Xtr, ytr, epochs=0)
    with pytest.raises(ValueError, match="shape mismatch"):
        train.fit(model, losses.MSELoss(), opt, Xtr, ytr[:, 0], epochs=1)
