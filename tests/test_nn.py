"""Layers: finite-difference checks, initialisation statistics, the scalar chain, bad input."""

import numpy as np
import pytest

from gradlab import gradcheck, losses, nn
from gradlab.errors import MissingForwardError

TOL = 1e-7


def rng():
    return np.random.default_rng(42)


@pytest.mark.parametrize("init", nn.INITS)
def test_linear_backward_matches_finite_differences(init, report_gradcheck):
    layer = nn.Linear(4, 3, init=init, rng=rng())
    result = gradcheck.check_module(layer, rng().normal(size=(5, 4)))
    report_gradcheck(f"Linear[{init}]", result)
    assert set(result.errors) == {"input", "linear.weight", "linear.bias"}
    assert result.passed(TOL)


@pytest.mark.parametrize("module", [nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh(),
                                    nn.Identity()], ids=repr)
def test_activation_backward_matches_finite_differences(module, report_gradcheck):
    x = rng().normal(size=(6, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU's kink away from the difference stencil
    result = gradcheck.check_module(module, x)
    report_gradcheck(f"{module!r}", result)
    assert result.passed(TOL)


def test_sequential_mlp_backward_matches_finite_differences(report_gradcheck):
    model = nn.mlp([3, 8, 8, 2], "tanh", init="xavier", rng=rng())
    result = gradcheck.check_module(model, rng().normal(size=(4, 3)))
    report_gradcheck("MLP 3-8-8-2", result)
    assert len(result.errors) == 1 + 6
    assert result.passed(TOL)


@pytest.mark.parametrize("loss, pred, target", [
    (losses.MSELoss(), np.linspace(-2, 2, 8).reshape(4, 2), np.ones((4, 2))),
    (losses.BCELoss(), np.linspace(0.05, 0.95, 6)[:, None], np.array([[0, 1, 1, 0, 1, 0]]).T),
    (losses.BCEWithLogitsLoss(), np.linspace(-6, 6, 6)[:, None], np.array([[0, 1, 1, 0, 1, 0]]).T),
], ids=repr)
def test_loss_backward_matches_finite_differences(loss, pred, target, report_gradcheck):
    result = gradcheck.check_loss(loss, pred, target)
    report_gradcheck(f"{loss!r}", result)
    assert result.passed(TOL)


def test_gradcheck_catches_a_wrong_backward():
    class WrongTanh(nn.Tanh):
        def derivative(self, x):
            return 1.0 - np.tanh(x)  # forgot the square

    assert not gradcheck.check_module(WrongTanh(), rng().normal(size=(3, 3))).passed(1e-3)


def test_sigmoid_is_stable_and_exact_in_the_tails():
    s = nn.Sigmoid()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = s.forward(np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]]))
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0 and out[0, 2] == 0.5
    assert 0 < out[0, 1] < 1e-12


def test_bce_on_logits_is_finite_for_huge_logits():
    loss = losses.BCEWithLogitsLoss()
    value = loss(np.array([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]]))
    assert value == pytest.approx(1000.0)
    assert np.all(np.isfinite(loss.backward()))


@pytest.mark.parametrize("init, variance", [
    ("normal", 1.0), ("xavier", 2 / (400 + 300)), ("he", 2 / 400),
    ("he_leaky", 2 / ((1 + 0.01**2) * 400)), ("xavier_uniform", 2 / (400 + 300)),
    ("he_uniform", 2 / 400),
])
def test_initialisation_variances(init, variance):
    w = nn.init_weights(400, 300, init, rng())
    assert w.var() == pytest.approx(variance, rel=0.02)
    assert abs(w.mean()) < 0.02 * np.sqrt(variance) * 10


def test_uniform_init_has_the_stated_limit():
    w = nn.init_weights(400, 300, "he_uniform", rng())
    assert np.abs(w).max() <= np.sqrt(6 / 400)
    assert np.abs(w).max() > 0.99 * np.sqrt(6 / 400)


