"""TensorFlow's checkpoint format V2 ("tensor bundle") on disk: the only file that knows its bytes.

A checkpoint `prefix` is two kinds of file:

- `prefix.index`: a LevelDB table (see `sstable.py`) whose first entry, under the empty key, is a
  BundleHeaderProto (num_shards = 1, endianness = 2, version = 3 {producer = 1}); every other key
  maps to a BundleEntryProto (dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5,
  crc32c = 6 as fixed32, slices = 7), keys sorted bytewise;
- `prefix.data-SSSSS-of-NNNNN`: each tensor's bytes, back to back, little-endian. A string tensor
  is stored as the varint length of every element, a 4-byte masked CRC32C of those lengths (each
  taken as a little-endian uint32), then the elements' bytes. An entry's crc32c is the masked
  CRC32C of everything it stored (for strings: the uint32 lengths, the length checksum, the
  bytes).

`BundleWriter` streams tensors into the data file as they are added (big buffers are written
straight from the array's memory) and writes the index at `finish()`; both files go through a
temporary name in the same directory, fsync and `os.replace`, the index last, so an interrupted
save never leaves a new index pointing at missing data. `BundleReader` checks every checksum and
size and raises `tf.errors.DataLossError` for damaged or inconsistent files and
`tf.errors.NotFoundError` for missing files or keys.
"""
from __future__ import annotations

import os
import struct
import threading
import uuid
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from featherflow._src.framework import dtypes, errors
from featherflow._src.train import crc32c, proto, sstable

HEADER_KEY = b""
PRODUCER_VERSION = 1          # the bundle format version written
MIN_CONSUMER_VERSION = 0      # oldest reader that understands what is written
LITTLE, BIG = 0, 1            # BundleHeaderProto.Endianness
_DIRECT_WRITE = 1 << 16       # tensors at least this big bypass the write buffer
_HAS_PREADV = hasattr(os, "preadv")  # positioned reads need no lock
_POOLED = 1 << 16             # tensors at least this big are checksummed in worker threads


# NOTE: checksums overlap file I/O only when the CRC releases the GIL (the `crc32c` package);
# with the others a worker thread would only take turns with the reader or writer.
_pool_lock = threading.Lock()
_pool_state = {"pid": None, "pool": None}


def _worker_pool():
    """The process's thread pool for reading and checksumming tensors, or None when checksums
    hold the GIL. Made again in a forked child (the parent's worker threads are not there)."""
    if not crc32c.RELEASES_GIL:
        return None
    with _pool_lock:
        if _pool_state["pid"] != os.getpid():
            workers = max(2, min(4, os.cpu_count() or 1))
            _pool_state["pool"] = ThreadPoolExecutor(workers, "featherflow-checkpoint")
            _pool_state["pid"] = os.getpid()
        return _pool_state["pool"]


def index_path(prefix: str) -> str:
    return f"{prefix}.index"


def data_path(prefix: str, shard: int = 0, num_shards: int = 1) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


@dataclass(frozen=True)
class BundleEntry:
    """One tensor's index entry (BundleEntryProto)."""

    dtype: int                 # TensorFlow DataType enum
    shape: tuple
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int = 0            # masked, as stored
    has_slices: bool = False   # a partitioned variable's full entry (not supported for reading)

    def encode(self) -> bytes:
        dims = b"".join(proto.field_message(2, proto.field_varint(1, d)) for d in self.shape)
        return (proto.field_varint(1, self.dtype) + proto.field_message(2, dims)
                + proto.field_varint(3, self.shard_id) + proto.field_varint(4, self.offset)
                + proto.field_varint(5, self.size) + proto.field_fixed32(6, self.crc32c))

    @classmethod
    def decode(cls, data: bytes) -> "BundleEntry":
        kw = {"dtype": 0, "shape": ()}
        for number, wire, val in proto.fields(data):
            if number == 1:
                proto.expect(wire, proto.VARINT, number, "BundleEntryProto")
                kw["dtype"] = proto.as_int32(val)
            elif number == 2:
                proto.expect(wire, proto.LEN, number, "BundleEntryProto")
                kw["shape"] = _decode_shape(val)
            elif number in (3, 4, 5):
                proto.expect(wire, proto.VARINT, number, "BundleEntryProto")
                name = {3: "shard_id", 4: "offset", 5: "size"}[number]
                kw[name] = proto.as_int64(val)
                if kw[name] < 0:
                    raise proto.CorruptError(f"BundleEntryProto.{name} is negative: {kw[name]}")
            elif number == 6:
                proto.expect(wire, proto.I32, number, "BundleEntryProto")
                kw["crc32c"] = val
            elif number == 7:
                kw["has_slices"] = True
        return cls(**kw)


