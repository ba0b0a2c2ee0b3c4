"""Checkpoint integrity on the fast paths: tensors read and checksummed in worker threads, fresh
buffers swapped in only after every checksum passed (a damaged tensor changes no variable), the
pooled save path writing the same bytes as the plain one, and `read_many_into` against
`read_into`."""
import gc
import os

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.train import bundle, crc32c, sstable
from featherflow._src.train.bundle import BundleReader, BundleWriter

BIG = 40_000     # float32 elements: 160 KB, read and checksummed in the worker pool
SMALL = 100      # 400 bytes: read on the calling thread


@pytest.fixture(params=["pool", "no-pool"])
def pooled(request, monkeypatch):
    """Both paths: worker threads (when the fast CRC releases the GIL) and the calling thread."""
    if request.param == "pool":
        if not crc32c.RELEASES_GIL:
            pytest.skip("the CRC in use holds the GIL: no worker pool")
    else:
        monkeypatch.setattr(crc32c, "RELEASES_GIL", False)
    return request.param == "pool"


def _cpu_vars(sizes, fill):
    with tf.device("/CPU:0"):
        return [tf.Variable(np.full(n, fill + i, np.float32)) for i, n in enumerate(sizes)]


def _flip_byte_in_middle_tensor(path, keys):
    """Corrupts one byte in the middle of the tensor stored in the middle of the data file;
    returns its key."""
    reader = BundleReader(path)
    by_offset = sorted(keys, key=lambda k: reader.entry(k).offset)
    key = by_offset[len(by_offset) // 2]
    entry = reader.entry(key)
    reader.close()
    with open(path + ".data-00000-of-00001", "r+b") as f:
        f.seek(entry.offset + entry.size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))
    return key


@pytest.mark.parametrize("size", [BIG, SMALL])
def test_damaged_tensor_changes_no_variable(tmp_path, pooled, size):
    sizes = [size, SMALL, size, size, SMALL, size, size]
    src = tf.Module()
    src.vs = _cpu_vars(sizes, 1.0)
    with tf.device("/GPU:0"):
        src.g = tf.Variable(np.arange(5, dtype=np.float32))   # restored through assign
    src.s = tf.Variable(b"text")
    path = tf.train.Checkpoint(m=src).write(str(tmp_path / "c"))
    keys = [f"m/vs/{i}/.ATTRIBUTES/VARIABLE_VALUE" for i in range(len(sizes))]
    damaged = _flip_byte_in_middle_tensor(path, keys)

    dst = tf.Module()
    dst.vs = _cpu_vars(sizes, -50.0)
    with tf.device("/GPU:0"):
        dst.g = tf.Variable(np.zeros(5, np.float32))
    dst.s = tf.Variable(b"")
    before = [v.numpy().copy() for v in dst.vs]
    buffers = [v._buf for v in dst.vs]
    gc.collect()  # garbage left by earlier tests must not be freed inside the measured window
    in_use = tf.config.experimental.get_memory_info("CPU:0")["current"]
    with pytest.raises(tf.errors.DataLossError,
                       match=f"Checksum does not match for checkpoint entry '{damaged}'"):
        tf.train.Checkpoint(m=dst).read(path)
    for v, b, buf in zip(dst.vs, before, buffers):
        assert v._buf is buf                    # not even swapped
        np.testing.assert_array_equal(v.numpy(), b)
    np.testing.assert_array_equal(dst.g.numpy(), np.zeros(5, np.float32))
    assert dst.s.numpy() == b""
    gc.collect()
    assert tf.config.experimental.get_memory_info("CPU:0")["current"] == in_use


