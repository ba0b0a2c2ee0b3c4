"""Gradients of the array, indexing and scatter ops: one table row per op drives the numerical
gradient check (float64, several shapes/axes); StridedSlice keys and mask combinations are
checked against a NumPy adjoint; IndexedSlices from gathers; vectorized Jacobians; second order.
"""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import array, creation, indexing, scatter
from featherflow._src.ops.defs.grad_util import BATCHABLE
from featherflow._src.ops.registry import REGISTRY, OpDef
from featherflow._src.testing.gradient_check import check_grads

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def sq(f):
    """f followed by a square: makes the second-order check non-trivial for linear ops."""
    return lambda *a: tf.square(f(*a))


# name -> list of (fn, inputs). Every differentiable op of array/creation/indexing/scatter has
# a row (test_table_covers_every_op).
TABLE = {
    "Reshape": [(lambda a: tf.reshape(a, [3, 4]), [r(2, 6)]),
                (lambda a: tf.reshape(a, [-1]), [r(2, 3, 2)]),
                (lambda a: tf.expand_dims(a, 1), [r(3, 2)]),
                (lambda a: tf.squeeze(a), [r(1, 3, 1)])],
    "Transpose": [(lambda a: tf.transpose(a), [r(2, 3)]),
                  (lambda a: tf.transpose(a, [1, 2, 0]), [r(2, 3, 4)])],
    "BroadcastTo": [(lambda a: tf.broadcast_to(a, [2, 3, 4]), [r(3, 1)]),
                    (lambda a: tf.broadcast_to(a, [2, 3]), [r()])],
    "Identity": [(lambda a: tf.identity(a), [r(2, 3)])],
    "ConcatV2": [(lambda a, b: tf.concat([a, b], 0), [r(2, 3), r(1, 3)]),
                 (lambda a, b, c: tf.concat([a, b, c], -1), [r(2, 3), r(2, 1), r(2, 2)]),
                 (lambda a, b: tf.concat([a, b], 1), [r(2, 0), r(2, 2)])],
    "Pack": [(lambda a, b: tf.stack([a, b]), [r(2, 3), r(2, 3)]),
             (lambda a, b: tf.stack([a, b], axis=-1), [r(3), r(3)]),
             (lambda a: tf.stack([a, a, a], axis=1), [r(2, 2)])],
    "Unpack": [(lambda a: tf.unstack(a)[1], [r(3, 2)]),
               (lambda a: tf.unstack(a, axis=1)[0] * tf.unstack(a, axis=1)[2], [r(2, 3)])],
    "SplitV": [(lambda a: tf.split(a, 3, axis=1)[1], [r(2, 6)]),
               (lambda a: tf.split(a, [1, -1])[0] + tf.split(a, [1, -1])[1][:1], [r(4, 2)]),
               (lambda a: tf.concat(tf.split(a, [2, 0, 1], 0)[::-1], 0), [r(3, 2)])],
    "Tile": [(lambda a: tf.tile(a, [2, 3]), [r(2, 3)]),
             (lambda a: tf.tile(a, [1, 2, 1]), [r(2, 1, 3)]),
             (lambda a: tf.tile(a, [1, 1]), [r(2, 2)]),
             (lambda a: tf.tile(a, [3]), [r(1)])],
    "PadV2": [(lambda a: tf.pad(a, [[1, 2], [0, 3]]), [r(2, 3)]),
              (lambda a: tf.pad(a, [[0, 0], [2, 1], [1, 0]], constant_values=1.5), [r(1, 2, 2)]),
              (lambda a: tf.pad(a, [[0, 0]]), [r(3)])],
    "MirrorPad": [(lambda a: tf.pad(a, [[1, 2], [2, 1]], "REFLECT"), [r(3, 4)]),
                  (lambda a: tf.pad(a, [[2, 3], [0, 1]], "SYMMETRIC"), [r(3, 2)]),
                  (lambda a: tf.pad(a, [[3, 3]], "SYMMETRIC"), [r(3)]),
                  (lambda a: tf.pad(a, [[0, 0], [1, 1], [2, 0]], "REFLECT"), [r(2, 2, 3)])],
    "ReverseV2": [(lambda a: tf.reverse(a, [0]), [r(3, 2)]),
                  (lambda a: tf.reverse(a, [-1, 0]), [r(2, 3, 2)]),
                  (lambda a: tf.reverse(a, []), [r(2)])],
    "Fill": [(lambda v: tf.fill([2, 3], v), [r()]), (lambda v: tf.fill([], v), [r()]),
             (lambda v: tf.fill([0, 2], v), [r()])],
    "LinSpace": [(lambda a, b: tf.linspace(a, b, 5), [r(), r()]),
                 (lambda a, b: tf.linspace(a, b, 4, axis=1), [r(3), r(2, 1)]),
                 (lambda a, b: tf.linspace(a, b, 1, axis=-1), [r(2), r(2)]),
                 (lambda a, b: tf.linspace(a, b, 3, axis=0), [r(2, 2), r(2)])],
    "StridedSlice": [(lambda a: a[1:, ::-2], [r(4, 5)]),
                     (lambda a: a[None, ..., 1, 4:0:-3], [r(2, 3, 5)]),
                     (lambda a: tf.slice(a, [1, 0], [2, -1]), [r(3, 4)]),
                     (lambda a: tf.strided_slice(a, [0, 1], [3, 3], [2, 1], begin_mask=1,
                                                 shrink_axis_mask=2), [r(4, 4)]),
                     (lambda a: a[...], [r()]),
                     (lambda a: a[2:1], [r(4)])],
    "GatherV2": [(lambda a: tf.gather(a, [2, 0, 2]), [r(3, 2)]),
                 (lambda a: tf.gather(a, [[0, 2], [1, 1]], axis=1), [r(2, 3, 2)]),
                 (lambda a: tf.gather(a, [1], axis=-1), [r(2, 3)]),
                 (lambda a: tf.gather(a, [[0, 2, 2], [1, 1, 0]], axis=1, batch_dims=1),
                  [r(2, 3, 2)]),
                 (lambda a: tf.gather(a, [[[0], [1]], [[1], [1]]], axis=2, batch_dims=2),
                  [r(2, 2, 3)]),
                 (lambda a: tf.gather(a, tf.constant([3, 0], tf.int64)), [r(4)])],
    "GatherNd": [(lambda a: tf.gather_nd(a, [[0, 2], [0, 2], [3, 1]]), [r(4, 3)]),
                 (lambda a: tf.gather_nd(a, [[1], [1]]), [r(3, 2)]),
                 (lambda a: tf.gather_nd(a, [[[1]], [[0]]]), [r(3, 2)]),
                 (lambda a: tf.gather_nd(a, [1, 0]), [r(3, 2, 2)]),
                 (lambda a: tf.gather_nd(a, [[[2]], [[0]]], batch_dims=1), [r(2, 3, 2)]),
                 (lambda a: tf.gather_nd(a, [[[1, 0], [1, 0]], [[0, 1], [0, 0]]],
                                         batch_dims=1), [r(2, 2, 2)])],
    "ScatterNd": [(lambda u: tf.scatter_nd([[1], [3], [1]], u, [5, 2]), [r(3, 2)]),
                  (lambda u: tf.scatter_nd([[1, 0], [0, 1]], u, [2, 2]), [r(2)])],
    "TensorScatterUpdate": [
        (lambda t, u: tf.tensor_scatter_nd_update(t, [[1], [3]], u), [r(4, 2), r(2, 2)]),
        (lambda t, u: tf.tensor_scatter_nd_update(t, [[0, 1]], u), [r(2, 2), r(1)])],
    "TensorScatterAdd": [
        (lambda t, u: tf.tensor_scatter_nd_add(t, [[1], [3], [1]], u), [r(4, 2), r(3, 2)])],
    "TensorScatterSub": [
        (lambda t, u: tf.tensor_scatter_nd_sub(t, [[1, 1], [0, 0]], u), [r(2, 2), r(2)])],
    "TensorScatterMin": [
        (lambda t, u: tf.tensor_scatter_nd_min(t, [[1], [3]], u), [r(4, 2), r(2, 2)])],
    "TensorScatterMax": [
        (lambda t, u: tf.tensor_scatter_nd_max(t, [[1], [0], [1]], u), [r(2, 3), r(3, 3)])],
}
ROWS = [(name, i) for name in sorted(TABLE) for i in range(len(TABLE[name]))]


