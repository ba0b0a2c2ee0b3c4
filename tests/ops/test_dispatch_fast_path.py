"""dispatch.execute's fast path (CPU:0, no scope) against its slow path (a simulated GPU): the
same values, dtypes and errors for ops of one, two and three or more inputs, and byte counts for
owned arrays, views and NumPy scalars."""
import gc

import numpy as np
import pytest

import featherflow as tf

CASES = [
    ("neg", lambda a, b, c: -a),
    ("relu", lambda a, b, c: tf.nn.relu(a)),
    ("add", lambda a, b, c: a + b),
    ("matmul", lambda a, b, c: tf.matmul(tf.reshape(a, [2, 3]), tf.reshape(b, [3, 2]))),
    ("add_n3", lambda a, b, c: tf.add_n([a, b, c])),
    ("where3", lambda a, b, c: tf.where(a > b, b, c)),
    ("reduce", lambda a, b, c: tf.reduce_sum(a * b)),
    ("reshape_view", lambda a, b, c: tf.reshape(a, [3, 2])),
    ("scalar", lambda a, b, c: tf.reduce_mean(a) + tf.reduce_max(c)),
]


def _inputs(device):
    rng = np.random.default_rng(0)
    with tf.device(device):
        return [tf.constant(rng.standard_normal(6).astype(np.float32)) for _ in range(3)]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_fast_path_matches_slow_path(name, fn):
    fast = fn(*_inputs("/CPU:0"))
    with tf.device("/GPU:0"):
        slow = fn(*_inputs("/GPU:0"))
    assert "CPU:0" in fast.device and "GPU:0" in slow.device
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())


@pytest.mark.parametrize("device", ["/CPU:0", "/GPU:0"])
def test_mixed_dtypes_raise_the_same_error(device):
    with tf.device(device):
        a = tf.constant([1.0, 2.0])
        b = tf.constant([1, 2])
        c = tf.constant([1.0, 2.0], tf.float64)
        u = tf.constant([[1]], tf.uint8)
    assert a.device.endswith(device.lstrip("/"))
    # Outside the scope, CPU inputs take the fast path (its inlined dtype checks, and MatMul's
    # check for the dtypes `checked_dtypes` does not exempt).
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot compute AddV2 as input #1"):
        tf.raw_ops.AddV2(x=a, y=b)
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot compute AddN as input #2"):
        tf.raw_ops.AddN(inputs=[a, a, c])
    with pytest.raises(tf.errors.NotFoundError, match="Could not find device for node: MatMul"):
        tf.raw_ops.MatMul(a=u, b=u)


def test_byte_counts_on_the_fast_path():
    with tf.device("/CPU:0"):
        a = tf.constant(np.ones(1000, np.float32))
        s = tf.constant(1.0)
    dev = a._device
    gc.collect()
    base = dev.bytes_in_use
    owned = a + a                      # a new array
    view = tf.reshape(a, [10, 100])    # a view of a's array: owns nothing
    scalar = s + s                     # a NumPy scalar: its itemsize
    assert owned._nbytes == 4000 and view._nbytes == 0 and scalar._nbytes == 4
    assert dev.bytes_in_use == base + 4004
    del owned, view, scalar
    gc.collect()
    assert dev.bytes_in_use == base


# -- dispatch.binary: execute(op, (x, y)) for the operators and gradients -----------------------
def _binary_cases():
    from featherflow._src.ops.defs import elementwise as ew

    return [ew.AddV2, ew.Sub, ew.Mul, ew.FloorDiv, ew.FloorMod, ew.Pow, ew.Less, ew.Greater]


@pytest.mark.parametrize("device", ["/CPU:0", "/GPU:0"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.float16])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_binary_equals_execute(device, dtype, shape):
    from featherflow._src.ops import dispatch

    rng = np.random.default_rng(1)
    with tf.device(device):
        x = tf.constant((rng.random(shape) * 5 + 1).astype(dtype))
        y = tf.constant((rng.random(shape) * 3 + 1).astype(dtype))
    for op in _binary_cases():
        a = dispatch.binary(op, x, y)
        b = dispatch.execute(op, (x, y))
        assert a.dtype == b.dtype and a.device == b.device and a._nbytes == b._nbytes, op.name
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=op.name)


def test_binary_errors_recording_and_placement_log(capfd):
    from featherflow._src.ops import dispatch
    from featherflow._src.ops.defs import elementwise as ew

    with tf.device("/CPU:0"):
        a = tf.constant([1.0, 2.0])
        i = tf.constant([1, 2])
        s = tf.constant(["a", "b"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="cannot compute Mul as input #1"):
        dispatch.binary(ew.Mul, a, i)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes"):
        dispatch.binary(ew.AddV2, a, tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Value for attr 'T' of string"):
        dispatch.binary(ew.Mul, s, s)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = dispatch.binary(ew.Mul, a, a)
    np.testing.assert_array_equal(tape.gradient(y, a).numpy(), [2.0, 4.0])
    tf.debugging.set_log_device_placement(True)
    try:
        dispatch.binary(ew.Mul, a, a)
    finally:
        tf.debugging.set_log_device_placement(False)
    assert "Executing op Mul in device /job:localhost/replica:0/task:0/device:CPU:0" in \
        capfd.readouterr().err


# -- scalar operands: `x * 3.0` keeps its NumPy scalars in a per-dtype cache ----------------------
@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float32, tf.float64])
def test_python_float_operands_convert_like_numpy(dtype):
    with tf.device("/CPU:0"):
        x = tf.constant(1.0, dtype)
    np_type = dtype.as_numpy_dtype
    for value in (3.0, 0.1, -0.0, 0.0, 1e-30, 2.5, 3.0, 0.1, float("inf"), float("-inf")):
        for _ in range(2):  # the second conversion of a value may come from the cache
            got = (x * value).numpy()
            want = np.asarray(np_type(1.0) * np_type(value))
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            assert np.signbit(got) == np.signbit(want), value  # -0.0 stays -0.0
    assert np.isnan((x * float("nan")).numpy())
    # np.float64 is a float subclass: converted, not cached under the plain float's entry.
    np.testing.assert_array_equal((x + np.float64(0.5)).numpy(), np_type(1.5))


def test_overflowing_float_operand_warns_every_time():
    with tf.device("/CPU:0"):
        x = tf.constant(1.0)
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="overflow"):
            assert np.isinf((x * 1e39).numpy())


def test_float_operand_cache_is_bounded():
    from featherflow._src.framework import convert

    with tf.device("/CPU:0"):
        x = tf.constant(1.0)
    for k in range(3 * convert._HOST_FLOATS_MAX):
        assert (x + (k + 0.5)).numpy() == np.float32(k + 1.5)
    assert len(convert._HOST_FLOATS[tf.float32.as_datatype_enum]) <= convert._HOST_FLOATS_MAX


@pytest.mark.parametrize("shape", [(), (3,)])
def test_operator_overflow_is_silent_like_tf(shape):
    # dispatch.binary runs AddV2/Sub/Mul as Python operators: inf, and no warning (the test
    # configuration turns warnings into errors).
    with tf.device("/CPU:0"):
        big = tf.constant(np.full(shape, 3e38, np.float32))
        zero = tf.constant(np.zeros(shape, np.float32))
    for got in (big + big, big * big, -big - big, (big - big) * (zero / zero)):
        assert got.dtype == tf.float32 and got.shape == shape
    assert np.all(np.isinf((big * big).numpy()))
    assert np.all(np.isnan((zero / zero * big).numpy()))
