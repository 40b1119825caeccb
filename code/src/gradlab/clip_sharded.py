r"""The global gradient norm of a model split across devices, and clipping with it.

A model split into shards (each device holding some tensors, or slices of them) has the
global norm :math:`N = (\sum_s N_s^2)^{1/2}` of its shard norms :math:`N_s`: each device
computes :math:`N_s^2` over its own tensors, one all-reduce sums them, every device takes
the square root. Clipping every shard with that one :math:`N` is exactly the unsharded
global clip. Clipping every shard by its *own* norm is a different rule: it changes the
direction of the whole update.

A shard is a list of arrays; a sharded model is a list of shards.
"""

import math

import numpy as np

from . import clip, validate
from .clip_adaptive import unit_norms


def _shards(shards):
    if isinstance(shards, np.ndarray) or not isinstance(shards, (list, tuple)):
        raise TypeError("expected a list of shards, each a list of arrays")
    out = []
    for s, shard in enumerate(shards):
        if isinstance(shard, np.ndarray):
            shard = [shard]
        if not isinstance(shard, (list, tuple)):
            raise TypeError(f"shard {s} must be a list of arrays, got {type(shard).__name__}")
        out.append([np.asarray(g, dtype=np.float64) for g in shard])
    if not out:
        raise ValueError("expected at least one shard")
    return out


def shard_norm(shard):
    """The 2-norm over one shard's tensors (what one device computes locally)."""
    flat = [np.asarray(g, dtype=np.float64).ravel() for g in shard]
    if not flat:
        return 0.0
    return float(unit_norms(np.concatenate(flat)))


def global_norm_from_shard_norms(norms):
    r""":math:`(\sum_s N_s^2)^{1/2}`, computed without overflowing the squares."""
    norms = np.asarray(norms, dtype=np.float64).ravel()
    if norms.size == 0:
        raise ValueError("expected at least one shard norm")
    if np.any(norms < 0):
        raise ValueError("a norm cannot be negative")
    return float(unit_norms(norms))


def global_norm(shards):
    """The global norm of a sharded model, from its shard norms (one all-reduce)."""
    return global_norm_from_shard_norms([shard_norm(s) for s in _shards(shards)])


def clip_sharded(shards, max_norm):
    """Every shard scaled by the one global coefficient; returns ``(clipped, total_norm)``.

    Identical to ``clip.clip_by_global_norm`` over all tensors unsharded.
    """
    c = validate.positive_number(max_norm, "max_norm")
    shards = _shards(shards)
    total = global_norm_from_shard_norms([shard_norm(s) for s in shards])
    coefficient = float(clip.clip_coefficient(total, c))
    with np.errstate(invalid="ignore"):
        return [[g * coefficient for g in shard] for shard in shards], total


def clip_each_shard(shards, max_norm):
    """The different rule: every shard clipped by its own norm; returns
    ``(clipped, shard_norms)``."""
    c = validate.positive_number(max_norm, "max_norm")
    shards = _shards(shards)
    norms = [shard_norm(s) for s in shards]
    clipped = []
    for shard, n in zip(shards, norms):
        coefficient = float(clip.clip_coefficient(n, c)) if math.isfinite(n) else 0.0
        clipped.append([g * coefficient for g in shard])
    return clipped, norms


def split(tensors, n_shards):
    """Deal a list of tensors round-robin onto ``n_shards`` shards (a simulated split)."""
    n = validate.positive_int(n_shards, "n_shards")
    return [list(tensors[s::n]) for s in range(n)]