def _decode_shape(data: bytes) -> tuple:
    dims = []
    for number, wire, val in proto.fields(data):
        if number == 2:
            proto.expect(wire, proto.LEN, number, "TensorShapeProto")
            size = 0
            for n2, w2, v2 in proto.fields(val):
                if n2 == 1:
                    proto.expect(w2, proto.VARINT, n2, "TensorShapeProto.Dim")
                    size = proto.as_int64(v2)
            if size < 0:
                raise proto.CorruptError(f"tensor shape has a negative dimension {size}")
            dims.append(size)
        elif number == 3 and val:
            raise proto.CorruptError("tensor shape has unknown rank")
    return tuple(dims)


@dataclass(frozen=True)
class BundleHeader:
    num_shards: int = 1
    endianness: int = LITTLE
    producer: int = PRODUCER_VERSION
    min_consumer: int = 0
    bad_consumers: tuple = ()

    def encode(self) -> bytes:
        version = (proto.field_varint(1, self.producer) + proto.field_varint(2, self.min_consumer)
                   + b"".join(proto.field_varint(3, v, keep_zero=True)
                              for v in self.bad_consumers))
        return (proto.field_varint(1, self.num_shards) + proto.field_varint(2, self.endianness)
                + proto.field_message(3, version))

    @classmethod
    def decode(cls, data: bytes) -> "BundleHeader":
        kw = {"num_shards": 0}
        for number, wire, val in proto.fields(data):
            if number in (1, 2):
                proto.expect(wire, proto.VARINT, number, "BundleHeaderProto")
                kw["num_shards" if number == 1 else "endianness"] = proto.as_int32(val)
            elif number == 3:
                proto.expect(wire, proto.LEN, number, "BundleHeaderProto")
                kw["producer"] = kw["min_consumer"] = 0
                bad = []
                for n2, w2, v2 in proto.fields(val):
                    if n2 in (1, 2):
                        proto.expect(w2, proto.VARINT, n2, "VersionDef")
                        kw["producer" if n2 == 1 else "min_consumer"] = proto.as_int32(v2)
                    elif n2 == 3:
                        bad += [proto.as_int32(v)
                                for v in proto.packed_or_single(w2, v2, n2, "VersionDef")]
                kw["bad_consumers"] = tuple(bad)
        return cls(**kw)


# -- dtypes -------------------------------------------------------------------------------------
def _tf_dtype(array: np.ndarray, dtype) -> dtypes.DType:
    if dtype is not None:
        dt = dtypes.as_dtype(dtype)
    else:
        native = array.dtype
        if native.byteorder not in "=|" and native.kind not in "OSU":
            native = native.newbyteorder("=")  # '>i4' is saved as int32 (little-endian)
        try:
            dt = dtypes.from_numpy(native)
        except TypeError:
            raise TypeError("BundleWriter.add expects a numeric, bool or string array. "
                            f"Received: dtype {array.dtype}") from None
    if dt._name in ("resource", "variant"):
        raise TypeError(f"tensors of dtype {dt.name} cannot be saved in a checkpoint. "
                        f"Received: {dt.name}")
    if dt._kind != "O" and array.dtype.itemsize != dt._np.itemsize:
        raise TypeError(f"array of dtype {array.dtype} cannot be saved as {dt.name}. "
                        f"Received: itemsize {array.dtype.itemsize}")
    return dt


