"""Optimisers: the three momentum forms, Adam, configured clipping, a forgotten backward."""

import numpy as np
import pytest

from gradlab import nn, optim
from gradlab.errors import MissingGradientError


def quadratic_grad(w):
    """Gradient of 0.5 w^T A w - c^T w for a fixed ill-conditioned A."""
    A = np.diag([1.0, 10.0, 0.1])
    return A @ w - np.array([1.0, -2.0, 0.5])


def run(opt_factory, steps=60, start=(3.0, -1.0, 2.0)):
    p = nn.Parameter(np.array(start), "w")
    opt = opt_factory([p])
    path = []
    for _ in range(steps):
        p.grad = quadratic_grad(p.value)
        opt.step()
        path.append(p.value.copy())
    return np.array(path)


def test_pytorch_and_keras_momentum_give_the_same_trajectory():
    torch_form = run(lambda ps: optim.SGD(ps, 0.05, momentum=0.9, form="pytorch"))
    keras_form = run(lambda ps: optim.SGD(ps, 0.05, momentum=0.9, form="keras"))
    np.testing.assert_allclose(keras_form, torch_form, rtol=1e-12, atol=1e-12)


def test_averaged_form_is_classic_form_at_scaled_learning_rate():
    averaged = run(lambda ps: optim.SGD(ps, 0.5, momentum=0.9, form="averaged"))
    classic = run(lambda ps: optim.SGD(ps, 0.05, momentum=0.9, form="pytorch"))
    np.testing.assert_allclose(averaged, classic, rtol=1e-12, atol=1e-12)


def test_averaged_form_matches_pytorch_dampening_recipe_after_its_first_step():
    """PyTorch's dampening=mu: buf = g on step 1, then buf = mu*buf + (1-mu)*g."""
    mu, lr = 0.9, 0.1
    w_ref = np.array([3.0, -1.0, 2.0])
    buf = None
    ref = []
    for _ in range(60):
        g = quadratic_grad(w_ref)
        buf = g.copy() if buf is None else mu * buf + (1 - mu) * g
        w_ref = w_ref - lr * buf
        ref.append(w_ref.copy())
    ours = run(lambda ps: optim.SGD(ps, lr, momentum=mu, form="averaged"))
    assert not np.allclose(ours[0], ref[0])  # the documented first-step difference
    # Starting our averaged form from v0 = g1 gives v1 = mu*g1 + (1-mu)*g1 = g1: PyTorch's path.
    p = nn.Parameter(np.array([3.0, -1.0, 2.0]))
    opt = optim.SGD([p], lr, momentum=mu, form="averaged")
    opt.state[0]["velocity"] = quadratic_grad(p.value)
    replay = []
    for _ in range(60):
        p.grad = quadratic_grad(p.value)
        opt.step()
        replay.append(p.value.copy())
    np.testing.assert_allclose(replay, ref, rtol=1e-12, atol=1e-12)


def test_plain_sgd_step():
    p = nn.Parameter([1.0, 2.0])
    p.grad = np.array([0.5, -1.0])
    optim.SGD([p], 0.1).step()
    np.testing.assert_allclose(p.value, [0.95, 2.1])


def test_adam_converges_on_a_quadratic():
    path = run(lambda ps: optim.Adam(ps, lr=0.1), steps=2000)
    optimum = np.linalg.solve(np.diag([1.0, 10.0, 0.1]), [1.0, -2.0, 0.5])
    np.testing.assert_allclose(path[-1], optimum, atol=1e-3)


def test_adam_first_step_has_size_lr_in_each_coordinate():
    p = nn.Parameter([0.0, 0.0])
    p.grad = np.array([1e-3, -50.0])
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.value, [-0.01, 0.01], rtol=1e-4)


def test_configured_clipping_happens_before_momentum():
    p = nn.Parameter([0.0, 0.0])
    opt = optim.SGD([p], 1.0, momentum=0.9, global_clipnorm=1.0)
    p.grad = np.array([30.0, 40.0])
    opt.step()
    np.testing.assert_allclose(opt.state[0]["velocity"], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-6)  # clipped gradient stays


def test_configured_value_and_norm_clipping_combine_norm_first():
    p = nn.Parameter([0.0, 0.0])
    opt = optim.SGD([p], 1.0, clipnorm=10.0, clipvalue=5.0)
    p.grad = np.array([30.0, 40.0])
    opt.step()
    np.testing.assert_allclose(p.value, [-5.0, -5.0])  # (6, 8) then clamped to 5


def test_step_without_backward_is_explained():
    model = nn.mlp([2, 2, 1])
    opt = optim.SGD(model.parameters(), 0.1)
    with pytest.raises(MissingGradientError, match="call backward\\(\\) before step\\(\\)"):
        opt.step()


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.0}, "lr must be positive"), ({"lr": -1.0}, "lr must be positive"),
    ({"lr": float("nan")}, "lr must be finite"), ({"lr": 0.1, "momentum": 1.0}, "below 1"),
    ({"lr": 0.1, "form": "nesterov"}, "unknown momentum form"),
    ({"lr": 0.1, "clipnorm": 0.0}, "clipnorm must be positive"),
    ({"lr": 0.1, "clipvalue": -5.0}, "clipvalue must be positive"),
    ({"lr": 0.1, "clipnorm": 1.0, "global_clipnorm": 1.0}, "at most one"),
])
def test_bad_optimiser_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([nn.Parameter([1.0])], **kwargs)
