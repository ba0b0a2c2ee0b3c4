"""Gradients that closed the registry's known gaps: Einsum (a table of equations), Sort, TopKV2;
Where declared non-differentiable; gradients through sliced variable reads (`v[key]`) and the
variable gathers. Values are checked with the numerical checker (first and second order) and the
vectorized Jacobian against the per-row one.
"""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.autodiff import backprop
from featherflow._src.ops.defs.grad_util import BATCHABLE
from featherflow._src.ops.registry import REGISTRY
from featherflow._src.testing.gradient_check import check_grads

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


# equation -> operand shapes. Covers explicit and implicit outputs, ellipsis broadcasting,
# repeated labels (traces, diagonals), labels summed out of one operand, N operands.
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),              # matmul
    ("ij,jk", [(2, 3), (3, 4)]),                  # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),     # batch matmul
    ("i,j->ij", [(2,), (3,)]),                    # outer product
    ("ij->ji", [(2, 3)]),                         # transpose
    ("ij->", [(2, 3)]),                           # full reduction
    ("ijk->ki", [(2, 3, 4)]),                     # reduction + transpose
    ("ii->", [(3, 3)]),                           # trace
    ("ii", [(3, 3)]),                             # trace, implicit
    ("ii->i", [(3, 3)]),                          # diagonal
    ("iij->ij", [(2, 2, 3)]),                     # batched diagonal
    ("iji->j", [(2, 3, 2)]),                      # non-adjacent repeat
    ("ij,ij->i", [(2, 3), (2, 3)]),               # row-wise dot
    ("i,i->", [(4,), (4,)]),                      # dot
    ("ij,ik->", [(2, 3), (2, 4)]),                # labels summed out of one operand only
    ("ab,cd->", [(2, 2), (3, 1)]),                # no shared labels
    ("ijk,k->ij", [(2, 3, 4), (4,)]),             # matrix-vector along the last axis
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),   # ellipsis broadcasting (size 1, rank)
    ("...ij,...jk", [(2, 1, 2, 3), (4, 3, 2)]),          # same, implicit
    ("i...->...", [(3, 2, 2)]),                   # ellipsis after a label
    ("...i,...i->...", [(1, 3), (2, 3)]),         # size-1 ellipsis axis in the first operand
    ("i,j,k->ijk", [(2,), (1,), (3,)]),           # three operands
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),   # chain of three
]


def _jacobians_agree(f, xs):
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape(persistent=True) as t:
        t.watch(ts)
        y = f(*ts)
    fast = t.jacobian(y, ts)
    slow = t.jacobian(y, ts, experimental_use_pfor=False)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_gradient(eq, shapes):
    xs = [r(*s) for s in shapes]

    def f(*a):
        return tf.einsum(eq, *a)

    check_grads(f, xs, order=2)
    _jacobians_agree(f, xs)


def test_einsum_gradient_values_match_numpy_adjoint():
    # d/dA sum(G * A @ B) = G @ B^T: an independent closed form.
    a, b, g = r(2, 3), r(3, 4), r(2, 4)
    ta, tb = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as t:
        t.watch([ta, tb])
        y = tf.einsum("ij,jk->ik", ta, tb)
    da, db = t.gradient(y, [ta, tb], output_gradients=tf.constant(g))
    np.testing.assert_allclose(da.numpy(), g @ b.T, rtol=1e-12)
    np.testing.assert_allclose(db.numpy(), a.T @ g, rtol=1e-12)
    # trace: the gradient is the identity
    m = tf.constant(r(3, 3))
    with tf.GradientTape() as t:
        t.watch(m)
        y = tf.einsum("ii->", m)
    np.testing.assert_array_equal(t.gradient(y, m).numpy(), np.eye(3))


def test_einsum_complex_gradient_conjugates_like_matmul():
    a = tf.constant(r(2, 3) + 1j * r(2, 3))
    b = tf.constant(r(3, 2) + 1j * r(3, 2))
    with tf.GradientTape(persistent=True) as t:
        t.watch([a, b])
        y1 = tf.einsum("ij,jk->ik", a, b)
        y2 = tf.matmul(a, b)
    for g1, g2 in zip(t.gradient(y1, [a, b]), t.gradient(y2, [a, b])):
        np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float16, tf.bfloat16])
