"""One table drives the gradient check of every differentiable elementwise op (and the
reductions/matmul gradients written alongside): analytic VJP against a float64 central finite
difference along a random direction, first and second order."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import elementwise as ew
from featherflow._src.testing.gradient_check import check_grads

rng = np.random.default_rng(0)


def pos(shape):      # (0.5, 2): log, sqrt, reciprocal, pow base
    return rng.uniform(0.5, 2.0, shape)


def unit(shape):     # (-0.9, 0.9): asin, acos, atanh
    return rng.uniform(-0.9, 0.9, shape)


def real(shape):     # away from 0 so that abs/max/min/floormod stay differentiable
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 1.5, shape)


def big(shape):      # (1.2, 3): acosh
    return rng.uniform(1.2, 3.0, shape)


UNARY = {
    "Abs": (tf.abs, real), "Neg": (tf.negative, real), "Square": (tf.square, real),
    "Sqrt": (tf.sqrt, pos), "Rsqrt": (tf.math.rsqrt, pos), "Exp": (tf.exp, real),
    "Expm1": (tf.math.expm1, real), "Log": (tf.math.log, pos), "Log1p": (tf.math.log1p, pos),
    "Sin": (tf.sin, real), "Cos": (tf.cos, real), "Tan": (tf.tan, unit), "Asin": (tf.asin, unit),
    "Acos": (tf.acos, unit), "Atan": (tf.atan, real), "Sinh": (tf.sinh, real),
    "Cosh": (tf.cosh, real), "Tanh": (tf.tanh, real), "Asinh": (tf.asinh, real),
    "Acosh": (tf.acosh, big), "Atanh": (tf.atanh, unit), "Sigmoid": (tf.sigmoid, real),
    "Reciprocal": (tf.math.reciprocal, pos), "Erf": (tf.math.erf, real),
}
BINARY = {
    "AddV2": (tf.add, real, real), "Sub": (tf.subtract, real, real),
    "Mul": (tf.multiply, real, real), "RealDiv": (tf.realdiv, real, pos),
    "Div": (tf.math.divide, real, pos), "Pow": (tf.pow, pos, real),
    "Maximum": (tf.maximum, real, lambda s: real(s) + 0.1),
    "Minimum": (tf.minimum, real, lambda s: real(s) + 0.1),
    "SquaredDifference": (tf.math.squared_difference, real, real),
    "DivNoNan": (tf.math.divide_no_nan, real, pos), "Xlogy": (tf.math.xlogy, real, pos),
    "Xdivy": (tf.math.xdivy, real, pos), "Atan2": (tf.atan2, real, real),
    "FloorMod": (tf.math.floormod, lambda s: pos(s) + 0.13, lambda s: pos(s) * 0.0 + 0.7),
}
# Ops whose gradient is zero/None (piecewise constant); checked separately.
PIECEWISE = {"Sign": tf.sign, "Floor": tf.floor, "Ceil": tf.math.ceil, "Round": tf.round,
             "Rint": tf.math.rint, "FloorDiv": None}
COMPLEX_ONLY = {"ComplexAbs", "Real", "Imag", "Conj", "Angle"}
SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)),
          ((), (2, 3))]


def test_table_covers_every_differentiable_elementwise_op():
    defined = {n for n, v in vars(ew).items() if isinstance(v, type(ew.Sin))
               and v.differentiable and v.name not in ("Cast", "AddN")}
    covered = set(UNARY) | set(BINARY) | set(PIECEWISE) | COMPLEX_ONLY
    assert {ew.__dict__[n].name for n in defined} <= covered


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_unary_gradient(name, shape):
    fn, domain = UNARY[name]
    check_grads(fn, [domain(shape)], order=2)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_gradient(name, shapes):
    fn, dx, dy = BINARY[name]
    order = 1 if name == "FloorMod" else 2
    check_grads(fn, [dx(shapes[0]), dy(shapes[1])], order=order)


@pytest.mark.parametrize("name", sorted(n for n in PIECEWISE if PIECEWISE[n] is not None))
def test_piecewise_constant_gradient(name):
    x = tf.constant([0.3, -1.7, 2.2], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = PIECEWISE[name](x)
    g = tape.gradient(y, x)
    if name == "Sign":
        np.testing.assert_array_equal(g.numpy(), np.zeros(3))
    else:
        assert g is None  # TensorFlow registers no gradient for these


def test_floordiv_gradient_is_none():
    x, y = tf.constant([3.0, 4.0]), tf.constant([2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = tf.math.floordiv(x, y)
    assert tape.gradient(z, [x, y]) == [None, None]


def test_cast_and_add_n_gradients():
    # Through float32 and back: the finite difference needs a step float32 can resolve.
    check_grads(lambda a: tf.cast(tf.cast(a, tf.float32), tf.float64) * a, [real((2, 3))],
                eps=1e-2, rtol=1e-3, atol=1e-4)
    check_grads(lambda a, b: tf.add_n([a, b, a * b]), [real((3,)), real((3,))], order=2)
    x = tf.constant(2.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(tf.cast(x, tf.int32), tf.float32)
    assert tape.gradient(y, x) is None  # an integer on the path cuts it


@pytest.mark.parametrize("fn,args", [
    (lambda a: tf.reduce_sum(a, 1), [(2, 3)]),
    (lambda a: tf.reduce_sum(a, [0, 1], keepdims=True), [(2, 3)]),
    (lambda a: tf.reduce_mean(a, 0), [(2, 3)]),
    (lambda a: tf.reduce_max(a, 1), [(2, 3)]),
    (lambda a: tf.reduce_min(a), [(2, 3)]),
    (lambda a: tf.reduce_prod(a, [0, 2]), [(2, 3, 2)]),
    (lambda a: tf.cumsum(a, 1, reverse=True), [(2, 3)]),
    (lambda a: tf.cumsum(a, 0, exclusive=True), [(2, 3)]),
    (lambda a: tf.math.cumprod(a, 1, exclusive=True), [(2, 3)]),
    (lambda a, b: tf.matmul(a, b), [(2, 3), (3, 4)]),
    (lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True), [(3, 2), (4, 3)]),
    (lambda a, b: tf.matmul(a, b), [(5, 2, 3), (3, 4)]),
    (lambda a, b: tf.matmul(a, b, adjoint_b=True), [(5, 2, 3), (1, 4, 3)]),
    (lambda a, b: tf.where(a > 1.0, a, b), [(2, 3), (3,)]),
    (lambda a: tf.transpose(tf.reshape(a, (3, 2))), [(2, 3)]),
    (lambda a: tf.broadcast_to(a, (2, 3)), [(3,)]),
])
def test_reduction_and_linalg_gradients(fn, args):
    check_grads(fn, [pos(s) for s in args], order=2)


def test_prod_gradient_with_zeros_is_exact():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    check_grads(lambda a: tf.reduce_prod(a, 1), [x])
    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_prod(t, 1)
    np.testing.assert_array_equal(tape.gradient(y, t).numpy(), [[6, 0, 0], [0, 0, 0]])


def test_checker_detects_a_wrong_gradient():
    @tf.custom_gradient
    def wrong(x):
        return tf.sin(x), lambda dy: dy * tf.sin(x)

    with pytest.raises(AssertionError, match="gradient check failed"):
        check_grads(wrong, [real((3,))])
    with pytest.raises(AssertionError, match="order 1"):
        # First order is right, second order is wrong: the gradient is not differentiable.
        @tf.custom_gradient
        def flat(x):
            return x * x, lambda dy: dy * 2 * tf.stop_gradient(x)

        check_grads(flat, [real((3,))], order=2)
