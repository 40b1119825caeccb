r"""Clipping thresholds that adapt: unit-wise AGC, percentile (AutoClip) and z-score (ZClip).

* **AGC** (Brock et al., 2021, NFNets): for every output unit :math:`i` of a weight
  :math:`W` with gradient :math:`G`,

  .. math:: G_i \leftarrow G_i \cdot \min\Bigl(1, \lambda\,
     \frac{\max(\lVert W_i \rVert, \varepsilon)}{\lVert G_i \rVert}\Bigr),

  with :math:`\lambda = 0.01` and :math:`\varepsilon = 10^{-3}` by default. In gradlab's
  ``Linear`` the weight has shape ``(n_in, n_out)``, so output unit :math:`i` is the
  **column** ``W[:, i]``; a 1-D tensor (a bias) is one unit, as in the authors' code.
* **Percentile clipping** (AutoClip, Seetharaman et al., 2020): the threshold is the
  :math:`p`-th percentile of every global gradient norm seen so far, the current one
  included.
* **Z-score clipping** (ZClip, Kumar et al., 2025): exponential moving averages of the
  norm's mean :math:`\mu` and variance :math:`\sigma^2`; when the norm's z-score
  :math:`z = (n - \mu) / (\sigma + \epsilon)` exceeds :math:`z_{\mathrm{thres}}`, the
  gradient is clipped to :math:`\mu + z_{\mathrm{thres}}^2 \sigma / z`, and the clipped
  norm (not the spike) enters the averages.

Functions take and return arrays; the classes keep the state a rule needs across steps
and clip a list of arrays with the global-norm coefficient of :mod:`gradlab.clip`.
"""

import math
import numbers

import numpy as np

from . import clip, validate
from .nn import Parameter

AGC_CLIPPING = 0.01  # lambda in Brock et al. (2021)
AGC_EPS = 1e-3  # the floor on a unit's weight norm
_TINY = 1e-6  # a zero gradient norm is never divided by


def unit_norms(x):
    r"""Euclidean norm of every output unit, shaped to broadcast against ``x``.

    ``x`` of shape ``(n_in, n_out)`` → ``(1, n_out)``: one norm per column. A scalar or
    1-D ``x`` is one unit (shape ``()``). Larger tensors: one norm per slice along the
    last axis. The squares are taken after dividing by each unit's largest entry, so a
    finite tensor never gets an infinite norm.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim <= 1:
        return np.asarray(_safe_norm(x.ravel(), axis=0))
    axes = tuple(range(x.ndim - 1))
    return _safe_norm(x, axis=axes, keepdims=True)


def _safe_norm(x, axis, keepdims=False):
    a = np.abs(x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        scale = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros((1,) * a.ndim)
        safe = np.where(scale > 0, scale, 1.0)
        norm = scale * np.sqrt(np.sum((a / safe) ** 2, axis=axis, keepdims=True))
        norm = np.where(np.isinf(scale), np.inf, norm)
    return norm if keepdims else np.squeeze(norm, axis=axis)


def agc(grads, weights, clipping=AGC_CLIPPING, eps=AGC_EPS):
    """Adaptive gradient clipping of each gradient against its own weight, unit by unit.

    Args:
        grads: one array or a list of arrays.
        weights: the matching weights (same shapes).
        clipping: :math:`\\lambda`, the largest allowed ratio of gradient to weight norm.
        eps: the floor :math:`\\varepsilon` on a unit's weight norm.

    Returns:
        The clipped gradients, in the form given (one array or a list).
    """
    lam = validate.positive_number(clipping, "clipping")
    eps = validate.positive_number(eps, "eps")
    single = isinstance(grads, np.ndarray)
    g_list = [grads] if single else list(grads)
    w_list = [weights] if single else list(weights)
    if len(g_list) != len(w_list):
        raise ValueError(f"agc needs one weight per gradient, got {len(g_list)} gradients "
                         f"and {len(w_list)} weights")
    out = []
    for k, (g, w) in enumerate(zip(g_list, w_list)):
        g = np.asarray(g, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        validate.same_shape(g, w, f"gradient {k}", f"weight {k}")
        out.append(g * agc_factor(g, w, lam, eps))
    return out[0] if single else out


def agc_factor(grad, weight, clipping=AGC_CLIPPING, eps=AGC_EPS):
    r"""The unit-wise factor :math:`\min(1, \lambda \max(\lVert W_i\rVert, \varepsilon) /
    \lVert G_i \rVert)`, shaped to broadcast against ``grad``."""
    max_norm = clipping * np.maximum(unit_norms(weight), eps)
    g_norm = unit_norms(grad)
    with np.errstate(invalid="ignore"):
        return np.minimum(1.0, max_norm / np.maximum(g_norm, _TINY))


def agc_(params, clipping=AGC_CLIPPING, eps=AGC_EPS, skip=()):
    """In-place AGC of every ``p.grad`` against ``p.value``; parameters in ``skip``
    (for example the final layer's, as Brock et al. do) and those without a gradient
    are left alone."""
    if isinstance(params, Parameter):
        params = [params]
    skip_ids = {id(p) for p in skip}
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"expected Parameter objects, got {type(p).__name__}")
        if p.grad is None or id(p) in skip_ids:
            continue
        p.grad = agc(p.grad, p.value, clipping, eps)


def _clip_to(grads, threshold):
    """Global-norm clip of a list of arrays to ``threshold`` (PyTorch's coefficient)."""
    clipped, _ = clip.clip_by_global_norm(list(grads), threshold)
    return clipped


class PercentileClip:
    """AutoClip: clip the global norm to the ``percentile``-th percentile of the history.

    ``clipper(grads)`` records the current global norm, then clips to the percentile of
    all recorded norms (the current one included); it returns ``(clipped, norm)``.
    """

    def __init__(self, percentile):
        if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real):
            raise TypeError(f"percentile must be a number, got {type(percentile).__name__}")
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100], got {percentile}")
        self.percentile = float(percentile)
        self.history = []

    def threshold(self):
        """The current threshold (``inf`` before the first norm)."""
        if not self.history:
            return math.inf
        return float(np.percentile(self.history, self.percentile))

    def __call__(self, grads):
        grads = [np.asarray(g, dtype=np.float64) for g in grads]
        norm = clip.global_norm(grads)
        if not math.isfinite(norm):
            raise ValueError(f"the global gradient norm is {norm}; percentile clipping "
                             "needs finite norms (skip the step first)")
        self.history.append(norm)
        return _clip_to(grads, self.threshold()), norm


