"""dropout, bias_add, moments, batch_normalization, embedding_lookup: values, dtypes, errors."""
import numpy as np
import pytest

import featherflow as tf


# -- dropout ------------------------------------------------------------------------------------
def test_dropout_scales_kept_and_zeroes_rest():
    x = tf.constant(np.random.uniform(1, 2, (50, 40)))
    y = tf.nn.dropout(x, 0.3, seed=5).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.7, rtol=1e-12)
    assert 0.6 < kept.mean() < 0.8
    assert y.dtype == np.float64


def test_dropout_rate_zero_is_identity_and_seeded_repeatable():
    x = tf.ones([4, 4])
    np.testing.assert_array_equal(tf.nn.dropout(x, 0.0).numpy(), np.ones((4, 4)))
    tf.random.set_seed(3)
    a = tf.nn.dropout(x, 0.5, seed=1).numpy()
    tf.random.set_seed(3)
    b = tf.nn.dropout(x, 0.5, seed=1).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0}


def test_dropout_noise_shape_broadcasts():
    x = tf.ones([4, 4])
    y = tf.nn.dropout(x, 0.5, noise_shape=[4, 1], seed=1).numpy()
    assert all(len(set(row)) == 1 for row in y)
    y = tf.nn.dropout(x, 0.5, noise_shape=[None, 1], seed=1).numpy()
    assert all(len(set(row)) == 1 for row in y)
    assert tf.nn.dropout(x, 0.5, noise_shape=[1, 4, 1], seed=1).shape == (1, 4, 4)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.dropout(x, 0.5, noise_shape=[3, 1], seed=1)


def test_dropout_tensor_rate():
    y = tf.nn.dropout(tf.ones([100]), tf.constant(0.5), seed=2).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match=r"`rate` must be a scalar tensor or a float in the "
                                         r"range \[0, 1\)"):
        tf.nn.dropout(tf.ones([2]), rate)


def test_dropout_errors():
    with pytest.raises(ValueError, match="`rate` must be a scalar or scalar tensor"):
        tf.nn.dropout(tf.ones([2]), "a")
    with pytest.raises(ValueError, match="`x.dtype` must be a floating point tensor"):
        tf.nn.dropout(tf.constant([1, 2]), 0.5)


def test_dropout_gradient_matches_mask():
    x = tf.ones([10, 10])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, 0.5, seed=4)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_array_equal(g, y.numpy())  # 2 where kept, 0 where dropped


# -- bias_add ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,shape,axis", [(None, (2, 3), 1), ("NHWC", (2, 3, 4, 5), 3),
                                            ("NCHW", (2, 3, 4), 1), ("NCW", (2, 3, 4), 1),
                                            ("N..C", (2, 3, 4, 5), 3), ("NCHW", (2, 3), 1)])
def test_bias_add_layouts(fmt, shape, axis):
    v = np.random.uniform(-1, 1, shape)
    b = np.random.uniform(-1, 1, shape[axis])
    y = tf.nn.bias_add(tf.constant(v), tf.constant(b), data_format=fmt)
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    np.testing.assert_allclose(y.numpy(), v + b.reshape(bshape), rtol=1e-12)
    assert y.dtype == tf.float64


def test_bias_add_int():
    y = tf.nn.bias_add(tf.ones([2, 3], tf.int32), tf.constant([1, 2, 3]))
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy(), [[2, 3, 4], [2, 3, 4]])


