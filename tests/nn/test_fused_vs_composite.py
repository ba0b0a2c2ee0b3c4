"""Every fused nn / segment primitive equals its composite of public ops, in value and in gradient
(STYLE habit 2: the composite is the oracle for the fast path)."""
import math

import numpy as np
import pytest

import featherflow as tf

SCALE, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
IDS = np.array([0, 0, 1, 3, 3])
UIDS = np.array([2, 0, 2, 1, 0])


def _lse(x, axis):
    return tf.reduce_logsumexp(x, axis=axis, keepdims=True)


def _membership(ids, n, dtype):
    """[n, len(ids)] 0/1 matrix: row s marks the entries of segment s."""
    return tf.cast(tf.equal(tf.reshape(tf.constant(ids), [1, -1]),
                            tf.constant(np.arange(n).reshape(-1, 1))), dtype)


def _seg_max(x, ids, n, empty):
    m = tf.cast(_membership(ids, n, tf.float64), tf.bool)
    masked = tf.where(tf.reshape(m, [n, -1, 1]), tf.reshape(x, [1, len(ids), -1]),
                      tf.constant(empty, x.dtype))
    return tf.reduce_max(masked, axis=1)


Z = np.random.default_rng(3).uniform(0, 1, (4, 5))
# Softmax labels are distributions along the class axis: TF's gradient (softmax - labels)
# assumes they sum to one, and so does ours.
Z1 = Z / Z.sum(-1, keepdims=True)
Z0 = Z / Z.sum(0, keepdims=True)
LABELS = np.array([4, 0, 2, 1])
IDS4 = np.array([0, 0, 1, 3])
# (name, fused(x), composite(x)); x is a [4, 5] float64 tensor of values away from kinks.
ROWS = [
    ("relu", tf.nn.relu, lambda x: tf.maximum(x, 0.0)),
    ("relu6", lambda x: tf.nn.relu6(3 * x), lambda x: tf.minimum(tf.maximum(3 * x, 0.0), 6.0)),
    ("leaky_relu", lambda x: tf.nn.leaky_relu(x, 0.3), lambda x: tf.where(x > 0, x, float(np.float32(0.3)) * x)),
    ("elu", tf.nn.elu, lambda x: tf.where(x < 0, tf.math.expm1(x), x)),
    ("selu", tf.nn.selu, lambda x: SCALE * tf.where(x < 0, ALPHA * tf.math.expm1(x), x)),
    ("gelu", tf.nn.gelu, lambda x: 0.5 * x * (1 + tf.math.erf(x / math.sqrt(2.0)))),
    ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + tf.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("softplus", tf.nn.softplus,
     lambda x: tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))),
    ("softsign", tf.nn.softsign, lambda x: x / (1 + tf.abs(x))),
    ("softmax", tf.nn.softmax, lambda x: tf.exp(x - _lse(x, -1))),
    ("softmax_axis0", lambda x: tf.nn.softmax(x, 0), lambda x: tf.exp(x - _lse(x, 0))),
    ("log_softmax", tf.nn.log_softmax, lambda x: x - _lse(x, -1)),
    ("log_softmax_axis0", lambda x: tf.nn.log_softmax(x, 0), lambda x: x - _lse(x, 0)),
    ("sigmoid_xent",
     lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(Z), logits=x),
     lambda x: tf.maximum(x, 0.0) - x * Z + tf.math.log1p(tf.exp(-tf.abs(x)))),
    ("softmax_xent", lambda x: tf.nn.softmax_cross_entropy_with_logits(Z1, x),
     lambda x: -tf.reduce_sum(Z1 * (x - _lse(x, -1)), axis=-1)),
    ("softmax_xent_axis0", lambda x: tf.nn.softmax_cross_entropy_with_logits(Z0, x, axis=0),
     lambda x: -tf.reduce_sum(Z0 * (x - _lse(x, 0)), axis=0)),
    ("sparse_xent", lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(LABELS, x),
     lambda x: -tf.reduce_sum(tf.transpose(_membership(LABELS, 5, tf.float64)) *
                              (x - _lse(x, -1)), axis=-1)),
    ("segment_sum", lambda x: tf.math.segment_sum(x, IDS4),
     lambda x: tf.matmul(_membership(IDS4, 4, tf.float64), x)),
    ("unsorted_segment_sum", lambda x: tf.math.unsorted_segment_sum(x, UIDS[:4], 3),
     lambda x: tf.matmul(_membership(UIDS[:4], 3, tf.float64), x)),
    ("segment_mean", lambda x: tf.math.segment_mean(x, IDS4),
     lambda x: tf.matmul(_membership(IDS4, 4, tf.float64), x) /
     tf.maximum(tf.reduce_sum(_membership(IDS4, 4, tf.float64), 1, keepdims=True), 1.0)),
]
NAMES = [r[0] for r in ROWS]


