"""tf.Tensor's Python protocol as TensorFlow 2.21 has it (expected texts observed in TF 2.21)."""
import copy

import numpy as np
import pytest

import featherflow as tf


def test_repr_and_str():
    assert repr(tf.constant(1.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=1.0>"
    assert str(tf.constant(1.0)) == "tf.Tensor(1.0, shape=(), dtype=float32)"
    assert repr(tf.constant([1.0, 2.0])) == \
        "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(tf.constant([[1.0, 2.0], [3.0, 4.0]])) == (
        "<tf.Tensor: shape=(2, 2), dtype=float32, numpy=\n"
        "array([[1., 2.],\n       [3., 4.]], dtype=float32)>")
    assert repr(tf.constant("a")) == "<tf.Tensor: shape=(), dtype=string, numpy=b'a'>"
    assert repr(tf.constant(["a", "b"])) == \
        "<tf.Tensor: shape=(2,), dtype=string, numpy=array([b'a', b'b'], dtype=object)>"
    assert repr(tf.constant(1 + 2j)) == "<tf.Tensor: shape=(), dtype=complex128, numpy=(1+2j)>"


def test_python_conversions():
    assert bool(tf.constant(True)) and int(tf.constant(3)) == 3
    assert float(tf.constant(2.5)) == 2.5 and complex(tf.constant(1 + 1j)) == 1 + 1j
    assert [0, 1, 2][tf.constant(1)] == 1                           # __index__
    with pytest.raises(ValueError, match="truth value of an array"):
        bool(tf.constant([1, 2]))
    with pytest.raises(TypeError):
        int(tf.constant([1, 2]))
    with pytest.raises(TypeError):
        [0, 1][tf.constant(1.0)]                                    # floats are no index


def test_len_and_iter():
    t = tf.constant([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and rows[2].numpy().tolist() == [5, 6]
    with pytest.raises(TypeError, match="Scalar tensor has no `len\\(\\)`"):
        len(tf.constant(1))
    with pytest.raises(TypeError, match="Cannot iterate over a scalar tensor."):
        iter(tf.constant(1))


def test_unhashable_with_ref():
    t = tf.constant(1)
    with pytest.raises(TypeError, match="Tensor is unhashable. Instead, use tensor.ref"):
        hash(t)
    d = {t.ref(): "x"}
    assert d[t.ref()] == "x" and t.ref().deref() is t
    assert tf.constant(1).ref() != t.ref()                      # identity, not value


def test_numpy_array_protocol():
    t = tf.constant([1.0, 2.0])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.array(t, dtype=np.float64).dtype == np.float64
    a[0] = 9.0                                                   # a copy: the tensor keeps 1.0
    assert t.numpy()[0] == 1.0
    n = t.numpy()
    n[1] = 7.0
    assert t.numpy()[1] == 2.0
    with tf.device("/CPU:0"):
        c = tf.constant([1.0, 2.0])
    view = c.__array__(copy=False)                               # NumPy 2's copy=False: no copy
    assert not view.flags.writeable and view.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        t.__array__(copy=False)                                  # on a (simulated) GPU: needs one
    assert np.add(t, 1.0).tolist() == [2.0, 3.0]


def test_dlpack_round_trip():
    t = tf.constant([[1, 2], [3, 4]], tf.int64)
    a = np.from_dlpack(t)
    assert a.dtype == np.int64 and a.tolist() == [[1, 2], [3, 4]]
    assert t.__dlpack_device__() == (1, 0)                       # kDLCPU


def test_copy_and_eager_only_attributes():
    t = tf.constant([1, 2])
    assert copy.copy(t) is t and copy.deepcopy(t) is t         # immutable, as in TF
    for attr in ("name", "op", "graph"):
        with pytest.raises(AttributeError, match="eager execution is enabled"):
            getattr(t, attr)
    assert t.ndim == 1 and t.shape == tf.TensorShape([2]) and t.get_shape().as_list() == [2]
    with pytest.raises(TypeError, match="created by ops"):
        type(t)(1)


@pytest.mark.parametrize("make", [
    lambda a: tf.constant(a),
    lambda a: tf.convert_to_tensor(a),
    lambda a: tf.constant(a, shape=[4, 1]),
    lambda a: tf.constant(a, dtype=tf.float32),
    lambda a: tf.identity(a),
])
@pytest.mark.parametrize("device", ["/CPU:0", None])
def test_tensors_from_numpy_do_not_alias_the_array(make, device):
    # A tensor is immutable: writing to the NumPy array it came from must not change it (TF
    # copies on conversion, so does featherflow). On CPU:0 the tensor holds a host array.
    a = np.arange(4, dtype=np.float32)
    with tf.device(device):
        t = make(a)
    a[:] = -1.0
    np.testing.assert_array_equal(t.numpy().ravel(), [0.0, 1.0, 2.0, 3.0])


def test_tensors_from_views_and_buffers_do_not_alias():
    base = np.arange(6, dtype=np.float64)
    buf = bytearray(np.float32(1.5).tobytes())
    with tf.device("/CPU:0"):
        t = tf.constant(base[::2])
        u = tf.constant(np.frombuffer(buf, np.float32))
    base[:] = 0.0
    np.testing.assert_array_equal(t.numpy(), [0.0, 2.0, 4.0])
    buf[:] = bytes(4)
    assert u.numpy().tolist() == [1.5]


def test_fit_batches_are_not_aliased_to_the_training_arrays():
    # The shuffled batches are gathered copies; unshuffled ones are slices and get copied.
    seen = []

    class Keep(tf.keras.layers.Layer):
        def call(self, x):
            seen.append(x)
            return x * self.w

        def build(self, shape):
            self.w = self.add_weight(shape=(), initializer="ones")

    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    y = np.zeros((4, 2), np.float32)
    for shuffle in (True, False):
        seen.clear()
        with tf.device("/CPU:0"):
            model = tf.keras.Sequential([tf.keras.Input((2,)), Keep()])
            model.compile("sgd", "mse")
            model.fit(x, y, batch_size=2, epochs=1, shuffle=shuffle, verbose=0)
        before = [s.numpy().copy() for s in seen]
        x += 100.0
        for s, b in zip(seen, before):
            np.testing.assert_array_equal(s.numpy(), b)