def test_normal_init_respects_scale():
    assert nn.init_weights(300, 300, "normal", rng(), scale=0.1).std() == pytest.approx(0.1, rel=0.02)


def scalar_chain(depth, w, x=1.0):
    """Linear(1, 1) layers without bias effect; return activations, signals, weight grads."""
    layers = [nn.Linear(1, 1, rng=rng()) for _ in range(depth)]
    for layer in layers:
        layer.weight.value[:] = w
    activations = [np.array([[x]])]
    for layer in layers:
        activations.append(layer.forward(activations[-1]))
    signals = [np.array([[1.0]])]
    for layer in reversed(layers):
        signals.append(layer.backward(signals[-1]))
    signals = [float(s[0, 0]) for s in reversed(signals[:-1])]  # dL/da_1 .. dL/da_L
    return ([float(a[0, 0]) for a in activations[1:]], signals,
            [float(layer.weight.grad[0, 0]) for layer in layers])


def test_scalar_chain_signals_and_weight_gradients():
    activations, signals, weight_grads = scalar_chain(5, 2.0)
    assert activations == [2, 4, 8, 16, 32]
    assert signals == [16, 8, 4, 2, 1]
    assert weight_grads == [16] * 5


@pytest.mark.parametrize("w, expected", [(0.5, [0.0625, 0.125, 0.25, 0.5, 1]),
                                         (1.0, [1] * 5), (2.0, [16, 8, 4, 2, 1])])
def test_scalar_chain_table(w, expected):
    assert scalar_chain(5, w)[1] == expected


def test_twenty_layer_chain_signal():
    assert scalar_chain(20, 2.0)[1][0] == 2**19 == 524288


# --- bad input -------------------------------------------------------------------------

def test_unknown_init_is_named():
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.Linear(2, 2, init="glorot")


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.activation("gelu")


def test_linear_rejects_wrong_input_width():
    with pytest.raises(ValueError, match="expects inputs with 3 features, got shape \\(2, 4\\)"):
        nn.Linear(3, 2).forward(np.ones((2, 4)))


def test_linear_rejects_wrong_grad_shape():
    layer = nn.Linear(3, 2)
    layer.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match="grad_out has shape \\(5, 3\\).*\\(5, 2\\)"):
        layer.backward(np.ones((5, 3)))


def test_activation_rejects_wrong_grad_shape():
    act = nn.ReLU()
    act.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape mismatch"):
        act.backward(np.ones((2, 3)))


@pytest.mark.parametrize("module", [nn.Linear(2, 2), nn.Tanh(), nn.Sequential(nn.Linear(2, 2))],
                         ids=repr)
def test_backward_before_forward_is_explained(module):
    with pytest.raises(MissingForwardError, match="before forward"):
        module.backward(np.ones((1, 2)))
    assert issubclass(MissingForwardError, ValueError)


def test_loss_backward_before_forward_is_explained():
    with pytest.raises(MissingForwardError, match="before the loss was computed"):
        losses.MSELoss().backward()


def test_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="prediction has shape \\(4, 1\\) but target has shape \\(4,\\)"):
        losses.MSELoss()(np.ones((4, 1)), np.ones(4))


def test_parameters_and_zero_grad():
    model = nn.mlp([2, 3, 1], rng=rng())
    params = model.parameters()
    assert [p.name for p in params] == ["layer1.weight", "layer1.bias",
                                        "layer2.weight", "layer2.bias"]
    model.forward(np.ones((1, 2)))
    model.backward(np.ones((1, 1)))
    assert all(p.grad is not None for p in params)
    model.zero_grad()
    assert all(p.grad is None for p in params)


def test_gradients_accumulate_across_backward_calls():
    layer = nn.Linear(2, 1, rng=rng())
    x = np.array([[1.0, 2.0]])
    layer.forward(x)
    layer.backward(np.ones((1, 1)))
    layer.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(layer.weight.grad, 2 * x.T)