def _x():
    rng = np.random.default_rng(7)
    mag = rng.uniform(0.3, 2.5, (4, 5))
    return tf.constant(np.where(rng.random((4, 5)) < 0.5, -mag, mag))


@pytest.mark.parametrize("row", ROWS, ids=NAMES)
def test_fused_equals_composite(row):
    _, fused, composite = row
    x = _x()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a, b = fused(x), composite(x)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    u = tf.constant(np.random.default_rng(1).standard_normal(a.shape))
    ga = tape.gradient(a, x, output_gradients=u)
    gb = tape.gradient(b, x, output_gradients=u)
    np.testing.assert_allclose(tf.convert_to_tensor(ga).numpy(),
                               tf.convert_to_tensor(gb).numpy(), rtol=1e-10, atol=1e-12)


def test_relu_grad_equals_composite_to_second_order():
    # Relu's gradient is the fused ReluGrad op; compare first and second derivatives (through
    # ReluGrad's own gradient) with the composite grad * (x > 0).
    x = _x()
    u = tf.constant(np.random.default_rng(2).standard_normal((4, 5)))
    with tf.GradientTape(persistent=True) as outer:
        outer.watch([x, u])
        with tf.GradientTape(persistent=True) as inner:
            inner.watch(x)
            y = tf.nn.relu(x) * tf.nn.relu(x)
        fused = inner.gradient(y, x, output_gradients=u)
        composite = 2.0 * tf.maximum(x, 0.0) * u * tf.cast(x > 0, x.dtype)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-12)
    for src in (x, u):
        np.testing.assert_allclose(outer.gradient(fused, src).numpy(),
                                   outer.gradient(composite, src).numpy(), rtol=1e-12)


def test_sparse_xent_grad_equals_composite_to_second_order():
    # The gradient runs the fused SparseSoftmaxCrossEntropyBackprop op (softmax - one_hot);
    # its own gradient (second order) must match the composite's.
    x = _x()
    u = tf.constant(np.random.default_rng(4).standard_normal(4))
    onehot = tf.one_hot(LABELS, 5, dtype=tf.float64)
    with tf.GradientTape(persistent=True) as outer:
        outer.watch([x, u])
        with tf.GradientTape(persistent=True) as inner:
            inner.watch(x)
            fused = tf.nn.sparse_softmax_cross_entropy_with_logits(LABELS, x)
            composite = -tf.reduce_sum(onehot * (x - _lse(x, -1)), axis=-1)
        ga = inner.gradient(fused, x, output_gradients=u)
        gb = inner.gradient(composite, x, output_gradients=u)
        sa, sb = tf.reduce_sum(ga * ga * x), tf.reduce_sum(gb * gb * x)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-12, atol=1e-15)
    for src in (x, u):
        np.testing.assert_allclose(outer.gradient(sa, src).numpy(),
                                   outer.gradient(sb, src).numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_sparse_xent_backprop_op_dtype(dtype):
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    out = tf.raw_ops.SparseSoftmaxCrossEntropyBackprop(logits=tf.constant(z),
                                                        labels=tf.constant([1, 0, 3]))
    assert out.dtype == tf.as_dtype(dtype)
    e = np.exp(z.astype(np.float64) - z.max(-1, keepdims=True))
    want = e / e.sum(-1, keepdims=True) - np.eye(4)[[1, 0, 3]]
    tol = 1e-3 if dtype == "float16" else 1e-7
    np.testing.assert_allclose(out.numpy().astype(np.float64), want, rtol=tol, atol=tol)


def test_relu_grad_op_dtype_and_nan():
    g = tf.constant([np.nan, 1.0, 2.0], tf.float32)
    f = tf.constant([-1.0, 0.0, 3.0], tf.float32)
    out = tf.raw_ops.ReluGrad(gradients=g, features=f)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), np.float32([np.nan, 0.0, 2.0]))


@pytest.mark.parametrize("how", ["sum", "max"])
def test_segment_primitives_equal_composite(how):
    x = tf.constant(np.random.default_rng(5).standard_normal((5, 3)))
    m = _membership(IDS, 4, tf.float64)
    um = _membership(UIDS, 4, tf.float64)
    if how == "sum":
        pairs = [(tf.math.segment_sum(x, IDS), tf.matmul(m, x)),
                 (tf.math.unsorted_segment_sum(x, UIDS, 4), tf.matmul(um, x)),
                 (tf.math.segment_mean(x, IDS),
                  tf.matmul(m, x) / tf.maximum(tf.reduce_sum(m, 1, keepdims=True), 1.0))]
    else:
        low = float(np.finfo(np.float64).min)
        pairs = [(tf.math.unsorted_segment_max(x, UIDS, 4), _seg_max(x, UIDS, 4, low)),
                 (tf.math.segment_max(x, IDS),
                  tf.where(tf.reduce_sum(m, 1, keepdims=True) > 0, _seg_max(x, IDS, 4, low),
                           0.0))]
    for fused, composite in pairs:
        np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-12)
