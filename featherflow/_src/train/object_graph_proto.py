"""TrackableObjectGraph, the proto TensorFlow stores under `_CHECKPOINTABLE_OBJECT_GRAPH`, as
plain dataclasses with a hand-written wire encoder/decoder (no protobuf library).

    TrackableObjectGraph { repeated TrackableObject nodes = 1; }
    TrackableObject {
      repeated ObjectReference children = 1;        { int32 node_id = 1; string local_name = 2; }
      repeated SerializedTensor attributes = 2;     { string name = 1; string full_name = 2;
                                                      string checkpoint_key = 3; }
      repeated SlotVariableReference slot_variables = 3;
          { int32 original_variable_node_id = 1; string slot_name = 2;
            int32 slot_variable_node_id = 3; }
      RegisteredSaver registered_saver = 4;         { string name = 1; string object_name = 2; }
      google.protobuf.BoolValue has_checkpoint_values = 5;   { bool value = 1; }
    }

`decode(encode(g)) == g`, and `encode(decode(b)) == b` for what TensorFlow writes (fields in
number order); unknown fields are kept per node and written back after the known ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from featherflow._src.train import proto
from featherflow._src.train.proto import CorruptError  # noqa: F401 - re-exported for callers


@dataclass
class ObjectReference:
    node_id: int = 0
    local_name: str = ""


@dataclass
class SerializedTensor:
    name: str = ""
    full_name: str = ""
    checkpoint_key: str = ""


@dataclass
class SlotVariableReference:
    original_variable_node_id: int = 0
    slot_name: str = ""
    slot_variable_node_id: int = 0


@dataclass
class TrackableObject:
    children: list = field(default_factory=list)
    attributes: list = field(default_factory=list)
    slot_variables: list = field(default_factory=list)
    registered_saver: tuple | None = None        # (name, object_name)
    has_checkpoint_values: bool | None = None    # None: the wrapper message is absent
    unknown: bytes = b""                         # fields this decoder does not know, verbatim


@dataclass
class TrackableObjectGraph:
    nodes: list = field(default_factory=list)


def _s(value: str) -> bytes:
    return value.encode("utf-8")


def _text(val: bytes, what: str) -> str:
    try:
        return val.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptError(f"{what} is not valid UTF-8") from None


def encode(graph: TrackableObjectGraph) -> bytes:
    out = bytearray()
    for node in graph.nodes:
        out += proto.field_message(1, _encode_node(node))
    return bytes(out)


def _encode_node(node: TrackableObject) -> bytes:
    out = bytearray()
    for c in node.children:
        out += proto.field_message(1, proto.field_varint(1, c.node_id)
                                   + proto.field_bytes(2, _s(c.local_name)))
    for a in node.attributes:
        out += proto.field_message(2, proto.field_bytes(1, _s(a.name))
                                   + proto.field_bytes(2, _s(a.full_name))
                                   + proto.field_bytes(3, _s(a.checkpoint_key)))
    for sv in node.slot_variables:
        out += proto.field_message(3, proto.field_varint(1, sv.original_variable_node_id)
                                   + proto.field_bytes(2, _s(sv.slot_name))
                                   + proto.field_varint(3, sv.slot_variable_node_id))
    if node.registered_saver is not None:
        name, object_name = node.registered_saver
        out += proto.field_message(4, proto.field_bytes(1, _s(name))
                                   + proto.field_bytes(2, _s(object_name)))
    if node.has_checkpoint_values is not None:
        out += proto.field_message(5, proto.field_varint(1, int(node.has_checkpoint_values)))
    out += node.unknown
    return bytes(out)


def decode(data: bytes) -> TrackableObjectGraph:
    """Parses a serialized TrackableObjectGraph; raises CorruptError (a ValueError) on bad
    bytes."""
    graph = TrackableObjectGraph()
    for number, wire, val in proto.fields(data):
        if number == 1:
            proto.expect(wire, proto.LEN, number, "TrackableObjectGraph")
            graph.nodes.append(_decode_node(val))
    return graph


def _sub(val, wire, number, message):
    proto.expect(wire, proto.LEN, number, message)
    return proto.fields(val)


def _decode_node(data: bytes) -> TrackableObject:
    node = TrackableObject()
    unknown = bytearray()
    for number, wire, val in proto.fields(data):
        if number == 1:
            ref = ObjectReference()
            for n, w, v in _sub(val, wire, number, "TrackableObject"):
                if n == 1:
                    ref.node_id = proto.as_int32(v)
                elif n == 2:
                    ref.local_name = _text(v, "ObjectReference.local_name")
            node.children.append(ref)
        elif number == 2:
            st = SerializedTensor()
            for n, w, v in _sub(val, wire, number, "TrackableObject"):
                if n in (1, 2, 3) and w == proto.LEN:
                    setattr(st, ("name", "full_name", "checkpoint_key")[n - 1],
                            _text(v, "SerializedTensor field"))
            node.attributes.append(st)
        elif number == 3:
            sv = SlotVariableReference()
            for n, w, v in _sub(val, wire, number, "TrackableObject"):
                if n == 1:
                    sv.original_variable_node_id = proto.as_int32(v)
                elif n == 2:
                    sv.slot_name = _text(v, "SlotVariableReference.slot_name")
                elif n == 3:
                    sv.slot_variable_node_id = proto.as_int32(v)
            node.slot_variables.append(sv)
        elif number == 4:
            name = object_name = ""
            for n, w, v in _sub(val, wire, number, "TrackableObject"):
                if n == 1:
                    name = _text(v, "RegisteredSaver.name")
                elif n == 2:
                    object_name = _text(v, "RegisteredSaver.object_name")
            node.registered_saver = (name, object_name)
        elif number == 5:
            flag = False
            for n, w, v in _sub(val, wire, number, "TrackableObject"):
                if n == 1:
                    flag = bool(v)
            node.has_checkpoint_values = flag
        else:
            unknown += _reencode(number, wire, val)
    node.unknown = bytes(unknown)
    return node


def _reencode(number: int, wire: int, val) -> bytes:
    if wire == proto.LEN:
        return proto.field_message(number, val)
    if wire == proto.VARINT:
        return proto.tag(number, wire) + proto.varint(val)
    size = 8 if wire == proto.I64 else 4
    return proto.tag(number, wire) + int(val).to_bytes(size, "little")
