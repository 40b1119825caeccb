"""Layers with explicit forward and backward passes.

Every module follows one contract. ``forward(x)`` computes the output and keeps
what the backward pass needs. ``backward(grad_out)`` takes
:math:`\\partial L/\\partial y` (same shape as the output), adds the parameter
gradients into ``Parameter.grad`` and returns :math:`\\partial L/\\partial x`.
Arrays are ``(batch, features)``.
"""

import numpy as np

from . import functional, validate
from .errors import MissingForwardError


class Parameter:
    """A trainable array with its gradient and a name for reports.

    ``grad`` is ``None`` until a backward pass fills it, so "never computed"
    and "computed, and zero" can be told apart (as in PyTorch).
    """

    def __init__(self, value, name="param"):
        self.value = np.array(value, dtype=np.float64)
        self.grad = None
        self.name = name

    def accumulate(self, grad):
        """Add ``grad`` to the stored gradient (``+=``, the chain rule's sum)."""
        validate.same_shape(grad, self.value, f"gradient for {self.name}", self.name)
        self.grad = grad.copy() if self.grad is None else self.grad + grad

    def zero_grad(self):
        """Forget the gradient (set it to ``None``)."""
        self.grad = None

    @property
    def shape(self):
        return self.value.shape

    def __repr__(self):
        state = "no grad" if self.grad is None else "grad"
        return f"Parameter({self.name!r}, shape={self.value.shape}, {state})"


class Module:
    """Base class: subclasses implement ``forward`` and ``backward``."""

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def parameters(self):
        """All parameters of this module and its children, in definition order."""
        found = []
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Parameter):
                    found.append(item)
                elif isinstance(item, Module):
                    found.extend(item.parameters())
        return found

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def _saved(self, attribute):
        """Return what forward stored, or explain that forward never ran."""
        value = getattr(self, attribute, None)
        if value is None:
            raise MissingForwardError(
                f"{type(self).__name__}.backward called before forward: "
                "run a forward pass first"
            )
        return value


def _check_grad_out(grad_out, output_shape):
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if grad_out.shape != tuple(output_shape):
        raise ValueError(
            f"shape mismatch: grad_out has shape {grad_out.shape} "
            f"but the forward output had shape {tuple(output_shape)}")
    return grad_out


# Each initialiser maps (n_in, n_out, scale, slope) to (distribution, std).
# A uniform U(-l, l) has std l/sqrt(3), so the "_uniform" names share the variance.
_INIT_VARIANCE = {
    "normal": lambda n_in, n_out, scale, a: scale**2,
    "xavier": lambda n_in, n_out, scale, a: 2.0 / (n_in + n_out),
    "he": lambda n_in, n_out, scale, a: 2.0 / n_in,
    "he_leaky": lambda n_in, n_out, scale, a: 2.0 / ((1.0 + a**2) * n_in),
}
INITS = tuple(_INIT_VARIANCE) + tuple(f"{k}_uniform" for k in _INIT_VARIANCE)


