"""tf.custom_gradient, tf.stop_gradient, tf.RegisterGradient / tf.no_gradient, IndexedSlices."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops import dispatch
from featherflow._src.ops.registry import REGISTRY, primitive


def test_stop_gradient():
    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = tf.stop_gradient(v * 3.0) + v
    assert float(t.gradient(y, v)) == 1.0
    assert not REGISTRY["StopGradient"].differentiable
    assert float(tf.stop_gradient(3.0)) == 3.0


def test_custom_gradient_basic_and_multi():
    @tf.custom_gradient
    def f(x):
        return x * x, lambda dy: dy * 7.0

    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    assert float(y) == 4.0 and float(t.gradient(y, x)) == 7.0

    @tf.custom_gradient
    def two(a, b):
        return a + b, lambda dy: (dy, dy * 2.0)

    a = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch([a, x])
        y = two(a, x)
    assert [float(g) for g in t.gradient(y, [a, x])] == [1.0, 2.0]

    @tf.custom_gradient
    def outputs2(a):
        return (a * 1.0, a * 1.0), lambda d1, d2: d1 + 2 * d2

    with tf.GradientTape() as t:
        t.watch(a)
        y = outputs2(a)
    assert float(t.gradient(y, a)) == 3.0


def test_custom_gradient_wrong_count():
    @tf.custom_gradient
    def wrong(a, b):
        return a + b, lambda dy: dy

    a, b = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch([a, b])
        y = wrong(a, b)
    with pytest.raises(ValueError, match="expected to return 2 gradients, but returned 1"):
        t.gradient(y, [a, b])


def test_custom_gradient_variables():
    v = tf.Variable(3.0)

    @tf.custom_gradient
    def g(x):
        def grad(dy, variables=None):
            assert variables == [v]
            return dy * v, [dy * x * 10.0]
        return x * v, grad

    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = g(x)
    assert [float(u) for u in t.gradient(y, [x, v])] == [3.0, 20.0]

    @tf.custom_gradient
    def h(x):
        return x * v, lambda dy: dy * v

    with pytest.raises(TypeError, match="must accept keyword argument 'variables'"):
        with tf.GradientTape() as t:
            t.watch(x)
            h(x)


def test_custom_gradient_under_nested_tapes():
    @tf.custom_gradient
    def cube(x):
        return x * x * x, lambda dy: dy * 3.0 * x * x

    x = tf.constant(2.0)
    with tf.GradientTape() as t2:
        t2.watch(x)
        with tf.GradientTape() as t1:
            t1.watch(x)
            y = cube(x)
        g1 = t1.gradient(y, x)
    assert float(g1) == 12.0 and float(t2.gradient(g1, x)) == 12.0


# A kernel-only primitive with no gradient, for registration tests.
_TEST_OP = "FeatherflowTestDouble"
if _TEST_OP not in REGISTRY:
    primitive(_TEST_OP, out_dtype="same")(lambda xp, x: x * 2)


def test_register_gradient_and_duplicates():
    x = tf.constant(1.5)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = dispatch.execute(_TEST_OP, (x,))
    if REGISTRY[_TEST_OP].grad is None:
        with pytest.raises(LookupError, match="gradient registry has no entry"):
            t.gradient(y, x)

        @tf.RegisterGradient(_TEST_OP)
        def _grad(op, grad):
            assert op.type == _TEST_OP and op.inputs[0] is x and op.outputs[0] is y
            return grad * 2.0

    assert float(t.gradient(y, x)) == 2.0
    with pytest.raises(KeyError, match="Registering two gradient with name 'Sin'"):
        tf.RegisterGradient("Sin")(lambda op, g: g)
    with pytest.raises(TypeError, match="op_type must be a string"):
        tf.no_gradient(3)


def test_no_gradient_unknown_op_type():
    tf.no_gradient("FeatherflowTestNeverRegistered")
    with pytest.raises(KeyError):
        tf.no_gradient("FeatherflowTestNeverRegistered")


def test_indexed_slices_flow():
    # A custom gradient that produces IndexedSlices: kept sparse through the variable read,
    # concatenated when two meet, densified when mixed with a dense gradient.
    w = tf.Variable([1.0, 2.0, 3.0])

    def rows(idx):
        @tf.custom_gradient
        def pick(t):
            def grad(dy):
                return tf.IndexedSlices(dy, tf.constant(idx), tf.constant([3]))
            return t * 1.0, grad
        return pick

    with tf.GradientTape(persistent=True) as t:
        a = rows([0, 0, 2])(w)
        b = rows([1, 1, 1])(w)
        y1 = a
        y2 = [a, b]
        y3 = [a, w * 1.0]
    g = t.gradient(y1, w)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.indices.numpy(), [0, 0, 2])
    g = t.gradient(y2, w)
    assert isinstance(g, tf.IndexedSlices) and g.indices.shape == (6,)
    g = t.gradient(y3, w)
    assert not isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(), [3.0, 1.0, 2.0])


def test_gather_on_variable_gives_indexed_slices():
    # Values checked against TF 2.21: two gathers concatenate in recording order; mixed with a
    # dense gradient the result is dense.
    w = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(w, [0, 0, 2])) + tf.reduce_sum(tf.gather(w, [1]))
    g = t.gradient(y, w)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.indices.numpy(), [0, 0, 2, 1])
    np.testing.assert_array_equal(g.dense_shape.numpy(), [3])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(w, [0, 0, 2])) + tf.reduce_sum(w)
    g = t.gradient(y, w)
    assert not isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.numpy(), [3.0, 1.0, 2.0])
