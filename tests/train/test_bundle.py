"""BundleWriter/BundleReader: reading TensorFlow's own files (fixtures recorded by
tools/record_tf_checkpoints.py), writing byte-identical files, round trips, errors, atomicity."""
import json
import os

import ml_dtypes
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.train import sstable
from featherflow._src.train.bundle import BundleReader, BundleWriter, data_path, index_path

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_checkpoints")
with open(os.path.join(FIXTURES, "expected.json")) as _f:
    META = json.load(_f)
VALUES = dict(np.load(os.path.join(FIXTURES, "expected.npz")))
CASES = [(ck, key) for ck in sorted(META) for key in sorted(META[ck])]

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_, np.complex64,
          np.complex128]


def _fixture(name):
    return os.path.join(FIXTURES, name)


def _example(dtype, shape, seed=0):
    raw = np.random.default_rng(seed).normal(size=shape) * 40
    if dtype is np.bool_:
        return raw > 0
    if np.dtype(dtype).kind == "c":
        return (raw + 1j * (raw * 0.5 - 3)).astype(dtype)
    return raw.astype(dtype)


# -- TensorFlow's files ------------------------------------------------------------------------
@pytest.mark.parametrize("ck,key", CASES)
def test_reads_tf_fixture(ck, key):
    expected = META[ck][key]
    with BundleReader(_fixture(ck)) as reader:
        dtype, shape = reader.dtype_and_shape(key)
        assert dtype.name == expected["dtype"]
        assert list(shape) == expected["shape"]
        value = reader.read(key)
    assert value.shape == tuple(expected["shape"])
    if dtype == tf.string:
        assert value.dtype == object
        assert [v.hex() for v in value.reshape(-1)] == expected["strings_hex"]
    else:
        want = VALUES[f"{ck}|{key}"]
        assert value.dtype == dtype.as_numpy_dtype
        got = value.view(np.uint16) if dtype == tf.bfloat16 else value
        np.testing.assert_array_equal(got, want)


def test_tf_fixture_keys_and_header():
    reader = BundleReader(_fixture("two_shards"))
    assert reader.keys() == ["a", "b", "c", "d"]
    assert reader.header.num_shards == 2
    assert {reader.entry(k).shard_id for k in reader.keys()} == {0, 1}
    reader = BundleReader(_fixture("many_dtypes"))
    assert reader.keys() == sorted(META["many_dtypes"], key=lambda k: k.encode())
    assert reader.header.producer == 1


# The two-shard fixture is left out: BundleWriter writes one shard (the reader handles several).
@pytest.mark.parametrize("ck", ["many_dtypes", "many_keys"])
def test_rewrite_is_byte_identical_to_tf(tmp_path, ck):
    """Adding TF's tensors in TF's data order reproduces TF's index and data bytes exactly."""
    reader = BundleReader(_fixture(ck))
    assert reader.header.num_shards == 1
    order = sorted(reader.keys(), key=lambda k: reader.entry(k).offset)
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        for key in order:
            writer.add(key, reader.read(key), dtype=reader.dtype_and_shape(key)[0])
    for a, b in [(index_path(prefix), _fixture(ck) + ".index"),
                 (data_path(prefix), data_path(_fixture(ck)))]:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read()


# -- round trips -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3, 4)])
def test_round_trip(tmp_path, dtype, shape):
    value = _example(dtype, shape)
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        writer.add("v", value)
    reader = BundleReader(prefix)
    got = reader.read("v")
    assert got.dtype == np.dtype(dtype) and got.shape == shape
    np.testing.assert_array_equal(got, value)
    assert reader.dtype_and_shape("v") == (tf.as_dtype(np.dtype(dtype)), shape)
    out = np.empty(shape, dtype)
    assert reader.read_into("v", out) is out
    np.testing.assert_array_equal(out, value)


def test_strings_round_trip(tmp_path):
    values = {
        "scalar": np.array(b"hello", dtype=object),
        "vec": np.array([b"", b"a", b"\xff\x00" * 300, "é".encode()], dtype=object),
        "mat": np.array([[b"x", b"yy"], [b"zzz", b""]], dtype=object),
        "empty": np.zeros((0, 2), dtype=object),
        "from_str": np.array(["ab", "c"]),
        "from_bytes": np.array([b"ab", b"c"]),
    }
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        for k, v in values.items():
            writer.add(k, v)
    reader = BundleReader(prefix)
    for k, v in values.items():
        got = reader.read(k)
        assert got.dtype == object and got.shape == v.shape
        want = [x.encode() if isinstance(x, str) else bytes(x) for x in v.reshape(-1).tolist()]
        assert got.reshape(-1).tolist() == want
        assert reader.dtype_and_shape(k)[0] == tf.string


def test_many_keys_multiple_blocks(tmp_path):
    """A tiny block size forces many data blocks, restart points and index entries."""
    prefix = str(tmp_path / "ck")
    keys = [f"model/layer_{i:03d}/kernel" for i in range(300)] + ["\u00e9t\u00e9", "z" * 300]
    with BundleWriter(prefix, block_size=256) as writer:
        for i, k in enumerate(reversed(keys)):
            writer.add(k, np.full((i % 4,), i, np.int32))
    with open(index_path(prefix), "rb") as f:
        index = sstable._block_entries(
            sstable._read_block(f.read(), *_index_handle(prefix), "index"), "index")
    assert len(index) > 10
    reader = BundleReader(prefix)
    assert reader.keys() == sorted(keys, key=lambda k: k.encode())
    for i, k in enumerate(reversed(keys)):
        np.testing.assert_array_equal(reader.read(k), np.full((i % 4,), i, np.int32))


