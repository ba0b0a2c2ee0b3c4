"""Reading TensorFlow's checkpoint format V2 ("tensor bundle"): `BundleReader`.

The format itself (the index and data files, entries, header, checksums) is described and
encoded in `bundle.py`; this module checks every checksum and size and raises
`tf.errors.DataLossError` for damaged or inconsistent files and `tf.errors.NotFoundError` for
missing files or keys.
"""
from __future__ import annotations

import math
import os
import struct
import threading

import numpy as np

from featherflow._src.framework import dtypes, errors
from featherflow._src.train import crc32c, proto, sstable
from featherflow._src.train.bundle import (
    _POOLED, BIG, HEADER_KEY, LITTLE, PRODUCER_VERSION, BundleEntry, BundleHeader, _worker_pool,
    data_path, index_path)


_HAS_PREADV = hasattr(os, "preadv")  # positioned reads need no lock


_DTYPES: dict = {}  # enum -> DType, for enums already found readable


def _readable_dtype(key: str, enum: int) -> dtypes.DType:
    dt = _DTYPES.get(enum)
    if dt is not None:
        return dt
    try:
        dt = dtypes.as_dtype(enum)
    except (TypeError, KeyError):
        raise errors.DataLossError(None, None, f"Checkpoint entry {key!r} has an unknown dtype "
                                               f"enum {enum}") from None
    if dt._name in ("resource", "variant"):
        raise errors.UnimplementedError(None, None, f"Checkpoint entry {key!r} holds a {dt.name} "
                                                    "tensor, which cannot be restored")
    _DTYPES[enum] = dt
    return dt


# -- reading ------------------------------------------------------------------------------------
def _data_loss(msg: str) -> errors.DataLossError:
    return errors.DataLossError(None, None, msg)


