"""The inlined host read of a CPU variable (Variable.value on a NumPy buffer) gives what the
dispatched ReadVariableOp gives: values, dtypes, shapes, aliasing/copy-on-write, byte counts,
tape recording. (The suite's default device is a simulated GPU, so these run on CPU:0.)"""
import gc

import ml_dtypes
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import resource as R

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool",
          "complex64", "complex128"]


def _value(dtype, shape):
    np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    a = (np.arange(int(np.prod(shape))) % 3).reshape(shape)
    return a.astype(np_dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_fast_read_matches_the_dispatched_read(dtype, shape):
    with tf.device("/CPU:0"):
        v = tf.Variable(_value(dtype, shape))
    assert v._fast_read
    fast = v.value()
    slow = dispatch.execute(R.read_variable, (v.handle,))
    assert fast.dtype == v.dtype and fast.shape == tuple(shape) and fast.device == v.device
    assert type(fast._value) is type(slow._value)      # NumPy scalar for 0-d, a view otherwise
    np.testing.assert_array_equal(np.asarray(fast._value), np.asarray(slow._value))
    assert fast._nbytes == slow._nbytes


def test_reads_survive_later_updates_and_count_bytes():
    with tf.device("/CPU:0"):
        v = tf.Variable([1.0, 2.0, 3.0])
        s = tf.Variable(5.0)
    dev = v._device
    gc.collect()
    before = dev.bytes_in_use
    r = v.value()
    rs = s.value()
    assert dev.bytes_in_use == before + 4       # the view owns nothing; the scalar its 4 bytes
    v.assign_add([1.0, 1.0, 1.0])               # copy-on-write: the earlier read is unchanged
    s.assign(7.0)
    np.testing.assert_array_equal(r.numpy(), [1.0, 2.0, 3.0])
    assert float(rs) == 5.0 and float(s.value()) == 7.0
    np.testing.assert_array_equal(v.numpy(), [2.0, 3.0, 4.0])
    del r, rs
    gc.collect()
    assert dev.bytes_in_use == before


def test_string_variables_keep_the_dispatched_read():
    with tf.device("/CPU:0"):
        v = tf.Variable(b"abc")
    assert not v._fast_read
    assert v.numpy() == b"abc"


@pytest.mark.parametrize("persistent", [False, True])
def test_fast_reads_are_recorded_on_tapes(persistent):
    with tf.device("/CPU:0"):
        v = tf.Variable(3.0)
        w = tf.Variable(2.0, trainable=False)
        i = tf.Variable(4)
    with tf.GradientTape(persistent=persistent) as tape:
        y = v * v + w * v + tf.cast(i, tf.float32)
    # Auto-watch takes the trainable variables read, in read order (an int one too, as in TF).
    watched = tape.watched_variables()
    assert len(watched) == 2 and watched[0] is v and watched[1] is i
    gv, gw = tape.gradient(y, [v, w])
    assert float(gv) == 8.0 and gw is None
    with tf.GradientTape() as tape:
        tape.watch(w)
        y = w * w
    assert float(tape.gradient(y, w)) == 4.0
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = v * v * v
        g = inner.gradient(y, v)
    assert float(g) == 27.0 and float(outer.gradient(g, v)) == 18.0


def test_placement_logging_still_logs_reads(capfd):
    with tf.device("/CPU:0"):
        v = tf.Variable(1.0)
    tf.debugging.set_log_device_placement(True)
    try:
        v.value()
    finally:
        tf.debugging.set_log_device_placement(False)
    assert "Executing op ReadVariableOp in device /job:localhost/replica:0/task:0/device:CPU:0" \
        in capfd.readouterr().err
