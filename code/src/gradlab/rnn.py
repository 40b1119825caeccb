r"""A vanilla recurrent network with full and truncated backpropagation through time.

.. math::
    a_t = x_t W_{in} + h_{t-1} W_{rec} + b, \qquad h_t = f(a_t), \quad t = 1..T

Shapes (time-major): ``x`` (T, B, n_in), ``h`` (T, B, H), ``W_in`` (n_in, H),
``W_rec`` (H, H), ``b`` (H,). With row vectors the step Jacobian is
:math:`\partial h_t/\partial h_{t-1} = \mathrm{diag}(f'(a_t))\, W_{rec}^\top`.
"""

import numpy as np

from . import functional, validate
from .nn import Linear, Module, Parameter

# name -> (f, f' written in terms of the output h = f(a), which the forward pass keeps)
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda h: 1.0 - h * h),
    "identity": (lambda a: a, np.ones_like),
}


def _rows(array):
    """(T, B, n) -> (T*B, n), a view: lets one matmul sum a weight gradient over time and batch."""
    return array.reshape(-1, array.shape[-1])


def scale_to_spectral_radius(matrix, radius):
    """Return ``matrix`` rescaled so its largest absolute eigenvalue equals ``radius``."""
    current = spectral_radius(matrix)
    if current == 0:
        raise ValueError("cannot rescale a matrix whose spectral radius is 0")
    return matrix * (radius / current)


def spectral_radius(matrix):
    r""":math:`\rho(W) = \max_i |\lambda_i(W)|`, the long-run growth rate of :math:`W^k`."""
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


