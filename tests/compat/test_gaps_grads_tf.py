"""Einsum, Sort, TopKV2 and sliced-variable gradients against real TensorFlow (skipped where it is
not installed): values, dense vs IndexedSlices, dtypes, second order.

Run: PYTHONPATH=/work/main /work/tfenv/bin/python -m pytest tests/compat/test_gaps_grads_tf.py
"""
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

import featherflow as tf  # noqa: E402

rng = np.random.default_rng(0)

# (equation, operand shapes): equations TensorFlow's Einsum accepts (1 or 2 operands; its
# ellipsis broadcasting allows size-1 ellipsis axes, not size-1 named labels).
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ijk->ki", [(2, 3, 4)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ij,ik->", [(2, 3), (2, 4)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...i,...i->...", [(1, 3), (2, 3)]),
]


def _grads(m, fn, values, order=1):
    """Gradients of sum(fn(*xs)) (and, for order 2, of the sum of those gradients)."""
    xs = [m.constant(v) for v in values]
    with m.GradientTape() as outer:
        outer.watch(xs)
        with m.GradientTape() as inner:
            inner.watch(xs)
            y = fn(m, *xs)
        g = inner.gradient(y, xs)
        if order == 1:
            return g
        s = m.add_n([m.reduce_sum(gi * gi) for gi in g if gi is not None])
    return outer.gradient(s, xs)


def _same(ours, theirs, rtol=1e-10):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
            continue
        assert a.dtype.name == b.dtype.name
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
@pytest.mark.parametrize("order", [1, 2])
def test_einsum_grads_match_tf(eq, shapes, order):
    values = [rng.standard_normal(s) for s in shapes]

    def fn(m, *xs):
        return m.einsum(eq, *xs) ** 2

    _same(_grads(tf, fn, values, order), _grads(tf_real, fn, values, order))


def test_einsum_complex_grads_match_tf():
    values = [rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3)),
              rng.standard_normal((3, 2)) - 1j * rng.standard_normal((3, 2))]
    _same(_grads(tf, lambda m, a, b: m.einsum("ij,jk->ik", a, b), values),
          _grads(tf_real, lambda m, a, b: m.einsum("ij,jk->ik", a, b), values))


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
@pytest.mark.parametrize("order", [1, 2])
def test_sort_grads_match_tf(axis, direction, order):
    x = rng.standard_normal((3, 4, 2))
    w = np.arange(24.0).reshape(3, 4, 2)

    def fn(m, a):
        return m.sort(a, axis=axis, direction=direction) * w * a[:1]

    _same(_grads(tf, fn, [x], order), _grads(tf_real, fn, [x], order))


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_top_k_grads_match_tf(k, dtype):
    x = rng.standard_normal((2, 3, 4)).astype(dtype)

    def fn(m, a):
        return m.math.top_k(a, k=k).values ** 3

    _same(_grads(tf, fn, [x], 2), _grads(tf_real, fn, [x], 2), rtol=1e-5)


# -- variables ------------------------------------------------------------------------------
SLICED = {
    "row": lambda m, v: v[0] * 2.0,
    "column": lambda m, v: v[:, :1] * 2.0,
    "reversed": lambda m, v: v[::-1, 1] * m.constant([1.0, 5.0]),
    "target": lambda m, v: v[1],
    "matmul": lambda m, v: m.matmul(v[:1], v[:, 1:]),
    "scalar": lambda m, v: v[0, 1] ** 3,
    "gather_nd_rows": lambda m, v: m.gather_nd(v, [[1], [1]]),
    "gather_nd_rows64": lambda m, v: m.gather_nd(v, m.constant([[1]], m.int64)),
    "gather_nd_elems": lambda m, v: m.gather_nd(v, [[1, 0]]),
    "var_gather_nd_rows": lambda m, v: v.gather_nd([[1], [0]]),
    "var_gather_nd_elems": lambda m, v: v.gather_nd([[[1]]]),
    "sparse_read": lambda m, v: v.sparse_read([1, 1]),
}


def _variable_grad(m, fn):
    v = m.Variable([[1.0, 2.0], [3.0, 4.0]])
    with m.GradientTape() as t:
        y = fn(m, v)
    return t.gradient(y, v)


@pytest.mark.parametrize("name", sorted(SLICED))
def test_variable_read_grads_match_tf(name):
    ours = _variable_grad(tf, SLICED[name])
    theirs = _variable_grad(tf_real, SLICED[name])
    sparse = isinstance(theirs, tf_real.IndexedSlices)
    assert isinstance(ours, tf.IndexedSlices) == sparse
    if sparse:
        for a, b in ((ours.values, theirs.values), (ours.indices, theirs.indices),
                     (ours.dense_shape, theirs.dense_shape)):
            assert a.dtype.name == b.dtype.name
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sliced_variable_jacobian_matches_tf():
    def jac(m):
        v = m.Variable([[1.0, 2.0], [3.0, 4.0]])
        with m.GradientTape() as t:
            y = v[::-1, 1] * m.constant([1.0, 5.0])
        return t.jacobian(y, v).numpy()

    np.testing.assert_array_equal(jac(tf), jac(tf_real))