def test_einsum_gradient_dtype_and_device(dtype):
    with tf.device("/CPU:0"):
        a = tf.constant([[1.0, 2.0], [3.0, 4.0]], dtype)
        with tf.GradientTape() as t:
            t.watch(a)
            y = tf.einsum("ij,jk->ik", a, a)
        g = t.gradient(y, a)
    assert g.dtype == dtype and g.device.endswith("CPU:0")
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(g.numpy().astype(np.float64), x.sum(1)[None, :] + x.sum(0)[:, None])


def test_einsum_skips_unneeded_operands():
    # Only the watched operand's gradient is computed (skip_input_indices).
    a, b = tf.constant(r(2, 3)), tf.constant(r(3, 4))
    with tf.GradientTape() as t:
        t.watch(b)
        y = tf.einsum("ij,jk->ik", a, b)
    g = t.gradient(y, [a, b])
    assert g[0] is None
    np.testing.assert_allclose(g[1].numpy(), np.repeat(a.numpy().sum(0)[:, None], 4, 1))


# -- Sort -----------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("direction", ["ASCENDING", "DESCENDING"])
def test_sort_gradient(axis, direction):
    x = r(3, 4, 2)
    w = tf.constant(np.arange(24.0).reshape(3, 4, 2))

    def f(a):
        return tf.sort(a, axis=axis, direction=direction) * w

    check_grads(f, [x], order=2)
    _jacobians_agree(lambda a: tf.sort(a, axis=axis, direction=direction), [x])


def test_sort_gradient_is_the_inverse_permutation():
    x = np.array([3.0, 1.0, 2.0, 0.5])
    g = np.array([10.0, 20.0, 30.0, 40.0])
    t_x = tf.constant(x)
    with tf.GradientTape() as t:
        t.watch(t_x)
        y = tf.sort(t_x, direction="DESCENDING")
    dx = t.gradient(y, t_x, output_gradients=tf.constant(g)).numpy()
    expected = np.zeros(4)
    expected[np.argsort(-x, kind="stable")] = g
    np.testing.assert_array_equal(dx, expected)


# -- TopKV2 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, 1, 3, 4])
def test_top_k_gradient(k):
    x = r(2, 3, 4)
    check_grads(lambda a: tf.math.top_k(a, k=k).values ** 2, [x], order=2)
    if k:
        _jacobians_agree(lambda a: tf.math.top_k(a, k=k).values, [x])


