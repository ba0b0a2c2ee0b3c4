"""tf.Variable: values vs NumPy, in-place updates, copy-on-write, failed updates, threads,
memory."""
import gc
import threading

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.framework import device as _device

errors = tf.errors


def _cpu():
    return _device.cpu0()


def _gpu():
    return _device.find("GPU", 0)


def _slices(values, indices):
    return type("Slices", (), {"values": tf.constant(values), "indices": tf.constant(indices)})()


DEVICES = ["/CPU:0", "/GPU:0"]


# -- placement -------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", DEVICES)
def test_placement_follows_scope(spec):
    with tf.device(spec):
        v = tf.Variable([1.0, 2.0])
    assert v.device.endswith(spec[1:])
    assert v.handle.device == v.device
    assert v.handle.dtype == tf.resource
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_default_placement_numbers_gpu_strings_cpu():
    assert tf.Variable(1.0).device.endswith("GPU:0")
    assert tf.Variable("a").device.endswith("CPU:0")


def test_initial_value_device_is_kept():
    with tf.device("/GPU:1"):
        t = tf.constant([1.0])
    assert tf.Variable(t).device.endswith("GPU:1")


# -- updates vs NumPy ------------------------------------------------------------------------
UPDATES = [  # (method, numpy reference, dtype)
    ("assign", lambda a, d: d, np.float32),
    ("assign_add", lambda a, d: a + d, np.float32),
    ("assign_sub", lambda a, d: a - d, np.float32),
    ("assign_add", lambda a, d: a + d, np.int64),
    ("assign_sub", lambda a, d: a - d, np.float64),
]


