"""The vanilla RNN: BPTT against finite differences, truncation, Jacobians, bad input."""

import numpy as np
import pytest

from gradlab import functional, gradcheck, rnn
from gradlab.errors import MissingForwardError

TOL = 1e-7


def make(activation="tanh", truncate=None, seed=0, H=4):
    return rnn.RNN(3, H, activation, rng=np.random.default_rng(seed), truncate=truncate,
                   rec_std=0.8)


def sequence(T=6, B=2, seed=1):
    return np.random.default_rng(seed).normal(size=(T, B, 3))


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_full_bptt_matches_finite_differences(activation, report_gradcheck):
    result = gradcheck.check_module(make(activation), sequence())
    report_gradcheck(f"RNN[{activation}] full BPTT", result)
    assert result.passed(TOL)


def test_last_step_regressor_matches_finite_differences(report_gradcheck):
    model = rnn.LastStepRegressor(make(), n_out=2, rng=np.random.default_rng(3))
    result = gradcheck.check_module(model, sequence(T=8))
    report_gradcheck("LastStepRegressor", result)
    assert result.passed(TOL)


def truncated_by_brute_force(model, x, grad_h, k):
    """Each loss term's gradient pushed back k steps on its own, one origin at a time."""
    x_, pre, hs = model._cache
    deriv = 1 - np.tanh(pre) ** 2
    T = pre.shape[0]
    gW = np.zeros_like(model.W_rec.value)
    for origin in range(T):
        delta = grad_h[origin]
        for t in range(origin, max(origin - k, -1), -1):
            da = delta * deriv[t]
            gW += hs[t].T @ da
            delta = da @ model.W_rec.value.T
    return gW


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncated_bptt_equals_per_term_truncation(k):
    model = make(truncate=k)
    x = sequence(T=7)
    grad_h = np.random.default_rng(5).normal(size=(7, 2, 4))
    model.forward(x)
    model.backward(grad_h)
    np.testing.assert_allclose(model.W_rec.grad, truncated_by_brute_force(model, x, grad_h, k),
                               rtol=1e-12, atol=1e-12)


def test_truncation_at_sequence_length_equals_full_bptt():
    x = sequence(T=6)
    grad_h = np.random.default_rng(5).normal(size=(6, 2, 4))
    full, cut = make(), make(truncate=6)
    for model in (full, cut):
        model.forward(x)
        model.backward(grad_h)
    np.testing.assert_allclose(cut.W_rec.grad, full.W_rec.grad, rtol=1e-13)
    short = make(truncate=2)
    short.forward(x)
    short.backward(grad_h)
    assert not np.allclose(short.W_rec.grad, full.W_rec.grad)


def test_hidden_grad_norms_follow_the_jacobian_product():
    model = make(H=4)
    x = sequence(T=6, B=1)
    hs = model.forward(x)
    grad_h = np.zeros_like(hs)
    grad_h[-1] = 1.0
    model.backward(grad_h)
    J = model.step_jacobians()[:, 0]  # (T, H, H): dh_t/dh_{t-1}
    g = np.ones(4)
    expected = [np.linalg.norm(g)]
    for t in range(5, 0, -1):  # dL/dh_{t-1} = J_t^T dL/dh_t
        g = J[t].T @ g
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(model.hidden_grad_norms(), expected[::-1], rtol=1e-12)


def test_identity_rnn_gradient_decays_at_the_spectral_radius():
    rng = np.random.default_rng(0)
    model = rnn.RNN(1, 32, "identity", rng=rng)
    model.W_rec.value = rnn.scale_to_spectral_radius(model.W_rec.value, 0.9)
    assert rnn.spectral_radius(model.W_rec.value) == pytest.approx(0.9)
    hs = model.forward(np.zeros((300, 1, 1)))
    grad_h = np.zeros_like(hs)
    grad_h[-1] = rng.normal(size=(1, 32))
    model.backward(grad_h)
    norms = model.hidden_grad_norms()
    slope = np.polyfit(np.arange(300)[:150], np.log(norms[:150]), 1)[0]
    assert -slope == pytest.approx(np.log(0.9), abs=0.01)


def test_rnn_bad_input():
    model = make()
    with pytest.raises(ValueError, match="unknown RNN activation 'relu'"):
        rnn.RNN(3, 4, "relu")
    with pytest.raises(ValueError, match="3 dimensions"):
        model.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expects 3 input features"):
        model.forward(np.ones((2, 1, 5)))
    with pytest.raises(MissingForwardError):
        make().backward(np.ones((2, 1, 4)))
    model.forward(np.ones((2, 1, 3)))
    with pytest.raises(ValueError, match="grad_h has shape"):
        model.backward(np.ones((3, 1, 4)))
    with pytest.raises(ValueError, match="no hidden-state gradients"):
        make().hidden_grad_norms()


def test_row_norms_by_hand_and_beyond_the_square_overflow():
    vectors = np.array([[3.0, 4.0], [3e200, 4e200], [0.0, 0.0], [np.inf, 1.0], [np.nan, 1.0]])
    norms = functional.row_norms(vectors[:, None, :])
    np.testing.assert_allclose(norms[:3], [5.0, 5e200, 0.0], rtol=1e-15)
    assert np.isinf(norms[3]) and np.isnan(norms[4])


def test_hidden_grad_norms_stay_finite_for_huge_finite_gradients():
    model = make()
    x = sequence()
    model.forward(x)
    model.backward(np.full((6, 2, 4), 1e200))
    norms = model.hidden_grad_norms()
    assert np.all(np.isfinite(norms)) and norms[-1] == pytest.approx(1e200 * np.sqrt(8))