def test_bias_add_errors():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Must provide as many biases as the last dimension of the input "
                             r"tensor: \[2\] vs. \[2,3\]"):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"at least 2D: \[3\]"):
        tf.nn.bias_add(tf.ones([3]), tf.ones([3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Biases must be 1D: \[1,3\]"):
        tf.nn.bias_add(tf.ones([2, 3]), tf.ones([1, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"\[4\] vs. \[2,3,4\]"):
        tf.nn.bias_add(tf.ones([2, 3, 4]), tf.ones([4]), data_format="NCHW")
    with pytest.raises(ValueError, match="`data_format` must be of the form `N...C` or `NC...`"):
        tf.nn.bias_add(tf.ones([2, 3, 4]), tf.ones([4]), data_format="XYZ")
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot compute BiasAdd"):
        tf.nn.bias_add(tf.ones([2, 4]), tf.ones([4], tf.float64))


# -- moments, batch_normalization ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.float32, tf.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("axes,keepdims", [([0], False), ([0, 1], True), (0, False),
                                           ([1], False), ([0, 2], False)])
def test_moments(dtype, axes, keepdims):
    x = np.random.uniform(-2, 2, (3, 4, 2))
    mean, var = tf.nn.moments(tf.constant(x, dtype), axes, keepdims=keepdims)
    xh = tf.constant(x, dtype).numpy().astype(np.float64)
    ax = tuple(axes) if isinstance(axes, list) else axes
    tol = 2e-3 if dtype == tf.float16 else 1e-6
    assert mean.dtype == dtype and var.dtype == dtype
    np.testing.assert_allclose(mean.numpy(), xh.mean(ax, keepdims=keepdims), rtol=tol, atol=tol)
    np.testing.assert_allclose(var.numpy(), xh.var(ax, keepdims=keepdims), rtol=tol, atol=tol)


def test_moments_int_is_integer_arithmetic():
    mean, var = tf.nn.moments(tf.constant([[1, 2], [3, 5]]), [0])
    assert mean.dtype == tf.int32
    np.testing.assert_array_equal(mean.numpy(), [2, 3])
    np.testing.assert_array_equal(var.numpy(), [1, 2])


def test_batch_normalization():
    x = np.random.uniform(-2, 2, (4, 3))
    m, v = x.mean(0), x.var(0)
    o, s = np.random.uniform(-1, 1, 3), np.random.uniform(0.5, 2, 3)
    y = tf.nn.batch_normalization(tf.constant(x), m, v, o, s, 1e-3)
    np.testing.assert_allclose(y.numpy(), (x - m) / np.sqrt(v + 1e-3) * s + o, rtol=1e-12)
    y = tf.nn.batch_normalization(tf.constant([1.0, 2.0]), 1.0, 2.0, None, None, 1e-3)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), (np.array([1.0, 2.0]) - 1) / np.sqrt(2.001), rtol=1e-6)


# -- embedding_lookup -------------------------------------------------------------------------
def test_embedding_lookup_values_and_shapes():
    p = np.arange(12.0).reshape(4, 3)
    y = tf.nn.embedding_lookup(tf.constant(p), [[1, 0], [3, 3]])
    assert y.shape == (2, 2, 3)
    np.testing.assert_array_equal(y.numpy(), p[[[1, 0], [3, 3]]])
    shards = [tf.constant(p[:2]), tf.constant(p[2:])]
    np.testing.assert_array_equal(tf.nn.embedding_lookup(shards, [3, 0]).numpy(), p[[3, 0]])


def test_embedding_lookup_max_norm():
    p = tf.constant([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    y = tf.nn.embedding_lookup(p, [0, 1, 2], max_norm=1.0).numpy()
    np.testing.assert_allclose(y, [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]], rtol=1e-6)
    p3 = tf.constant([[[3.0, 4.0], [0.0, 0.0]]])
    np.testing.assert_allclose(tf.nn.embedding_lookup(p3, [0], max_norm=1.0).numpy(),
                               [[[0.6, 0.8], [0.0, 0.0]]], rtol=1e-6)


def test_embedding_lookup_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 2 is not in"):
        tf.nn.embedding_lookup(tf.constant([[1.0, 2.0], [3.0, 4.0]]), [2])
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError)):
        tf.nn.embedding_lookup(tf.constant([[1.0, 2.0], [3.0, 4.0]]), [0.0])


def test_embedding_lookup_gradient_is_indexed_slices():
    p = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.embedding_lookup(p, [1, 1]))
    g = tape.gradient(loss, p)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.indices.numpy(), [1, 1])
    np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(), [[0.0, 0.0], [2.0, 2.0]])


def test_embedding_lookup_max_norm_gradient_finite_at_zero_row():
    p = tf.constant([[0.0, 0.0], [3.0, 4.0]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = tf.reduce_sum(tf.nn.embedding_lookup(p, [0, 1], max_norm=1.0))
    g = tf.convert_to_tensor(tape.gradient(loss, p)).numpy()
    assert np.all(np.isfinite(g))
