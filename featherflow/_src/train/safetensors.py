"""The safetensors file format: 8-byte little-endian header length, a JSON header mapping each
name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that follows;
an optional "__metadata__" maps str to str), then the raw little-endian tensor bytes.

Files are written atomically (temporary name in the same directory, fsync, `os.replace`).
Strings have no safetensors dtype: saving one raises TypeError.
"""
from __future__ import annotations

import json
import os
import struct

import ml_dtypes
import numpy as np

from featherflow._src.framework import errors
from featherflow._src.train import bundle as _bundle

_TO_ST = {
    np.dtype(np.bool_): "BOOL", np.dtype(np.uint8): "U8", np.dtype(np.int8): "I8",
    np.dtype(np.uint16): "U16", np.dtype(np.int16): "I16", np.dtype(np.float16): "F16",
    np.dtype(ml_dtypes.bfloat16): "BF16", np.dtype(np.uint32): "U32", np.dtype(np.int32): "I32",
    np.dtype(np.float32): "F32", np.dtype(np.uint64): "U64", np.dtype(np.int64): "I64",
    np.dtype(np.float64): "F64", np.dtype(np.complex64): "C64",
    np.dtype(np.complex128): "C128",
}
_FROM_ST = {v: k for k, v in _TO_ST.items()}
_MAX_HEADER = 100 * 1024 * 1024  # the reference implementation's limit


def _host_array(name: str, value) -> np.ndarray:
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # tensors and variables: one explicit copy to the host
    array = np.asarray(value)
    if array.dtype.kind == "O" or array.dtype.kind in "SU":
        raise TypeError(f"safetensors cannot store strings; tensor {name!r} is a string "
                        f"tensor. Received: dtype {array.dtype}")
    native = array.dtype.newbyteorder("=") if array.dtype.byteorder == ">" else array.dtype
    if native not in _TO_ST and array.dtype not in _TO_ST:
        raise TypeError(f"safetensors cannot store tensor {name!r} of dtype {array.dtype}. "
                        f"Received: {array.dtype}")
    array = np.ascontiguousarray(array).reshape(array.shape)
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and not np.little_endian):
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def _flat_tensors(tensors) -> dict:
    if isinstance(tensors, dict):
        return dict(tensors)
    # A module: flat "a/b/c" paths from the one walker (imported lazily: optional layer).
    from featherflow._src.module import walk

    out, seen = {}, set()
    for path, var in walk.walk(tensors, predicate=walk.is_variable, with_path=True):
        if id(var) not in seen:  # a variable reachable by several paths is saved once
            seen.add(id(var))
            out["/".join(str(p) for p in path)] = var
    if not out:
        raise ValueError(f"save_safetensors found no variables in {type(tensors).__name__}. "
                         f"Received: {tensors!r}")
    return out


def save_safetensors(path, tensors, metadata: dict | None = None) -> None:
    """Saves `{name: array or tensor}` (or a tf.Module's variables under their attribute
    paths, e.g. "dense/kernel") to a safetensors file at `path`, atomically.

    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_safetensors(path, {"w": np.ones((2, 2), np.float32)})
    >>> load_safetensors(path)["w"].sum()
    np.float32(4.0)
    """
    flat = _flat_tensors(tensors)
    arrays = {}
    for name, value in flat.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors names are str. Received: {name!r}")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved in safetensors headers. Received: a "
                             "tensor named '__metadata__'")
        arrays[name] = _host_array(name, value)
    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"safetensors metadata maps str to str. Received: {metadata!r}")
        header["__metadata__"] = dict(metadata)
    offset = 0
    # Ordered by name, like the reference writer (it sorts by dtype alignment, then name; any
    # order is valid to readers).
    order = sorted(arrays)
    for name in order:
        a = arrays[name]
        header[name] = {"dtype": _TO_ST[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)  # pad to 8 bytes, as the reference writer does
    def write(f):
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name in order:
            f.write(memoryview(arrays[name].reshape(-1).view(np.uint8)))

    _bundle.atomic_write(path, write, durable=True)


def _bad(path, msg):
    return errors.DataLossError(None, None, f"Invalid safetensors file {path}: {msg}")


def load_safetensors(path) -> dict:
    """Loads a safetensors file into `{name: np.ndarray}` (in the file's header order)."""
    path = os.fspath(path)
    try:
        f = open(path, "rb")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise errors.NotFoundError(None, None, f"safetensors file {path} not found") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8:
            raise _bad(path, f"file is {size} bytes, too short for the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise _bad(path, f"header length {n} does not fit in the file's {size} bytes")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise _bad(path, f"header is not valid JSON ({e})") from None
        if not isinstance(header, dict):
            raise _bad(path, f"header is a JSON {type(header).__name__}, expected an object")
        data_size = size - 8 - n
        out = {}
        spans = []
        for name, info in header.items():
            if name == "__metadata__":
                continue
            try:
                dtype = _FROM_ST[info["dtype"]]
                shape = tuple(int(d) for d in info["shape"])
                begin, end = (int(x) for x in info["data_offsets"])
            except (KeyError, TypeError, ValueError):
                raise _bad(path, f"entry {name!r} is malformed: {info!r}") from None
            count = int(np.prod(shape, dtype=object))
            if any(d < 0 for d in shape) or not 0 <= begin <= end <= data_size or \
                    end - begin != count * dtype.itemsize:
                raise _bad(path, f"entry {name!r} has offsets [{begin}, {end}] that do not "
                                 f"match dtype {info['dtype']} and shape {list(shape)} within "
                                 f"{data_size} data bytes")
            array = np.empty(shape, dtype=dtype)
            f.seek(8 + n + begin)
            got = f.readinto(memoryview(array.reshape(-1).view(np.uint8)))
            if got != end - begin:
                raise _bad(path, f"entry {name!r}: file ended after {got} of {end - begin} "
                                 "bytes")
            if not np.little_endian:
                array = array.byteswap()
            spans.append((begin, end, name))
            out[name] = array
        spans.sort()
        for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise _bad(path, f"entries {n0!r} and {n1!r} overlap")
        return out
