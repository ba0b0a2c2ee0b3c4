"""featherflow's BundleWriter read by real TensorFlow, and TF-written checkpoints (many keys,
several index blocks) read by featherflow's BundleReader."""
import ml_dtypes
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

from featherflow._src.train import sstable  # noqa: E402
from featherflow._src.train.bundle import BundleReader, BundleWriter  # noqa: E402
from featherflow._src.train.proto import read_varint  # noqa: E402

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64,
          np.complex128]


def _value(dtype, shape, seed):
    raw = np.random.default_rng(seed).normal(size=shape) * 30
    if dtype is np.bool_:
        return raw > 0
    if np.dtype(dtype).kind == "c":
        return (raw - 2j * raw).astype(dtype)
    return raw.astype(dtype)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _written(tmp_path):
    values = {}
    for i, dtype in enumerate(DTYPES):
        for shape in [(), (0,), (3, 2)]:
            values[f"{np.dtype(dtype).name}/{len(shape)}{shape and shape[0]}"] = \
                _value(dtype, shape, i)
    values["str/vec"] = np.array([b"", b"a", b"\x00\xff" * 100], dtype=object)
    values["str/scalar"] = np.array(b"scalar", dtype=object)
    values["str/empty"] = np.zeros((0, 2), dtype=object)
    prefix = str(tmp_path / "ff")
    with BundleWriter(prefix) as writer:
        for k, v in values.items():
            writer.add(k, v)
    return prefix, values


def test_tf_load_checkpoint_reads_ours(tmp_path):
    prefix, values = _written(tmp_path)
    reader = tf_real.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    assert set(dtypes) == set(values)
    for key, want in values.items():
        got = reader.get_tensor(key)
        assert list(shapes[key]) == list(want.shape), key
        if want.dtype == object:
            assert dtypes[key] == tf_real.string
            assert np.asarray(got, dtype=object).reshape(-1).tolist() == want.reshape(-1).tolist()
        else:
            assert dtypes[key].as_numpy_dtype == want.dtype.type, key
            np.testing.assert_array_equal(np.asarray(got), want)


def test_tf_restore_v2_reads_ours(tmp_path):
    prefix, values = _written(tmp_path)
    keys = sorted(values)
    dtypes = [tf_real.as_dtype(values[k].dtype) if values[k].dtype != object else tf_real.string
              for k in keys]
    restored = tf_real.raw_ops.RestoreV2(prefix=prefix, tensor_names=keys,
                                         shape_and_slices=[""] * len(keys), dtypes=dtypes)
    for key, tensor in zip(keys, restored):
        want = values[key]
        assert tuple(tensor.shape) == want.shape
        if want.dtype == object:
            got = np.asarray(tensor.numpy(), dtype=object)
            assert got.reshape(-1).tolist() == want.reshape(-1).tolist()
        else:
            np.testing.assert_array_equal(tensor.numpy(), want)


def test_tf_detects_our_checksums(tmp_path):
    """TF verifies the masked CRC32C we store: flipping a data byte makes it complain."""
    prefix = str(tmp_path / "ff")
    with BundleWriter(prefix) as writer:
        writer.add("x", np.arange(8, dtype=np.float32))
    path = prefix + ".data-00000-of-00001"
    data = bytearray(_read(path))
    data[5] ^= 0x10
    with open(path, "wb") as f:
        f.write(bytes(data))
    with pytest.raises(tf_real.errors.DataLossError):
        tf_real.raw_ops.RestoreV2(prefix=prefix, tensor_names=["x"], shape_and_slices=[""],
                                  dtypes=[tf_real.float32])


def test_we_read_big_tf_checkpoint(tmp_path):
    """Thousands of keys: TF's index has several data blocks; values and order agree."""
    n = 6000
    names = [f"scope_{i // 100}/layer_{i:05d}/{'kernel' * 8}" for i in range(n)]
    tensors = [tf_real.fill((i % 5,), float(i)) for i in range(n)]
    prefix = str(tmp_path / "tfbig")
    tf_real.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * n,
                           tensors=tensors)
    table = _read(prefix + ".index")
    footer = table[-48:]
    _, pos = read_varint(footer, 0)
    _, pos = read_varint(footer, pos)
    offset, pos = read_varint(footer, pos)
    size, _ = read_varint(footer, pos)
    assert len(sstable._block_entries(table[offset:offset + size], "index")) >= 2
    reader = BundleReader(prefix)
    assert reader.keys() == sorted(names)
    for name, t in zip(names, tensors):
        np.testing.assert_array_equal(reader.read(name), t.numpy())
    # And our writer reproduces TF's index bytes for the same tensors in the same data order.
    ours = str(tmp_path / "ours")
    with BundleWriter(ours) as writer:
        for name in sorted(names, key=lambda n: reader.entry(n).offset):
            writer.add(name, reader.read(name))
    assert _read(ours + ".index") == _read(prefix + ".index")
