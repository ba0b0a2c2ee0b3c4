"""Optimizer updates and variable state: in place, copy-on-write, memory, devices, tapes,
threads, and the multi-tensor path against its per-variable oracle."""
import gc
import threading
import weakref

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import training_ops_multi as M
from featherflow._src.train import updates

DEVICES = ["/CPU:0", "/GPU:0"]


def _adam_state(device, shape=(4, 3), seed=0):
    rng = np.random.default_rng(seed)
    with tf.device(device):
        var = tf.Variable(rng.standard_normal(shape).astype(np.float32))
        m = tf.Variable(np.zeros(shape, np.float32))
        v = tf.Variable(np.zeros(shape, np.float32))
    return var, m, v, rng.standard_normal(shape).astype(np.float32)


def _adam_step(var, m, v, g, raw=False):
    if raw:
        c = lambda x: tf.constant(x, tf.float32)  # noqa: E731
        tf.raw_ops.ResourceApplyAdam(var=var.handle, m=m.handle, v=v.handle,
                                     beta1_power=c(0.9), beta2_power=c(0.999), lr=c(0.01),
                                     beta1=c(0.9), beta2=c(0.999), epsilon=c(1e-7),
                                     grad=tf.constant(g), use_locking=False, use_nesterov=False)
    else:
        updates.apply_adam(var, m, v, 0.9, 0.999, 0.01, 0.9, 0.999, 1e-7, g)


@pytest.mark.parametrize("raw", [False, True], ids=["api", "raw_op"])
@pytest.mark.parametrize("device", DEVICES)
def test_buffers_updated_in_place_without_memory_growth(device, raw):
    var, m, v, g = _adam_state(device)
    g = tf.identity(tf.constant(g)) if not raw else g
    _adam_step(var, m, v, g, raw)  # warm-up: every lazily created object exists now
    name = device.strip("/")
    # Weak references: a strong one would itself count as a live reader (copy-on-write).
    buffers = [weakref.ref(x._buf) for x in (var, m, v)]
    values = [weakref.ref(x.handle._value) for x in (var, m, v)]
    gc.collect()  # earlier tests' garbage must not be freed inside the window
    before = tf.config.experimental.get_memory_info(name)
    for _ in range(20):
        _adam_step(var, m, v, g, raw)
    after = tf.config.experimental.get_memory_info(name)
    assert after == before
    assert all(x._buf is b() for x, b in zip((var, m, v), buffers))
    assert all(x.handle._value is b() for x, b in zip((var, m, v), values))
    assert var.device.endswith(name)


@pytest.mark.parametrize("raw", [False, True], ids=["api", "raw_op"])
@pytest.mark.parametrize("device", DEVICES)
def test_reads_taken_before_an_update_keep_their_value(device, raw):
    var, m, v, g = _adam_state(device)
    r_var, r_m = var.value(), m.read_value()
    old_var, old_m = r_var.numpy().copy(), r_m.numpy().copy()
    _adam_step(var, m, v, g, raw)
    np.testing.assert_array_equal(r_var.numpy(), old_var)
    np.testing.assert_array_equal(r_m.numpy(), old_m)
    assert not np.array_equal(var.numpy(), old_var)
    assert not np.array_equal(m.numpy(), old_m)


def test_raw_op_on_a_handle_whose_variable_is_gone_still_runs():
    handle = tf.Variable([1.0, 2.0]).handle
    tf.raw_ops.ResourceApplyGradientDescent(var=handle, alpha=tf.constant(1.0),
                                            delta=tf.constant([1.0, 1.0]))


def test_update_under_gradient_tape_records_nothing():
    var = tf.Variable([1.0, 2.0])
    accum = tf.Variable([0.5, 0.5])
    with tf.GradientTape(persistent=True) as tape:
        y = var * 3.0
        nodes = len(tape._nodes)
        updates.apply_adagrad(var, accum, 0.1, tf.constant([1.0, 1.0]))
        tf.raw_ops.ResourceApplyGradientDescent(var=var.handle, alpha=tf.constant(0.1),
                                                delta=tf.constant([1.0, 1.0]))
        assert len(tape._nodes) == nodes
    np.testing.assert_array_equal(tape.gradient(y, var).numpy(), [3.0, 3.0])


def test_concurrent_updates_are_serialized():
    var = tf.Variable(np.zeros(1000, np.float32))
    delta = tf.constant(np.ones(1000, np.float32))

    def work():
        for _ in range(50):
            updates.apply_gradient_descent(var, -1.0, delta)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(var.numpy(), np.full(1000, 200.0, np.float32))


