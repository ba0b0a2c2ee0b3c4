"""Inlined host reads of a variable are aliases of it on a tape (tape._reads), not recorded
ReadVariableOp nodes: every gradient form gives what the recorded nodes give.

The oracle is the same computation on a simulated GPU, whose variables read through dispatch
(a ReadVariableOp node per read). Values are compared to the bit, and with NumPy's analytic
derivatives.
"""
import numpy as np
import pytest

import featherflow as tf

_DEVICES = ("/CPU:0", "/GPU:0")


def _vars(device, *values):
    with tf.device(device):
        return [tf.Variable(np.asarray(v, np.float32)) for v in values]


def _np(x):
    return None if x is None else np.asarray(tf.convert_to_tensor(x).numpy())


def _both(fn):
    """fn(device) on CPU:0 (aliased reads) and on the simulated GPU (recorded reads)."""
    return [fn(d) for d in _DEVICES]


def _assert_same(cpu, gpu):
    assert len(cpu) == len(gpu)
    for a, b in zip(cpu, gpu):
        if a is None or b is None:
            assert a is None and b is None
            continue
        np.testing.assert_array_equal(_np(a), _np(b))
        assert _np(a).dtype == _np(b).dtype


def test_host_reads_record_no_read_nodes():
    (v,) = _vars("/CPU:0", 2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = v * v + 3.0 * v
    assert [n[0].name for n in tape._nodes] == ["Mul", "Mul", "AddV2"]
    assert len(tape._reads[id(v.handle)]) == 3
    assert float(tape.gradient(y, v)) == 2 * 2.0 + 3.0
    (g,) = _vars("/GPU:0", 2.0)
    with tf.GradientTape() as tape:
        y = g * g
    assert [n[0].name for n in tape._nodes].count("ReadVariableOp") == 2


def test_repeated_reads_sum_like_recorded_reads():
    def run(device):
        v, w = _vars(device, [0.5, -1.5, 2.0], [[1.0], [2.0], [3.0]])
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v * v * v + tf.sin(v) * v) + tf.reduce_sum(tf.matmul(v[None], w))
        return tape.gradient(y, [v, w])

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    x = np.array([0.5, -1.5, 2.0], np.float32)
    np.testing.assert_allclose(_np(cpu[0]), 3 * x * x + np.cos(x) * x + np.sin(x) + [1, 2, 3],
                               rtol=1e-6)


def test_a_subset_of_the_watched_variables_as_sources():
    def run(device):
        v, w = _vars(device, 3.0, 4.0)
        with tf.GradientTape(persistent=True) as tape:
            y = v * w + v * v
        return [tape.gradient(y, v), tape.gradient(y, w), tape.gradient(y, [w, v])[1]]

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    assert [float(g) for g in cpu] == [4.0 + 6.0, 3.0, 10.0]


def test_a_read_tensor_as_source_and_as_target():
    def run(device):
        (v,) = _vars(device, 3.0)
        with tf.GradientTape(persistent=True) as tape:
            r = v.read_value()
            y = r * r + v
        return [tape.gradient(y, r), tape.gradient(y, v), tape.gradient(r, v)]

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    assert [float(g) for g in cpu] == [6.0, 7.0, 1.0]


def test_reads_before_and_after_an_assignment_both_count():
    def run(device):
        (v,) = _vars(device, 2.0)
        with tf.GradientTape() as tape:
            a = v * 1.0
            v.assign(5.0)
            y = a * v
        return [tape.gradient(y, v)]

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    assert float(cpu[0]) == 5.0 + 2.0  # d(a*v)/dv through both reads, as TF's tape gives


def test_unconnected_and_unwatched_variables():
    def run(device):
        v, w = _vars(device, 2.0, 3.0)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(v)
            y = v * w                       # w is read but not watched
        unwatched = tape.gradient(y, w)
        with tf.GradientTape() as tape:
            y = v * 2.0
            w.read_value()                  # watched, read, not on the target's path
        zero = tape.gradient(y, w, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return [unwatched, zero]

    cpu, gpu = _both(run)
    assert cpu[0] is None and gpu[0] is None
    _assert_same(cpu[1:], gpu[1:])
    assert float(cpu[1]) == 0.0


def test_jacobians_through_aliased_reads():
    def run(device):
        (v,) = _vars(device, [1.0, 2.0, 3.0])
        (m,) = _vars(device, [[1.0, 2.0], [3.0, 4.0]])
        with tf.GradientTape(persistent=True) as tape:
            y = v * v + v
            z = tf.matmul(m, m)
        return [tape.jacobian(y, v), tape.jacobian(y, v, experimental_use_pfor=False),
                tape.batch_jacobian(z, m)]

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    np.testing.assert_array_equal(_np(cpu[0]), np.diag([3.0, 5.0, 7.0]))
    np.testing.assert_array_equal(_np(cpu[1]), _np(cpu[0]))


def test_second_order_through_aliased_reads():
    def run(device):
        (v,) = _vars(device, 1.5)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = v * v * v + v * v
            g = inner.gradient(y, v)
        return [g, outer.gradient(g, v)]

    cpu, gpu = _both(run)
    _assert_same(cpu, gpu)
    assert float(cpu[0]) == pytest.approx(3 * 1.5 ** 2 + 2 * 1.5)
    assert float(cpu[1]) == pytest.approx(6 * 1.5 + 2)


def test_gathered_rows_of_a_read_stay_indexed_slices():
    def run(device):
        (v,) = _vars(device, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.gather(v, [0, 2, 0])) + tf.reduce_sum(tf.gather(v, [1]))
        return tape.gradient(y, v)

    cpu, gpu = _both(run)
    assert isinstance(cpu, tf.IndexedSlices) and isinstance(gpu, tf.IndexedSlices)
    np.testing.assert_array_equal(cpu.indices.numpy(), gpu.indices.numpy())
    np.testing.assert_array_equal(tf.convert_to_tensor(cpu).numpy(), [[2, 2], [1, 1], [1, 1]])


def test_a_used_tape_frees_its_aliases():
    (v,) = _vars("/CPU:0", 2.0)
    with tf.GradientTape() as tape:
        y = v * v
    tape.gradient(y, v)
    assert tape._reads is None and tape._watched is None
    with pytest.raises(RuntimeError):
        tape.gradient(y, v)


def test_aggregate_of_host_scalars_and_0d_arrays():
    from featherflow._src.autodiff.backprop import aggregate
    from featherflow._src.framework.tensor import make

    with tf.device("/CPU:0"):
        a = tf.constant(1.5)
        b = tf.constant(2.25)
    dev = a._device
    arr = make(np.asarray(4.0, np.float32), tf.float32, dev, 4)   # 0-d ndarray, not a scalar
    f64 = make(np.float64(8.0), tf.float64, dev, 8)
    assert type(a._value) is np.float32
    np.testing.assert_array_equal(aggregate([a, b, a]).numpy(), np.float32(5.25))
    np.testing.assert_array_equal(aggregate([a, arr]).numpy(), np.float32(5.5))
    np.testing.assert_array_equal(aggregate([arr, a, b]).numpy(), np.float32(7.75))
    with pytest.raises(tf.errors.InvalidArgumentError):
        aggregate([a, f64])  # dtypes differ: add_n's error, not a silent cast
