"""The global norm from shard norms, and per-shard clipping as a different rule."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from gradlab import clip, clip_sharded as cs


def test_hand_case():
    assert cs.global_norm_from_shard_norms([3.0, 4.0]) == 5.0
    shards = [[np.array([3.0])], [np.array([4.0]), np.array([0.0])]]
    assert cs.global_norm(shards) == 5.0


def test_no_overflow_of_squared_shard_norms():
    assert cs.global_norm_from_shard_norms([3e200, 4e200]) == pytest.approx(5e200)


# entries either 0 or above 1e-100 in size: the unsharded reference squares them and
# would underflow to 0 where the scaled shard norms do not
ENTRIES = st.floats(-1e6, 1e6).filter(lambda x: x == 0 or abs(x) > 1e-100)


@settings(max_examples=50, deadline=None)
@given(st.lists(hnp.arrays(np.float64, st.integers(1, 4), elements=ENTRIES),
                min_size=1, max_size=6), st.integers(1, 4), st.floats(1e-3, 1e3))
def test_sharded_equals_unsharded(tensors, n_shards, c):
    shards = cs.split(tensors, n_shards)
    assert cs.global_norm(shards) == pytest.approx(clip.global_norm(tensors), rel=1e-12, abs=1e-300)
    clipped, _ = cs.clip_sharded(shards, c)
    reference, _ = clip.clip_by_global_norm(tensors, c)
    flat = [g for shard in clipped for g in shard]
    ref = [reference[i] for s in range(n_shards) for i in range(s, len(tensors), n_shards)]
    for a, b in zip(flat, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_per_shard_clipping_is_a_different_rule():
    shards = [[np.array([30.0, 40.0])], [np.array([0.3, 0.4])]]
    each, norms = cs.clip_each_shard(shards, 1.0)
    glob, total = cs.clip_sharded(shards, 1.0)
    assert norms == [50.0, 0.5]
    np.testing.assert_allclose(each[1][0], [0.3, 0.4])  # untouched by its own rule
    assert np.linalg.norm(glob[1][0]) < 0.01  # shrunk by the global rule


def test_bad_input():
    with pytest.raises(TypeError, match="list of shards"):
        cs.global_norm(np.ones(3))
    with pytest.raises(ValueError, match="negative"):
        cs.global_norm_from_shard_norms([-1.0])
    with pytest.raises(ValueError, match="positive"):
        cs.clip_sharded([[np.ones(2)]], 0.0)
