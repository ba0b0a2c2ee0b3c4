"""GradientTape: watching, recording, persistence, unconnected and integer sources, variables,
nested tapes (higher order), memory."""
import gc
import logging

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.autodiff import tape as tape_mod
from featherflow._src.framework import context


def test_basic_and_nested_structures():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = [x * x, {"a": x * 3.0}]
    np.testing.assert_allclose(t.gradient(y, x).numpy(), 9.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    g = t.gradient(y, {"k": [x, x], "j": (x,)})
    assert set(g) == {"k", "j"} and len(g["k"]) == 2 and isinstance(g["j"], tuple)
    np.testing.assert_allclose(g["k"][1].numpy(), 6.0)


def test_tape_stack_and_plain_flag():
    assert context.THREAD.tapes == () and context.THREAD.plain
    with tf.GradientTape() as t1, tf.GradientTape() as t2:
        assert context.THREAD.tapes == (t1, t2) and not context.THREAD.plain
    assert context.THREAD.tapes == () and context.THREAD.plain


def test_non_persistent_second_call_raises():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used"):
        t.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tf.GradientTape().gradient(y, x)


def test_persistent_tape():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        z = y * x
    assert float(t.gradient(y, x)) == 4.0
    assert float(t.gradient(z, x)) == 12.0


def test_unconnected_gradients():
    x, w = tf.constant(3.0), tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, w])
        y = w * 2.0
    assert t.gradient(y, x) is None
    assert t.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy() == 0.0
    assert t.gradient(y, x, unconnected_gradients="zero").dtype == tf.float32
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'foo'"):
        t.gradient(y, x, unconnected_gradients="foo")


def test_output_gradients():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * tf.constant([1.0, 2.0])
    assert float(t.gradient(y, x, output_gradients=tf.constant([3.0, 4.0]))) == 11.0


def test_integer_sources_warn_and_give_none(caplog):
    xi = tf.constant([1, 2])
    with caplog.at_level(logging.WARNING, logger="featherflow"):
        with tf.GradientTape() as t:
            t.watch(xi)
            y = xi * 2
    assert "The dtype of the watched tensor must be floating" in caplog.text
    assert t.gradient(y, xi) is None


def test_watch_errors_and_target_none():
    with tf.GradientTape() as t:
        with pytest.raises(ValueError, match="not tf.Tensor or tf.Variable"):
            t.watch([tf.constant(1.0), 3.0])
    with pytest.raises(TypeError, match="should be a list or nested structure"):
        t.gradient(None, tf.constant(1.0))


def test_stop_recording_and_reset():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        with t.stop_recording():
            y = x * x
        z = x * 2.0
    assert t.gradient(y, x) is None
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        t.reset()
        t.watch(x)
        z = x * 2.0
    assert float(t.gradient(z, x)) == 2.0
    with pytest.raises(RuntimeError, match="not recording"):
        with tf.GradientTape().stop_recording():
            pass


def test_gradient_inside_context():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        g = t.gradient(y, x)
        assert t not in context.THREAD.tapes  # a non-persistent tape stops recording
    assert float(g) == 6.0


def test_variables_auto_watched():
    v = tf.Variable(2.0)
    frozen = tf.Variable(1.0, trainable=False)
    with tf.GradientTape() as t:
        y = v * v + frozen * 3.0
    assert t.watched_variables() == (v,)
    g = t.gradient(y, [v, frozen])
    assert float(g[0]) == 4.0 and g[1] is None
    with tf.GradientTape() as t:
        t.watch(frozen)
        y = frozen * 2.0
    assert float(t.gradient(y, frozen)) == 2.0
    with tf.GradientTape(watch_accessed_variables=False) as t:
        y = v * 2.0
    assert t.gradient(y, v) is None


def test_assign_inside_tape():
    # TF: both reads flow to the variable: d(v0^2 + v1)/dv = 2*2 + 1.
    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = v * v
        v.assign(5.0)
        z = y + v * 1.0
    assert float(t.gradient(z, v)) == 5.0


def test_second_derivative():
    v = tf.Variable(1.5, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = v * v * v
        dy = inner.gradient(y, v)
    d2 = outer.gradient(dy, v)
    np.testing.assert_allclose(d2.numpy(), 6 * 1.5)


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    x = tf.constant(rng.standard_normal(3))
    vec = tf.constant(rng.standard_normal(3))
    am = tf.constant(a)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            f = tf.reduce_sum(tf.sin(x) * tf.reshape(tf.matmul(am, tf.reshape(x, (3, 1))),
                                                     (3,)))
        g = inner.gradient(f, x)
        gv = tf.reduce_sum(g * vec)
    hvp = outer.gradient(gv, x).numpy()
    xs = x.numpy()
    # f = sum_i sin(x_i) (A x)_i; H = diag(-sin(x) * (A x)) + diag(cos x) A + A^T diag(cos x)
    h = np.diag(-np.sin(xs) * (a @ xs)) + np.diag(np.cos(xs)) @ a + a.T @ np.diag(np.cos(xs))
    np.testing.assert_allclose(hvp, h @ vec.numpy(), rtol=1e-10)


def test_on_cpu_device():
    with tf.device("/CPU:0"):
        x = tf.constant([1.0, 2.0])
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(tf.exp(x))
        g = t.gradient(y, x)
    assert "CPU" in g.device
    np.testing.assert_allclose(g.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def _step(x):
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(tf.sin(x) * x)
    return t.gradient(y, x)


def test_memory_does_not_grow():
    x = tf.constant(np.ones(16, np.float32))
    dev = x._device
    for _ in range(50):
        _step(x)
    gc.collect()
    before_objects = len(gc.get_objects())
    before_bytes = dev.bytes_in_use
    kept = []
    for i in range(5000):
        g = _step(x)
        if i == 0:
            kept.append(g)  # one live result: the check below must see it
    del g
    gc.collect()
    grown = len(gc.get_objects()) - before_objects
    assert grown < 50, grown
    # Exactly the kept gradient's bytes remain.
    assert dev.bytes_in_use - before_bytes == kept[0]._nbytes
    assert tape_mod._THREAD.tapes == ()


def test_memory_check_can_fail():
    # The same measurement sees a leak: tapes kept alive hold their saved tensors.
    x = tf.constant(np.ones(16, np.float32))
    dev = x._device
    before = dev.bytes_in_use
    leak = []
    for _ in range(10):
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            tf.reduce_sum(tf.sin(x) * x)
        leak.append(t)
    assert dev.bytes_in_use - before >= 10 * 2 * 16 * 4
