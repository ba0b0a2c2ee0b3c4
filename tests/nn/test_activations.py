"""tf.nn activations: one row per op drives forward (vs NumPy), dtype, shape and error tests."""
import numpy as np
import pytest

import featherflow as tf
from tests.nn import _refs as R

FLOATS = [tf.float16, tf.bfloat16, tf.float32, tf.float64]
# (name, featherflow fn, NumPy reference, accepts ints?)
ROWS = [
    ("relu", tf.nn.relu, R.relu, True),
    ("relu6", tf.nn.relu6, R.relu6, True),
    ("elu", tf.nn.elu, R.elu, False),
    ("selu", tf.nn.selu, R.selu, False),
    ("gelu", tf.nn.gelu, R.gelu, False),
    ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True), R.gelu_tanh, False),
    ("leaky_relu", tf.nn.leaky_relu, R.leaky_relu, "float32"),
    ("leaky_relu_alpha", lambda x: tf.nn.leaky_relu(x, alpha=0.5),
     lambda x: R.leaky_relu(x, 0.5), "float32"),
    ("softplus", tf.nn.softplus, R.softplus, False),
    ("softsign", tf.nn.softsign, R.softsign, False),
    ("silu", tf.nn.silu, R.silu, False),
    ("swish_beta", lambda x: tf.nn.swish(x, beta=2.0), lambda x: R.silu(x, 2.0), False),
    ("sigmoid", tf.nn.sigmoid, R.sigmoid, False),
    ("tanh", tf.nn.tanh, np.tanh, False),
    ("softmax", tf.nn.softmax, R.softmax, False),
    ("softmax_axis0", lambda x: tf.nn.softmax(x, axis=0), lambda x: R.softmax(x, 0), False),
    ("log_softmax", tf.nn.log_softmax, R.log_softmax, False),
    ("log_softmax_axis0", lambda x: tf.nn.log_softmax(x, axis=0),
     lambda x: R.log_softmax(x, 0), False),
]
IDS = [r[0] for r in ROWS]
TOL = {tf.float16: 2e-3, tf.bfloat16: 2e-2, tf.float32: 2e-6, tf.float64: 1e-12}
VALUES = np.array([[-3.0, -0.5, 0.0], [0.25, 2.0, 7.5]])


@pytest.mark.parametrize("row", ROWS, ids=IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_forward_matches_numpy(row, dtype):
    _, fn, ref, _ = row
    x = tf.constant(VALUES, dtype=dtype)
    y = fn(x)
    assert y.dtype == dtype
    assert y.shape == x.shape
    expected = ref(x.numpy().astype(np.float64))
    tol = TOL[dtype]
    np.testing.assert_allclose(y.numpy().astype(np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_on_cpu_fast_path(row):
    _, fn, ref, _ = row
    with tf.device("/CPU:0"):
        x = tf.constant(VALUES)
        y = fn(x)
    assert "CPU" in y.device
    np.testing.assert_allclose(y.numpy(), ref(VALUES.astype(np.float32)), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_shapes_scalar_vector_empty(row):
    name, fn, ref, _ = row
    shapes = [(0,), (5,), (2, 0), (2, 3, 4)]
    if "softmax" not in name:
        shapes.append(())
    for shape in shapes:
        x = np.random.uniform(-3, 3, size=shape)
        y = fn(tf.constant(x, tf.float64))
        assert y.shape == shape
        np.testing.assert_allclose(y.numpy(), ref(x) if x.size else x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_integer_inputs(row):
    _, fn, ref, ints = row
    x = tf.constant([[1, -2, 7]])
    if ints is True:
        y = fn(x)
        assert y.dtype == tf.int32
        np.testing.assert_array_equal(y.numpy(), ref(np.array([[1, -2, 7]])))
    elif ints == "float32":
        y = fn(x)
        assert y.dtype == tf.float32
        np.testing.assert_allclose(y.numpy(), ref(np.array([[1.0, -2.0, 7.0]])), rtol=1e-6)
    else:
        with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
            fn(x)


def test_relu_unsigned_keeps_values():
    # TF: relu of uint8 is the identity (no value is negative).
    y = tf.nn.relu(tf.constant([1, 254], tf.uint8))
    assert y.dtype == tf.uint8
    np.testing.assert_array_equal(y.numpy(), [1, 254])


@pytest.mark.parametrize("fn", [tf.nn.elu, tf.nn.softplus, tf.nn.softsign, tf.nn.softmax])
def test_int_error_is_invalid_argument(fn):
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of int32"):
        fn(tf.constant([1, 2]))


def test_bool_relu_rejected():
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of bool"):
        tf.nn.relu(tf.constant([True]))


def test_gelu_int_is_value_error():
    with pytest.raises(ValueError, match="`features.dtype` must be a floating point tensor"):
        tf.nn.gelu(tf.constant([1, 2]))


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax])
def test_softmax_axis_errors(fn):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    for axis in (2, -3):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"`dim` must be in the range \[-2, 2\)"):
            fn(x, axis=axis)
    with pytest.raises(tf.errors.InvalidArgumentError, match="logits must have >= 1 dimension"):
        fn(tf.constant(1.0))


def test_softmax_axis_tensor():
    x = np.random.uniform(-2, 2, (3, 4))
    y = tf.nn.softmax(tf.constant(x), axis=tf.constant(0))
    np.testing.assert_allclose(y.numpy(), R.softmax(x, 0), rtol=1e-12)


# -- numerical stability --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=lambda d: d.name)
def test_stability_large_logits(dtype):
    x = tf.constant([1e4, -1e4, 0.0], dtype)
    np.testing.assert_array_equal(tf.nn.softmax(x).numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(tf.nn.log_softmax(x).numpy(), [0.0, -2e4, -1e4])
    np.testing.assert_array_equal(tf.nn.softplus(x).numpy(), [1e4, 0.0, np.log(2).astype(
        dtype.as_numpy_dtype)])
    np.testing.assert_array_equal(tf.nn.gelu(x).numpy(), [1e4, 0.0, 0.0])
    np.testing.assert_array_equal(tf.nn.gelu(x, approximate=True).numpy(), [1e4, 0.0, 0.0])
    np.testing.assert_array_equal(tf.nn.elu(x).numpy(), [1e4, -1.0, 0.0])
    for fn in (tf.nn.silu, tf.nn.selu, tf.nn.softsign, tf.nn.sigmoid):
        assert np.all(np.isfinite(fn(x).numpy()))


def test_gelu_accurate_in_the_far_left_tail():
    # 0.5 * x * (1 + erf(x / sqrt 2)) cancels to 0 here; erfc keeps the true tiny value.
    y = tf.nn.gelu(tf.constant([-10.0], tf.float64)).numpy()
    np.testing.assert_allclose(y, R.gelu(np.array([-10.0])), rtol=1e-12)
    assert y[0] != 0.0
