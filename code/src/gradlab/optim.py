r"""Optimisers: SGD with momentum in three common forms, and Adam.

Clipping can be configured on the optimiser, as Keras does: ``global_clipnorm``
(one norm over all gradients), ``clipnorm`` (per tensor) and ``clipvalue``.
It is applied to ``Parameter.grad`` in place at the start of ``step()``,
before momentum or Adam's moments see the gradient. ``step()`` leaves the
(clipped) gradients in place; ``zero_grad()`` clears them, as in PyTorch.
"""

import numpy as np

from . import clip, validate
from .errors import MissingGradientError


class Optimizer:
    """Base class: clipping, bookkeeping, and the per-parameter ``update``."""

    def __init__(self, params, lr, clipnorm=None, clipvalue=None, global_clipnorm=None):
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimiser received no parameters")
        self.lr = validate.positive_number(lr, "lr")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("set at most one of clipnorm (per tensor) and global_clipnorm")
        self.clipnorm = None if clipnorm is None else validate.positive_number(clipnorm, "clipnorm")
        self.global_clipnorm = (None if global_clipnorm is None
                                else validate.positive_number(global_clipnorm, "global_clipnorm"))
        self.clipvalue = (None if clipvalue is None
                          else validate.positive_number(clipvalue, "clipvalue"))
        self.state = [{} for _ in self.params]
        self.iterations = 0

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def clip_gradients(self):
        """Apply the configured clipping in place: a norm rule first, then value."""
        if self.global_clipnorm is not None:
            clip.clip_grad_norm_(self.params, self.global_clipnorm)
        if self.clipnorm is not None:
            clip.clip_grad_norm_per_tensor_(self.params, self.clipnorm)
        if self.clipvalue is not None:
            clip.clip_grad_value_(self.params, self.clipvalue)

    def step(self):
        """Clip (if configured), then update every parameter that has a gradient."""
        if all(p.grad is None for p in self.params):
            raise MissingGradientError(
                "no parameter has a gradient: call backward() before step()")
        self.clip_gradients()
        self.iterations += 1
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self.update(p, p.grad, state)

    def update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum :math:`\mu`.

    ``form="pytorch"`` (classic, PyTorch): :math:`v \leftarrow \mu v + g,\; w \leftarrow w - \eta v`.
    ``form="keras"``: :math:`v \leftarrow \mu v - \eta g,\; w \leftarrow w + v`;
    identical to the classic form at a constant learning rate (:math:`v_K = -\eta v_P`).
    ``form="averaged"``: :math:`v \leftarrow \mu v + (1-\mu) g,\; w \leftarrow w - \eta v`;
    exactly the classic form at learning rate :math:`(1-\mu)\eta`. PyTorch's
    ``dampening=mu`` computes this average too, except that its first step
    stores the raw gradient (:math:`v_1 = g_1`) instead of :math:`(1-\mu) g_1`.
    All forms start from :math:`v = 0`.
    """

    FORMS = ("pytorch", "keras", "averaged")

    def __init__(self, params, lr, momentum=0.0, form="pytorch", **clipping):
        super().__init__(params, lr, **clipping)
        if form not in self.FORMS:
            raise ValueError(f"unknown momentum form {form!r}; choose one of {', '.join(self.FORMS)}")
        self.momentum = validate.nonnegative_number(momentum, "momentum")
        if self.momentum >= 1:
            raise ValueError(f"momentum must be below 1, got {momentum}")
        self.form = form

    def update(self, p, g, state):
        mu, lr = self.momentum, self.lr
        v = state.get("velocity", np.zeros_like(p.value))
        if self.form == "keras":
            v = mu * v - lr * g
            p.value += v
        else:
            v = mu * v + ((1.0 - mu) * g if self.form == "averaged" else g)
            p.value -= lr * v
        state["velocity"] = v

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, form={self.form!r})"


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015) with bias correction.

    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`s \leftarrow \beta_2 s + (1-\beta_2) g^2`,
    :math:`w \leftarrow w - \eta\, \hat m / (\sqrt{\hat s} + \epsilon)` with
    :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat s = s/(1-\beta_2^t)`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, **clipping):
        super().__init__(params, lr, **clipping)
        self.beta1, self.beta2 = (validate.nonnegative_number(b, "beta") for b in betas)
        self.eps = validate.positive_number(eps, "eps")

    def update(self, p, g, state):
        t = state.get("t", 0) + 1
        m = self.beta1 * state.get("m", 0.0) + (1.0 - self.beta1) * g
        s = self.beta2 * state.get("s", 0.0) + (1.0 - self.beta2) * g * g
        m_hat = m / (1.0 - self.beta1**t)
        s_hat = s / (1.0 - self.beta2**t)
        p.value -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)
        state.update(t=t, m=m, s=s)

    def __repr__(self):
        return f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps})"