def test_table_covers_every_op():
    ops = {v.name for m in (array, creation, indexing, scatter) for v in vars(m).values()
           if isinstance(v, OpDef) and v.differentiable}
    assert ops == set(TABLE)


def test_array_ops_have_gradients():
    names = list(TABLE) + ["ResourceGather", "ResourceGatherNd", "ReadVariableOp"]
    missing = [n for n in names if REGISTRY[n].grad is None or not REGISTRY[n].differentiable]
    assert missing == []


@pytest.mark.parametrize("name,i", ROWS)
def test_gradient(name, i):
    fn, xs = TABLE[name][i]
    check_grads(fn, xs)


@pytest.mark.parametrize("name,i", ROWS)
def test_vectorized_jacobian_matches_per_row_loop(name, i):
    # Every gradient here takes a leading batch axis (one backward pass for a whole Jacobian);
    # the per-row loop is its oracle.
    assert name in BATCHABLE
    fn, xs = TABLE[name][i]
    ts = [tf.constant(x) for x in xs]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(ts)
        y = fn(*ts)
    fast = tape.jacobian(y, ts)
    slow = tape.jacobian(y, ts, experimental_use_pfor=False)
    for f, s_ in zip(fast, slow):
        assert (f is None) == (s_ is None)
        if f is not None:
            np.testing.assert_allclose(f.numpy(), s_.numpy(), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name,i", [(n, 0) for n in sorted(TABLE)])
def test_second_order(name, i):
    fn, xs = TABLE[name][i]
    check_grads(sq(fn), xs, order=2)


def test_checker_catches_a_wrong_gradient():
    # The table is only worth something if a wrong gradient fails it.
    @tf.custom_gradient
    def bad_tile(a):
        def grad(g):
            return tf.reshape(g, [2, 2, 3])[0]

        return tf.tile(a, [2, 1]), grad

    with pytest.raises(AssertionError):
        check_grads(bad_tile, [r(2, 3)])


# -- StridedSlice: every kind of key against NumPy's adjoint ---------------------------------------
def _adjoint(x, key, u):
    """d(sum(u * x[key]))/dx with NumPy: basic indexing never repeats an element."""
    out = np.zeros_like(x)
    out[key] = u
    return out


def _random_key(g, rank):
    key = []
    dims = 0
    ellipsis = False
    while dims < rank or g.random() < 0.3:
        c = g.integers(0, 6)
        if c == 0 and not ellipsis:
            key.append(Ellipsis)
            ellipsis = True
            dims = rank
        elif c == 1:
            key.append(None)
        elif dims >= rank:
            break
        elif c == 2:
            key.append(int(g.integers(-3, 3)))
            dims += 1
        else:
            b = [None, int(g.integers(-5, 5))][g.integers(0, 2)]
            e = [None, int(g.integers(-5, 5))][g.integers(0, 2)]
            s = [None, 1, 2, 3, -1, -2][g.integers(0, 6)]
            key.append(slice(b, e, s))
            dims += 1
    return tuple(key)


KEYS = [(2,), (-1,), (slice(None, None, -1),), (Ellipsis, 1), (None, 1, Ellipsis, None),
        (slice(1, None), slice(None, None, 2)), (slice(-2, -6, -2), Ellipsis, 0),
        (0, 0, 0), (slice(5, 9),), (slice(1, 1),), (None, None), (Ellipsis,),
        (slice(None, None, 3), None, slice(3, 0, -1))]
_g = np.random.default_rng(7)
KEYS += [_random_key(_g, 3) for _ in range(40)]


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_strided_slice_keys_match_numpy_adjoint(key):
    x = rng.standard_normal((3, 4, 5))
    u = rng.standard_normal(x[key].shape)
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = t[key]
    assert y.shape == x[key].shape
    g = tape.gradient(y, t, output_gradients=tf.constant(u))
    np.testing.assert_array_equal(g.numpy(), _adjoint(x, key, u))
    assert g.dtype == tf.float64 and g.shape == x.shape


@pytest.mark.parametrize("masks", [(0, 0, 0, 0, 0), (1, 2, 0, 0, 0), (3, 3, 0, 0, 2),
                                   (0, 0, 1, 0, 0), (0, 0, 2, 1, 4), (4, 1, 0, 2, 0),
                                   (0, 0, 0, 0, 7)])
def test_strided_slice_masks(masks):
    begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_mask = masks
    x = rng.standard_normal((3, 4, 5))
    args = dict(begin=[1, -1, 0], end=[3, 0, 4], strides=[1, -2, 2], begin_mask=begin_mask,
                end_mask=end_mask, ellipsis_mask=ellipsis_mask, new_axis_mask=new_axis_mask,
                shrink_axis_mask=shrink_mask)
    check_grads(lambda a: tf.strided_slice(a, **args), [x])
    check_grads(sq(lambda a: tf.strided_slice(a, **args)), [x], order=2)


# -- IndexedSlices ---------------------------------------------------------------------------------
def test_gather_gradient_is_indexed_slices_with_duplicates_kept():
    x = rng.standard_normal((5, 3))
    idx = np.array([[1, 4], [1, 1]])
    u = rng.standard_normal((2, 2, 3))
    p = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(p)
        y = tf.gather(p, idx.tolist())
    g = tape.gradient(y, p, output_gradients=tf.constant(u))
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.indices.numpy(), idx.reshape(-1))
    np.testing.assert_array_equal(g.values.numpy(), u.reshape(4, 3))
    assert g.dense_shape.numpy().tolist() == [5, 3] and g.dense_shape.dtype == tf.int32
    assert g.indices.dtype == tf.int32 and g.values.dtype == tf.float64
    dense = np.zeros_like(x)
    np.add.at(dense, idx.reshape(-1), u.reshape(4, 3))
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), dense, rtol=1e-15)


