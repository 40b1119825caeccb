r"""Backpropagation through time: how the gradient on :math:`h_k` changes with distance.

Every experiment of chapter 3 runs the package's :class:`gradlab.rnn.RNN` with
``n_in = H`` and :math:`W_{in} = d\,I`, so each hidden unit receives its own
Gaussian input of standard deviation ``drive`` :math:`= d`:

.. math::
    a_t = d\,x_t + h_{t-1} W_{rec}, \qquad h_t = f(a_t), \qquad x_t \sim N(0, I_H).

With a loss on the last state only, :math:`\partial \mathcal{L}/\partial h_k` is a product
of :math:`T-k` step Jacobians :math:`\mathrm{diag}(f'(a_t))\,W_{rec}^\top`, and
its norm changes by a roughly constant factor per step: the *slope* below is the
least-squares fit of :math:`\log\|\partial \mathcal{L}/\partial h_k\|` against the distance
:math:`T-k` (negative: vanishing, positive: exploding; :math:`\log\rho` for a
linear RNN).
"""

from dataclasses import dataclass

import numpy as np

from .. import rnn, validate

SWEEP_RADII = (0.5, 0.9, 1.0, 1.1, 1.5)


def gaussian_recurrence(n_hidden, radius, rng):
    r""":math:`W_{rec}` with i.i.d. :math:`N(0, 1/H)` entries rescaled to spectral radius ``radius``.

    Returns an (H, H) array. Its largest singular value is well above ``radius``
    (about twice for large H): a Gaussian matrix is far from normal.
    """
    matrix = rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_hidden))
    return rnn.scale_to_spectral_radius(matrix, radius)


def orthogonal_recurrence(n_hidden, scale, rng):
    r"""``scale`` times a random orthogonal (H, H) matrix: every singular value equals ``scale``.

    The orthogonal factor is the Q of a QR decomposition of a Gaussian matrix with
    the signs fixed by :math:`\mathrm{diag}(R) > 0`, which makes it Haar distributed.
    """
    q, r = np.linalg.qr(rng.normal(size=(n_hidden, n_hidden)))
    return scale * q * np.sign(np.diag(r))


def largest_singular_value(matrix):
    r""":math:`\sigma_{\max}(W) = \|W\|_2`, the largest one-step gain of :math:`W`."""
    return float(np.linalg.norm(matrix, 2))


def power_growth_rates(matrix, powers):
    r""":math:`\|W^n\|_2^{1/n}` for each n in ``powers``: the average gain per step over n steps.

    It starts at :math:`\sigma_{\max}(W)` (n = 1) and tends to :math:`\rho(W)` as n grows
    (Gelfand's formula), which is why the spectral radius sets the long-run rate.
    """
    rates = []
    for n in powers:
        n = validate.positive_int(n, "power")
        rates.append(largest_singular_value(np.linalg.matrix_power(matrix, n)) ** (1.0 / n))
    return np.array(rates)


def build_rnn(W_rec, activation, drive):
    """A :class:`gradlab.rnn.RNN` with the given recurrence and :math:`W_{in}` = ``drive`` × I."""
    n_hidden = W_rec.shape[0]
    model = rnn.RNN(n_hidden, n_hidden, activation)
    model.W_rec.value = np.array(W_rec, dtype=np.float64)
    model.W_in.value = drive * np.eye(n_hidden)
    return model


def fitted_slope(norms, fit_from=10):
    r"""Growth of :math:`\log\|\partial \mathcal{L}/\partial h_k\|` per step back in time.

    ``norms`` (T,) holds :math:`\|\partial \mathcal{L}/\partial h_k\|` for k = 1..T. Fits a
    line to the log norms against the distance :math:`T-k`, using distances
    ``>= fit_from`` (skipping the first steps, where a non-normal :math:`W_{rec}`
    can transiently grow) and only finite, positive norms. NaN if fewer than 2 remain.
    """
    norms = np.asarray(norms, dtype=np.float64)
    distance = np.arange(len(norms))[::-1]
    keep = (distance >= fit_from) & np.isfinite(norms) & (norms > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(distance[keep], np.log(norms[keep]), 1)[0])


@dataclass
class GradientTrace:
    r"""The gradient on every hidden state for a loss on the last state only.

    Attributes:
        norms: (T,) :math:`\|\partial \mathcal{L}/\partial h_k\|` for k = 1..T (ends at 1).
        slope: :func:`fitted_slope` of ``norms``, per step back in time.
        activation, radius, sigma_max, drive: the setting that produced it
            (:math:`\rho(W_{rec})`, :math:`\sigma_{\max}(W_{rec})`, input std).
    """

    norms: np.ndarray
    slope: float
    activation: str
    radius: float
    sigma_max: float
    drive: float

    @property
    def steps(self):
        """Time steps k = 1..T of ``norms``."""
        return np.arange(1, len(self.norms) + 1)


