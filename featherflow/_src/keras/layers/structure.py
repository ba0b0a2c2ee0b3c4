"""Nested-structure and shape helpers of `Layer` (base.py): mapping over nested inputs and
outputs, and the shapes and KerasTensors of symbolic (functional API) calls."""
from __future__ import annotations

from featherflow._src.keras.layers import keras_tensor as _kt
from featherflow._src.keras.layers.spec import _shape_of
from featherflow._src.module import walk as _walk



def _map(fn, structure):
    if isinstance(structure, dict):
        return type(structure)((k, _map(fn, v)) for k, v in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(_map(fn, v) for v in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map(fn, v) for v in structure)
    return fn(structure)


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, int) for d in x)


def _map_shapes(fn, shapes):
    if _is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(_map_shapes(fn, s) for s in shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return fn(tuple(shapes))


def _walk_shapes(x):
    """Shapes of a (nested) input as tuples (None for unknown dims), for `build`."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _walk_shapes(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_walk_shapes(v) for v in x]
    return _shape_of(x)


def _shapes_to_tensors(shapes, dtype):
    if _is_shape(shapes):
        return _kt.KerasTensor(shapes, dtype=dtype)
    return [_shapes_to_tensors(s, dtype) for s in shapes]


def _first_dim_unknown(x):
    flat = [v for _, v in _walk.flatten_with_paths(x)]
    return any(isinstance(v, _kt.KerasTensor) and v.shape and v.shape[0] is None for v in flat)
