r"""Gradient clipping, on lists of arrays and in place on parameters.

Three rules, with the frameworks' exact semantics:

* by value: every element to :math:`[-c, c]` (may change the direction);
* by norm per tensor (``clipnorm`` of tf.keras in TensorFlow 2 and of Keras 3;
  standalone Keras up to 2.3 used the global norm under that name):
  :math:`g \leftarrow g\,c / \max(\|g\|, c)`;
* by global norm, as PyTorch's ``clip_grad_norm_``: with
  :math:`N = \|(\|g_1\|, \dots, \|g_k\|)\|`, every tensor is multiplied by
  :math:`\min(1, c / (N + 10^{-6}))`, so a clipped norm lands a hair below :math:`c`.
  The :math:`10^{-6}` guard is PyTorch's alone: TensorFlow's ``clip_by_global_norm``
  and Keras 3's ``global_clipnorm`` multiply by :math:`c \min(1/N, 1/c)`, the same
  rule without it.

The functions without a trailing underscore take a list of arrays (or one
array) and return new arrays; ``clip_grad_norm_`` and ``clip_grad_value_``
change ``Parameter.grad`` in place and skip parameters whose gradient is
``None``, as PyTorch does.
"""

import math
import numbers

import numpy as np

from . import validate
from .errors import NonFiniteGradientError
from .nn import Parameter

EPS = 1e-6  # PyTorch's guard in max_norm / (total_norm + 1e-6)


def _norm_type(norm_type):
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        norm_type = math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise ValueError(f"unknown norm type {norm_type!r}; use a number >= 1 or float('inf')")
    if not (norm_type >= 1):
        raise ValueError(f"unknown norm type {norm_type!r}; use a number >= 1 or float('inf')")
    return float(norm_type)


def _as_arrays(grads):
    """Return (list of float arrays, whether a single array was given)."""
    if isinstance(grads, np.ndarray):
        return [grads.astype(np.float64)], True
    if isinstance(grads, (list, tuple)):
        return [np.asarray(g, dtype=np.float64) for g in grads], False
    raise TypeError(f"expected an array or a list of arrays, got {type(grads).__name__}")


def _restore(arrays, single):
    return arrays[0] if single else arrays


def tensor_norm(g, norm_type=2.0):
    r""":math:`\|g\|_p` of one array, flattened (:math:`\max|g_i|` for :math:`p=\infty`)."""
    return _norm(g, _norm_type(norm_type))


def _norm(g, p):
    """``tensor_norm`` with ``p`` already checked (the training loop calls this every step)."""
    g = np.asarray(g, dtype=np.float64).ravel()
    if g.size == 0:
        return 0.0
    if p == math.inf:
        return float(np.max(np.abs(g)))
    if p == 2.0:
        return float(np.sqrt(np.dot(g, g)))
    return float(np.sum(np.abs(g) ** p) ** (1.0 / p))


def global_norm(grads, norm_type=2.0):
    r"""Norm of the per-tensor norms, :math:`\|(\|g_1\|_p, \dots, \|g_k\|_p)\|_p`.

    For :math:`p = 2` this equals the 2-norm of all gradients concatenated.
    """
    arrays, _ = _as_arrays(grads)
    p = _norm_type(norm_type)
    return _norm([_norm(g, p) for g in arrays], p)


def clip_coefficient(total_norm, max_norm):
    r""":math:`\min(1, c / (N + 10^{-6}))`; NaN when :math:`N` is NaN (as in PyTorch).

    ``total_norm`` may be an array of norms; the result then has its shape.
    """
    max_norm = validate.positive_number(max_norm, "max_norm")
    return np.minimum(max_norm / (np.asarray(total_norm, np.float64) + EPS), 1.0)


def clip_by_value(grads, clip_value):
    """Clamp every element to ``[-clip_value, clip_value]``; NaN stays NaN."""
    c = validate.positive_number(clip_value, "clip_value")
    arrays, single = _as_arrays(grads)
    return _restore([np.clip(g, -c, c) for g in arrays], single)


def clip_by_norm(grads, max_norm):
    r"""Per-tensor norm clipping (Keras 3 ``clipnorm``): :math:`g\,c / \max(\|g\|_2, c)`."""
    c = validate.positive_number(max_norm, "max_norm")
    arrays, single = _as_arrays(grads)
    return _restore([g * (c / max(tensor_norm(g), c)) for g in arrays], single)


def clip_by_global_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Global-norm clipping; returns ``(clipped_grads, total_norm_before_clipping)``.

    Raises ``NonFiniteGradientError`` for a NaN or infinite total norm when
    ``error_if_nonfinite``; otherwise, as in PyTorch, a NaN norm turns every
    gradient into NaN and an infinite one zeroes the finite entries.
    """
    c = validate.positive_number(max_norm, "max_norm")
    arrays, single = _as_arrays(grads)
    total = global_norm(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise NonFiniteGradientError(
            f"the total gradient norm is {total}; the gradients hold NaN or inf")
    coefficient = float(clip_coefficient(total, c))
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in PyTorch
        return _restore([g * coefficient for g in arrays], single), total


def _params_with_grad(params):
    if isinstance(params, Parameter):
        params = [params]
    params = list(params)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"expected Parameter objects, got {type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(params, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """In-place global-norm clipping of ``p.grad``; returns the norm before clipping."""
    with_grad = _params_with_grad(params)
    clipped, total = clip_by_global_norm(
        [p.grad for p in with_grad], max_norm, norm_type, error_if_nonfinite)
    for p, g in zip(with_grad, clipped):
        p.grad = g
    return total


def clip_grad_value_(params, clip_value):
    """In-place value clipping of every ``p.grad`` to ``[-clip_value, clip_value]``."""
    with_grad = _params_with_grad(params)
    for p, g in zip(with_grad, clip_by_value([p.grad for p in with_grad], clip_value)):
        p.grad = g


def clip_grad_norm_per_tensor_(params, max_norm):
    """In-place per-tensor norm clipping (Keras 3 ``clipnorm``) of every ``p.grad``."""
    with_grad = _params_with_grad(params)
    for p, g in zip(with_grad, clip_by_norm([p.grad for p in with_grad], max_norm)):
        p.grad = g
