"""Keras-style (de)serialization of small config objects: {'module', 'class_name', 'config',
'registered_name'} dicts, shared by initializers, regularizers and constraints."""
from __future__ import annotations

import inspect


def serialize(obj, module: str):
    if obj is None:
        return None
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def lookup(identifier, table: dict, kind: str, by_string=None):
    """Resolves `identifier` (None, instance, string, config dict, callable) against `table`
    (class name / alias -> class)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = table.get(name)
        if cls is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if by_string is not None:
            found = by_string(identifier)
            if found is not None:
                return found
        cls = table.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
        return cls()
    if callable(identifier):
        if isinstance(identifier, type):
            return identifier()
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")


def resolve(identifier, table: dict, deserialize, kind: str):
    """`get` for losses and metrics: None, a config dict (through `deserialize`), a name in
    `table` (a class, instantiated, or a function), a class or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = table.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
