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
temporary name in the same directory and `os.replace`, the index last, so an interrupted save
(a killed process) never leaves a new index pointing at missing data. With `durable=True` the
files and the directory are also fsynced before and after the renames, so the checkpoint also
survives a power loss (TensorFlow does not fsync; neither does featherflow by default). `BundleReader` checks every checksum and
size and raises `tf.errors.DataLossError` for damaged or inconsistent files and
`tf.errors.NotFoundError` for missing files or keys.
"""
from __future__ import annotations

import os
import struct
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from featherflow._src.framework import dtypes, errors
from featherflow._src.train import crc32c, proto, sstable

HEADER_KEY = b""
PRODUCER_VERSION = 1          # the bundle format version written
MIN_CONSUMER_VERSION = 0      # oldest reader that understands what is written
LITTLE, BIG = 0, 1            # BundleHeaderProto.Endianness
_DIRECT_WRITE = 1 << 16       # tensors at least this big bypass the write buffer
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


def atomic_write(path: str, write, durable: bool = False, mode: str = "wb"):
    """Creates or replaces `path` atomically: `write(f)` fills a temporary file in the same
    directory, which `os.replace` then moves over `path` (a killed process leaves the old file or
    the new one). With `durable`, the file and the directory are also fsynced (a power loss
    too). On an error the temporary file is removed and `path` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    temp = _temp_name(path)
    try:
        with open(temp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    if durable:
        _fsync_dir(directory)


class BundleWriter:
    """Writes a checkpoint `prefix` in TensorFlow's format V2 (one data shard).

    >>> import numpy as np, tempfile, os
    >>> prefix = os.path.join(tempfile.mkdtemp(), "ckpt")
    >>> with BundleWriter(prefix) as w:
    ...     w.add("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    >>> BundleReader(prefix).read("w")[1]
    array([3., 4., 5.], dtype=float32)
    """

    def __init__(self, prefix: str, block_size: int = sstable.DEFAULT_BLOCK_SIZE,
                 durable: bool = False):
        self._prefix = os.fspath(prefix)
        self._block_size = block_size
        self._durable = bool(durable)
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
            if self._durable:
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
                    if self._durable:
                        f.flush()
                        os.fsync(f.fileno())
                os.replace(self._data_temp, self._data_final)
                os.replace(temp_index, final_index)
            except BaseException:
                _remove_quietly(temp_index)
                raise
            if self._durable:
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


def __getattr__(name: str):
    # `BundleReader` lives in bundle_reader.py (which imports this module); it is re-exported
    # lazily here so `from featherflow._src.train.bundle import BundleReader` keeps working.
    if name == "BundleReader":
        from featherflow._src.train.bundle_reader import BundleReader  # noqa: PLC0415
        return BundleReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