def _index_handle(prefix):
    from featherflow._src.train.proto import read_varint
    with open(index_path(prefix), "rb") as f:
        data = f.read()
    footer = data[-48:]
    _, pos = read_varint(footer, 0)
    _, pos = read_varint(footer, pos)
    off, pos = read_varint(footer, pos)
    size, _ = read_varint(footer, pos)
    return off, size


def test_big_endian_and_strided_inputs(tmp_path):
    prefix = str(tmp_path / "ck")
    be = np.arange(6, dtype=">i4").reshape(2, 3)
    strided = np.arange(20, dtype=np.float64)[::2]
    with BundleWriter(prefix) as writer:
        writer.add("be", be)
        writer.add("strided", strided)
        writer.add("f", np.float32(2.5))
        writer.add("i", 7)  # Python int -> int64 as NumPy makes it
    reader = BundleReader(prefix)
    np.testing.assert_array_equal(reader.read("be"), be)
    assert reader.read("be").dtype == np.int32
    np.testing.assert_array_equal(reader.read("strided"), strided)
    assert reader.read("f") == np.float32(2.5) and reader.read("f").shape == ()
    assert reader.dtype_and_shape("i") == (tf.int64, ())


def test_large_tensor(tmp_path):
    value = np.random.default_rng(0).normal(size=(1 << 20,)).astype(np.float32)  # 4 MB
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        writer.add("small", np.ones(3, np.float32))
        writer.add("big", value)
        writer.add("after", np.arange(3))
    reader = BundleReader(prefix)
    out = np.empty_like(value)
    reader.read_into("big", out)
    np.testing.assert_array_equal(out, value)
    np.testing.assert_array_equal(reader.read("after"), np.arange(3))
    assert reader.entry("big").offset == 12


# -- errors ------------------------------------------------------------------------------------
def test_writer_errors(tmp_path):
    writer = BundleWriter(str(tmp_path / "ck"))
    writer.add("a", np.ones(2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate key: a"):
        writer.add("a", np.ones(2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="reserved"):
        writer.add("", np.ones(2))
    with pytest.raises(TypeError, match="keys are str"):
        writer.add(b"k", np.ones(2))
    with pytest.raises(TypeError, match="string tensors hold bytes"):
        writer.add("obj", np.array([1, 2], dtype=object))
    with pytest.raises(TypeError, match="cannot be saved as int8"):
        writer.add("q", np.ones(2, np.float32), dtype=tf.int8)
    writer.finish()
    with pytest.raises(tf.errors.FailedPreconditionError):
        writer.add("b", np.ones(2))


def test_reader_errors(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        BundleReader(str(tmp_path / "missing"))
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        writer.add("s", np.array([b"a"], dtype=object))
        writer.add("x", np.arange(4, dtype=np.float32))
    reader = BundleReader(prefix)
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found"):
        reader.read("nope")
    with pytest.raises(tf.errors.NotFoundError):
        reader.dtype_and_shape("nope")
    with pytest.raises(ValueError, match=r"dtype float32 and shape \(4,\). Received: float64"):
        reader.read_into("x", np.empty(4, np.float64))
    with pytest.raises(ValueError, match="Received: float32 \\(2, 2\\)"):
        reader.read_into("x", np.empty((2, 2), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        reader.read_into("x", np.empty(8, np.float32)[::2])
    with pytest.raises(TypeError, match="string tensor"):
        reader.read_into("s", np.empty(1, object))
    reader.close()
    os.remove(data_path(prefix))
    with pytest.raises(tf.errors.NotFoundError, match="data file"):
        BundleReader(prefix).read("x")


def test_corrupted_data_is_data_loss(tmp_path):
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as writer:
        writer.add("x", np.arange(4, dtype=np.float32))
        writer.add("s", np.array([b"ab", b"c"], dtype=object))
    path = data_path(prefix)
    with open(path, "rb") as f:
        good = f.read()
    for pos in (0, 15, 16, 20, len(good) - 1):
        bad = bytearray(good)
        bad[pos] ^= 0x40
        with open(path, "wb") as f:
            f.write(bad)
        reader = BundleReader(prefix)
        with pytest.raises(tf.errors.DataLossError):
            reader.read("x" if pos < 16 else "s")
        reader.close()
    with open(path, "wb") as f:
        f.write(good[:10])
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        BundleReader(prefix).read("x")


def test_atomic_write(tmp_path):
    prefix = str(tmp_path / "sub" / "ck")
    with BundleWriter(prefix) as writer:  # creates the directory, as TF does
        writer.add("x", np.ones(3))
    assert sorted(os.listdir(tmp_path / "sub")) == ["ck.data-00000-of-00001", "ck.index"]
    # A failed save leaves the previous checkpoint as it was, and no temporary files.
    with pytest.raises(RuntimeError):
        with BundleWriter(prefix) as writer:
            writer.add("x", np.zeros(3))
            raise RuntimeError("interrupted")
    assert sorted(os.listdir(tmp_path / "sub")) == ["ck.data-00000-of-00001", "ck.index"]
    np.testing.assert_array_equal(BundleReader(prefix).read("x"), np.ones(3))
    # Until finish(), only a temporary data file exists.
    writer = BundleWriter(prefix)
    writer.add("x", np.full(3, 2.0))
    names = os.listdir(tmp_path / "sub")
    assert any("tempstate" in n for n in names) and len(names) == 3
    np.testing.assert_array_equal(BundleReader(prefix).read("x"), np.ones(3))
    writer.finish()
    assert len(os.listdir(tmp_path / "sub")) == 2
    np.testing.assert_array_equal(BundleReader(prefix).read("x"), np.full(3, 2.0))
