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
