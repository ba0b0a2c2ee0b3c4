"""The LevelDB table format that TensorFlow's checkpoint index uses (an immutable sorted map).

Layout (every number little-endian):

    data block 0 | trailer ... data block n | trailer | metaindex block | trailer |
    index block | trailer | footer (48 bytes)

- a block is a run of entries `varint shared | varint unshared | varint value_len | key suffix |
  value` (keys prefix-compressed against the previous key), then uint32 restart offsets (a full
  key every `restart_interval` entries) and their uint32 count;
- a trailer is one compression byte (0: none; TensorFlow never compresses bundles) and the masked
  CRC32C of the block and that byte;
- the index block maps a key >= each data block's last key (and < the next block's first key) to
  that block's handle (varint offset, varint size); it restarts at every entry;
- the metaindex block is empty; the footer holds the metaindex and index handles, zero-padded to
  40 bytes, and the 8-byte magic number.

`build_table` writes what TensorFlow's table builder writes for the same entries and options;
`read_table` checks every checksum and bound and raises `CorruptError` (a ValueError) otherwise.
"""
from __future__ import annotations

import struct

from featherflow._src.train import crc32c
from featherflow._src.train.proto import CorruptError, read_varint, varint

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
DEFAULT_BLOCK_SIZE = 262144  # TensorFlow's table::Options default
RESTART_INTERVAL = 16


# -- writing ------------------------------------------------------------------------------------
class _BlockBuilder:
    def __init__(self, restart_interval: int):
        self.interval = restart_interval
        self.reset()

    def reset(self):
        self.buf = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes):
        shared = 0
        if self.counter < self.interval:
            limit = min(len(self.last_key), len(key))
            while shared < limit and self.last_key[shared] == key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.counter = 0
        self.buf += varint(shared) + varint(len(key) - shared) + varint(len(value))
        self.buf += key[shared:]
        self.buf += value
        self.last_key = key
        self.counter += 1

    def estimated_size(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        tail = struct.pack(f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts))
        return bytes(self.buf) + tail

    def empty(self) -> bool:
        return not self.buf


def shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (LevelDB's bytewise rule), for index entries."""
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i < n:
        byte = start[i]
        if byte < 0xFF and byte + 1 < limit[i]:
            return start[:i] + bytes([byte + 1])
    return start


def short_successor(key: bytes) -> bytes:
    """A short key >= `key`: the first byte that can be incremented, incremented."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


def _handle(offset: int, size: int) -> bytes:
    return varint(offset) + varint(size)


def build_table(items, block_size: int = DEFAULT_BLOCK_SIZE,
                restart_interval: int = RESTART_INTERVAL) -> bytes:
    """Serializes (key bytes, value bytes) pairs, already sorted by key, into a table."""
    out = bytearray()
    data = _BlockBuilder(restart_interval)
    index = _BlockBuilder(1)
    pending = None  # (last key of the flushed block, its handle), until the next key is known

    def write_block(contents: bytes) -> bytes:
        handle = _handle(len(out), len(contents))
        out.extend(contents)
        trailer_type = b"\x00"
        crc = crc32c.extend(crc32c.value(contents), trailer_type)
        out.extend(trailer_type + struct.pack("<I", crc32c.mask(crc)))
        return handle

    last = None
    for key, value in items:
        if last is not None and key <= last:
            raise ValueError(f"table keys must be strictly increasing. Received: {key!r} after "
                             f"{last!r}")
        if pending is not None:
            index.add(shortest_separator(pending[0], key), pending[1])
            pending = None
        data.add(key, value)
        last = key
        if data.estimated_size() >= block_size:
            pending = (last, write_block(data.finish()))
            data.reset()
    if not data.empty():
        pending = (last, write_block(data.finish()))
    if pending is not None:
        index.add(short_successor(pending[0]), pending[1])
    meta_handle = write_block(_BlockBuilder(restart_interval).finish())
    index_handle = write_block(index.finish())
    footer = (meta_handle + index_handle).ljust(40, b"\x00")
    out.extend(footer + struct.pack("<Q", MAGIC))
    return bytes(out)


# -- reading ------------------------------------------------------------------------------------
def _read_handle(data, pos: int, what: str) -> tuple[int, int, int]:
    offset, pos = read_varint(data, pos, f"{what} offset")
    size, pos = read_varint(data, pos, f"{what} size")
    return offset, size, pos


def _read_block(table, offset: int, size: int, what: str) -> bytes:
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(table) - FOOTER_SIZE:
        raise CorruptError(f"{what} at offset {offset} with size {size} (plus its "
                           f"{BLOCK_TRAILER_SIZE}-byte trailer) runs past the table's "
                           f"{len(table) - FOOTER_SIZE} bytes of blocks: truncated block")
    contents = bytes(table[offset:offset + size])
    kind = table[offset + size]
    stored = struct.unpack_from("<I", table, offset + size + 1)[0]
    actual = crc32c.mask(crc32c.extend(crc32c.value(contents), bytes([kind])))
    if stored != actual:
        raise CorruptError(f"checksum mismatch in {what} at offset {offset}: stored "
                           f"{stored:#010x}, computed {actual:#010x}")
    if kind != 0:
        raise CorruptError(f"{what} at offset {offset} uses compression type {kind}; only "
                           "uncompressed (0) blocks are supported")
    return contents


def _block_entries(block: bytes, what: str):
    if len(block) < 4:
        raise CorruptError(f"{what} is {len(block)} bytes, too short for its restart count")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 * (num_restarts + 1)
    if num_restarts == 0 or limit < 0:
        raise CorruptError(f"{what} claims {num_restarts} restart points, which do not fit in "
                           f"its {len(block)} bytes")
    restarts = struct.unpack_from(f"<{num_restarts}I", block, limit)
    if any(r > limit for r in restarts):
        raise CorruptError(f"{what} has a restart offset past its entries ({limit} bytes)")
    pos = 0
    key = b""
    out = []
    while pos < limit:
        at = pos
        shared, pos = read_varint(block, pos, "key prefix length")
        unshared, pos = read_varint(block, pos, "key suffix length")
        vlen, pos = read_varint(block, pos, "value length")
        if shared > len(key):
            raise CorruptError(f"entry at byte {at} of {what} shares {shared} bytes with a "
                               f"previous key of {len(key)} bytes")
        if at in restarts and shared:
            raise CorruptError(f"entry at restart point {at} of {what} is prefix-compressed")
        if pos + unshared + vlen > limit:
            raise CorruptError(f"entry at byte {at} of {what} runs past the block's entries")
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        out.append((key, block[pos:pos + vlen]))
        pos += vlen
    return out


def read_table(table) -> list[tuple[bytes, bytes]]:
    """All (key, value) pairs of a table, in key order, after checking every block checksum."""
    size = len(table)
    if size < FOOTER_SIZE:
        raise CorruptError(f"file is {size} bytes, too short for the {FOOTER_SIZE}-byte table "
                           "footer")
    magic = struct.unpack_from("<Q", table, size - 8)[0]
    if magic != MAGIC:
        raise CorruptError(f"bad table magic number: expected {MAGIC:#018x}, found {magic:#018x}")
    footer = bytes(table[size - FOOTER_SIZE:size - 8])
    _, _, pos = _read_handle(footer, 0, "metaindex handle")
    index_offset, index_size, _ = _read_handle(footer, pos, "index handle")
    index = _block_entries(_read_block(table, index_offset, index_size, "index block"),
                           "index block")
    items = []
    prev_sep = None
    for sep, handle in index:
        if prev_sep is not None and sep <= prev_sep:
            raise CorruptError("index block keys are not in increasing order")
        prev_sep = sep
        offset, length, end = _read_handle(handle, 0, "block handle")
        if end != len(handle):
            raise CorruptError(f"index entry value is {len(handle)} bytes, expected a block "
                               f"handle of {end}")
        block = _read_block(table, offset, length, "data block")
        for key, value in _block_entries(block, f"data block at offset {offset}"):
            if items and key <= items[-1][0]:
                raise CorruptError(f"table keys out of order: {key!r} after {items[-1][0]!r}")
            if key > sep:
                raise CorruptError(f"key {key!r} is past its index separator {sep!r}")
            items.append((key, value))
    return items