def gradient_through_time(W_rec, activation="identity", steps=100, drive=0.5, seed=0,
                          fit_from=10):
    r"""Run the RNN over ``steps`` random inputs and backpropagate :math:`L = u\cdot h_T`.

    ``u`` is a random unit vector, so :math:`\|\partial \mathcal{L}/\partial h_T\| = 1`; every
    earlier :math:`\partial \mathcal{L}/\partial h_k` comes from BPTT alone. Overflow to inf and
    underflow to 0 are kept (no warnings), so callers can show where they happen.
    """
    steps = validate.positive_int(steps, "steps")
    drive = validate.nonnegative_number(drive, "drive")
    model = build_rnn(W_rec, activation, drive)
    n_hidden = model.n_hidden
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(steps, 1, n_hidden))
    u = rng.normal(size=n_hidden)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        hs = model.forward(x)
        grad_h = np.zeros_like(hs)
        grad_h[-1, 0] = u / np.linalg.norm(u)
        model.backward(grad_h)
    norms = model.hidden_grad_norms()
    return GradientTrace(norms, fitted_slope(norms, fit_from), activation,
                         rnn.spectral_radius(W_rec), largest_singular_value(W_rec), drive)


def spectral_radius_sweep(radii=SWEEP_RADII, activations=("identity", "tanh"), n_hidden=32,
                          steps=100, drive=0.5, seed=0):
    """One Gaussian :math:`W_{rec}` rescaled to each radius, run with each activation.

    Every run sees the same input sequence and the same loss vector. Returns a dict
    ``{(activation, radius): GradientTrace}``.
    """
    base = gaussian_recurrence(n_hidden, 1.0, np.random.default_rng(seed))
    return {(activation, radius): gradient_through_time(base * radius, activation, steps,
                                                        drive, seed + 1)
            for activation in activations for radius in radii}


def singular_value_counterexample(n_hidden=32, radius=0.9, steps=100, seed=0):
    r""":math:`\sigma_{\max} > 1` without explosion: a Gaussian :math:`W_{rec}` at spectral radius
    ``radius`` < 1, identity activation. The gradient shrinks at :math:`\log\rho` per step.
    """
    W_rec = gaussian_recurrence(n_hidden, radius, np.random.default_rng(seed))
    return gradient_through_time(W_rec, "identity", steps, drive=0.5, seed=seed + 1)


def saturation_counterexample(drive, n_hidden=32, scale=1.1, steps=100, seed=0):
    r"""Every singular value ``scale`` > 1, tanh, input std ``drive``.

    Without input (``drive=0``) the state stays at 0, :math:`\tanh'(0) = 1`, and the
    gradient grows at :math:`\log(\mathrm{scale})`; with input the units saturate,
    :math:`\tanh' < 1`, and the gradient can vanish instead.
    """
    W_rec = orthogonal_recurrence(n_hidden, scale, np.random.default_rng(seed))
    return gradient_through_time(W_rec, "tanh", steps, drive, seed + 1)


def gradient_terms_by_distance(model, x, grad_h):
    r"""The BPTT gradient of :math:`W_{rec}` as an explicit sum of products of Jacobians.

    .. math::
        \frac{\partial \mathcal{L}}{\partial W_{rec}} = \sum_{t=1}^{T} \sum_{k=1}^{t}
        \Big(\frac{\partial \mathcal{L}}{\partial h_t}\,
        \underbrace{J_t J_{t-1} \cdots J_{k+1}}_{t-k \text{ factors}}\Big)
        \frac{\partial^+ h_k}{\partial W_{rec}}, \qquad
        J_i = \frac{\partial h_i}{\partial h_{i-1}} = \mathrm{diag}(f'(a_i))\,W_{rec}^\top,

    where :math:`\partial^+ h_k/\partial W_{rec}` holds :math:`h_{k-1}` fixed and gives
    the outer product :math:`h_{k-1}^\top (g \odot f'(a_k))` for a row gradient :math:`g`.
    ``grad_h`` (T, B, H) is the direct :math:`\partial \mathcal{L}_t/\partial h_t`. Runs
    ``model.forward(x)`` and uses ``model.step_jacobians()``; :math:`O(T^2)`, for
    small checks only.

    Returns (T, H, H): entry ``d`` sums the terms with :math:`t - k = d`. Their sum is
    full BPTT; the sum of the first ``w`` is BPTT truncated to a window of ``w`` steps.
    """
    hs = model.forward(x)
    jacobians = model.step_jacobians()  # (T, B, H, H): [t, b, i, j] = dh_t[i] / dh_{t-1}[j]
    derivative = 1.0 - hs**2 if model.activation == "tanh" else np.ones_like(hs)
    previous = np.concatenate([np.zeros_like(hs[:1]), hs[:-1]])
    steps, _, n_hidden = hs.shape
    terms = np.zeros((steps, n_hidden, n_hidden))
    for t in range(steps):
        g = grad_h[t]  # dL_t/dh_k, starting at k = t
        for k in range(t, -1, -1):
            terms[t - k] += previous[k].T @ (g * derivative[k])
            g = np.einsum("bi,bij->bj", g, jacobians[k])
    return terms