@pytest.mark.parametrize("spec", DEVICES)
@pytest.mark.parametrize("method,ref,dtype", UPDATES)
def test_whole_updates_match_numpy(spec, method, ref, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    d = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    with tf.device(spec):
        v = tf.Variable(a)
    out = getattr(v, method)(d)
    assert out is v
    np.testing.assert_array_equal(v.numpy(), ref(a, d))
    assert v.numpy().dtype == dtype
    assert getattr(v, method)(d, read_value=False) is None


SCATTERS = [
    ("scatter_update", lambda a, i, u: _np_set(a, i, u)),
    ("scatter_add", lambda a, i, u: _np_at(np.add, a, i, u)),
    ("scatter_sub", lambda a, i, u: _np_at(np.subtract, a, i, u)),
    ("scatter_mul", lambda a, i, u: _np_at(np.multiply, a, i, u)),
    ("scatter_div", lambda a, i, u: _np_at(np.divide, a, i, u)),
    ("scatter_min", lambda a, i, u: _np_at(np.minimum, a, i, u)),
    ("scatter_max", lambda a, i, u: _np_at(np.maximum, a, i, u)),
]


def _np_set(a, i, u):
    a = a.copy()
    a[i] = u
    return a


def _np_at(fn, a, i, u):
    a = a.copy()
    fn.at(a, i, u)
    return a


@pytest.mark.parametrize("spec", DEVICES)
@pytest.mark.parametrize("method,ref", SCATTERS)
def test_scatter_matches_numpy(spec, method, ref):
    rng = np.random.default_rng(1)
    a = rng.uniform(1, 5, (5, 3)).astype(np.float32)
    idx = np.array([4, 0, 2], np.int32)  # distinct: TF leaves duplicate order unspecified
    u = rng.uniform(1, 5, (3, 3)).astype(np.float32)
    with tf.device(spec):
        v = tf.Variable(a)
    assert getattr(v, method)(_slices(u, idx)) is v
    np.testing.assert_allclose(v.numpy(), ref(a, idx, u), rtol=1e-6)


ND = [
    ("scatter_nd_update", lambda a, k, u: _np_set(a, k, u)),
    ("scatter_nd_add", lambda a, k, u: _np_at(np.add, a, k, u)),
    ("scatter_nd_sub", lambda a, k, u: _np_at(np.subtract, a, k, u)),
    ("scatter_nd_max", lambda a, k, u: _np_at(np.maximum, a, k, u)),
    ("scatter_nd_min", lambda a, k, u: _np_at(np.minimum, a, k, u)),
]


@pytest.mark.parametrize("spec", DEVICES)
@pytest.mark.parametrize("method,ref", ND)
def test_scatter_nd_matches_numpy(spec, method, ref):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    idx = np.array([[0, 1], [2, 3], [1, 0]], np.int64)
    u = rng.standard_normal(3).astype(np.float32)
    with tf.device(spec):
        v = tf.Variable(a)
    getattr(v, method)(idx, u)
    np.testing.assert_allclose(v.numpy(), ref(a, tuple(idx.T), u), rtol=1e-6)


@pytest.mark.parametrize("spec", DEVICES)
def test_reads_match_numpy(spec):
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    with tf.device(spec):
        v = tf.Variable(a)
    np.testing.assert_array_equal(v.sparse_read([3, 1]).numpy(), a[[3, 1]])
    np.testing.assert_array_equal(v.gather_nd([[1, 2], [0, 0]]).numpy(), a[[1, 0], [2, 0]])
    np.testing.assert_array_equal(v.read_value().numpy(), a)
    np.testing.assert_array_equal(np.asarray(v), a)
    np.testing.assert_array_equal((v * 2).numpy(), a * 2)
    assert v.value().dtype == tf.float32 and v.value().device == v.device


def test_count_up_to():
    v = tf.Variable(np.int64(0))
    assert [int(v.count_up_to(2)) for _ in range(2)] == [0, 1]
    with pytest.raises(errors.OutOfRangeError):
        v.count_up_to(2)
    assert int(v.numpy()) == 2


# -- failed updates leave the value unchanged ------------------------------------------------
FAILING = [
    (lambda v: v.assign([1.0, 2.0]), ValueError),
    (lambda v: v.assign_add([1.0]), errors.InvalidArgumentError),
    (lambda v: v.assign_sub(tf.constant([1.0, 2.0, 3.0], tf.float64)), ValueError),
    (lambda v: v.assign("x"), TypeError),
    (lambda v: v.scatter_add(_slices([1.0, 1.0], [0, 7])), errors.InvalidArgumentError),
    (lambda v: v.scatter_update(_slices([1.0, 1.0], [0, -1])), errors.InvalidArgumentError),
    (lambda v: v.scatter_nd_add([[1], [9]], [1.0, 1.0]), errors.InvalidArgumentError),
    (lambda v: v.scatter_nd_update([[0]], [[1.0]]), errors.InvalidArgumentError),
]


@pytest.mark.parametrize("spec", DEVICES)
@pytest.mark.parametrize("update,exc", FAILING)
def test_failed_update_leaves_value(spec, update, exc):
    with tf.device(spec):
        v = tf.Variable([1.0, 2.0, 3.0])
    with pytest.raises(exc):
        update(v)
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0, 3.0])


# -- copy-on-write ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", DEVICES)
@pytest.mark.parametrize("method", ["assign_add", "assign_sub", "assign"])
def test_read_before_update_keeps_old_value(spec, method):
    with tf.device(spec):
        v = tf.Variable([1.0, 2.0])
    before = v.read_value()
    converted = tf.convert_to_tensor(v)
    getattr(v, method)([10.0, 10.0])
    after = v.read_value()
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(converted.numpy(), [1.0, 2.0])
    expected = {"assign_add": [11.0, 12.0], "assign_sub": [-9.0, -8.0], "assign": [10.0, 10.0]}
    np.testing.assert_array_equal(after.numpy(), expected[method])


@pytest.mark.parametrize("spec", DEVICES)
def test_read_survives_scatter(spec):
    with tf.device(spec):
        v = tf.Variable([1.0, 2.0])
    before = v.value()
    v.scatter_nd_update([[0]], [5.0])
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [5.0, 2.0])