def test_hyperparameters_may_be_tensors_or_variables_on_another_device():
    with tf.device("/CPU:0"):
        var = tf.Variable([1.0, 2.0])
    with tf.device("/GPU:0"):
        lr = tf.Variable(0.5)
    updates.apply_gradient_descent(var, lr, tf.constant([2.0, 2.0]))
    np.testing.assert_array_equal(var.numpy(), [0.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Multi-tensor Adam: the per-variable ResourceApplyAdam is its oracle (bit-identical)
# ---------------------------------------------------------------------------------------------
SHAPES = [(), (1,), (7, 3), (M.CHUNK + 5,), (3, M.CHUNK // 2 + 1), (50_000,)]


def _many(device, seed):
    states = [_adam_state(device, s, seed + i) for i, s in enumerate(SHAPES)]
    return [list(col) for col in zip(*states)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("device", DEVICES)
def test_multi_apply_adam_is_bit_identical_to_per_variable(device, nesterov, threads,
                                                           monkeypatch):
    monkeypatch.setattr(M, "THREADS", threads)
    monkeypatch.setattr(M, "PARALLEL_MIN", 1000)
    a_vars, a_ms, a_vs, grads = _many(device, 10)
    b_vars, b_ms, b_vs, _ = _many(device, 10)
    for step in range(3):
        hyper = (0.9 ** (step + 1), 0.999 ** (step + 1), 0.01, 0.9, 0.999, 1e-7)
        for x, m, v, g in zip(a_vars, a_ms, a_vs, grads):
            updates.apply_adam(x, m, v, *hyper, g, use_nesterov=nesterov)
        updates.multi_apply_adam(b_vars, b_ms, b_vs, grads, *hyper, use_nesterov=nesterov)
    for a, b in zip(a_vars + a_ms + a_vs, b_vars + b_ms + b_vs):
        assert a.numpy().tobytes() == b.numpy().tobytes()


def test_multi_apply_adam_in_place_and_no_memory_growth():
    xs, ms, vs, grads = _many("/CPU:0", 0)
    grads = [tf.constant(g) for g in grads]
    run = lambda: updates.multi_apply_adam(xs, ms, vs, grads, 0.9, 0.999, 0.01, 0.9, 0.999,
                                           1e-7)  # noqa: E731
    run()
    buffers = [weakref.ref(x._buf) for x in xs + ms + vs]
    gc.collect()  # earlier tests' garbage must not be freed inside the window
    before = tf.config.experimental.get_memory_info("CPU:0")
    for _ in range(20):
        run()
    assert tf.config.experimental.get_memory_info("CPU:0") == before
    assert all(x._buf is b() for x, b in zip(xs + ms + vs, buffers))


def test_multi_apply_adam_validates_everything_before_writing():
    xs, ms, vs, grads = _many("/CPU:0", 0)
    before = [x.numpy().copy() for x in xs + ms + vs]
    grads[-1] = grads[-1][:10]
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"var and grad do not have the same shape\[50000\] \[10\]"):
        updates.multi_apply_adam(xs, ms, vs, grads, 0.9, 0.999, 0.01, 0.9, 0.999, 1e-7)
    for x, b in zip(xs + ms + vs, before):
        np.testing.assert_array_equal(x.numpy(), b)


def test_multi_apply_adam_copy_on_write_and_grouping():
    with tf.device("/CPU:0"):
        a = [tf.Variable([1.0, 2.0]), tf.Variable(np.ones(2, np.float64))]
    with tf.device("/GPU:0"):
        a.append(tf.Variable([3.0]))
    ms = [tf.Variable(tf.zeros_like(x)) for x in a]
    vs = [tf.Variable(tf.zeros_like(x)) for x in a]
    grads = [tf.ones_like(x) for x in a]
    read = a[0].value()
    with pytest.raises(ValueError, match="one device"):
        updates.multi_apply_adam([a[0], a[2]], ms[::2], vs[::2], grads[::2], 0.9, 0.999, 0.1,
                                 0.9, 0.999, 1e-7)
    updates.multi_apply_adam_grouped(a, ms, vs, grads, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7)
    np.testing.assert_array_equal(read.numpy(), [1.0, 2.0])
    for x, start in zip(a, ([1.0, 2.0], [1.0, 1.0], [3.0])):
        np.testing.assert_allclose(x.numpy(), np.asarray(start) - 0.1, rtol=1e-5)
        assert x.dtype in (tf.float32, tf.float64)
    assert a[1].dtype == tf.float64


def test_multi_apply_adam_raw_op_returns_none():
    xs, ms, vs, grads = _many("/CPU:0", 3)
    c = lambda x: tf.constant(x, tf.float32)  # noqa: E731
    out = tf.raw_ops.FeatherMultiApplyAdam(
        tensors=[x.handle for x in xs + ms + vs] + [tf.constant(g) for g in grads] +
        [c(0.9), c(0.999), c(0.01), c(0.9), c(0.999), c(1e-7)])
    assert out is None