class ZClip:
    r"""Z-score spike clipping with the update of Kumar et al. (2025), reciprocal mode.

    The first ``warmup`` norms are only recorded (no clipping); then :math:`\mu` and
    :math:`\sigma^2` start as their mean and (population) variance. At each later step
    with norm :math:`n`:

    1. :math:`z = (n - \mu)/(\sigma + \epsilon)`;
    2. if :math:`z > z_{\mathrm{thres}}`, clip to
       :math:`n^\ast = \mu + z_{\mathrm{thres}}^2\,\sigma / z` (else :math:`n^\ast = n`);
    3. :math:`\mu \leftarrow \alpha\mu + (1-\alpha) n^\ast`,
       :math:`\sigma^2 \leftarrow \alpha\sigma^2 + (1-\alpha)(n^\ast - \mu)^2`
       with the *new* :math:`\mu`.

    Defaults :math:`\alpha = 0.97`, :math:`z_{\mathrm{thres}} = 2.5`, 25 warm-up steps,
    :math:`\epsilon = 10^{-6}` follow the authors' released code.
    """

    def __init__(self, alpha=0.97, z_thresh=2.5, warmup=25, eps=1e-6):
        self.alpha = validate.positive_number(alpha, "alpha")
        if self.alpha >= 1:
            raise ValueError(f"alpha must be below 1, got {alpha}")
        self.z_thresh = validate.positive_number(z_thresh, "z_thresh")
        self.warmup = validate.positive_int(warmup, "warmup")
        self.eps = validate.positive_number(eps, "eps")
        self.buffer = []
        self.mean = None
        self.var = None

    def update(self, norm):
        """One step on a norm: returns the norm to clip to (``norm`` itself when no clip)."""
        norm = float(norm)
        if not math.isfinite(norm):
            raise ValueError(f"the gradient norm is {norm}; ZClip needs finite norms")
        if self.mean is None:
            self.buffer.append(norm)
            if len(self.buffer) >= self.warmup:
                self.mean = float(np.mean(self.buffer))
                self.var = float(np.mean((np.asarray(self.buffer) - self.mean) ** 2))
                self.buffer = []
            return norm
        target = zclip_target(norm, self.mean, self.var, self.z_thresh, self.eps)
        self.mean, self.var = ema_update(self.mean, self.var, target, self.alpha)
        return target

    def __call__(self, grads):
        grads = [np.asarray(g, dtype=np.float64) for g in grads]
        norm = clip.global_norm(grads)
        target = self.update(norm)
        if target >= norm:
            return grads, norm
        return _clip_to(grads, target), norm


def zclip_target(norm, mean, var, z_thresh=2.5, eps=1e-6):
    r"""The norm ZClip clips to: :math:`\mu + z_{\mathrm{thres}}^2\sigma/z` when
    :math:`z = (n-\mu)/(\sigma+\epsilon) > z_{\mathrm{thres}}`, else ``norm``.

    Works on floats and, element by element, on arrays (one run per entry)."""
    std = np.sqrt(var)
    z = (norm - mean) / (std + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(z > z_thresh, mean + z_thresh**2 * std / z, norm)
    return float(target) if np.ndim(target) == 0 else target


def ema_update(mean, var, value, alpha):
    r""":math:`\mu' = \alpha\mu + (1-\alpha)x`, :math:`\sigma'^2 = \alpha\sigma^2 +
    (1-\alpha)(x-\mu')^2`: ZClip's moving averages (the variance uses the new mean)."""
    mean = alpha * mean + (1 - alpha) * value
    var = alpha * var + (1 - alpha) * (value - mean) ** 2
    return mean, var
