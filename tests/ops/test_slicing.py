"""tensor[key] against NumPy basic indexing, including a hypothesis search over random keys."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featherflow as tf

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)

KEYS = [
    1, -1, (0, 2), (1, -1, 0), slice(None), slice(1, None), slice(None, None, -1),
    slice(-2, None, -1), slice(10, -10, -1), (slice(None), 2), (Ellipsis, 1), (0, Ellipsis, 1),
    (None,), (None, 0), (0, None, Ellipsis, None), (slice(None, None, 2), slice(3, 0, -2)),
    (Ellipsis,), (Ellipsis, None), (1, slice(0, 0)), (slice(5, 1), 0),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_basic_keys_match_numpy(key):
    want = X[key]
    got = tf.constant(X)[key]
    assert tuple(got.shape) == want.shape
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), want)


def test_tensor_scalar_indices():
    x = tf.constant(X)
    np.testing.assert_array_equal(x[tf.constant(1)].numpy(), X[1])
    np.testing.assert_array_equal(x[tf.constant(1, tf.int64), :, tf.constant(-1)].numpy(),
                                  X[1, :, -1])
    np.testing.assert_array_equal(x[tf.constant(0):tf.constant(2), np.int64(2)].numpy(),
                                  X[0:2, 2])


def test_list_key_is_a_tuple_as_in_tensorflow():
    np.testing.assert_array_equal(tf.constant(X)[[0, 1]].numpy(), X[0, 1])


def test_bool_mask_key():
    m = np.array([True, False])
    np.testing.assert_array_equal(tf.constant(X)[tf.constant(m)].numpy(), X[m])


def test_scalar_with_ellipsis_and_newaxis():
    s = tf.constant(3.0)
    assert s[...].numpy() == 3.0
    np.testing.assert_array_equal(s[None].numpy(), np.float32([3.0]))


@pytest.mark.parametrize("key,exc", [
    (3, tf.errors.InvalidArgumentError), ((0, 5), tf.errors.InvalidArgumentError),
    ((0, 0, 0, 0, 0), tf.errors.InvalidArgumentError), (1.0, TypeError),
    (np.array([0, 1]), TypeError), ("a", TypeError), (slice(None, None, 0),
                                                      tf.errors.InvalidArgumentError),
])
def test_errors(key, exc):
    with pytest.raises(exc):
        tf.constant(X)[key]


def test_cpu_fast_path_and_strings():
    with tf.device("/CPU:0") if hasattr(tf, "device") else _null():
        x = tf.constant(X)
        np.testing.assert_array_equal(x[1, ::-1].numpy(), X[1, ::-1])
    s = tf.constant(["a", "b", "c"])
    assert s[1].numpy() == b"b"


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _component(dim):
    bound = st.integers(-dim - 2, dim + 2)
    return st.one_of(
        st.integers(-dim, dim - 1),
        st.builds(slice, st.none() | bound, st.none() | bound,
                  st.none() | st.integers(-3, 3).filter(lambda s: s != 0)),
    )


@st.composite
def basic_keys(draw):
    shape = X.shape
    n = draw(st.integers(0, len(shape)))
    ellipsis_at = draw(st.none() | st.integers(0, n))
    dims = list(shape[:n]) if ellipsis_at is None else \
        list(shape[:ellipsis_at]) + list(shape[len(shape) - (n - ellipsis_at):])
    key = [draw(_component(d)) for d in dims]
    if ellipsis_at is not None:
        key.insert(ellipsis_at, Ellipsis)
    # A newaxis consumes no input dimension, so it goes in anywhere after the others are drawn.
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    return tuple(key)


@settings(max_examples=200, deadline=None)
@given(basic_keys())
def test_random_basic_keys_match_numpy(key):
    want = X[key]
    got = tf.constant(X)[key]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