def _readable_dtype(key: str, enum: int) -> dtypes.DType:
    try:
        dt = dtypes.as_dtype(enum)
    except (TypeError, KeyError):
        raise errors.DataLossError(None, None, f"Checkpoint entry {key!r} has an unknown dtype "
                                               f"enum {enum}") from None
    if dt._name in ("resource", "variant"):
        raise errors.UnimplementedError(None, None, f"Checkpoint entry {key!r} holds a {dt.name} "
                                                    "tensor, which cannot be restored")
    return dt


def _string_elements(array: np.ndarray) -> list:
    out = []
    for item in array.reshape(-1).tolist():
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif not isinstance(item, (bytes, bytearray, memoryview)):
            raise TypeError("string tensors hold bytes (or str). Received: element of type "
                            f"{type(item).__name__}")
        out.append(bytes(item))
    return out


def encode_strings(elements: list) -> tuple[list, int]:
    """The stored pieces of a string tensor and the (unmasked) CRC32C over them."""
    lengths = b"".join(proto.varint(len(e)) for e in elements)
    if any(len(e) > 0xFFFFFFFF for e in elements):
        raise errors.InvalidArgumentError(None, None, "A string element of a checkpoint tensor "
                                                      "is limited to 4 GiB - 1 bytes")
    crc = crc32c.value(struct.pack(f"<{len(elements)}I", *(len(e) for e in elements)))
    length_check = struct.pack("<I", crc32c.mask(crc))
    crc = crc32c.extend(crc, length_check)
    for e in elements:
        crc = crc32c.extend(crc, e)
    return [lengths, length_check, *elements], crc


# -- writing ------------------------------------------------------------------------------------
def _temp_name(path: str) -> str:
    return f"{path}.tempstate{uuid.uuid4().hex}"


