"""safetensors save/load: the byte layout, every dtype, tensors and modules, errors."""
import json
import os
import struct

import ml_dtypes
import numpy as np
import pytest

import featherflow as tf

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64,
          np.complex128]


def test_layout(tmp_path):
    path = str(tmp_path / "a.safetensors")
    tf.train.save_safetensors(path, {"b": np.array([1, 2], np.int16),
                                     "a": np.array([[1.5]], np.float32)},
                              metadata={"format": "np"})
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert n % 8 == 0
    header = json.loads(blob[8:8 + n])
    assert header == {"__metadata__": {"format": "np"},
                      "a": {"dtype": "F32", "shape": [1, 1], "data_offsets": [0, 4]},
                      "b": {"dtype": "I16", "shape": [2], "data_offsets": [4, 8]}}
    assert blob[8 + n:] == np.float32(1.5).tobytes() + np.array([1, 2], "<i2").tobytes()
    assert os.listdir(tmp_path) == ["a.safetensors"]  # no temporary file left


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip(tmp_path, dtype):
    values = {"x": (np.arange(12) - 4).reshape(3, 4).astype(dtype),
              "scalar": np.ones((), dtype), "empty": np.zeros((0, 2), dtype)}
    path = tmp_path / "w.safetensors"
    tf.train.save_safetensors(path, values)
    got = tf.train.load_safetensors(path)
    assert sorted(got) == sorted(values)
    for k, v in values.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape
        np.testing.assert_array_equal(got[k], v)


def test_tensors_and_module(tmp_path):
    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.kernel = tf.Variable(np.ones((2, 3), np.float32))
            self.bias = tf.Variable(np.zeros(3, np.float32))

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.dense = Dense()
            self.alias = self.dense.kernel  # the same variable twice: saved once, under the
            # first path the walker reports (a module's own attributes come before submodules)
            self.scale = tf.Variable(2.0)

    path = tmp_path / "m.safetensors"
    tf.train.save_safetensors(path, Net())
    got = tf.train.load_safetensors(path)
    assert sorted(got) == ["alias", "dense/bias", "scale"]
    np.testing.assert_array_equal(got["alias"], np.ones((2, 3), np.float32))
    tf.train.save_safetensors(path, {"t": tf.constant([1, 2]), "v": tf.Variable([3.0])})
    got = tf.train.load_safetensors(path)
    np.testing.assert_array_equal(got["t"], [1, 2])
    assert got["v"].dtype == np.float32


def test_errors(tmp_path):
    path = tmp_path / "e.safetensors"
    with pytest.raises(TypeError, match="strings"):
        tf.train.save_safetensors(path, {"s": np.array([b"a"], dtype=object)})
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.load_safetensors(tmp_path / "missing.safetensors")
    tf.train.save_safetensors(path, {"x": np.arange(4, dtype=np.float32)})
    good = path.read_bytes()
    for bad in (good[:5], good[:-1], b"\xff" * 8 + good[8:],
                good[:8] + b"[" + good[9:]):
        path.write_bytes(bad)
        with pytest.raises(tf.errors.DataLossError, match="Invalid safetensors file"):
            tf.train.load_safetensors(path)
