"""The few pieces of the protocol-buffer wire format that checkpoints need, written by hand.

Encoding follows what protobuf's C++ serializer emits (fields in number order, proto3 defaults
left out), so featherflow's files match TensorFlow's byte for byte. Decoding is strict about
structure (truncation, bad wire types, overlong varints raise `CorruptError`) and skips unknown
fields, as protobuf does. Callers turn `CorruptError` into the error class their format needs.
"""
from __future__ import annotations

import struct

VARINT, I64, LEN, I32 = 0, 1, 2, 5


class CorruptError(ValueError):
    """Malformed bytes; the message says what was expected and what was found."""


# -- encoding -----------------------------------------------------------------------------------
_ONE_BYTE = [bytes((i,)) for i in range(128)]  # the encodings of 0..127 (tags, short lengths)


def varint(value: int) -> bytes:
    """Encodes a non-negative int, or a negative int64 as its two's complement (10 bytes)."""
    if 0 <= value < 128:  # most tags, lengths and ids of a checkpoint's protos: a table lookup
        return _ONE_BYTE[value]
    if value < 0:
        value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def tag(field: int, wire_type: int) -> bytes:
    key = (field << 3) | wire_type
    return _ONE_BYTE[key] if key < 128 else varint(key)


def field_varint(field: int, value: int, keep_zero: bool = False) -> bytes:
    """A varint field; proto3 leaves zero values out unless `keep_zero` (repeated elements)."""
    if not value and not keep_zero:
        return b""
    return tag(field, VARINT) + varint(int(value))


def field_bytes(field: int, data: bytes, keep_empty: bool = False) -> bytes:
    if not data and not keep_empty:
        return b""
    return tag(field, LEN) + varint(len(data)) + bytes(data)


def field_message(field: int, data: bytes) -> bytes:
    """A sub-message field: present (even when empty) because the message was set."""
    return tag(field, LEN) + varint(len(data)) + bytes(data)


def field_fixed32(field: int, value: int, keep_zero: bool = False) -> bytes:
    if not value and not keep_zero:
        return b""
    return tag(field, I32) + struct.pack("<I", value & 0xFFFFFFFF)


# -- decoding -----------------------------------------------------------------------------------
def read_varint(data, pos: int, what: str = "varint") -> tuple[int, int]:
    """Decodes a varint at `pos`; returns (value, next position)."""
    result = 0
    shift = 0
    end = len(data)
    while True:
        if pos >= end:
            raise CorruptError(f"truncated {what}: the data ends at byte {end}")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift >= 70:
            raise CorruptError(f"{what} is longer than 10 bytes at byte {pos}")
    return result & ((1 << 64) - 1), pos


def as_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def as_int32(value: int) -> int:
    value = as_int64(value)
    if not -(1 << 31) <= value < (1 << 31):
        raise CorruptError(f"expected an int32 field. Received: {value}")
    return value


def fields(data) -> list[tuple[int, int, object]]:
    """Splits a serialized message into (field number, wire type, value) triples.

    The value is an int for VARINT/I64/I32 fields and a bytes slice for LEN fields.
    """
    # NOTE: tags, small ints and short lengths are single bytes; they skip read_varint (a
    # checkpoint index and object graph hold a few of them per variable, all parsed per restore).
    out = []
    append = out.append
    pos = 0
    end = len(data)
    while pos < end:
        key = data[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(data, pos, "field tag")
        number, wire = key >> 3, key & 7
        if number == 0:
            raise CorruptError(f"invalid field number 0 at byte {pos}")
        if wire == VARINT:
            if pos < end and data[pos] < 0x80:
                val = data[pos]
                pos += 1
            else:
                val, pos = read_varint(data, pos, f"field {number}")
        elif wire == LEN:
            if pos < end and data[pos] < 0x80:
                size = data[pos]
                pos += 1
            else:
                size, pos = read_varint(data, pos, f"length of field {number}")
            if pos + size > end:
                raise CorruptError(f"field {number} claims {size} bytes but only "
                                   f"{end - pos} remain")
            val = bytes(data[pos:pos + size])
            pos += size
        elif wire == I32:
            if pos + 4 > end:
                raise CorruptError(f"truncated 4-byte field {number}")
            val = _U32.unpack_from(data, pos)[0]
            pos += 4
        elif wire == I64:
            if pos + 8 > end:
                raise CorruptError(f"truncated 8-byte field {number}")
            val = _U64.unpack_from(data, pos)[0]
            pos += 8
        else:
            raise CorruptError(f"unsupported wire type {wire} for field {number}")
        append((number, wire, val))
    return out


_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def expect(wire: int, wanted: int, number: int, message: str):
    if wire != wanted:
        raise CorruptError(f"{message} field {number} has wire type {wire}, expected {wanted}")


def packed_or_single(wire: int, val, number: int, message: str) -> list[int]:
    """A repeated varint field: either one element or a packed run."""
    if wire == VARINT:
        return [val]
    expect(wire, LEN, number, message)
    out, pos = [], 0
    while pos < len(val):
        item, pos = read_varint(val, pos, f"packed field {number}")
        out.append(item)
    return out
