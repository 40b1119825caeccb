"""Elementwise functions and their derivatives, safe for large inputs."""

import numpy as np


def sigmoid(x):
    r"""Logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Evaluated as :math:`e^{-|x|}`-based branches, so no ``exp`` overflows for
    any finite input and the result is exactly 0 or 1 only in the far tails.
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(x):
    r""":math:`\sigma'(x) = \sigma(x)(1 - \sigma(x)) \le 1/4`."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh_derivative(x):
    r""":math:`\tanh'(x) = 1 - \tanh^2(x) \le 1`."""
    return 1.0 - np.tanh(x) ** 2


def log1p_exp(x):
    r""":math:`\log(1 + e^{x})` (softplus) without overflow."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