def test_gather_nd_rows_give_indexed_slices_else_dense():
    p = tf.constant(rng.standard_normal((4, 2)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(p)
        rows = tf.gather_nd(p, tf.constant([[3], [3]], tf.int64))
        elems = tf.gather_nd(p, [[3, 1], [3, 1]])
    g = tape.gradient(rows, p)
    assert isinstance(g, tf.IndexedSlices)
    assert g.indices.numpy().tolist() == [3, 3] and g.dense_shape.dtype == tf.int64
    expected = np.zeros((4, 2))
    expected[3] = 2.0
    np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(), expected)
    g = tape.gradient(elems, p)
    assert not isinstance(g, tf.IndexedSlices)
    expected = np.zeros((4, 2))
    expected[3, 1] = 2.0
    np.testing.assert_array_equal(g.numpy(), expected)


def test_gather_along_other_axes_is_dense():
    p = tf.constant(rng.standard_normal((2, 3)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(p)
        a = tf.gather(p, [2, 2], axis=1)
        b = tf.gather(p, [[1], [0]], axis=1, batch_dims=1)
    ga, gb = tape.gradient(a, p), tape.gradient(b, p)
    assert not isinstance(ga, tf.IndexedSlices) and not isinstance(gb, tf.IndexedSlices)
    np.testing.assert_array_equal(ga.numpy(), [[0, 0, 2], [0, 0, 2]])
    np.testing.assert_array_equal(gb.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_int16_indices_gradient_densifies():
    p = tf.constant(rng.standard_normal((3, 2)))
    with tf.GradientTape() as tape:
        tape.watch(p)
        y = tf.reduce_sum(tf.gather(p, tf.constant([2, 2], tf.int16)) * 3.0)
    g = tape.gradient(y, p)
    np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(), [[0, 0], [0, 0], [6, 6]])


def test_indexed_slices_flow_into_dense_ops():
    # A gather below another op: the sparse gradient is densified on the way (duplicates summed).
    x = rng.standard_normal((2, 3))
    check_grads(lambda a: tf.gather(tf.reshape(a, [3, 2]), [2, 0, 2]) ** 2, [x], order=2)
    check_grads(lambda a: tf.gather(a, [1, 1]) * tf.gather(a, [0, 1]), [x], order=2)


def test_variable_gathers():
    x = rng.standard_normal((4, 3))
    v = tf.Variable(x)
    with tf.GradientTape(persistent=True) as tape:
        a = tf.gather(v, [1, 1])
        b = v.sparse_read([[2, 0]])
        c = v.gather_nd([[1, 2], [1, 2]])
        d = tf.reduce_sum(tf.square(v.read_value()))
    ga, gb, gc = (tape.gradient(y, v) for y in (a, b, c))
    assert isinstance(ga, tf.IndexedSlices) and isinstance(gb, tf.IndexedSlices)
    assert ga.indices.numpy().tolist() == [1, 1] and gb.indices.numpy().tolist() == [2, 0]
    assert gb.values.shape == (2, 3) and gb.dense_shape.numpy().tolist() == [4, 3]
    assert gb.dense_shape.dtype == tf.int32
    assert not isinstance(gc, tf.IndexedSlices)
    expected = np.zeros((4, 3))
    expected[1, 2] = 2.0
    np.testing.assert_array_equal(gc.numpy(), expected)
    # Sparse and dense gradients reaching one variable add up.
    both = tape.gradient([a, b, d], v)
    expected = 2 * x
    expected[[1, 2, 0]] += np.array([[2.0], [1.0], [1.0]])
    np.testing.assert_allclose(tf.convert_to_tensor(both).numpy(), expected, rtol=1e-15)
    assert isinstance(tape.gradient([a, b], v), tf.IndexedSlices)


def test_embedding_training_step_updates_only_touched_rows():
    table = rng.standard_normal((6, 3)).astype(np.float32)
    v = tf.Variable(table)
    ids = np.array([4, 1, 4])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(v, ids)))
    g = tape.gradient(loss, v)
    assert isinstance(g, tf.IndexedSlices)
    v.scatter_sub(tf.IndexedSlices(g.values * 0.1, g.indices))
    expected = table.copy()
    np.subtract.at(expected, ids, 0.1 * 2 * table[ids])
    np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6)
    untouched = [0, 2, 3, 5]
    np.testing.assert_array_equal(v.numpy()[untouched], table[untouched])


