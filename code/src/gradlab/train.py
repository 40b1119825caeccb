"""A minibatch training loop that records gradient statistics and detects divergence.

Per step it records the loss, the global gradient norm before and after the
optimiser's clipping, the clip coefficient (after/before), each parameter's
gradient norm and the update-to-weight ratio :math:`\\|\\Delta w\\|/\\|w\\|`.
When the loss or a parameter stops being finite, training stops at once and
``History.diverged`` says where, instead of printing lines of ``nan``.
"""

from dataclasses import dataclass, field

import numpy as np

from . import validate
from .clip import global_norm


@dataclass
class Divergence:
    """Where training stopped: 1-based epoch, 0-based global step, and why."""

    epoch: int
    step: int
    reason: str

    def __str__(self):
        return f"diverged in epoch {self.epoch} (step {self.step}): {self.reason}"


@dataclass
class History:
    """Everything ``fit`` measured. Per-step lists share one index."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    clipped_norm: list = field(default_factory=list)
    clip_coef: list = field(default_factory=list)
    layer_grad_norms: dict = field(default_factory=dict)
    update_ratio: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    diverged: Divergence | None = None

    @property
    def steps(self):
        return len(self.loss)

    def share_clipped(self, tolerance=1e-12):
        """Fraction of steps on which clipping changed the gradient."""
        coef = np.asarray(self.clip_coef)
        return float(np.mean(coef < 1.0 - tolerance)) if coef.size else 0.0

    def summary(self):
        if self.diverged is not None:
            return str(self.diverged)
        last = f"final train loss {self.epoch_loss[-1]:.4g}" if self.epoch_loss else "no epochs"
        if self.val_loss:
            last += f", validation loss {self.val_loss[-1]:.4g}"
        return f"trained {len(self.epoch_loss)} epochs ({self.steps} steps): {last}"

    def __repr__(self):
        return f"History({self.summary()})"


def _finite_parameters(params):
    return all(np.all(np.isfinite(p.value)) for p in params)


def evaluate(model, loss_fn, X, y):
    """Loss of ``model`` on the whole of ``(X, y)`` (no gradients)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return loss_fn(model.forward(X), y)


def fit(model, loss_fn, optimizer, X, y, epochs, batch_size=None, seed=0,
        X_val=None, y_val=None, shuffle=True, batch_axis=0):
    """Train ``model`` with minibatches; return a ``History``.

    Args:
        model: a module with ``forward``, ``backward`` and ``parameters``.
        loss_fn: a ``gradlab.losses`` loss.
        optimizer: a ``gradlab.optim`` optimiser over ``model.parameters()``;
            any clipping is configured on it.
        X, y: training data; samples run along ``batch_axis`` of ``X``
            (1 for time-major sequences) and along the first axis of ``y``.
        epochs: number of passes; batch_size: ``None`` for full batch.
        seed: seeds the shuffling, so runs are repeatable.
        X_val, y_val: optional data evaluated at the end of every epoch.
    """
    epochs = validate.positive_int(epochs, "epochs")
    n = len(y)
    batch_size = n if batch_size is None else validate.positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(seed)
    params = model.parameters()
    history = History(layer_grad_norms={p.name: [] for p in params})
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if shuffle else np.arange(n)
            batch_losses = []
            for start in range(0, n, batch_size):
                index = order[start:start + batch_size]
                problem = _train_step(model, loss_fn, optimizer, params,
                                      np.take(X, index, axis=batch_axis), y[index], history)
                batch_losses.append(history.loss[-1])
                if problem:
                    history.diverged = Divergence(epoch, history.steps - 1, problem)
                    return history
            history.epoch_loss.append(float(np.mean(batch_losses)))
            if X_val is not None:
                history.val_loss.append(evaluate(model, loss_fn, X_val, y_val))
    return history


def _train_step(model, loss_fn, optimizer, params, X, y, history):
    """One forward/backward/clip/update; return a reason string if it diverged."""
    optimizer.zero_grad()
    loss = loss_fn(model.forward(X), y)
    history.loss.append(loss)
    if not np.isfinite(loss):
        return f"the loss became {loss}"
    model.backward(loss_fn.backward())
    grads = [p.grad for p in params if p.grad is not None]
    before = global_norm(grads)
    old_values = [p.value.copy() for p in params]
    optimizer.step()
    after = global_norm([p.grad for p in params if p.grad is not None])
    history.grad_norm.append(before)
    history.clipped_norm.append(after)
    history.clip_coef.append(after / before if before > 0 else 1.0)
    for p in params:
        history.layer_grad_norms[p.name].append(
            float(np.linalg.norm(p.grad)) if p.grad is not None else 0.0)
    change = global_norm([p.value - old for p, old in zip(params, old_values)])
    history.update_ratio.append(change / max(global_norm(old_values), 1e-300))
    if not np.isfinite(before):
        return f"the gradient norm became {before}"
    if not _finite_parameters(params):
        return "a parameter became non-finite"
    return None
