"""tf.math.segment_* / unsorted_segment_*: forward vs NumPy, dtypes, TF's run-time errors."""
import numpy as np
import pytest

import featherflow as tf
from tests.nn import _refs as R

DATA = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, -6.0], [7.0, 8.0], [-9.0, 10.0]])
SORTED = np.array([0, 0, 2, 3, 3])
UNSORTED = np.array([3, 0, -1, 3, 1])
# (name, f(data, ids), reference(data, ids), ids, value for empty segments, int dtype result)
ROWS = [
    ("segment_sum", tf.math.segment_sum, lambda d, i: R.segment_reduce(d, i, 4, "sum", 0),
     SORTED),
    ("segment_mean", tf.math.segment_mean, lambda d, i: R.segment_reduce(d, i, 4, "mean", 0),
     SORTED),
    ("segment_max", tf.math.segment_max, lambda d, i: R.segment_reduce(d, i, 4, "max", 0),
     SORTED),
    ("unsorted_segment_sum", lambda d, i: tf.math.unsorted_segment_sum(d, i, 5),
     lambda d, i: R.segment_reduce(d, i, 5, "sum", 0), UNSORTED),
    ("unsorted_segment_mean", lambda d, i: tf.math.unsorted_segment_mean(d, i, 5),
     lambda d, i: R.segment_reduce(d, i, 5, "mean", 0), UNSORTED),
    ("unsorted_segment_max", lambda d, i: tf.math.unsorted_segment_max(d, i, 5),
     lambda d, i: R.segment_reduce(d, i, 5, "max", -np.inf), UNSORTED),
]
IDS = [r[0] for r in ROWS]
FLOATS = [tf.float16, tf.bfloat16, tf.float32, tf.float64]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("id_dtype", [tf.int32, tf.int64], ids=lambda d: d.name)
def test_forward(row, dtype, id_dtype):
    name, f, ref, ids = row
    y = f(tf.constant(DATA, dtype), tf.constant(ids, id_dtype))
    assert y.dtype == dtype
    expected = ref(DATA, ids)
    if name == "unsorted_segment_max":
        expected = np.where(np.isinf(expected), float(dtype.min), expected)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy().astype(np.float64), expected, rtol=1e-2 if
                               dtype.size == 2 else 1e-12)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_vector_data_on_cpu(row):
    _, f, ref, ids = row
    with tf.device("/CPU:0"):
        y = f(tf.constant(DATA[:, 0]), tf.constant(ids))
    expected = ref(DATA[:, :1], ids)[:, 0]
    if np.isinf(expected).any():
        expected = np.where(np.isinf(expected), np.finfo(np.float64).min, expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_integer_data():
    d = tf.constant([1, 2, 3, -7])
    ids = tf.constant([0, 0, 2, 2])
    np.testing.assert_array_equal(tf.math.segment_sum(d, ids).numpy(), [3, 0, -4])
    # C++ integer division truncates toward zero: (3 + -7) / 2 = -2, 3 / 2 = 1.
    y = tf.math.segment_mean(d, ids)
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy(), [1, 0, -2])
    np.testing.assert_array_equal(tf.math.segment_max(d, ids).numpy(), [2, 0, 3])
    y = tf.math.unsorted_segment_max(tf.constant([1, 2, 3]), [2, 0, 2], 4)
    np.testing.assert_array_equal(y.numpy(), [2, np.iinfo(np.int32).min, 3,
                                              np.iinfo(np.int32).min])
    y = tf.math.unsorted_segment_mean(tf.constant([1, 2, 3]), [2, 0, 2], 4)
    assert y.dtype == tf.float64  # truediv of the int sums, as TF
    np.testing.assert_array_equal(y.numpy(), [2.0, 0.0, 2.0, 0.0])


def test_multi_dim_unsorted_ids_and_empty():
    d = np.arange(6.0).reshape(3, 2)
    ids = np.array([[2, 1], [0, 0], [1, 1]])
    y = tf.math.unsorted_segment_sum(tf.constant(d), ids, 4)
    expected = [d[ids == s].sum() for s in range(4)]
    np.testing.assert_array_equal(y.numpy(), expected)
    y = tf.math.segment_sum(tf.zeros([0, 2]), tf.zeros([0], tf.int32))
    assert y.shape == (0, 2)
    y = tf.math.unsorted_segment_sum(tf.constant(d), [0, 1, 0], tf.constant(2, tf.int64))
    np.testing.assert_array_equal(y.numpy(), [[4.0, 6.0], [2.0, 3.0]])


@pytest.mark.parametrize("f", [tf.math.segment_sum, tf.math.segment_mean, tf.math.segment_max])
def test_sorted_errors(f):
    d = tf.constant(DATA[:3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="segment ids are not increasing"):
        f(d, [0, 2, 1])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="segment_ids should be the same size as dimension 0 of input"):
        f(d, [0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Segment id -1 out of range \[0, 1\), possibly because "
                             "'segment_ids' input is not sorted"):
        f(d, [-1, 0, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="segment_ids should be a vector"):
        f(d, [[0, 0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'Tindices' of float32"):
        f(d, [0.0, 0.0, 0.0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="input must be at least rank 1"):
        f(tf.constant(1.0), [0])


@pytest.mark.parametrize("f", [tf.math.unsorted_segment_sum, tf.math.unsorted_segment_max,
                               tf.math.unsorted_segment_mean])
def test_unsorted_errors(f):
    d = tf.constant(DATA[:3])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"segment_ids\[1\] = 5 is out of range \[0, 4\)"):
        f(d, [2, 5, 2], 4)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"data.shape = \[3,2\] does not start with segment_ids.shape = "
                             r"\[2\]"):
        f(d, [2, 1], 4)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Input num_segments == -1 must not be negative"):
        f(d, [2, 0, 2], -1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_segments should be a scalar, "
                                                             r"not shape \[1\]"):
        f(d, [2, 0, 2], [4])
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'Tnumsegments' of float32"):
        f(d, [2, 0, 2], 4.0)


def test_bool_data_rejected():
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of bool"):
        tf.math.segment_sum(tf.constant([True]), [0])
