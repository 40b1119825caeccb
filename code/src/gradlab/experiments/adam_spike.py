r"""Clipping before Adam: what a constant rescaling and what one spike do to the updates.

Adam's update :math:`\eta\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)` is unchanged when every
gradient is multiplied by the same :math:`s > 0` (both :math:`\hat m` and
:math:`\sqrt{\hat v}` scale by :math:`s`), up to the :math:`\epsilon` in the denominator.
So a clip that is active on every step with a similar factor changes almost nothing. A
single spike is different: its square enters :math:`v` with weight :math:`1-\beta_2` and
decays as :math:`\beta_2^k`, so it shrinks the following updates for about
:math:`1/(1-\beta_2)` steps. Clipping before the optimiser keeps :math:`v` clean.

Gradients are arrays of shape ``(T, d)``: one row per step; nothing here draws.
"""

from dataclasses import dataclass

import numpy as np

from .. import clip, validate


def adam_updates(grads, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam's update vectors (what is subtracted from the weights), one row per step.

    The same rule as ``optim.Adam`` (bias-corrected, :math:`\\epsilon` outside the
    square root), on a whole gradient sequence ``(T, ...)`` at once.
    """
    g = validate.array(grads, "grads")
    if g.ndim < 1 or len(g) == 0:
        raise ValueError("adam_updates needs a non-empty sequence of gradients")
    m = np.zeros_like(g[0])
    v = np.zeros_like(g[0])
    out = np.empty_like(g)
    for t in range(len(g)):
        m = beta1 * m + (1 - beta1) * g[t]
        v = beta2 * v + (1 - beta2) * g[t] ** 2
        m_hat = m / (1 - beta1 ** (t + 1))
        v_hat = v / (1 - beta2 ** (t + 1))
        out[t] = lr * m_hat / (np.sqrt(v_hat) + eps)
    return out


def gradient_stream(n_steps=300, dim=50, mean=0.5, std=1.0, seed=0):
    """A noisy gradient of ``dim`` coordinates: ``mean + std * N(0, 1)`` on every step."""
    rng = np.random.default_rng(seed)
    return mean + std * rng.standard_normal((n_steps, dim))


def clip_rows(grads, max_norm):
    """Global-norm clip of every step's gradient (each row) at ``max_norm``."""
    g = validate.array(grads, "grads", ndim=2)
    coefficient = clip.clip_coefficient(np.linalg.norm(g, axis=1), max_norm)
    return g * coefficient[:, None]


@dataclass
class ScaleInvariance:
    """Adam on a gradient stream and on the same stream times ``scale``."""

    scale: float
    max_difference: float  # max |update(g) - update(scale * g)| over steps and coordinates
    max_update: float  # the largest |update| entry, for comparison


def scale_invariance(scale=0.01, lr=1e-3, grads=None, **adam):
    """How much multiplying every gradient by ``scale`` changes Adam's updates."""
    g = gradient_stream() if grads is None else grads
    a = adam_updates(g, lr, **adam)
    b = adam_updates(scale * g, lr, **adam)
    return ScaleInvariance(scale, float(np.max(np.abs(a - b))), float(np.max(np.abs(a))))


@dataclass
class SpikeResponse:
    """Update norms per step without a spike, with one, and with one clipped before Adam."""

    spike: float
    beta2: float
    threshold: float
    spike_step: int
    window: int
    clean: np.ndarray  # (T,) update norm, no spike
    spiked: np.ndarray  # (T,) update norm, spike at spike_step
    clipped: np.ndarray  # (T,) update norm, spike clipped at threshold before Adam

    def _after(self, run):
        s = slice(self.spike_step + 1, self.spike_step + 1 + self.window)
        return float(np.mean(run[s] / self.clean[s]))

    @property
    def shrink_spiked(self):
        """Mean over the window after the spike of update(spiked) / update(clean)."""
        return self._after(self.spiked)

    @property
    def shrink_clipped(self):
        return self._after(self.clipped)


def spike_response(spike=1e3, beta2=0.999, threshold=10.0, n_steps=300, spike_step=100,
                   window=100, lr=1e-3, seed=0):
    """One gradient spike (every coordinate times ``spike`` at ``spike_step``) under Adam.

    ``threshold`` is the global-norm clip applied to every step's gradient before Adam in
    the third run (the stream's typical norm is about 8, so 10 rarely touches it).
    """
    validate.positive_number(spike, "spike")
    g = gradient_stream(n_steps, seed=seed)
    spiked = g.copy()
    spiked[spike_step] *= spike

    def norms(stream):
        return np.linalg.norm(adam_updates(stream, lr, beta2=beta2), axis=1)

    return SpikeResponse(float(spike), float(beta2), float(threshold), spike_step, window,
                         norms(g), norms(spiked), norms(clip_rows(spiked, threshold)))


def spike_responses(spikes, beta2=0.999, thresholds=(10.0,), n_steps=300, spike_step=100,
                    window=100, lr=1e-3, seed=0):
    """``spike_response`` for every spike size and threshold at once, for one ``beta2``.

    Returns ``{(spike, threshold): SpikeResponse}``, each equal to
    ``spike_response(spike, beta2, threshold, ...)``; a threshold of ``math.inf`` means no
    clipping (the clipped run is the spiked one). The streams are stacked along a second
    axis, ``(T, run, d)``, so Adam runs once over all of them.
    """
    spikes = [validate.positive_number(s, "spike") for s in spikes]
    thresholds = [float(c) for c in thresholds]
    g = gradient_stream(n_steps, seed=seed)
    spiked = np.repeat(g[:, None, :], len(spikes), axis=1)
    spiked[spike_step] *= np.array(spikes)[:, None]
    finite = [c for c in thresholds if np.isfinite(c)]
    clipped = [clip_rows(spiked.reshape(-1, g.shape[1]), c).reshape(spiked.shape)
               for c in finite]
    streams = np.concatenate([g[:, None, :], spiked] + clipped, axis=1)
    norms = np.linalg.norm(adam_updates(streams, lr, beta2=beta2), axis=-1)  # (T, run)
    clean, by_spike = norms[:, 0], norms[:, 1:1 + len(spikes)]
    by_clip = {c: norms[:, 1 + len(spikes) * (1 + i):1 + len(spikes) * (2 + i)]
               for i, c in enumerate(finite)}
    return {(s, c): SpikeResponse(float(s), float(beta2), c, spike_step, window, clean,
                                  by_spike[:, i], by_clip[c][:, i] if c in by_clip
                                  else by_spike[:, i])
            for i, s in enumerate(spikes) for c in thresholds}
