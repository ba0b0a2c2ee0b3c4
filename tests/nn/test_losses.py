"""Cross-entropies, l2_loss, l2_normalize: forward vs NumPy, dtypes, shapes, TF's errors."""
import numpy as np
import pytest

import featherflow as tf
from tests.nn import _refs as R

FLOATS = [tf.float16, tf.bfloat16, tf.float32, tf.float64]
TOL = {tf.float16: 3e-3, tf.bfloat16: 3e-2, tf.float32: 3e-6, tf.float64: 1e-12}
RNG = np.random.default_rng(0)
LOGITS = RNG.uniform(-4, 4, (3, 5))
PROBS = RNG.uniform(0, 1, (3, 5))
PROBS /= PROBS.sum(-1, keepdims=True)
SPARSE = np.array([4, 0, 2])

# (name, f(labels, logits), reference, labels) -- one row per loss.
ROWS = [
    ("sigmoid_xent", lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
     R.sigmoid_xent, PROBS),
    ("softmax_xent", tf.nn.softmax_cross_entropy_with_logits, R.softmax_xent, PROBS),
    ("softmax_xent_axis0", lambda z, x: tf.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
     lambda z, x: R.softmax_xent(z, x, 0), PROBS),
    ("sparse_xent", tf.nn.sparse_softmax_cross_entropy_with_logits, R.sparse_softmax_xent,
     SPARSE),
    ("l2_loss", lambda z, x: tf.nn.l2_loss(x), lambda z, x: R.l2_loss(x), None),
    ("l2_normalize", lambda z, x: tf.nn.l2_normalize(x, axis=1),
     lambda z, x: R.l2_normalize(x, 1), None),
    ("l2_normalize_all", lambda z, x: tf.nn.l2_normalize(x), lambda z, x: R.l2_normalize(x),
     None),
]
IDS = [r[0] for r in ROWS]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_forward(row, dtype):
    _, f, ref, labels = row
    x = tf.constant(LOGITS, dtype)
    if labels is None:
        z = None
    elif labels.dtype.kind == "i":
        z = tf.constant(labels)
    else:
        z = tf.constant(labels, dtype)
    y = f(z, x)
    assert y.dtype == dtype
    zh = None if z is None else z.numpy().astype(np.float64 if z.dtype.is_floating else np.int64)
    expected = ref(zh, x.numpy().astype(np.float64))
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy().astype(np.float64), expected, rtol=TOL[dtype],
                               atol=TOL[dtype])


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_int_logits_rejected(row):
    _, f, _, labels = row
    x = tf.constant([[1, 2, 3, 4, 5]] * 3)
    z = None if labels is None else tf.constant(labels if labels.dtype.kind == "i" else
                                                np.ones((3, 5), np.int32))
    with pytest.raises((tf.errors.InvalidArgumentError, TypeError)):
        f(z, x)


def test_stability_large_logits():
    x = tf.constant([[1e4, -1e4, 0.0]])
    z = tf.constant([[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(tf.nn.softmax_cross_entropy_with_logits(z, x).numpy(), [2e4])
    np.testing.assert_array_equal(
        tf.nn.sparse_softmax_cross_entropy_with_logits([0], x).numpy(), [0.0])
    np.testing.assert_array_equal(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x).numpy(),
        [[1e4, 1e4, np.float32(np.log(2))]])


def test_sigmoid_xent_errors():
    with pytest.raises(ValueError, match=r"must have the same shape, received \(\(3,\) vs "
                                         r"\(2,\)\)"):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 2.0], logits=[1.0, 2.0, 3.0])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant([1.0], tf.float64),
                                                logits=tf.constant([1.0]))
    with pytest.raises(ValueError):
        tf.nn.sigmoid_cross_entropy_with_logits(logits=[1.0])


def test_softmax_xent_shapes_and_errors():
    assert tf.nn.softmax_cross_entropy_with_logits([1.0, 0.0], [1.0, 2.0]).shape == ()
    y = tf.nn.softmax_cross_entropy_with_logits([[[1.0, 0.0]]], [[[1.0, 2.0]]])
    assert y.shape == (1, 1)
    # Labels that broadcast to the logits' shape are accepted (TF's op broadcasts them too).
    y = tf.nn.softmax_cross_entropy_with_logits([[0.5, 0.5]], [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(y.numpy(), R.softmax_xent([[0.5, 0.5]] * 2,
                                                         [[1.0, 2.0], [3.0, 4.0]]), rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"logits and labels must be broadcastable: logits_size=\[1,3\] "
                             r"labels_size=\[1,2\]"):
        tf.nn.softmax_cross_entropy_with_logits([[1.0, 0.0]], [[1.0, 2.0, 3.0]])


def test_sparse_xent_shapes_and_errors():
    logits = [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    for bad in (5, -1):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=rf"Received a label value of {bad} which is outside the valid "
                                 rf"range of \[0, 3\)\.  Label values: 0 {bad}"):
            tf.nn.sparse_softmax_cross_entropy_with_logits([0, bad], logits)
    assert tf.nn.sparse_softmax_cross_entropy_with_logits(0, [1.0, 2.0, 3.0]).shape == ()
    y = tf.nn.sparse_softmax_cross_entropy_with_logits([[0, 1]], [logits])
    assert y.shape == (1, 2)
    with pytest.raises(ValueError, match=r"`labels.shape.rank` must equal "
                                         r"`logits.shape.rank - 1`"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must equal `logits.shape` except for the last"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0, 1], [[1.0, 2.0, 3.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'Tlabels' of float32"):
        tf.nn.sparse_softmax_cross_entropy_with_logits([0.0], [[1.0, 2.0, 3.0]])
    y = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([2], tf.int64), [[1.0, 2.0,
                                                                                     3.0]])
    assert y.dtype == tf.float32


def test_l2_loss_and_normalize_dtypes():
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of int32"):
        tf.nn.l2_loss(tf.constant([1, 2]))
    assert tf.nn.l2_loss(tf.constant(3.0)).numpy() == 4.5
    with pytest.raises(TypeError):
        tf.nn.l2_normalize(tf.constant([3, 4]), 0)
    np.testing.assert_array_equal(tf.nn.l2_normalize(tf.constant([0.0, 0.0])).numpy(), [0, 0])
    np.testing.assert_allclose(tf.nn.l2_normalize(tf.constant([3.0, 4.0]), dim=0).numpy(),
                               [0.6, 0.8])
