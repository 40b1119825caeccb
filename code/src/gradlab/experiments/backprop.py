r"""The scalar chain of chapter 1: backpropagation through a product of weights.

The chain has ``L`` layers without activation, :math:`a_0 = x` and
:math:`a_i = w_i\, a_{i-1}`, and the loss is the last activation, :math:`L = a_L`,
so :math:`\partial \mathcal{L}/\partial a_L = 1`. Backpropagation gives two kinds of gradient:

.. math::
    \delta_i = \frac{\partial \mathcal{L}}{\partial a_i} = \prod_{j > i} w_j
    \qquad\text{(signal)},\qquad
    g_i = \frac{\partial \mathcal{L}}{\partial w_i} = \delta_i\, a_{i-1} = x \prod_{j \ne i} w_j
    \qquad\text{(weight gradient)}.

With one weight :math:`w` everywhere, :math:`\delta_i = w^{L-i}` grows (|w| > 1) or
shrinks (|w| < 1) toward the input, while :math:`g_i = w^{L-1} x` is the same for
every layer. All arrays below are indexed by layer, ``[0]`` being layer 1.
"""

from dataclasses import dataclass

import numpy as np

from .. import gradcheck, nn, validate

PRECISIONS = ("float32", "float64")


@dataclass(frozen=True)
class ScalarChain:
    """Forward activations and both gradients of one scalar chain, each of shape (L,).

    ``activations[i-1]`` is :math:`a_i`, ``signals[i-1]`` is
    :math:`\\partial \\mathcal{L}/\\partial a_i` and ``weight_grads[i-1]`` is
    :math:`\\partial \\mathcal{L}/\\partial w_i`, for layers i = 1..L.
    """

    weights: np.ndarray
    x: float
    activations: np.ndarray
    signals: np.ndarray
    weight_grads: np.ndarray

    @property
    def depth(self):
        return len(self.weights)

    @property
    def layers(self):
        """Layer numbers 1..L, for plotting."""
        return np.arange(1, self.depth + 1)

    def updates(self, lr):
        r"""Plain SGD step of every weight, :math:`\eta\, \partial \mathcal{L}/\partial w_i`,
        shape (L,)."""
        return validate.positive_number(lr, "lr") * self.weight_grads

    def relative_updates(self, lr):
        r"""Each step as a fraction of its weight, :math:`|\eta g_i| / |w_i|`, shape (L,)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.abs(self.updates(lr)) / np.abs(self.weights)


def _weights(depth, weight, dtype):
    depth = validate.positive_int(depth, "depth")
    weights = np.asarray(weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(depth, float(weights))
    if weights.shape != (depth,):
        raise ValueError(f"weight must be a number or have shape ({depth},), "
                         f"got shape {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weight must be finite")
    return weights.astype(dtype)


def scalar_chain(depth, weight, x=1.0, precision="float64"):
    r"""Run the chain forward and backward in the given floating-point precision.

    The passes are the recursions backpropagation performs, one multiplication per
    layer: :math:`a_i = w_i a_{i-1}`, then :math:`\delta_L = 1`,
    :math:`\delta_{i-1} = w_i \delta_i`, and :math:`g_i = \delta_i a_{i-1}`. Values
    beyond the precision's range overflow to ``inf`` or underflow to 0, exactly as
    they would in a framework computing in that precision; nothing is raised.

    Args:
        depth: number of layers L >= 1.
        weight: one weight for every layer, or an array of shape (L,) (``w_1`` first).
        x: the input :math:`a_0`.
        precision: ``"float64"`` (NumPy's default) or ``"float32"`` (the default of
            PyTorch and Keras); float32 overflows above about 3.4e38.

    Returns:
        ScalarChain with arrays of shape (L,), in the chosen precision.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    dtype = np.dtype(precision)
    weights = _weights(depth, weight, dtype)
    x = dtype.type(validate.array(x, "x", ndim=0))
    if not np.isfinite(x):
        raise ValueError(f"x must be finite, got {x}")
    inputs = np.empty(len(weights), dtype)    # a_0 .. a_{L-1}
    signals = np.empty(len(weights), dtype)   # delta_1 .. delta_L
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        a = x
        for i, w in enumerate(weights):
            inputs[i] = a
            a = w * a
        delta = dtype.type(1.0)
        for i in reversed(range(len(weights))):
            signals[i] = delta
            delta = weights[i] * delta
        activations = np.append(inputs[1:], a)
        weight_grads = signals * inputs
    return ScalarChain(weights, float(x), activations, signals, weight_grads)


