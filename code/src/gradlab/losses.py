"""Losses: ``loss(pred, target)`` returns a float, ``backward()`` returns dL/dpred.

All losses average over every element, as Keras and PyTorch do by default.
"""

import numpy as np

from . import functional, validate
from .errors import MissingForwardError


class Loss:
    """Base class: keeps the last ``pred`` and ``target`` for ``backward``."""

    def __call__(self, pred, target):
        pred = validate.array(pred, "prediction")
        target = validate.array(target, "target")
        validate.same_shape(pred, target, "prediction", "target")
        self._pred, self._target = pred, target
        return float(self.value(pred, target))

    def backward(self):
        if getattr(self, "_pred", None) is None:
            raise MissingForwardError(
                f"{type(self).__name__}.backward called before the loss was computed")
        return self.gradient(self._pred, self._target)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    r""":math:`L = \frac1n \sum (\hat y - y)^2`, gradient :math:`\frac2n (\hat y - y)`."""

    def value(self, pred, target):
        return np.mean((pred - target) ** 2)

    def gradient(self, pred, target):
        return 2.0 * (pred - target) / pred.size


class BCELoss(Loss):
    r"""Binary cross-entropy on probabilities :math:`p`.

    :math:`L = -\frac1n \sum y \log p + (1-y)\log(1-p)`, with :math:`p` clamped to
    :math:`[\epsilon, 1-\epsilon]` (Keras uses :math:`\epsilon = 10^{-7}`) so a
    saturated sigmoid gives a large finite loss instead of ``inf``.
    Gradient :math:`\frac1n \frac{p - y}{p(1-p)}` (zero where the clamp is active).
    """

    def __init__(self, eps=1e-7):
        self.eps = validate.positive_number(eps, "eps")

    def value(self, pred, target):
        p = np.clip(pred, self.eps, 1.0 - self.eps)
        return -np.mean(target * np.log(p) + (1.0 - target) * np.log1p(-p))

    def gradient(self, pred, target):
        inside = (pred > self.eps) & (pred < 1.0 - self.eps)
        p = np.clip(pred, self.eps, 1.0 - self.eps)
        return np.where(inside, (p - target) / (p * (1.0 - p)), 0.0) / pred.size


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy on logits :math:`z`, :math:`p = \sigma(z)`.

    :math:`L = \frac1n \sum \log(1 + e^{z}) - y z` evaluated without overflow;
    gradient :math:`\frac1n (\sigma(z) - y)`, bounded for every :math:`z`.
    """

    def value(self, pred, target):
        return np.mean(functional.log1p_exp(pred) - target * pred)

    def gradient(self, pred, target):
        return (functional.sigmoid(pred) - target) / pred.size