def _fsync_dir(directory: str):
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: directories cannot be opened; the rename is durable enough
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BundleWriter:
    """Writes a checkpoint `prefix` in TensorFlow's format V2 (one data shard).

    >>> import numpy as np, tempfile, os
    >>> prefix = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> with BundleWriter(prefix) as w:
    ...     w.add("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    >>> BundleReader(prefix).read("w")[1]
    array([3., 4., 5.], dtype=float32)
    """

    def __init__(self, prefix: str, block_size: int = sstable.DEFAULT_BLOCK_SIZE):
        self._prefix = os.fspath(prefix)
        self._block_size = block_size
        directory = os.path.dirname(self._prefix)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._data_final = data_path(self._prefix)
        self._data_temp = _temp_name(self._data_final)
        self._file = open(self._data_temp, "wb", buffering=1 << 20)
        self._offset = 0
        self._entries: dict[bytes, BundleEntry] = {}
        self._done = False

    @property
    def prefix(self) -> str:
        return self._prefix

    def add(self, key: str, array, dtype=None):
        """Appends tensor `array` (NumPy array or scalar; object array of bytes for strings)
        under `key`. `dtype` (optional) names the TF dtype, e.g. for quantized types."""
        if self._done:
            raise errors.FailedPreconditionError(None, None, "BundleWriter.add after finish() "
                                                             f"or abort(). Received key: {key!r}")
        if not isinstance(key, str):
            raise TypeError(f"checkpoint keys are str. Received: {key!r}")
        bkey = key.encode("utf-8")
        if not bkey:
            raise errors.InvalidArgumentError(None, None, "The empty key is reserved for the "
                                                          "checkpoint header. Received: ''")
        if bkey in self._entries:
            raise errors.InvalidArgumentError(None, None, f"Adding duplicate key: {key}")
        array = np.asarray(array)
        shape = tuple(array.shape)  # before ascontiguousarray, which makes 0-d arrays 1-d
        dt = _tf_dtype(array, dtype)
        if dt._kind == "O":
            pieces, crc = encode_strings(_string_elements(array))
            size = 0
            for piece in pieces:
                self._file.write(piece)
                size += len(piece)
        else:
            array = np.ascontiguousarray(array)
            if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and
                                                np.little_endian is False):
                array = array.astype(array.dtype.newbyteorder("<"))
            raw = array.reshape(-1).view(np.uint8)
            size = raw.nbytes
            pool = _worker_pool() if size >= _POOLED else None
            # NOTE: the checksum runs in a worker while this thread writes the same bytes; both
            # only read `raw`, and add() waits for the checksum, so the caller may change the
            # array as soon as add() returns.
            pending = pool.submit(crc32c.value, raw) if pool is not None else None
            if size >= _DIRECT_WRITE:
                # NOTE: big tensors go from the array's memory to the file, no copy.
                self._file.flush()
                self._write_all(raw)
            else:
                self._file.write(raw.tobytes())
            crc = pending.result() if pending is not None else crc32c.value(raw)
        self._entries[bkey] = BundleEntry(dt.as_datatype_enum, shape, 0,
                                          self._offset, size, crc32c.mask(crc))
        self._offset += size

    def _write_all(self, raw: np.ndarray):
        view = memoryview(raw)
        raw_file = self._file.raw
        while len(view):
            written = raw_file.write(view)
            view = view[written:]

    def finish(self):
        """Writes the index and publishes both files (data first, index last)."""
        if self._done:
            raise errors.FailedPreconditionError(None, None, "BundleWriter.finish called twice")
        self._done = True
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            header = BundleHeader().encode()
            items = [(HEADER_KEY, header)]
            items += [(k, self._entries[k].encode()) for k in sorted(self._entries)]
            table = sstable.build_table(items, block_size=self._block_size)
            final_index = index_path(self._prefix)
            temp_index = _temp_name(final_index)
            try:
                with open(temp_index, "wb") as f:
                    f.write(table)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(self._data_temp, self._data_final)
                os.replace(temp_index, final_index)
            except BaseException:
                _remove_quietly(temp_index)
                raise
            _fsync_dir(os.path.dirname(self._prefix))
        except BaseException:
            self.abort()
            raise

    def abort(self):
        """Drops what was written; the previous checkpoint at `prefix`, if any, is untouched."""
        self._done = True
        if not self._file.closed:
            self._file.close()
        _remove_quietly(self._data_temp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        elif not self._done:
            self.finish()
        return False

    def __del__(self):
        try:
            if not self._done:
                self.abort()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing sensible to report
            pass


def _remove_quietly(path: str):
    try:
        os.remove(path)
    except OSError:
        pass


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
        expected = int(np.prod(shape, dtype=object)) * dt._np.itemsize
        if entry.size != expected:
            raise _data_loss(f"Checkpoint entry {key!r} stores {entry.size} bytes, but dtype "
                             f"{dt.name} and shape {list(shape)} need {expected}")
        fd = self._locate(key, entry)
        return entry, dt, fd, out.reshape(-1).view(np.uint8)

    def _fill(self, key: str, entry: BundleEntry, fd: int, raw: np.ndarray) -> int:
        """Reads the tensor's bytes into `raw`; their CRC32C (unmasked)."""
        self._pread(fd, memoryview(raw), entry.offset, key)
        return crc32c.value(raw)

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
        jobs, inline, failures = [], [], []
        for key, (entry, dt, fd, raw) in targets:
            if pool is not None and entry.size >= _POOLED:
                jobs.append((key, entry, pool.submit(self._fill, key, entry, fd, raw)))
            else:
                inline.append((key, entry, fd, raw))

        def failed(e):
            failures.append(e)
            for _, _, job in jobs:
                job.cancel()  # those not started yet; running ones finish

        # Small tensors on this thread while the workers take the big ones.
        for key, entry, fd, raw in inline:
            try:
                self._check_crc(key, entry, self._fill(key, entry, fd, raw))
            except BaseException as e:  # noqa: BLE001 - raised below, once the workers stopped
                failed(e)
                break
        for key, entry, job in jobs:
            try:
                crc = job.result()
            except CancelledError:
                continue
            except BaseException as e:  # noqa: BLE001
                failed(e)
                continue
            if not failures:
                try:
                    self._check_crc(key, entry, crc)
                except errors.DataLossError as e:
                    failed(e)
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