def test_top_k_gradient_scatters_to_the_picked_positions():
    x = np.array([[1.0, 5.0, 3.0, 5.0], [0.0, -1.0, 2.0, 1.0]], np.float32)
    tx = tf.constant(x)
    with tf.GradientTape() as t:
        t.watch(tx)
        values, indices = tf.math.top_k(tx, k=2)
    g = t.gradient(values, tx, output_gradients=tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert g.dtype == tf.float32
    expected = np.zeros_like(x)
    np.put_along_axis(expected, indices.numpy(), [[1.0, 2.0], [3.0, 4.0]], axis=-1)
    np.testing.assert_array_equal(g.numpy(), expected)


def test_where_coordinates_are_not_differentiable():
    assert not REGISTRY["Where"].differentiable
    x = tf.constant([1.0, 0.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.cast(tf.where(x), tf.float32)
    assert t.gradient(y, x) is None


def test_new_gradients_are_batchable():
    assert {"Einsum", "Sort", "TopKV2", "ReadVariableOp"} <= BATCHABLE


# -- sliced variable reads ------------------------------------------------------------------
SLICES = [
    (lambda v: v[0] * 2.0),
    (lambda v: v[:, :1] * 2.0),
    (lambda v: v[::-1, 1] * tf.constant([1.0, 5.0], tf.float64)),
    (lambda v: v[1]),                                   # the sliced read itself as target
    (lambda v: tf.reduce_sum(v[..., 1:] ** 2)),
    (lambda v: tf.matmul(v[:1], v[:, 1:])),
    (lambda v: tf.convert_to_tensor(v[1]) * 3.0),       # through explicit conversion
    (lambda v: v[0, 1] ** 3),
]


def _numpy_grad(fn, x0):
    """d sum(fn(x)) / dx by central differences, on a constant (no variable involved)."""
    g = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[i] = 1e-6
        g[i] = (np.sum(fn(tf.constant(x0 + d)).numpy())
                - np.sum(fn(tf.constant(x0 - d)).numpy())) / 2e-6
    return g


@pytest.mark.parametrize("case", range(len(SLICES)))
def test_sliced_variable_read_gradient(case):
    fn = SLICES[case]
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = tf.Variable(x0)
    with tf.GradientTape() as t:
        y = fn(v)
    g = t.gradient(y, v)
    assert g is not None and type(g).__name__ == "EagerTensor"   # dense, as TF gives
    np.testing.assert_allclose(g.numpy(), _numpy_grad(fn, x0), rtol=1e-6, atol=1e-8)


def test_sliced_variable_read_respects_watching():
    v = tf.Variable([1.0, 2.0])
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = v[1] * 3.0
    assert t.gradient(y, v) is None
    with tf.GradientTape(watch_accessed_variables=False) as t:
        t.watch(v)
        y = v[1] * 3.0
    np.testing.assert_array_equal(t.gradient(y, v).numpy(), [0.0, 3.0])
    frozen = tf.Variable([1.0, 2.0], trainable=False)
    with tf.GradientTape() as t:
        y = frozen[0] * 2.0
    assert t.gradient(y, frozen) is None
    outside = v[0]           # read before the tape: not connected
    with tf.GradientTape() as t:
        y = outside * 2.0
    assert t.gradient(y, v) is None


def test_sliced_variable_second_order_and_assign_still_work():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            y = v[0, 1] ** 3
        g = t1.gradient(y, v)
    np.testing.assert_array_equal(t2.gradient(g, v).numpy(), [[0.0, 12.0], [0.0, 0.0]])
    with tf.GradientTape():
        v[1].assign([7.0, 8.0])
    np.testing.assert_array_equal(v.numpy(), [[1.0, 2.0], [7.0, 8.0]])


def test_jacobian_through_variable_reads_is_vectorized(monkeypatch):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as t:
        y = v[::-1, 1] * tf.constant([1.0, 5.0])
        z = v * 2.0
    batches = []
    real = backprop.backward
    monkeypatch.setattr(backprop, "backward",
                        lambda *a, **k: batches.append(k.get("batch")) or real(*a, **k))
    jy = t.jacobian(y, v)
    jz = t.jacobian(z, v)
    assert batches == [2, 4]
    expected = np.zeros((2, 2, 2))
    expected[0, 1, 1], expected[1, 0, 1] = 1.0, 5.0
    np.testing.assert_array_equal(jy.numpy(), expected)
    np.testing.assert_array_equal(jz.numpy(), 2.0 * np.eye(4).reshape(2, 2, 2, 2))


# -- variable gathers -----------------------------------------------------------------------
@pytest.mark.parametrize("index_dtype", [tf.int32, tf.int64])
def test_variable_gather_nd_rows_give_indexed_slices(index_dtype):
    # As TensorFlow: [n, 1] indices into a variable give IndexedSlices whose dense_shape has
    # the indices' dtype, both through tf.gather_nd and Variable.gather_nd.
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    idx = tf.constant([[2], [0], [2]], index_dtype)
    for gather in (lambda: tf.gather_nd(v, idx), lambda: v.gather_nd(idx)):
        with tf.GradientTape() as t:
            y = gather() * tf.constant([[1.0], [2.0], [3.0]])
        g = t.gradient(y, v)
        assert isinstance(g, tf.IndexedSlices)
        assert g.indices.dtype == index_dtype and g.dense_shape.dtype == index_dtype
        np.testing.assert_array_equal(g.indices.numpy(), [2, 0, 2])
        np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(),
                                      [[2.0, 2.0], [0.0, 0.0], [4.0, 4.0]])


def test_variable_gather_nd_elements_give_dense():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    for gather in (lambda: tf.gather_nd(v, [[1, 0]]), lambda: v.gather_nd([[1, 0]]),
                   lambda: v.gather_nd([[[1]]])):
        with tf.GradientTape() as t:
            y = gather()
        g = t.gradient(y, v)
        assert type(g).__name__ == "EagerTensor"
    np.testing.assert_array_equal(g.numpy(), [[0.0, 0.0], [1.0, 1.0]])
