"""tf.random: seed semantics, distributions (checked statistically against NumPy), dtypes, errors,
stateless determinism and tf.random.Generator."""
import numpy as np
import pytest

import featherflow as tf

N = 20000


def _np(t):
    return np.asarray(t.numpy(), dtype=np.float64)


# -- seeds ------------------------------------------------------------------------------------
def test_same_global_seed_same_sequence():
    def program():
        tf.random.set_seed(1234)
        return [tf.random.uniform([3]).numpy(), tf.random.normal([2]).numpy(),
                tf.random.uniform([2], seed=7).numpy(), tf.random.uniform([2], seed=7).numpy()]

    a, b = program(), program()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], a[3])  # the same op seed continues its sequence


def test_op_seed_without_global_seed_is_deterministic():
    from featherflow._src.framework import context

    tf.random.set_seed(None)
    assert context.GLOBAL.global_seed is None
    a = tf.random.normal([4], seed=3).numpy()
    tf.random.set_seed(None)
    b = tf.random.normal([4], seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    # No seed at all: nondeterministic.
    assert not np.array_equal(tf.random.normal([8]).numpy(), tf.random.normal([8]).numpy())


def test_different_seeds_differ():
    tf.random.set_seed(1)
    a = tf.random.uniform([8]).numpy()
    tf.random.set_seed(2)
    b = tf.random.uniform([8]).numpy()
    assert not np.array_equal(a, b)


# -- distributions ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float32, tf.float64])
def test_normal_and_uniform_dtypes_and_moments(dtype):
    x = tf.random.normal([N], mean=2.0, stddev=3.0, dtype=dtype, seed=1)
    assert x.dtype == dtype and x.shape == (N,)
    v = _np(x)
    assert abs(v.mean() - 2.0) < 0.1 and abs(v.std() - 3.0) < 0.1
    u = tf.random.uniform([N], minval=-1.0, maxval=3.0, dtype=dtype, seed=2)
    assert u.dtype == dtype
    v = _np(u)
    assert v.min() >= -1.0 and v.max() < 3.0 and abs(v.mean() - 1.0) < 0.05


def test_truncated_normal_bounds():
    x = _np(tf.random.truncated_normal([N], mean=1.0, stddev=2.0, seed=4))
    assert x.min() >= -3.0 and x.max() <= 5.0
    assert abs(x.mean() - 1.0) < 0.1
    # A normal truncated at 2 sigma has std ~0.8796 sigma.
    assert abs(x.std() - 2.0 * 0.8796) < 0.05


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_uniform_int(dtype):
    x = tf.random.uniform([N], minval=-3, maxval=5, dtype=dtype, seed=5)
    assert x.dtype == dtype
    v = x.numpy()
    assert set(np.unique(v)) == set(range(-3, 5))


def test_uniform_errors():
    with pytest.raises(ValueError, match="Must specify maxval for integer dtype tf.int32"):
        tf.random.uniform([2], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Need minval < maxval, got 5 >= 5"):
        tf.random.uniform([2], minval=5, maxval=5, dtype=tf.int32)
    with pytest.raises(ValueError, match="Argument `dtype` got invalid value"):
        tf.random.uniform([2], dtype=tf.uint8, maxval=3)
    with pytest.raises(TypeError):
        tf.random.normal([2], dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Dimension -1 must be >= 0"):
        tf.random.normal([-1])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.random.normal([2.5])


def test_shape_from_tensor_and_scalar():
    assert tf.random.normal(tf.constant([2, 3])).shape == (2, 3)
    assert tf.random.uniform([]).shape == ()


def test_shuffle_is_a_permutation():
    x = tf.constant(np.arange(50).reshape(25, 2))
    y = tf.random.shuffle(x, seed=1)
    assert y.dtype == tf.int64 and y.shape == (25, 2)
    v = y.numpy()
    assert sorted(v[:, 0].tolist()) == list(range(0, 50, 2))
    np.testing.assert_array_equal(v[:, 1], v[:, 0] + 1)
    s = tf.random.shuffle(tf.constant(["a", "b", "c"]))
    assert sorted(s.numpy().tolist()) == [b"a", b"b", b"c"]


def test_categorical_frequencies():
    p = np.array([0.2, 0.5, 0.3])
    logits = tf.constant(np.log(p)[None, :], tf.float32)
    s = tf.random.categorical(logits, N, seed=3)
    assert s.dtype == tf.int64 and s.shape == (1, N)
    freq = np.bincount(s.numpy().ravel(), minlength=3) / N
    np.testing.assert_allclose(freq, p, atol=0.02)
    masked = tf.random.categorical([[0.0, -np.inf]], 100, dtype=tf.int32)
    assert masked.dtype == tf.int32 and (masked.numpy() == 0).all()
    with pytest.raises(tf.errors.InvalidArgumentError, match="logits should be a matrix"):
        tf.random.categorical([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="Argument `dtype` got invalid value"):
        tf.random.categorical([[1.0]], 3, dtype=tf.float32)


def test_random_ops_place_like_other_ops():
    assert tf.random.normal([2]).device.endswith("GPU:0")
    with tf.device("/CPU:0"):
        assert tf.random.normal([2]).device.endswith("CPU:0")
        assert tf.random.uniform([2], maxval=3, dtype=tf.int64).device.endswith("CPU:0")
    with tf.device("/GPU:1"):
        assert tf.random.stateless_uniform([2], seed=[1, 2]).device.endswith("GPU:1")


def test_random_ops_are_stateful_primitives():
    from featherflow._src.ops.registry import REGISTRY

    for name in ["RandomStandardNormal", "RandomUniform", "RandomUniformInt", "TruncatedNormal",
                 "RandomShuffle", "Multinomial"]:
        assert REGISTRY[name].stateful and not REGISTRY[name].differentiable
    for name in ["StatelessRandomNormal", "StatelessRandomUniform", "StatelessMultinomial"]:
        assert not REGISTRY[name].differentiable


# -- stateless ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [tf.random.stateless_normal, tf.random.stateless_uniform,
                                tf.random.stateless_truncated_normal])
def test_stateless_deterministic(fn):
    a = fn([5], seed=[1, 2]).numpy()
    tf.random.set_seed(99)
    b = fn([5], seed=tf.constant([1, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, fn([5], seed=[1, 3]).numpy())
    with tf.device("/CPU:0"):
        np.testing.assert_array_equal(a, fn([5], seed=[1, 2]).numpy())


def test_stateless_uniform_ints_and_categorical():
    x = tf.random.stateless_uniform([100], seed=[3, 4], minval=0, maxval=4, dtype=tf.int32)
    assert x.dtype == tf.int32 and set(np.unique(x.numpy())) <= {0, 1, 2, 3}
    full = tf.random.stateless_uniform([4], seed=[3, 4], minval=None, maxval=None,
                                       dtype=tf.int64)
    assert full.dtype == tf.int64
    with pytest.raises(ValueError, match="must be both None or not None"):
        tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.int32)
    c = tf.random.stateless_categorical([[1.0, 2.0]], 3, seed=(1, 2))
    assert c.dtype == tf.int64 and c.shape == (1, 3)
    np.testing.assert_array_equal(
        c.numpy(), tf.random.stateless_categorical([[1.0, 2.0]], 3, seed=(1, 2)).numpy())


def test_stateless_seed_errors():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"seed must have shape \[2\], "
                                                             r"not \[1\]"):
        tf.random.stateless_normal([2], seed=[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tseed"):
        tf.random.stateless_normal([2], seed=[1.0, 2.0])


# -- Generator ---------------------------------------------------------------------------------
def test_generator_from_seed_is_reproducible():
    g1, g2 = tf.random.Generator.from_seed(7), tf.random.Generator.from_seed(7)
    assert g1.state.numpy().tolist() == [7, 0, 0] and g1.algorithm == 1
    for g in (g1, g2):
        g.normal([3])
    np.testing.assert_array_equal(g1.normal([3]).numpy(), g2.normal([3]).numpy())
    np.testing.assert_array_equal(g1.uniform([3], maxval=9, dtype=tf.int64).numpy(),
                                  g2.uniform([3], maxval=9, dtype=tf.int64).numpy())
    a, b = g1.truncated_normal([1000]).numpy(), g1.uniform([4]).numpy()
    assert np.abs(a).max() <= 2.0 and b.dtype == np.float32
    assert not np.array_equal(g1.normal([4]).numpy(), g1.normal([4]).numpy())


def test_generator_split_and_nondeterministic():
    g = tf.random.Generator.from_seed(1)
    children = g.split(3)
    assert len(children) == 3
    draws = [c.normal([4]).numpy() for c in children]
    assert not np.array_equal(draws[0], draws[1])
    h = tf.random.Generator.from_non_deterministic_state()
    assert h.normal([2]).shape == (2,)
    with pytest.raises(ValueError, match="minval and maxval must be both"):
        g.uniform([2], dtype=tf.int32)
