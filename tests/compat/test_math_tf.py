"""Values of featherflow's math ops against real TensorFlow (skipped where TF is absent)."""
import numpy as np
import pytest

import featherflow as ff

tf = pytest.importorskip("tensorflow")

X = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
CASES = [
    ("reduce_sum", lambda m, x: m.reduce_sum(x, axis=1, keepdims=True)),
    ("reduce_mean_int", lambda m, x: m.reduce_mean(m.cast(x * 10, m.int32), axis=0)),
    ("reduce_logsumexp", lambda m, x: m.reduce_logsumexp(x, axis=-1)),
    ("reduce_std", lambda m, x: m.math.reduce_std(x, axis=0)),
    ("argmax", lambda m, x: m.argmax(x, axis=1)),
    ("cumprod", lambda m, x: m.math.cumprod(x, axis=1, exclusive=True, reverse=True)),
    ("top_k", lambda m, x: m.math.top_k(m.round(x), 2).indices),
    ("argsort", lambda m, x: m.argsort(m.round(x), direction="DESCENDING", stable=True)),
    ("where", lambda m, x: m.where(m.greater(x, 0.0))),
    ("clip", lambda m, x: m.clip_by_value(x, -0.5, 0.5)),
    ("matmul", lambda m, x: m.matmul(x, x, transpose_b=True)),
    ("einsum", lambda m, x: m.einsum("ij,kj->ik", x, x)),
    ("tensordot", lambda m, x: m.tensordot(x, x, [[0], [0]])),
    ("floormod", lambda m, x: m.math.floormod(m.cast(x * 10, m.int32), 3)),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_matches_tensorflow(name, fn):
    want = fn(tf, tf.constant(X))
    got = fn(ff, ff.constant(X))
    assert got.dtype.name == want.dtype.name
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