# -- tensor_scatter min/max ties, unconnected outputs -----------------------------------------
def test_scatter_min_max_split_ties_evenly():
    t = tf.constant([1.0, 5.0, 3.0], tf.float64)
    u = tf.constant([1.0, 2.0, 1.0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([t, u])
        lo = tf.tensor_scatter_nd_min(t, [[0], [1], [0]], u)
        hi = tf.tensor_scatter_nd_max(t, [[0], [1], [0]], u)
    gt, gu = tape.gradient(lo, [t, u])
    # Entry 0: the old value and both updates tie at 1 (a third each); entry 1: the update wins.
    np.testing.assert_allclose(gt.numpy(), [1 / 3, 0, 1], rtol=1e-15)
    np.testing.assert_allclose(gu.numpy(), [1 / 3, 1, 1 / 3], rtol=1e-15)
    gt, gu = tape.gradient(hi, [t, u])
    np.testing.assert_allclose(gt.numpy(), [1 / 3, 1, 1], rtol=1e-15)
    np.testing.assert_allclose(gu.numpy(), [1 / 3, 0, 1 / 3], rtol=1e-15)


def test_unused_outputs_of_split_and_unstack_get_zeros():
    x = tf.constant(rng.standard_normal((2, 4)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        parts = tf.split(x, [1, 3], axis=1)
        rows = tf.unstack(x)
    np.testing.assert_array_equal(tape.gradient(parts[1], x).numpy(), [[0, 1, 1, 1]] * 2)
    np.testing.assert_array_equal(tape.gradient(rows[1], x).numpy(), [[0] * 4, [1] * 4])


def test_fill_and_pad_constant_value_gradients():
    v = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(v)
        f = tf.fill([2, 3], v)
        p = tf.pad(tf.ones([2]) * v, [[1, 1]], constant_values=v)
    assert tape.gradient(f, v).numpy() == 6.0
    # constant_values has no gradient (TensorFlow's rule): only the two padded-in ones count.
    assert tape.gradient(p, v).numpy() == 2.0


# -- dtypes, devices, Jacobians, higher order ------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.bfloat16, tf.complex64])
def test_gradient_dtype_follows_input(dtype):
    x = tf.cast(tf.constant([[1.0, 2.0], [3.0, 4.0]]), dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.concat([tf.tile(x, [1, 2]), tf.reverse(x, [0])[:, ::-1], tf.gather(x, [1], axis=1)],
                      1)
    g = tape.gradient(y, x)
    assert g.dtype == dtype
    np.testing.assert_allclose(g.numpy().real.astype(np.float64), [[3, 4], [3, 4]])


def test_on_cpu_device():
    with tf.device("/CPU:0"):
        x = tf.constant(rng.standard_normal((3, 2)))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.gather(tf.tile(x, [2, 1])[1:, ::-1], [0, 4, 4], axis=0)
        g = tf.convert_to_tensor(tape.gradient(y, x))
    assert "CPU" in g.device
    expected = np.zeros((3, 2))
    np.add.at(expected, [1, 2, 2], 1.0)
    np.testing.assert_array_equal(g.numpy(), expected)


def _chain(a):
    b = tf.concat([tf.tile(a, [1, 2]), tf.pad(a, [[0, 0], [1, 0]], "REFLECT")], 1)
    c = tf.stack(tf.unstack(tf.reverse(b, [1]), axis=1)[::2], axis=0)
    return tf.transpose(tf.linspace(c[..., 1:], c[None, ::-1, :1], 3, axis=1))


def test_vectorized_jacobian_matches_loop_and_numeric():
    x = tf.constant(rng.standard_normal((2, 3)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = _chain(x)
    fast = tape.jacobian(y, x).numpy()
    slow = tape.jacobian(y, x, experimental_use_pfor=False).numpy()
    np.testing.assert_allclose(fast, slow, rtol=1e-14, atol=1e-14)
    theoretical, numerical = tf.test.compute_gradient(_chain, [x])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=1e-6, atol=1e-8)
    assert theoretical[0].shape == (int(np.prod(y.shape)), 6)  # (y size, x size) as TF


def test_jacobian_through_gather_and_scatter():
    x = tf.constant(rng.standard_normal((3, 2)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.tensor_scatter_nd_add(tf.gather(x, [2, 2, 0]), [[1]], tf.gather_nd(x, [[0]]))
    j = tape.jacobian(y, x).numpy()
    expected = np.zeros((3, 2, 3, 2))
    for row, src in enumerate([2, 2, 0]):
        expected[row, :, src, :] += np.eye(2)
    expected[1, :, 0, :] += np.eye(2)
    np.testing.assert_array_equal(j, expected)


def test_nested_tapes_hessian_of_tile_reshape_transpose():
    # y = sum(tile(x)^3) over 2 copies: d2y/dx2 = diag(2 * 6x).
    x0 = rng.standard_normal((2, 3))
    x = tf.constant(x0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(tf.transpose(tf.reshape(tf.tile(x, [2, 1]), [3, 4])) ** 3)
        g = inner.gradient(y, x)
    h = outer.jacobian(g, x).numpy().reshape(6, 6)
    np.testing.assert_allclose(g.numpy(), 2 * 3 * x0 ** 2, rtol=1e-13)
    np.testing.assert_allclose(h, np.diag(12 * x0.reshape(-1)), rtol=1e-13, atol=1e-13)


def test_third_order_through_slicing_and_gather():
    check_grads(lambda a: tf.gather(a[::-1] ** 2, [0, 0, 2]) * a[1:2], [r(3)], order=3)


def test_variable_gather_jacobians():
    v = tf.Variable(rng.standard_normal((3, 2)))
    with tf.GradientTape(persistent=True) as tape:
        a = v.sparse_read([2, 2, 0]) * 2.0
        b = v.gather_nd([[1, 0], [2, 1]])
    expected_a = np.zeros((3, 2, 3, 2))
    for row, src in enumerate([2, 2, 0]):
        expected_a[row, :, src, :] = 2 * np.eye(2)
    expected_b = np.zeros((2, 3, 2))
    expected_b[0, 1, 0] = expected_b[1, 2, 1] = 1.0
    for vectorize in (True, False):
        ja = tape.jacobian(a, v, experimental_use_pfor=vectorize)
        jb = tape.jacobian(b, v, experimental_use_pfor=vectorize)
        np.testing.assert_array_equal(ja.numpy(), expected_a)
        np.testing.assert_array_equal(jb.numpy(), expected_b)