@pytest.mark.parametrize("spec", DEVICES)
def test_steady_state_updates_do_not_allocate(spec):
    with tf.device(spec):
        v = tf.Variable(np.zeros(1000, np.float32))
        delta = tf.ones([1000]) if hasattr(tf, "ones") else tf.constant(np.ones(1000, np.float32))
    dev = v._device
    for _ in range(3):  # warm up
        v.assign_add(delta)
        x = v.read_value()
        del x
    gc.collect()  # earlier tests' garbage must not be freed inside the window
    in_use, peak = dev.bytes_in_use, dev.peak_bytes
    for _ in range(50):
        x = v.read_value()
        del x
        v.assign_add(delta)
        v.assign_sub(delta)
        v.assign(delta)
    assert dev.bytes_in_use == in_use
    assert dev.peak_bytes == peak
    np.testing.assert_array_equal(v.numpy(), np.ones(1000, np.float32))


# -- threads ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", DEVICES)
def test_concurrent_assign_add_loses_nothing(spec):
    with tf.device(spec):
        v = tf.Variable(0, dtype=tf.int64)

    def work():
        for _ in range(1000):
            v.assign_add(1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(v.numpy()) == 8000


# -- memory ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", DEVICES)
def test_del_frees_buffer(spec):
    gc.collect()
    gc.disable()
    try:
        with tf.device(spec):
            v = tf.Variable(np.zeros(16 * 1024 * 1024, np.float32))  # 64 MB
        dev = v._device
        held = dev.bytes_in_use
        r = v.read_value()
        v.assign_add(r)  # copy-on-write: the old buffer now belongs to `r`
        assert dev.bytes_in_use == held + 64 * 1024 * 1024
        del r
        assert dev.bytes_in_use == held
        del v
        assert dev.bytes_in_use == held - 64 * 1024 * 1024
    finally:
        gc.enable()


def test_simulated_gpu_variable_never_leaks():
    v = tf.Variable([1.0, 2.0, 3.0])  # simulated GPU:0 (the buffer is boxed; host use raises)
    v.assign_add([1.0, 1.0, 1.0])
    v.scatter_update(_slices([7.0], [0]))
    v.scatter_nd_max([[1]], [9.0])
    v.sparse_read([0])
    v.gather_nd([[2]])
    r = v.read_value()
    v.assign([0.0, 0.0, 0.0])
    assert type(v.handle._value).__name__ == "DeviceArray"
    np.testing.assert_array_equal(r.numpy(), [7.0, 9.0, 4.0])


# -- Python protocol and metadata ------------------------------------------------------------
def test_scalar_buffer_is_an_ndarray():
    with tf.device("/CPU:0"):
        v = tf.Variable(1.0)
    assert type(v.handle._value) is np.ndarray and v.handle._value.shape == ()
    v.assign_add(2.0)
    v.assign(5)
    assert float(v) == 5.0


def test_unhashable_and_ref():
    v = tf.Variable(1.0)
    with pytest.raises(TypeError):
        hash(v)
    d = {v.ref(): 1}
    assert d[v.ref()] == 1 and v.ref().deref() is v


def test_chain_and_metadata():
    v = tf.Variable(1.0, name="c", constraint=abs, shape=[])
    assert float(v.assign(1.0).assign_add(2.0).assign_sub(0.5)) == 2.5
    assert v.constraint is abs and v.trainable
    assert v.synchronization is tf.VariableSynchronization.AUTO
    assert v.aggregation is tf.VariableAggregation.NONE
    assert v._shared_name == "c" and v._unique_id.startswith("c_")
    assert v.shape == tf.TensorShape([]) and v.get_shape() == v.shape
    assert tf.Variable(1.0)._unique_id != tf.Variable(1.0)._unique_id


@pytest.mark.parametrize("spec", DEVICES)
def test_sliced_assign_writes_through(spec):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    with tf.device(spec):
        v = tf.Variable(a)
    row = v[1]
    np.testing.assert_array_equal(row.numpy(), a[1])
    v[0, 1].assign_add(5.0)
    v[::2, 3].assign_sub([1.0, 1.0])
    v[1:3, 0].assign([7.0, 8.0])
    ref = a.copy()
    ref[0, 1] += 5.0
    ref[::2, 3] -= 1.0
    ref[1:3, 0] = [7.0, 8.0]
    np.testing.assert_array_equal(v.numpy(), ref)
    np.testing.assert_array_equal(row.numpy(), a[1])  # the earlier read kept its value
    with pytest.raises(errors.InvalidArgumentError):
        v[0:2, 1].assign([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(v.numpy(), ref)