def scalar_chain_modules(depth, weight, x=1.0):
    r"""The same chain built from gradlab modules: ``Sequential`` of ``Linear(1, 1)``.

    Each layer's bias is set to 0 (so it does not change the forward pass) and its
    weight to ``weight``; one ``backward`` from :math:`\partial \mathcal{L}/\partial a_L = 1`
    fills every ``weight.grad``. Float64 only (the package's precision).

    Returns:
        ``(chain, model)``: the ScalarChain read off the modules and the model,
        whose ``bias.grad`` values equal the signals (:math:`\partial a_i/\partial b_i = 1`).
    """
    weights = _weights(depth, weight, np.float64)
    model = nn.Sequential(*[nn.Linear(1, 1, name=f"layer{i + 1}") for i in range(len(weights))])
    for layer, w in zip(model, weights):
        layer.weight.value[...] = w
        layer.bias.value[...] = 0.0
    trace = model.forward_trace(np.array([[x]], dtype=np.float64))
    signals = np.empty(len(weights))
    grad = np.ones((1, 1))
    for i in reversed(range(len(weights))):
        signals[i] = grad[0, 0]
        grad = model[i].backward(grad)
    activations = np.array([a[0, 0] for a in trace[1:]])
    weight_grads = np.array([layer.weight.grad[0, 0] for layer in model])
    return ScalarChain(weights, float(x), activations, signals, weight_grads), model


def signal_table(weights, depth=5, x=1.0):
    """Signals per layer for several uniform weights: array (len(weights), depth)."""
    return np.array([scalar_chain(depth, w, x).signals for w in weights])


def nonfinite_report(chain):
    """Sentences naming where the chain's numbers left the floating-point range.

    Overflow is reported where it first happens in the pass that produced it:
    the first layer going forward for activations, the last layer (where the
    backward pass starts) for signals. Underflow means a value became exactly 0
    although no weight and not x is 0. Returns an empty list when all is finite.
    """
    messages = []
    exact_zero = chain.x == 0 or np.any(chain.weights == 0)
    series = [("forward activation", chain.activations, False),
              ("signal dL/da", chain.signals, True),
              ("weight gradient dL/dw", chain.weight_grads, True)]
    for label, values, backward in series:
        for problem, mask in (("overflowed to inf", ~np.isfinite(values)),
                              ("underflowed to 0", (values == 0) & ~exact_zero)):
            layers = chain.layers[mask]
            if layers.size == 0:
                continue
            if layers.size == chain.depth:
                messages.append(f"{label} {problem} at every layer")
                continue
            first = layers.max() if backward else layers.min()
            count = "" if layers.size == 1 else f" ({layers.size} of {chain.depth} layers)"
            messages.append(f"{label} {problem} at layer {first}{count}")
    return messages


def eps_sweep(module, x, eps_values, seed=0):
    r"""Largest gradient-check relative error of ``module`` for each step size.

    Central differences have truncation error :math:`O(\epsilon^2)` and round-off
    error about :math:`u/\epsilon` (u = 2.2e-16), so the error is smallest for a
    middle :math:`\epsilon` near :math:`10^{-5}`.

    Every check uses the same random upstream gradient (drawn with ``seed``).

    Returns:
        array of shape (len(eps_values),).
    """
    return np.array([gradcheck.check_module(module, x, np.random.default_rng(seed), eps).max_error
                     for eps in eps_values])