class RNN(Module):
    """Vanilla RNN layer; ``backward`` runs BPTT, optionally truncated.

    Args:
        n_in, n_hidden: input and hidden sizes.
        activation: ``"tanh"`` or ``"identity"``.
        rng: a ``numpy.random.Generator``.
        rec_std: standard deviation of the recurrent weights
            (default :math:`1/\\sqrt{H}`, so :math:`W_{rec} \\sim N(0, 1/H)`).
        truncate: ``None`` for full BPTT, or ``k``: each loss term's gradient
            flows back through at most ``k`` steps (BPTT(k), Williams and Peng).
    """

    def __init__(self, n_in, n_hidden, activation="tanh", rng=None, rec_std=None,
                 truncate=None, name="rnn"):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"unknown RNN activation {activation!r}; choose one of {', '.join(_ACTIVATIONS)}")
        self.n_in = validate.positive_int(n_in, "n_in")
        self.n_hidden = validate.positive_int(n_hidden, "n_hidden")
        self.activation = activation
        self.truncate = None if truncate is None else validate.positive_int(truncate, "truncate")
        rng = np.random.default_rng(0) if rng is None else rng
        rec_std = 1.0 / np.sqrt(n_hidden) if rec_std is None else rec_std
        self.W_in = Parameter(rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)), f"{name}.W_in")
        self.W_rec = Parameter(rng.normal(0.0, rec_std, (n_hidden, n_hidden)), f"{name}.W_rec")
        self.b = Parameter(np.zeros(n_hidden), f"{name}.b")
        self._cache = None
        self.hidden_grads = None

    def forward(self, x, h0=None):
        """Run the recurrence over ``x`` (T, B, n_in); return all hidden states (T, B, H)."""
        x = validate.array(x, "RNN input", ndim=3)
        steps, batch, n_in = x.shape
        if n_in != self.n_in:
            raise ValueError(f"RNN expects {self.n_in} input features, got shape {x.shape}")
        h_prev = np.zeros((batch, self.n_hidden)) if h0 is None else validate.array(h0, "h0", 2)
        if h_prev.shape != (batch, self.n_hidden):
            raise ValueError(f"h0 must have shape {(batch, self.n_hidden)}, got {h_prev.shape}")
        f = _ACTIVATIONS[self.activation][0]
        drive = x @ self.W_in.value + self.b.value
        pre = np.empty((steps, batch, self.n_hidden))
        hs = np.empty((steps + 1, batch, self.n_hidden))
        hs[0] = h_prev
        for t in range(steps):
            pre[t] = drive[t] + hs[t] @ self.W_rec.value
            hs[t + 1] = f(pre[t])
        self._cache = (x, pre, hs)
        return hs[1:]

    def step_jacobians(self):
        r"""Per-step Jacobians :math:`\partial h_t/\partial h_{t-1}` of the last forward.

        Returns (T, B, H, H) with entry ``[t, n, i, j]`` = :math:`f'(a_t)_i\,W_{rec}[j, i]`.
        """
        _, _, hs = self._saved("_cache")
        derivative = _ACTIVATIONS[self.activation][1](hs[1:])
        return derivative[..., :, None] * self.W_rec.value.T

    def backward(self, grad_h, truncate="default"):
        r"""BPTT. ``grad_h`` (T, B, H) is the direct gradient :math:`\partial L/\partial h_t`.

        Accumulates the parameter gradients, stores the total gradient on every
        hidden state in ``hidden_grads`` (T, B, H), and returns
        :math:`\partial L/\partial x` (T, B, n_in).
        """
        x, pre, hs = self._saved("_cache")
        grad_h = validate.array(grad_h, "grad_h")
        if grad_h.shape != pre.shape:
            raise ValueError(
                f"shape mismatch: grad_h has shape {grad_h.shape} "
                f"but the hidden states have shape {pre.shape}")
        window = self.truncate if truncate == "default" else truncate
        derivative = _ACTIVATIONS[self.activation][1](hs[1:])
        W_rec = self.W_rec.value
        steps = pre.shape[0]
        grad_pre = np.empty_like(pre)
        self.hidden_grads = np.empty_like(pre)
        if window is None or window >= steps:
            carried = np.zeros_like(pre[0])
            for t in reversed(range(steps)):
                self.hidden_grads[t] = grad_h[t] + carried
                grad_pre[t] = self.hidden_grads[t] * derivative[t]
                carried = grad_pre[t] @ W_rec.T
        else:
            # A ring of `window` slots; the term that entered at step t lives in slot
            # t % window and is overwritten (dropped) once it has travelled window steps.
            window = validate.positive_int(window, "truncate")
            ring = np.zeros((window,) + pre.shape[1:])
            spare = np.empty_like(ring)
            for t in reversed(range(steps)):
                ring[t % window] = grad_h[t]
                np.sum(ring, axis=0, out=self.hidden_grads[t])
                np.multiply(self.hidden_grads[t], derivative[t], out=grad_pre[t])
                np.multiply(ring, derivative[t], out=ring)
                np.matmul(ring, W_rec.T, out=spare)
                ring, spare = spare, ring
        self.W_in.accumulate(_rows(x).T @ _rows(grad_pre))
        self.W_rec.accumulate(_rows(hs[:-1]).T @ _rows(grad_pre))
        self.b.accumulate(grad_pre.sum(axis=(0, 1)))
        return grad_pre @ self.W_in.value.T

    def hidden_grad_norms(self):
        r""":math:`\|\partial L/\partial h_t\|` for t = 1..T (Frobenius over the batch, no overflow of squares)."""
        if self.hidden_grads is None:
            raise ValueError("no hidden-state gradients yet: run backward first")
        return functional.row_norms(self.hidden_grads)

    def __repr__(self):
        trunc = "" if self.truncate is None else f", truncate={self.truncate}"
        return f"RNN({self.n_in}, {self.n_hidden}, activation={self.activation!r}{trunc})"


class LastStepRegressor(Module):
    """An RNN read out by a ``Linear`` layer at the last time step.

    ``forward`` maps (T, B, n_in) to (B, n_out); the loss only sees :math:`h_T`,
    so every earlier step receives gradient through the recurrence alone.
    """

    def __init__(self, rnn, n_out=1, rng=None):
        self.rnn = rnn
        self.readout = Linear(rnn.n_hidden, n_out, "xavier", rng, name="readout")

    def forward(self, x):
        self._hs = self.rnn.forward(x)
        return self.readout.forward(self._hs[-1])

    def backward(self, grad_out):
        hs = self._saved("_hs")
        grad_h = np.zeros_like(hs)
        grad_h[-1] = self.readout.backward(grad_out)
        return self.rnn.backward(grad_h)

    def __repr__(self):
        return f"LastStepRegressor({self.rnn!r}, {self.readout!r})"
