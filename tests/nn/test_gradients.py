"""Gradients of every tf.nn / segment op: tf.test.compute_gradient (theoretical Jacobian from the
tape, vectorized, against finite differences) over float64 scalar/vector/matrix inputs, and the
second order through check_grads."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.testing.gradient_check import check_grads


def _away_from_kinks(shape, rng):
    # |x| in [0.3, 2.5] with random signs: finite differences never straddle a kink (0, 6).
    mag = rng.uniform(0.3, 2.5, size=shape)
    return np.where(rng.random(shape) < 0.5, -mag, mag)


def _probs(shape, rng):
    p = rng.uniform(0.1, 1.0, size=shape)
    return p / p.sum(axis=-1, keepdims=True)


SEG_IDS = tf.constant([0, 0, 1, 3])
USEG_IDS = tf.constant([2, 0, -1, 2])
# (name, f(*xs), input maker(shape, rng) per argument, shapes to try, second order?)
ELEMENTWISE = [
    ("relu", tf.nn.relu), ("relu6", lambda x: tf.nn.relu6(x * 3.0)), ("elu", tf.nn.elu),
    ("selu", tf.nn.selu), ("gelu", tf.nn.gelu),
    ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True)),
    ("leaky_relu", lambda x: tf.nn.leaky_relu(x, alpha=0.3)), ("softplus", tf.nn.softplus),
    ("softsign", tf.nn.softsign), ("silu", tf.nn.silu),
    ("swish_beta", lambda x: tf.nn.swish(x, beta=1.7)),
]
ROWS = [(n, f, [_away_from_kinks], [(), (4,), (2, 3)], n not in ("relu", "relu6", "leaky_relu"))
        for n, f in ELEMENTWISE]
ROWS += [
    ("softmax", tf.nn.softmax, [_away_from_kinks], [(4,), (2, 3)], True),
    ("softmax_axis0", lambda x: tf.nn.softmax(x, axis=0), [_away_from_kinks], [(3, 2)], True),
    ("log_softmax", tf.nn.log_softmax, [_away_from_kinks], [(4,), (2, 3)], True),
    ("log_softmax_axis0", lambda x: tf.nn.log_softmax(x, axis=0), [_away_from_kinks], [(3, 2)],
     True),
    ("sigmoid_xent", lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
     [lambda s, r: r.uniform(0, 1, s), _away_from_kinks], [(), (4,), (2, 3)], True),
    ("softmax_xent", lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x),
     [_probs, _away_from_kinks], [(4,), (2, 3)], True),
    ("softmax_xent_axis0", lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
     [lambda s, r: _probs(s[::-1], r).T, _away_from_kinks], [(3, 2)], True),
    ("sparse_softmax_xent",
     lambda x: tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([2, 0]), x),
     [_away_from_kinks], [(2, 3)], True),
    ("l2_loss", tf.nn.l2_loss, [_away_from_kinks], [(), (4,), (2, 3)], True),
    ("l2_normalize", lambda x: tf.nn.l2_normalize(x, axis=-1), [_away_from_kinks],
     [(4,), (2, 3)], True),
    ("moments_mean", lambda x: tf.nn.moments(x, [0])[0], [_away_from_kinks], [(4,), (3, 2)],
     True),
    ("moments_var", lambda x: tf.nn.moments(x, [0])[1], [_away_from_kinks], [(4,), (3, 2)],
     True),
    ("batch_normalization",
     lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
     [_away_from_kinks, _away_from_kinks, lambda s, r: r.uniform(0.5, 2, s),
      _away_from_kinks, _away_from_kinks], [(2, 3)], True),
    ("bias_add", tf.nn.bias_add, [_away_from_kinks, lambda s, r: _away_from_kinks(s[-1:], r)],
     [(2, 3)], True),
    ("bias_add_nchw", lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
     [_away_from_kinks, lambda s, r: _away_from_kinks(s[1:2], r)], [(2, 3, 2)], True),
    ("segment_sum", lambda x: tf.math.segment_sum(x, SEG_IDS), [_away_from_kinks],
     [(4,), (4, 2)], True),
    ("segment_mean", lambda x: tf.math.segment_mean(x, SEG_IDS), [_away_from_kinks],
     [(4,), (4, 2)], True),
    ("segment_max", lambda x: tf.math.segment_max(x, SEG_IDS), [_away_from_kinks],
     [(4,), (4, 2)], False),
    ("unsorted_segment_sum", lambda x: tf.math.unsorted_segment_sum(x, USEG_IDS, 3),
     [_away_from_kinks], [(4,), (4, 2)], True),
    ("unsorted_segment_mean", lambda x: tf.math.unsorted_segment_mean(x, USEG_IDS, 3),
     [_away_from_kinks], [(4,), (4, 2)], True),
    ("unsorted_segment_max", lambda x: tf.math.unsorted_segment_max(x, USEG_IDS, 3),
     [_away_from_kinks], [(4,), (4, 2)], False),
]
IDS = [r[0] for r in ROWS]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_first_order(row):
    name, f, makers, shapes, _ = row
    rng = np.random.default_rng(1)
    for shape in shapes:
        xs = [np.asarray(m(shape, rng), np.float64) for m in makers]
        theoretical, numerical = tf.test.compute_gradient(f, [tf.constant(x) for x in xs])
        for t, n in zip(theoretical, numerical):
            assert t.dtype == np.float64
            np.testing.assert_allclose(t, n, rtol=1e-5, atol=1e-6, err_msg=f"{name} {shape}")


@pytest.mark.parametrize("row", [r for r in ROWS if r[4]], ids=[r[0] for r in ROWS if r[4]])
def test_second_order(row):
    name, f, makers, shapes, _ = row
    rng = np.random.default_rng(2)
    shape = shapes[-1]
    xs = [np.asarray(m(shape, rng), np.float64) for m in makers]
    check_grads(f, xs, order=2, rtol=1e-5, atol=1e-7)


def test_relu_gradient_is_zero_at_zero():
    x = tf.constant([-1.0, 0.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.relu(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 0.0, 1.0])


def test_sigmoid_xent_gradient_at_zero_logit():
    # TF: d/dx at x == 0 is sigmoid(0) - z exactly (its where-based formula), and -x for labels.
    x = tf.constant([0.0, 1.0, -2.0], tf.float64)
    z = tf.constant([0.3, 1.0, 0.0], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([x, z])
        y = tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    gx, gz = tape.gradient(y, [x, z])
    np.testing.assert_allclose(gx.numpy(), 1 / (1 + np.exp(-x.numpy())) - z.numpy())
    np.testing.assert_array_equal(gz.numpy(), -x.numpy())


def test_segment_max_ties_split_gradient():
    x = tf.constant([[1.0, 2.0], [1.0, 4.0], [5.0, 6.0]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.segment_max(x, [0, 0, 1])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[0.5, 0.0], [0.5, 1.0],
                                                                 [1.0, 1.0]])


def test_unsorted_segment_sum_drops_negative_ids_in_gradient():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.unsorted_segment_sum(x, [0, -1, 3], 4)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[1, 1], [0, 0], [1, 1]])


def test_sparse_xent_labels_have_no_gradient():
    logits = tf.constant([[1.0, 2.0]])
    labels = tf.constant([1])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    g = tape.gradient(loss, logits).numpy()
    p = np.exp([1.0, 2.0]) / np.exp([1.0, 2.0]).sum()
    np.testing.assert_allclose(g, [[p[0], p[1] - 1]], rtol=1e-6)


def test_large_logit_gradients_are_finite():
    x = tf.constant([[1e4, -1e4, 0.0]])
    labels = tf.constant([[0.2, 0.3, 0.5]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        losses = [tf.nn.softmax_cross_entropy_with_logits(labels, x),
                  tf.nn.sparse_softmax_cross_entropy_with_logits([1], x),
                  tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=x)),
                  tf.reduce_sum(tf.nn.log_softmax(x)), tf.reduce_sum(tf.nn.softplus(x))]
    for loss in losses:
        g = tape.gradient(loss, x).numpy()
        assert np.all(np.isfinite(g)), g
