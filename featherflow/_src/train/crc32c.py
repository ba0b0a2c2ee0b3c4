"""CRC32C (Castagnoli), as TensorFlow's checkpoints and LevelDB tables use it, plus TF's masking.

Three implementations, the first importable one is used (`implementation()` names it):

1. the `crc32c` package (extra `featherflow[checkpoint]`): hardware CRC instructions (SSE4.2,
   ARMv8), takes any buffer (a memoryview of a NumPy array is read in place, no copy) and
   releases the GIL, so checksums run on other cores while the caller reads or writes files;
2. the `google-crc32c` package (its C build only): as fast, but it takes only `bytes`, so other
   buffers are copied to `bytes` 1 MB at a time (about as costly as the checksum itself);
3. a NumPy fallback computing the same values: the data is cut into many equal chunks whose CRC
   registers advance side by side (slicing-by-4 table lookups, vectorized across chunks), and the
   chunk registers are then folded together with "append n zero bytes" operators (CRC is linear
   over GF(2)), so the Python loop runs about sqrt(n) times instead of n. It is several times
   slower than disk I/O and holds the GIL.

`value(data)` / `extend(crc, data)` accept bytes or any C-contiguous buffer (memoryview, NumPy
array). `RELEASES_GIL` says whether checksums may usefully run in worker threads.
"""
from __future__ import annotations

import importlib
import sys
import warnings

import numpy as np

_POLY = 0x82F63B78  # reflected Castagnoli polynomial
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def mask(crc: int) -> int:
    """TF/LevelDB store CRCs rotated and offset, so a CRC of data that embeds CRCs stays strong."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


# -- tables -------------------------------------------------------------------------------------
def _byte_table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


_T0 = _byte_table()
# _T[k][b]: the register contribution of byte b followed by k zero bytes (slicing-by-4).
_T = [_T0]
for _k in range(3):
    _prev = _T[-1]
    _T.append((_prev >> np.uint32(8)) ^ _T0[_prev & np.uint32(0xFF)])
_T1, _T2, _T3 = _T[1], _T[2], _T[3]
_T0_LIST = [int(x) for x in _T0]
# Two bytes at a time: a register's low half advances through _T3/_T2, its high half _T1/_T0.
_I16 = np.arange(65536, dtype=np.uint32)
_T_LO16 = _T3[_I16 & 0xFF] ^ _T2[_I16 >> 8]
_T_HI16 = _T1[_I16 & 0xFF] ^ _T0[_I16 >> 8]
_LITTLE = sys.byteorder == "little"


def _as_bytes_view(data) -> memoryview:
    if isinstance(data, np.ndarray):
        if not data.flags.c_contiguous:
            raise ValueError("crc32c needs a C-contiguous array. Received: a strided array")
        data = data.reshape(-1).view(np.uint8)
    view = memoryview(data)
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return view


# -- pure fallback ------------------------------------------------------------------------------
def _register_bytes(reg: int, view) -> int:
    """Advances a raw register (no pre/post inversion) over a short byte string in Python."""
    table = _T0_LIST
    for b in bytes(view):
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


def _apply(op: np.ndarray, regs):
    """Applies a GF(2)-linear operator, given by the images of the 32 bits, to registers."""
    regs = np.asarray(regs, dtype=np.uint32)
    out = np.zeros(regs.shape, dtype=np.uint32)
    for bit in range(32):
        out ^= np.where((regs >> np.uint32(bit)) & np.uint32(1), op[bit], np.uint32(0))
    return out


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The operator `a` after `b`."""
    return _apply(a, b)


_ZERO_BYTE_OP = np.array([_register_bytes(1 << bit, b"\0") for bit in range(32)], dtype=np.uint32)
_ZERO_OPS = {1: _ZERO_BYTE_OP}  # n -> operator that appends n zero bytes (cached powers of two)


def _zeros_op(n: int) -> np.ndarray:
    """The operator that appends `n` zero bytes to a register (square-and-multiply)."""
    if n in _ZERO_OPS:
        return _ZERO_OPS[n]
    result = None
    power, step = _ZERO_BYTE_OP, 1
    remaining = n
    while remaining:
        if remaining & 1:
            result = power if result is None else _compose(power, result)
        remaining >>= 1
        if remaining:
            nxt = step * 2
            if nxt not in _ZERO_OPS:
                _ZERO_OPS[nxt] = _compose(power, power)
            power, step = _ZERO_OPS[nxt], nxt
    if len(_ZERO_OPS) < 256:
        _ZERO_OPS[n] = result
    return result


