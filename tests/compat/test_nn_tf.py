"""tf.nn and segment ops against real TensorFlow: values, gradients, dtypes, error classes."""
import numpy as np
import pytest

import featherflow as ff
from tests.nn._cases import CASES, run

tf = pytest.importorskip("tensorflow")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients(name, dtype):
    y, grads = run(ff, name, getattr(ff, dtype))
    ty, tgrads = run(tf, name, getattr(tf, dtype))
    tol = 2e-5 if dtype == "float32" else 1e-10
    if name == "gelu" and dtype == "float64":
        tol = 1e-7  # TF's float64 erfc is a polynomial good to ~1e-7; ours is math.erfc
    assert y.dtype == ty.dtype and y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=tol, atol=tol * 10)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g, tg, rtol=tol, atol=tol * 10)


ERRORS = [
    ("relu_bool", lambda m: m.nn.relu(m.constant([True]))),
    ("elu_int", lambda m: m.nn.elu(m.constant([1]))),
    ("gelu_int", lambda m: m.nn.gelu(m.constant([1]))),
    ("softmax_scalar", lambda m: m.nn.softmax(m.constant(1.0))),
    ("softmax_axis", lambda m: m.nn.softmax(m.constant([[1.0]]), axis=2)),
    ("sparse_out_of_range", lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(
        [0, 5], [[1.0, 2.0, 3.0]] * 2)),
    ("sparse_rank", lambda m: m.nn.sparse_softmax_cross_entropy_with_logits([0], [1.0, 2.0])),
    ("sigmoid_shape", lambda m: m.nn.sigmoid_cross_entropy_with_logits(labels=[1.0],
                                                                      logits=[1.0, 2.0])),
    ("dropout_rate", lambda m: m.nn.dropout(m.ones([2]), 1.0)),
    ("dropout_int", lambda m: m.nn.dropout(m.constant([1]), 0.5)),
    ("bias_rank", lambda m: m.nn.bias_add(m.ones([3]), m.ones([3]))),
    ("bias_size", lambda m: m.nn.bias_add(m.ones([2, 3]), m.ones([2]))),
    ("bias_format", lambda m: m.nn.bias_add(m.ones([2, 3]), m.ones([3]), data_format="X")),
    ("l2_loss_int", lambda m: m.nn.l2_loss(m.constant([1]))),
    ("segment_unsorted_ids", lambda m: m.math.segment_sum(m.constant([1.0, 2.0]), [1, 0])),
    ("segment_size", lambda m: m.math.segment_sum(m.constant([1.0, 2.0]), [0])),
    ("unsorted_out_of_range", lambda m: m.math.unsorted_segment_sum(m.constant([1.0]), [3], 2)),
    ("unsorted_negative_num", lambda m: m.math.unsorted_segment_sum(m.constant([1.0]), [0], -1)),
]


def _error(fn, module):
    try:
        fn(module)
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        return type(e).__name__
    return None


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error_classes(case):
    _, fn = case
    expected = _error(fn, tf)
    assert expected is not None
    assert _error(fn, ff) == expected


def test_raw_sparse_xent_returns_loss_and_backprop_like_tf():
    z = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    labels = np.array([1, 0, 4, 2], np.int32)
    loss, backprop = ff.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
        features=ff.constant(z), labels=ff.constant(labels))
    tloss, tbackprop = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
        features=tf.constant(z), labels=tf.constant(labels))
    np.testing.assert_allclose(loss.numpy(), tloss.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(backprop.numpy(), tbackprop.numpy(), rtol=1e-6, atol=1e-6)