def init_weights(n_in, n_out, init, rng, scale=1.0, negative_slope=0.01):
    r"""Draw an ``(n_in, n_out)`` weight matrix.

    ``normal``: :math:`N(0, s^2)`; ``xavier``: variance :math:`2/(n_{in}+n_{out})`;
    ``he``: :math:`2/n_{in}`; ``he_leaky``: :math:`2/((1+a^2) n_{in})`.
    The ``*_uniform`` variants draw :math:`U(-\sqrt{3\,\mathrm{var}}, \sqrt{3\,\mathrm{var}})`,
    the same variance (``xavier_uniform`` is Keras's ``glorot_uniform``,
    ``he_uniform`` its ``he_uniform``).
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    uniform = init.endswith("_uniform")
    variance = _INIT_VARIANCE[init.removesuffix("_uniform")](n_in, n_out, scale, negative_slope)
    if uniform:
        limit = np.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=(n_in, n_out))
    return rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))


class Linear(Module):
    r"""Affine map :math:`y = x W + b`.

    Shapes: ``x`` (B, n_in), ``W`` (n_in, n_out), ``b`` (n_out,), ``y`` (B, n_out).
    Backward: :math:`\partial L/\partial W = x^\top g`,
    :math:`\partial L/\partial b = \sum_B g`, :math:`\partial L/\partial x = g W^\top`.
    """

    def __init__(self, n_in, n_out, init="xavier", rng=None, scale=1.0,
                 negative_slope=0.01, name="linear"):
        self.n_in = validate.positive_int(n_in, "n_in")
        self.n_out = validate.positive_int(n_out, "n_out")
        rng = np.random.default_rng(0) if rng is None else rng
        self.init = init
        self.weight = Parameter(
            init_weights(n_in, n_out, init, rng, scale, negative_slope), f"{name}.weight")
        self.bias = Parameter(np.zeros(n_out), f"{name}.bias")
        self._x = None

    def forward(self, x):
        x = validate.array(x, "Linear input", ndim=2)
        if x.shape[1] != self.n_in:
            raise ValueError(
                f"Linear expects inputs with {self.n_in} features, got shape {x.shape}")
        self._x = x
        return x @ self.weight.value + self.bias.value

    def backward(self, grad_out):
        x = self._saved("_x")
        g = _check_grad_out(grad_out, (x.shape[0], self.n_out))
        self.weight.accumulate(x.T @ g)
        self.bias.accumulate(g.sum(axis=0))
        return g @ self.weight.value.T

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out}, init={self.init!r})"


class Activation(Module):
    """Elementwise map: backward multiplies by the derivative at the saved input."""

    def function(self, x):
        raise NotImplementedError

    def derivative(self, x):
        raise NotImplementedError

    def forward(self, x):
        self._x = validate.array(x, f"{type(self).__name__} input")
        return self.function(self._x)

    def backward(self, grad_out):
        x = self._saved("_x")
        return _check_grad_out(grad_out, x.shape) * self.derivative(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(Activation):
    r""":math:`\max(0, x)`; derivative 1 for :math:`x > 0`, else 0 (passes or kills)."""

    def function(self, x):
        return np.maximum(x, 0.0)

    def derivative(self, x):
        return (x > 0).astype(np.float64)


class LeakyReLU(Activation):
    r""":math:`x` for :math:`x > 0`, else :math:`a x`; derivative 1 or :math:`a`."""

    def __init__(self, negative_slope=0.01):
        self.negative_slope = validate.nonnegative_number(negative_slope, "negative_slope")

    def function(self, x):
        return np.where(x > 0, x, self.negative_slope * x)

    def derivative(self, x):
        return np.where(x > 0, 1.0, self.negative_slope)

    def __repr__(self):
        return f"LeakyReLU({self.negative_slope})"


class Sigmoid(Activation):
    r""":math:`\sigma(x)`; derivative :math:`\sigma(1-\sigma) \le 1/4`."""

    def function(self, x):
        return functional.sigmoid(x)

    def derivative(self, x):
        return functional.sigmoid_derivative(x)


class Tanh(Activation):
    r""":math:`\tanh(x)`; derivative :math:`1 - \tanh^2 \le 1`."""

    def function(self, x):
        return np.tanh(x)

    def derivative(self, x):
        return functional.tanh_derivative(x)


class Identity(Activation):
    """:math:`x`; derivative 1."""

    def function(self, x):
        return x

    def derivative(self, x):
        return np.ones_like(x)


ACTIVATIONS = {
    "relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid,
    "tanh": Tanh, "identity": Identity,
}


def activation(name):
    """Build an activation module from its name (``"relu"``, ``"tanh"``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class Sequential(Module):
    """Modules applied in order; backward visits them in reverse."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def forward_trace(self, x):
        """Forward pass returning every intermediate output (input first)."""
        outputs = [validate.array(x, "Sequential input")]
        for layer in self.layers:
            outputs.append(layer.forward(outputs[-1]))
        return outputs

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def mlp(sizes, hidden_activation="relu", init="he", output_init="xavier", rng=None,
        output_activation=None):
    """A multilayer perceptron: ``Linear`` layers of the given sizes with activations.

    ``mlp([20, 25, 1], "relu", init="he_uniform", output_init="xavier_uniform")``
    is the chapter 2 regression network.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(Linear(n_in, n_out, output_init if last else init, rng, name=f"layer{i + 1}"))
        if not last:
            layers.append(activation(hidden_activation))
    if output_activation is not None:
        layers.append(activation(output_activation))
    return Sequential(*layers)
