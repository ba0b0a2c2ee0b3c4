"""SparseSoftmaxCrossEntropyWithLogits has TensorFlow's two outputs (loss, backprop); the
gradient reuses backprop, and labels outside [0, classes) raise whatever their sign or dtype."""
import numpy as np
import pytest

import featherflow as tf


def _np_ref(z, labels):
    z = z.astype(np.float64)
    s = z - z.max(-1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(-1, keepdims=True))
    loss = -np.take_along_axis(logp, labels[..., None], -1)[..., 0]
    backprop = np.exp(logp) - np.eye(z.shape[-1])[labels]
    return loss, backprop


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 6), (7,)])
@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
def test_raw_op_outputs_match_numpy(shape, label_dtype):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape)
    labels = rng.integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    loss, backprop = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
        features=tf.constant(z), labels=tf.constant(labels))
    want_loss, want_bp = _np_ref(z, labels)
    assert loss.shape == shape[:-1] and backprop.shape == shape
    np.testing.assert_allclose(loss.numpy(), want_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(backprop.numpy(), want_bp, rtol=1e-12, atol=1e-12)


def test_gradient_is_upstream_times_backprop():
    rng = np.random.default_rng(2)
    z = tf.constant(rng.standard_normal((3, 4)))
    labels = tf.constant([3, 0, 1])
    u = rng.standard_normal(3)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, z)
    g = tape.gradient(loss, z, output_gradients=tf.constant(u))
    _, want_bp = _np_ref(z.numpy(), labels.numpy())
    np.testing.assert_allclose(g.numpy(), u[:, None] * want_bp, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("bad", [-1, 4, -(2 ** 31), 2 ** 31 - 1])
def test_out_of_range_labels_raise_without_touching_anything(bad, label_dtype):
    z = tf.constant(np.zeros((2, 4), np.float32))
    labels = tf.constant(np.array([0, bad], label_dtype))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"Received a label value of {bad} which is outside the valid range "
                             r"of \[0, 4\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels, z)


def test_second_order_through_backprop_output():
    # d/dz of sum(grad * grad) where grad = backprop: reaches the op's second output.
    rng = np.random.default_rng(3)
    z0 = rng.standard_normal((2, 3))
    labels = np.array([2, 0])
    z = tf.constant(z0)
    with tf.GradientTape() as outer:
        outer.watch(z)
        with tf.GradientTape() as inner:
            inner.watch(z)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, z))
        g = inner.gradient(loss, z)
        s = tf.reduce_sum(g * g)
    got = outer.gradient(s, z).numpy()
    # Finite differences of the same function in float64.
    def f(zz):
        return float((_np_ref(zz, labels)[1] ** 2).sum())
    want = np.zeros_like(z0)
    eps = 1e-6
    for idx in np.ndindex(z0.shape):
        d = np.zeros_like(z0)
        d[idx] = eps
        want[idx] = (f(z0 + d) - f(z0 - d)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