class BundleReader:
    """Reads a checkpoint `prefix` in TensorFlow's format V2 (any number of data shards)."""

    def __init__(self, prefix: str):
        self._prefix = os.fspath(prefix)
        path = index_path(self._prefix)
        try:
            with open(path, "rb") as f:
                table = f.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise errors.NotFoundError(
                None, None, "Unsuccessful TensorSliceReader constructor: Failed to find any "
                f"matching files for {self._prefix} (no file {path})") from None
        try:
            items = sstable.read_table(table)
        except proto.CorruptError as e:
            raise _data_loss(f"Corrupted checkpoint index {path}: {e}") from None
        if not items or items[0][0] != HEADER_KEY:
            raise _data_loss(f"Checkpoint index {path} has no header entry (the empty key)")
        try:
            self._header = BundleHeader.decode(items[0][1])
            entries = {}
            for key, value in items[1:]:
                entries[key.decode("utf-8", "surrogateescape")] = BundleEntry.decode(value)
        except proto.CorruptError as e:
            raise _data_loss(f"Corrupted checkpoint index {path}: {e}") from None
        h = self._header
        if h.num_shards < 1:
            raise _data_loss(f"Checkpoint header of {path} says {h.num_shards} data shards; "
                             "expected at least 1")
        if h.endianness not in (LITTLE, BIG):
            raise _data_loss(f"Checkpoint header of {path} has unknown endianness "
                             f"{h.endianness}")
        if h.min_consumer > PRODUCER_VERSION or PRODUCER_VERSION in h.bad_consumers:
            raise _data_loss(f"Checkpoint {path} needs a reader of version >= {h.min_consumer} "
                             f"(this one is {PRODUCER_VERSION})")
        for key, entry in entries.items():
            if entry.shard_id >= h.num_shards:
                raise _data_loss(f"Checkpoint entry {key!r} is in data shard {entry.shard_id} "
                                 f"but the header says there are {h.num_shards} shards")
        self._entries = entries
        self._files: dict[int, tuple[int, int]] = {}  # shard -> (fd, size)
        self._lock = threading.Lock()

    # -- metadata
    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def header(self) -> BundleHeader:
        return self._header

    def keys(self) -> list:
        """The tensor keys, in the checkpoint's (bytewise sorted) order."""
        return list(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries

    def entry(self, key: str) -> BundleEntry:
        try:
            return self._entries[key]
        except (KeyError, TypeError):
            raise errors.NotFoundError(None, None, f"Key {key} not found in checkpoint "
                                                   f"{self._prefix}") from None

    def dtype_and_shape(self, key: str) -> tuple:
        """(DType, shape tuple) of the tensor saved under `key`."""
        entry = self.entry(key)
        return _readable_dtype(key, entry.dtype), entry.shape

    # -- data
    def _data_file(self, shard: int) -> tuple[int, int]:
        with self._lock:
            if shard not in self._files:
                path = data_path(self._prefix, shard, self._header.num_shards)
                try:
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                except (FileNotFoundError, NotADirectoryError):
                    raise errors.NotFoundError(None, None, f"Checkpoint data file {path} not "
                                                           "found") from None
                self._files[shard] = (fd, os.fstat(fd).st_size)
            return self._files[shard]

    def _locate(self, key: str, entry: BundleEntry) -> int:
        if entry.has_slices:
            raise errors.UnimplementedError(None, None, f"Checkpoint entry {key!r} is a "
                                                        "partitioned (sliced) variable, which "
                                                        "cannot be read")
        fd, file_size = self._data_file(entry.shard_id)
        if entry.offset + entry.size > file_size:
            raise _data_loss(f"Checkpoint entry {key!r} needs bytes {entry.offset} to "
                             f"{entry.offset + entry.size} of data shard {entry.shard_id}, "
                             f"which has only {file_size} bytes (truncated file)")
        return fd

    def _pread(self, fd: int, view: memoryview, offset: int, key: str):
        got = 0
        while got < len(view):
            if _HAS_PREADV:
                n = os.preadv(fd, [view[got:]], offset + got)
            else:
                with self._lock:
                    os.lseek(fd, offset + got, os.SEEK_SET)
                    n = os.readv(fd, [view[got:]])
            if n == 0:
                raise _data_loss(f"Checkpoint entry {key!r}: data file ended after {got} of "
                                 f"{len(view)} bytes")
            got += n

    def _check_crc(self, key: str, entry: BundleEntry, crc: int):
        if crc32c.mask(crc) != entry.crc32c:
            raise _data_loss(f"Checksum does not match for checkpoint entry {key!r}: stored "
                             f"{entry.crc32c:#010x}, computed {crc32c.mask(crc):#010x}")

    def read(self, key: str) -> np.ndarray:
        """The tensor saved under `key`, as a NumPy array (object array of bytes for strings)."""
        dt, shape = self.dtype_and_shape(key)
        entry = self._entries[key]
        if dt._kind == "O":
            return self._read_strings(key, entry, shape)
        out = np.empty(shape, dtype=dt._np)
        self.read_into(key, out)
        return out

    def _numeric_target(self, key: str, out) -> tuple:
        """Checks that `out` can take the numeric tensor under `key`; (entry, dtype, data file
        descriptor, `out`'s bytes as a flat uint8 array)."""
        dt, shape = self.dtype_and_shape(key)
        entry = self._entries[key]
        if dt._kind == "O":
            raise TypeError(f"read_into needs a numeric tensor; {key!r} is a string tensor. "
                            "Use read() instead.")
        if not isinstance(out, np.ndarray) or out.dtype != dt._np or out.shape != shape:
            got = (f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray)
                   else type(out).__name__)
            raise ValueError(f"read_into({key!r}) needs an array of dtype {dt._np} and shape "
                             f"{shape}. Received: {got}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError(f"read_into({key!r}) needs a writable C-contiguous array. "
                             "Received: a strided or read-only array")
        expected = math.prod(shape) * dt._np.itemsize  # Python ints: no overflow
        if entry.size != expected:
            raise _data_loss(f"Checkpoint entry {key!r} stores {entry.size} bytes, but dtype "
                             f"{dt.name} and shape {list(shape)} need {expected}")
        fd = self._locate(key, entry)
        return entry, dt, fd, out.reshape(-1).view(np.uint8)

    def _fill(self, key: str, entry: BundleEntry, fd: int, raw: np.ndarray) -> int:
        """Reads the tensor's bytes into `raw`; their CRC32C (unmasked)."""
        self._pread(fd, memoryview(raw), entry.offset, key)
        return crc32c.value(raw)

    def _fill_many(self, items, failures: list):
        """Worker: reads and checks tensors from the shared iterator `items` until it is empty
        or some tensor failed (then records the error in `failures`)."""
        fill, check = self._fill, self._check_crc
        for key, (entry, _, fd, raw) in items:
            if failures:
                return
            try:
                check(key, entry, fill(key, entry, fd, raw))
            except BaseException as e:  # noqa: BLE001 - raised by the caller
                failures.append(e)
                return

    def _finish_numeric(self, dt, out: np.ndarray):
        if self._header.endianness == BIG and dt._np.itemsize > 1:
            out.byteswap(inplace=True)

    def read_into(self, key: str, out: np.ndarray) -> np.ndarray:
        """Reads the numeric tensor under `key` into `out` (a writable C-contiguous array of
        its exact dtype and shape) with no intermediate copy; returns `out`. On a checksum
        error `out` holds the damaged bytes and DataLossError is raised."""
        entry, dt, fd, raw = self._numeric_target(key, out)
        self._check_crc(key, entry, self._fill(key, entry, fd, raw))
        self._finish_numeric(dt, out)
        return out

    def read_many_into(self, pairs) -> None:
        """Reads numeric tensors `(key, out)` like `read_into`, checking every target before
        reading any. Big tensors are read and checksummed in worker threads, several at once
        (reads and CRC release the GIL). An error (DataLossError for a damaged tensor) is
        raised only after every read has stopped, so nothing writes into the arrays
        afterwards; they then hold partial or damaged bytes."""
        # NOTE: all Python work happens before the first read starts. Interleaving it with the
        # reads (e.g. consuming a generator while workers run) is much slower: each worker
        # needs the GIL briefly between its reads and waits up to the switch interval for it.
        targets = [(key, self._numeric_target(key, out)) for key, out in pairs]
        pool = _worker_pool()
        big, inline, failures = [], [], []
        for item in targets:
            (big if pool is not None and item[1][0].size >= _POOLED else inline).append(item)
        jobs = []
        if big:
            # NOTE: a few jobs that take tensors from one shared iterator (next() on a list
            # iterator is atomic under the GIL), not one future per tensor: submitting and
            # collecting a hundred futures is Python work on this thread while the workers
            # wait for the GIL. A failure stops the others from taking more tensors.
            shared = iter(big)
            workers = min(len(big), getattr(pool, "_max_workers", 2))
            jobs = [pool.submit(self._fill_many, shared, failures) for _ in range(workers)]

        # Small tensors on this thread while the workers take the big ones.
        for key, (entry, dt, fd, raw) in inline:
            if failures:
                break
            try:
                self._check_crc(key, entry, self._fill(key, entry, fd, raw))
            except BaseException as e:  # noqa: BLE001 - raised below, once the workers stopped
                failures.append(e)
        for job in jobs:
            try:
                job.result()
            except BaseException as e:  # noqa: BLE001 - raised below, once the workers stopped
                failures.append(e)
        if failures:
            raise failures[0]
        for _, (entry, dt, fd, raw) in targets:
            self._finish_numeric(dt, raw.view(dt._np))

    def _read_strings(self, key: str, entry: BundleEntry, shape: tuple) -> np.ndarray:
        n = int(np.prod(shape, dtype=object))
        # Each element takes at least one length byte, and there are 4 checksum bytes.
        if entry.size < n + 4:
            raise _data_loss(f"Checkpoint entry {key!r} stores {entry.size} bytes, too few for "
                             f"{n} strings (at least {n + 4} bytes)")
        fd = self._locate(key, entry)
        buf = bytearray(entry.size)
        self._pread(fd, memoryview(buf), entry.offset, key)
        lengths = []
        pos = 0
        try:
            for _ in range(n):
                length, pos = proto.read_varint(buf, pos, "string length")
                lengths.append(length)
        except proto.CorruptError as e:
            raise _data_loss(f"Checkpoint entry {key!r}: {e}") from None
        if pos + 4 + sum(lengths) != entry.size:
            raise _data_loss(f"Checkpoint entry {key!r} stores {entry.size} bytes, but its "
                             f"string lengths add up to {pos + 4 + sum(lengths)}")
        if any(length > 0xFFFFFFFF for length in lengths):
            raise _data_loss(f"Checkpoint entry {key!r} has a string length over 4 GiB")
        crc = crc32c.value(struct.pack(f"<{n}I", *lengths))
        stored = struct.unpack_from("<I", buf, pos)[0]
        if stored != crc32c.mask(crc):
            raise _data_loss(f"Checksum of the string lengths does not match for checkpoint "
                             f"entry {key!r}: stored {stored:#010x}, computed "
                             f"{crc32c.mask(crc):#010x}")
        crc = crc32c.extend(crc, buf[pos:pos + 4])
        pos += 4
        crc = crc32c.extend(crc, memoryview(buf)[pos:])
        self._check_crc(key, entry, crc)
        out = np.empty(n, dtype=object)
        for i, length in enumerate(lengths):
            out[i] = bytes(buf[pos:pos + length])
            pos += length
        return out.reshape(shape)

    def close(self):
        with self._lock:
            for fd, _ in self._files.values():
                os.close(fd)
            self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