@dataclass
class RecallTask:
    r"""A delayed-recall loss on an RNN,
    :math:`\mathcal{L} = \frac{1}{2T}\sum_t (h_t\cdot v - y_t)^2`, with
    :math:`y_t = x_{t-\text{delay},0}` (0 for the first ``delay`` steps).

    Attributes: ``model``; ``x`` (T, 1, H); ``readout`` v (H,); ``target`` y (T,);
    ``grad_h`` (T, 1, H), the direct :math:`\partial \mathcal{L}/\partial h_t` at the model's
    weights.
    """

    model: rnn.RNN
    x: np.ndarray
    readout: np.ndarray
    target: np.ndarray
    grad_h: np.ndarray

    def loss(self):
        """The loss at the model's current weights (runs a forward pass)."""
        prediction = self.model.forward(self.x)[:, 0] @ self.readout
        return float(0.5 * np.mean((prediction - self.target) ** 2))


def recall_task(W_rec, activation="tanh", steps=60, delay=20, drive=0.5, seed=0):
    """Build the RNN, a random sequence, its delayed targets and the per-step loss gradients."""
    model = build_rnn(W_rec, activation, drive)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(steps, 1, model.n_hidden))
    readout = rng.normal(size=model.n_hidden) / np.sqrt(model.n_hidden)
    target = np.zeros(steps)
    target[delay:] = x[:steps - delay, 0, 0]
    prediction = model.forward(x)[:, 0] @ readout
    grad_h = ((prediction - target) / steps)[:, None, None] * readout
    return RecallTask(model, x, readout, target, grad_h)


def parameter_gradient(model, grad_h, window=None):
    """All of the RNN's parameter gradients, flattened, for BPTT truncated to ``window`` steps."""
    model.zero_grad()
    model.backward(grad_h, truncate=window)
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


@dataclass
class TruncationComparison:
    r"""Truncated against full BPTT on one sequence.

    Attributes:
        windows: (n,) truncation windows.
        cosine: (n,) cosine between truncated and full gradient (all parameters).
        norm_ratio: (n,) :math:`\|g_{\text{window}}\| / \|g_{\text{full}}\|`.
        distance_share: (T,) share of :math:`\sum_d \|G_d\|` carried by the
            :math:`W_{rec}` terms at distance d (:func:`gradient_terms_by_distance`).
    """

    windows: np.ndarray
    cosine: np.ndarray
    norm_ratio: np.ndarray
    distance_share: np.ndarray


def compare_truncation(task, windows):
    """Run full BPTT and BPTT(window) for every window on ``task``'s sequence."""
    task.model.forward(task.x)
    full = parameter_gradient(task.model, task.grad_h)
    cut = [parameter_gradient(task.model, task.grad_h, validate.positive_int(w, "window"))
           for w in windows]
    cosine = [float(g @ full / (np.linalg.norm(g) * np.linalg.norm(full))) for g in cut]
    ratio = [float(np.linalg.norm(g) / np.linalg.norm(full)) for g in cut]
    terms = np.linalg.norm(gradient_terms_by_distance(task.model, task.x, task.grad_h), axis=(1, 2))
    return TruncationComparison(np.asarray(windows), np.array(cosine), np.array(ratio),
                                terms / terms.sum())


def numerical_failure(norms):
    """A readable message for the first overflow, NaN or underflow in ``norms`` (k = 1..T), or None.

    The gradient travels backwards, from k = T down to 1, so the first failure is the one
    with the largest k.
    """
    norms = np.asarray(norms, dtype=np.float64)
    for k in range(len(norms), 0, -1):
        value = norms[k - 1]
        if np.isnan(value):
            return f"gradient became NaN at step k = {k}"
        if np.isinf(value):
            return f"gradient overflowed to inf at step k = {k}"
        if value == 0:
            return f"gradient underflowed to 0 at step k = {k}"
    return None
