r"""Gradient checking: analytic backward passes against central finite differences.

.. math::
    \frac{\partial L}{\partial \theta_i} \approx
    \frac{L(\theta + \epsilon e_i) - L(\theta - \epsilon e_i)}{2\epsilon},
    \qquad \text{error } O(\epsilon^2).

The comparison uses the relative error
:math:`\|a - n\| / \max(\|a\| + \|n\|, 10^{-300})`: about 1e-10 for a correct
float64 backward, 1e-2 or worse for a wrong one. The digits of an error that small are
rounding noise and differ between machines, so it is printed as a bound, "below 1e-9".
"""

from dataclasses import dataclass, field

import numpy as np

from . import report

ROUNDING = 1e-9  # errors below this are rounding noise: printed as the bound, not as digits


def relative_error(analytic, numeric):
    """:math:`\\|a-n\\| / (\\|a\\|+\\|n\\|)`, 0 when both are zero."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / denominator)


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place (and restored), so ``f`` may read it by reference.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = f()
        x[index] = original - eps
        minus = f()
        x[index] = original
        grad[index] = (plus - minus) / (2.0 * eps)
    return grad


@dataclass
class GradCheckResult:
    """Relative error per checked array (``"input"`` and each parameter name)."""

    errors: dict = field(default_factory=dict)

    @property
    def max_error(self):
        return max(self.errors.values())

    def passed(self, tolerance=1e-7):
        return self.max_error < tolerance

    def __str__(self):
        """One line per array: "below 1e-9" for rounding noise, else two significant digits."""
        width = max(len(name) for name in self.errors)
        return "\n".join(f"{name:<{width}}  relative error {_shown(err)}"
                         for name, err in self.errors.items())


def _shown(error):
    """``error`` as text: the bound ``ROUNDING`` when below it, else 2 significant digits."""
    return report.below(error, ROUNDING) if error < ROUNDING else report.number(error, 2)


def check_module(module, x, rng=None, eps=1e-6):
    r"""Check ``module.backward`` for the input and every parameter.

    Uses the scalar :math:`L = \sum_{ij} g_{ij}\, y_{ij}` with a random fixed
    :math:`g`, so :math:`\partial L/\partial y = g` exercises every output.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x = np.array(x, dtype=np.float64)
    upstream = rng.normal(size=np.shape(module.forward(x)))

    def scalar():
        return float(np.sum(upstream * module.forward(x)))

    module.zero_grad()
    module.forward(x)
    grad_input = module.backward(upstream)
    result = GradCheckResult()
    result.errors["input"] = relative_error(grad_input, numerical_gradient(scalar, x, eps))
    for p in module.parameters():
        result.errors[p.name] = relative_error(p.grad, numerical_gradient(scalar, p.value, eps))
    return result


def check_loss(loss, pred, target, eps=1e-6):
    """Check ``loss.backward()`` against finite differences in the prediction."""
    pred = np.array(pred, dtype=np.float64)
    loss(pred, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss(pred, target), pred, eps)
    return GradCheckResult({"prediction": relative_error(analytic, numeric)})
