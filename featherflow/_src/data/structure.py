"""Element structures of tf.data: nested tuples, namedtuples and dicts of host arrays.

Inside a pipeline an element is a structure whose leaves are NumPy arrays (0-d for scalars; string
tensors are object arrays of `bytes`): slicing, batching and shuffling are host work, as in
TensorFlow where a dataset lives on the host. Tensors are made only where the user sees them
(iteration, the arguments of map/filter/reduce functions), and they are placed on CPU:0; the
model's ops copy them to an accelerator explicitly.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import convert, device as _device, dtypes as _dt
from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.framework.tensor_spec import TensorSpec


# ---------------------------------------------------------------------------------------------
# Walking structures (dict values in sorted-key order, as tf.nest)
# ---------------------------------------------------------------------------------------------
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_structure(x) -> bool:
    return isinstance(x, (tuple, dict))


def flatten(s) -> list:
    out = []
    _flatten_into(s, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten_into(s[k], out)
    elif isinstance(s, tuple):
        for v in s:
            _flatten_into(v, out)
    else:
        out.append(s)


def pack(template, flat):
    """A structure like `template` with leaves taken from `flat` (flatten order)."""
    it = iter(flat)
    return _pack(template, it)


def _pack(t, it):
    if isinstance(t, dict):
        vals = {k: _pack(t[k], it) for k in sorted(t)}
        return type(t)((k, vals[k]) for k in t)
    if isinstance(t, tuple):
        items = [_pack(v, it) for v in t]
        return type(t)(*items) if _is_namedtuple(t) else tuple(items)
    return next(it)


def map_leaves(fn, s, lists_as_tuples=False):
    """Applies `fn` to every leaf; with `lists_as_tuples`, lists are structures turned into
    tuples (what TF does with a list returned by a map function)."""
    if isinstance(s, dict):
        return type(s)((k, map_leaves(fn, v, lists_as_tuples)) for k, v in s.items())
    if isinstance(s, tuple):
        items = [map_leaves(fn, v, lists_as_tuples) for v in s]
        return type(s)(*items) if _is_namedtuple(s) else tuple(items)
    if lists_as_tuples and isinstance(s, list):
        return tuple(map_leaves(fn, v, lists_as_tuples) for v in s)
    return fn(s)


def same_structure(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and sorted(a) == sorted(b) and \
            all(same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and \
            all(same_structure(x, y) for x, y in zip(a, b))
    return not isinstance(b, (tuple, dict))


# ---------------------------------------------------------------------------------------------
# Leaves: user values <-> host arrays <-> tensors
# ---------------------------------------------------------------------------------------------
def host_leaf(value, copy=True) -> np.ndarray:
    """A host array for a user value with TF's dtype inference (lists are values, not
    structures); NumPy inputs are copied so later writes by the user cannot change the data."""
    if isinstance(value, EagerTensor):
        return np.asarray(value._host())
    if is_tensor(value) or getattr(value, "_is_tensor_like", False):
        return np.asarray(convert.convert_to_tensor(value)._host())
    a = convert.host_array(value)
    if copy and isinstance(value, np.ndarray) and a is value:
        a = a.copy()
    return np.asarray(a)


def normalize(value):
    """A user's nested structure (tuples, namedtuples, dicts) as a structure of host arrays."""
    return map_leaves(host_leaf, value)


def from_function(value):
    """What a map/filter/reduce function returned, as a structure of host arrays (lists become
    tuples, Python numbers take TF's default dtypes). A NumPy array the function returned is
    copied (it may be a buffer the function reuses); tensors are immutable and kept as they are."""
    return map_leaves(host_leaf, value, lists_as_tuples=True)


def dtype_of(a) -> _dt.DType:
    return _dt.from_numpy(a.dtype)


def spec_of(element):
    return map_leaves(lambda a: TensorSpec(a.shape, dtype_of(a)), element)


def to_tensor(a) -> EagerTensor:
    return convert.place_host(np.asarray(a), _dt.from_numpy(a.dtype), _device.cpu0())


def to_tensors(element):
    return map_leaves(to_tensor, element)


def to_numpy_leaf(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return a[()]
    return a.copy()


def to_numpy(element):
    return map_leaves(to_numpy_leaf, element)


def zeros_for(spec):
    """Host zeros matching a spec structure (unknown dims as 0): a stand-in element."""
    def one(s):
        dims = [] if s.shape.rank is None else [d or 0 for d in s.shape.as_list()]
        if s.dtype == _dt.string:
            return np.full(dims, b"", dtype=object)
        return np.zeros(dims, s.dtype._np)
    return map_leaves(one, spec)


def shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"