def test_restore_swaps_fresh_buffers_and_keeps_earlier_reads(tmp_path, pooled):
    src = tf.Module()
    src.vs = _cpu_vars([BIG, SMALL, BIG], 1.0)
    path = tf.train.Checkpoint(m=src).write(str(tmp_path / "c"))
    dst = tf.Module()
    dst.vs = _cpu_vars([BIG, SMALL, BIG], 7.0)
    read_before = dst.vs[0].value()               # aliases the old buffer
    gc.collect()
    in_use = tf.config.experimental.get_memory_info("CPU:0")["current"]
    tf.train.Checkpoint(m=dst).read(path).assert_consumed()
    for s, d in zip(src.vs, dst.vs):
        np.testing.assert_array_equal(d.numpy(), s.numpy())
    np.testing.assert_array_equal(read_before.numpy(), np.full(BIG, 7.0, np.float32))
    # In-place updates go to the new buffer, the earlier read stays as it was.
    dst.vs[0].assign_add(np.ones(BIG, np.float32))
    np.testing.assert_array_equal(dst.vs[0].numpy(), np.full(BIG, 2.0, np.float32))
    np.testing.assert_array_equal(read_before.numpy(), np.full(BIG, 7.0, np.float32))
    # The old buffers were released: the count is what it was, plus the one still read.
    del read_before
    gc.collect()
    assert tf.config.experimental.get_memory_info("CPU:0")["current"] == in_use


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_pooled_save_writes_the_same_bytes(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    arrays = {f"t{i}": rng.standard_normal(n).astype(np.float32)
              for i, n in enumerate([BIG, SMALL, 3 * BIG, 1])}
    files = []
    for name, releases in (("a", crc32c.RELEASES_GIL), ("b", False)):
        monkeypatch.setattr(crc32c, "RELEASES_GIL", releases)
        prefix = str(tmp_path / name)
        with BundleWriter(prefix) as w:
            for key, a in arrays.items():
                w.add(key, a)
        files.append([_read(bundle.index_path(prefix)), _read(bundle.data_path(prefix))])
        reader = BundleReader(prefix)
        for key, a in arrays.items():
            stored = reader.entry(key).crc32c
            assert stored == crc32c.mask(crc32c._extend_fallback(0, a))
        reader.close()
    assert files[0] == files[1]


def test_read_many_into_matches_read_into(tmp_path, pooled):
    rng = np.random.default_rng(4)
    arrays = {"a": rng.standard_normal((200, 300)).astype(np.float32),
              "b": rng.integers(0, 9, 7, dtype=np.int64),
              "c": rng.standard_normal(BIG).astype(np.float64)}
    prefix = str(tmp_path / "ck")
    with BundleWriter(prefix) as w:
        for key, a in arrays.items():
            w.add(key, a)
    reader = BundleReader(prefix)
    outs = {k: np.empty_like(a) for k, a in arrays.items()}
    reader.read_many_into(list(outs.items()))
    for k, a in arrays.items():
        np.testing.assert_array_equal(outs[k], a)
        np.testing.assert_array_equal(reader.read_into(k, np.empty_like(a)), a)
    # Targets are all checked before any read.
    fresh = {k: np.zeros_like(a) for k, a in arrays.items()}
    with pytest.raises(ValueError, match="needs an array of dtype float64"):
        reader.read_many_into([("a", fresh["a"]), ("c", np.zeros(BIG, np.float32))])
    assert not fresh["a"].any()
    reader.close()

    # A big-endian bundle (same index entries, header saying BIG) is byte-swapped after reading.
    with BundleWriter(str(tmp_path / "be")) as w:
        for key, a in arrays.items():
            w.add(key, a.byteswap())              # the bytes a big-endian writer stores
    le = BundleReader(str(tmp_path / "be"))
    items = [(bundle.HEADER_KEY, bundle.BundleHeader(endianness=bundle.BIG).encode())]
    items += [(k.encode(), le.entry(k).encode()) for k in sorted(arrays)]
    le.close()
    with open(bundle.index_path(str(tmp_path / "be")), "wb") as f:
        f.write(sstable.build_table(items))
    be = BundleReader(str(tmp_path / "be"))
    outs = {k: np.empty_like(a) for k, a in arrays.items()}
    be.read_many_into(list(outs.items()))
    for k, a in arrays.items():
        np.testing.assert_array_equal(outs[k], a)
        np.testing.assert_array_equal(be.read(k), a)
    be.close()


def test_worker_pool_follows_the_crc_and_the_process(monkeypatch):
    monkeypatch.setattr(crc32c, "RELEASES_GIL", False)
    assert bundle._worker_pool() is None
    monkeypatch.setattr(crc32c, "RELEASES_GIL", True)
    pool = bundle._worker_pool()
    assert pool is bundle._worker_pool()
    # A forked child has none of the parent's worker threads: it makes its own pool.
    monkeypatch.setitem(bundle._pool_state, "pid", -1)
    assert bundle._worker_pool() is not pool
    assert bundle._worker_pool().submit(lambda: 5).result() == 5
