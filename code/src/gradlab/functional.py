"""Elementwise functions, their derivatives and row norms, safe for large inputs."""

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


def row_norms(vectors):
    r"""Euclidean norm over every axis but the first, without overflow of the squares.

    ``np.sqrt(np.sum(g**2))`` turns a finite gradient of size 1e160 into inf; scaling
    by the largest entry first keeps every finite vector's norm finite (up to ~1.8e308).
    Rows holding inf give inf, rows holding NaN give NaN. Shape (T, ...) → (T,).
    """
    flat = np.abs(np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        scale = flat.max(axis=1)
        scaled = flat / np.where(scale > 0, scale, 1.0)[:, None]
        norms = scale * np.sqrt(np.sum(scaled**2, axis=1))
    norms[np.isinf(flat).any(axis=1)] = np.inf
    norms[np.isnan(flat).any(axis=1)] = np.nan
    return norms