def _register_numpy(view: memoryview) -> int:
    """The raw register (starting at 0) after `view`, vectorized across chunks."""
    n = len(view)
    words = n // 4
    # Chunk length (in 4-byte words) ~ sqrt(words): both loops below stay short.
    chunk_words = max(64, 1 << max(0, (int(words ** 0.5)).bit_length() - 1))
    chunks = words // chunk_words
    if chunks < 2:
        return _register_bytes(0, view)
    body = chunks * chunk_words * 4
    # NOTE: leading bytes go through the scalar loop first; a zero register is unaffected by
    # the zero-padding trick, so the body's chunks can all start from register 0 and be shifted.
    grid = np.frombuffer(view[:body], dtype="<u4").reshape(chunks, chunk_words)
    regs = np.zeros(chunks, dtype=np.uint32)
    halves = regs.view(np.uint16).reshape(chunks, 2)
    lo, hi = (halves[:, 0], halves[:, 1]) if _LITTLE else (halves[:, 1], halves[:, 0])
    a = np.empty(chunks, dtype=np.uint32)
    b = np.empty(chunks, dtype=np.uint32)
    # NOTE: transposing the whole matrix is cache-hostile (seconds for 200 MB); copying 16
    # columns at a time (one cache line per chunk, in memory order) keeps the block in cache.
    for col in range(0, chunk_words, 16):
        for row in np.ascontiguousarray(grid[:, col:col + 16]).T:
            # In place: two 16-bit table lookups per word and chunk.
            np.bitwise_xor(regs, row, out=regs)
            np.take(_T_LO16, lo, out=a)
            np.take(_T_HI16, hi, out=b)
            np.bitwise_xor(a, b, out=regs)
    # Fold neighbours: reg(A||B) = zeros_op(len B)(reg A) ^ reg B. An odd count gets a zero
    # register in front: a chunk of zero bytes leaves a zero register unchanged.
    span = chunk_words * 4
    while len(regs) > 1:
        if len(regs) % 2:
            regs = np.concatenate([np.zeros(1, dtype=np.uint32), regs])
        regs = _apply(_zeros_op(span), regs[0::2]) ^ regs[1::2]
        span *= 2
    return _register_bytes(int(regs[0]), view[body:])


def _extend_fallback(crc: int, data) -> int:
    view = _as_bytes_view(data)
    n = len(view)
    if n == 0:
        return crc & _U32
    start = (crc ^ _U32) & _U32
    if n < 4096:
        return _register_bytes(start, view) ^ _U32
    reg = _register_numpy(view)
    reg ^= int(_apply(_zeros_op(n), [start])[0])
    return reg ^ _U32


# -- public -------------------------------------------------------------------------------------
_CHUNK = 1 << 20  # google-crc32c takes only bytes: copy at most this much at a time


def _quiet_import(name):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a notice that a software build is in use
            return importlib.import_module(name)
    except ImportError:
        return None


def _load(order=("crc32c", "google-crc32c", "numpy")):
    """(name, extend function, releases the GIL) of the first usable implementation in `order`."""
    for name in order:
        if name == "crc32c":
            mod = _quiet_import("crc32c")
            # NOTE: the package's own software build (no CRC instructions) is still C, and still
            # far faster than the NumPy fallback, so it is used too.
            if mod is not None and callable(getattr(mod, "crc32c", None)):
                return name, _crc32c_extend(mod), True
        elif name == "google-crc32c":
            mod = _quiet_import("google_crc32c")
            if mod is not None and getattr(mod, "implementation", "c") == "c":
                return name, _google_extend(mod), False  # its pure-Python build is slower
        elif name == "numpy":
            return name, _extend_fallback, False
        else:
            raise ValueError("crc32c implementations are 'crc32c', 'google-crc32c' and 'numpy'. "
                             f"Received: {name!r}")
    raise ValueError(f"no usable crc32c implementation among {order}")


def _crc32c_extend(mod):
    fn = mod.crc32c

    def extend_crc32c(crc: int, data) -> int:
        if not isinstance(data, (bytes, bytearray)):
            data = _as_bytes_view(data)  # checks contiguity; no copy
        return fn(data, crc)
    return extend_crc32c


def _google_extend(mod):
    fn = mod.extend

    def extend_google(crc: int, data) -> int:
        if isinstance(data, bytes):
            return fn(crc, data)
        view = _as_bytes_view(data)
        for start in range(0, len(view), _CHUNK):
            crc = fn(crc, bytes(view[start:start + _CHUNK]))
        return crc
    return extend_google


_NAME, _extend, RELEASES_GIL = _load()


def extend(crc: int, data) -> int:
    """The CRC32C of (the data whose CRC32C is `crc`) followed by `data`."""
    return _extend(crc, data)


def value(data) -> int:
    """The CRC32C of `data` (bytes or a C-contiguous buffer).

    >>> hex(value(b"123456789"))
    '0xe3069283'
    """
    return _extend(0, data)


def implementation() -> str:
    """'crc32c' or 'google-crc32c' (the package in use), else 'numpy'."""
    return _NAME
