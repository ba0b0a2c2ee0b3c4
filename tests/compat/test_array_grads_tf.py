"""Array, indexing and scatter gradients against real TensorFlow (skipped where it is not
installed): values, IndexedSlices vs dense, index and dense_shape dtypes, second order."""
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

import featherflow as tf  # noqa: E402

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3, 2))
T = np.array([[1.0, 5.0], [3.0, -2.0], [0.5, 0.5]])

# name -> fn(module, x); x is X (float64) unless the row gives another input.
FUNCS = {
    "reshape_transpose": lambda m, x: m.transpose(m.reshape(x, [6, 4]), [1, 0]),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:1], [3, 3, 2]),
    "concat": lambda m, x: m.concat([x, x[:, :1] * 2.0], 1),
    "stack_unstack": lambda m, x: m.stack(m.unstack(x, axis=1)[::-2], axis=2),
    "split": lambda m, x: m.split(x, [1, 2, 1], 0)[1],
    "tile": lambda m, x: m.tile(x, [1, 2, 3]),
    "pad": lambda m, x: m.pad(x, [[1, 0], [0, 2], [1, 1]], constant_values=3.0),
    "reflect": lambda m, x: m.pad(x, [[2, 3], [1, 2], [0, 1]], "REFLECT"),
    "symmetric": lambda m, x: m.pad(x, [[4, 1], [3, 0], [2, 2]], "SYMMETRIC"),
    "reverse": lambda m, x: m.reverse(x, [0, 2]),
    "getitem": lambda m, x: x[::-2, None, 1:, ...],
    "getitem_shrink": lambda m, x: x[..., 1] + x[-1, None, :, 0],
    "strided_masks": lambda m, x: m.strided_slice(x, [1, -1, 0], [3, 0, 1], [1, -2, 1],
                                                   begin_mask=4, end_mask=2, new_axis_mask=0,
                                                   shrink_axis_mask=4),
    "strided_ellipsis": lambda m, x: m.strided_slice(x, [0, 1, 0], [0, 2, 0], [1, 1, 1],
                                                      ellipsis_mask=1, new_axis_mask=4,
                                                      shrink_axis_mask=2),
    "slice": lambda m, x: m.slice(x, [1, 0, 1], [2, -1, 1]),
    "gather_axis0": lambda m, x: m.gather(x, [[3, 0], [3, 3]]),
    "gather_axis1": lambda m, x: m.gather(x, [2, 2, 0], axis=1),
    "gather_batch": lambda m, x: m.gather(x, [[0, 2], [1, 1], [2, 2], [0, 0]], axis=1,
                                          batch_dims=1),
    "gather_nd_rows": lambda m, x: m.gather_nd(x, [[1], [1], [0]]),
    "gather_nd_elems": lambda m, x: m.gather_nd(x, [[1, 2, 0], [1, 2, 0], [3, 0, 1]]),
    "gather_nd_batch": lambda m, x: m.gather_nd(x, [[[2], [0]], [[1], [1]], [[0], [0]],
                                                    [[2], [2]]], batch_dims=1),
    "scatter_nd": lambda m, x: m.scatter_nd([[1], [3], [1]], x[:3], [5, 3, 2]),
    "scatter_update": lambda m, x: m.tensor_scatter_nd_update(x, [[1, 2], [0, 0]], x[:2, 0] * 3),
    "scatter_add": lambda m, x: m.tensor_scatter_nd_add(x, [[1], [1]], x[2:] ** 2),
    "scatter_sub": lambda m, x: m.tensor_scatter_nd_sub(x, [[3, 1, 1]], x[0, 0, :1]),
    "scatter_min": lambda m, x: m.tensor_scatter_nd_min(x, [[0], [2], [0]], x[1:] * 0.5),
    "scatter_max": lambda m, x: m.tensor_scatter_nd_max(x, [[0], [2], [0]], x[1:] * 0.5),
    "scatter_ties": lambda m, x: m.tensor_scatter_nd_min(x * 0.0, [[0], [0]], x[:2] * 0.0),
    "fill": lambda m, x: m.fill([2, 3], m.reduce_sum(x)),
    "linspace": lambda m, x: m.linspace(x[0, 0], x[1, :, 1:], 4, axis=1),
    "linspace_one": lambda m, x: m.linspace(x[0], x[1], 1, axis=-1),
}


def _grad(m, name, u_host):
    x = m.constant(X)
    f = FUNCS[name]
    with m.GradientTape() as outer:
        outer.watch(x)
        with m.GradientTape() as inner:
            inner.watch(x)
            y = f(m, x)
        g = inner.gradient(y, x, output_gradients=m.constant(u_host))
        dense = m.convert_to_tensor(g)
        s = m.reduce_sum(dense * dense * m.sin(x))
    return y, g, dense, outer.gradient(s, x)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradients_match_tf(name):
    u = rng.standard_normal(FUNCS[name](tf, tf.constant(X)).shape)
    y, g, dense, g2 = _grad(tf, name, u)
    y_ref, g_ref, dense_ref, g2_ref = _grad(tf_real, name, u)
    np.testing.assert_allclose(y.numpy(), y_ref.numpy(), rtol=1e-14)
    np.testing.assert_allclose(dense.numpy(), dense_ref.numpy(), rtol=1e-12, atol=1e-14)
    assert isinstance(g, tf.IndexedSlices) == isinstance(g_ref, tf_real.IndexedSlices)
    if isinstance(g, tf.IndexedSlices):
        np.testing.assert_array_equal(g.indices.numpy(), g_ref.indices.numpy())
        np.testing.assert_allclose(g.values.numpy(), g_ref.values.numpy(), rtol=1e-14)
        assert g.indices.dtype.name == g_ref.indices.dtype.name
        assert g.dense_shape.dtype.name == g_ref.dense_shape.dtype.name
        np.testing.assert_array_equal(g.dense_shape.numpy(), g_ref.dense_shape.numpy())
    if g2_ref is None:
        assert g2 is None or not np.any(g2.numpy())
    else:
        np.testing.assert_allclose(g2.numpy(), g2_ref.numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_variable_gathers_match_tf(dtype):
    out = []
    for m in (tf, tf_real):
        v = m.Variable(T)
        idx = m.constant([[2, 0], [2, 2]], dtype=getattr(m, dtype))
        with m.GradientTape(persistent=True) as tape:
            a = m.gather(v, idx)
            b = v.sparse_read(idx)
            c = m.reduce_sum(m.square(m.nn.embedding_lookup(v, idx)))
            d = v.gather_nd(m.constant([[1, 0], [1, 0]], dtype=getattr(m, dtype)))
        row = []
        for y in (a, b, c, d):
            g = tape.gradient(y, v)
            sparse = isinstance(g, (tf.IndexedSlices, tf_real.IndexedSlices))
            row.append((sparse, m.convert_to_tensor(g).numpy(),
                        g.indices.dtype.name if sparse else None,
                        g.dense_shape.dtype.name if sparse else None))
        out.append(row)
    for mine, ref in zip(*out):
        assert mine[0] == ref[0] and mine[2:] == ref[2:]
        np.testing.assert_allclose(mine[1], ref[1], rtol=1e-14)


def test_compute_gradient_matches_tf():
    f = {m: (lambda a, m=m: m.gather(m.tile(a, [2, 1])[::-1], [3, 0])) for m in (tf, tf_real)}
    mine = tf.test.compute_gradient(f[tf], [T])
    ref = tf_real.test.compute_gradient(f[tf_real], [T])
    for a, b in zip(mine[0] + mine[1], ref[0] + ref[1]):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
