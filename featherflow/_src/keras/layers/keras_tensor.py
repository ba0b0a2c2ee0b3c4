"""Symbolic tensors of the functional API: `tf.keras.Input` returns a KerasTensor, and a layer
called on KerasTensors records a Node (its inputs and outputs) instead of computing.

Output shapes come from `layer.compute_output_shape` when the layer defines it, else from running
`call` once on zeros where every unknown dimension is 1, then putting back the unknown batch
dimension (axis 0). `tf.keras.Model` (functional) replays the recorded nodes.
"""
from __future__ import annotations

import collections
import itertools

KerasHistory = collections.namedtuple("KerasHistory", ["operation", "node_index",
                                                       "tensor_index"])
_names = itertools.count()


def _unique_tensor_name():
    n = next(_names)
    return "keras_tensor" if n == 0 else f"keras_tensor_{n}"


class KerasTensor:
    """A symbolic placeholder: a shape (with None for unknown dims), a dtype and a name."""

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, record_history=True,
                 name=None):
        from featherflow._src.framework import dtypes as _dt  # noqa: PLC0415
        self._shape = tuple(None if d is None else int(d) for d in shape)
        self._dtype = _dt.as_dtype(dtype)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.name = name or _unique_tensor_name()
        self._keras_history = None

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self._shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self._shape}, dtype={self._dtype.name}, "
                f"sparse={self.sparse}, ragged={self.ragged}, name={self.name}>")

    def __bool__(self):
        raise TypeError("A KerasTensor is symbolic: it has no value to use as a Python bool. "
                        "Call the model on real data instead.")

    def __array__(self, *args, **kwargs):
        raise ValueError("A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. "
                         "It doesn't have any actual numerical value. You cannot convert it to "
                         "a NumPy array.")


class Node:
    """One call of `operation` on symbolic inputs: `call_args`, `call_kwargs`, `outputs`."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        from featherflow._src.module.walk import flatten_with_paths  # noqa: PLC0415
        leaves = [v for _, v in flatten_with_paths((self.call_args, self.call_kwargs))]
        self.input_tensors = [t for t in leaves if isinstance(t, KerasTensor)]
        self.output_tensors = [t for _, t in flatten_with_paths(outputs)
                               if isinstance(t, KerasTensor)]
        self.parent_nodes = []
        for t in self.input_tensors:
            if t._keras_history is not None:
                op, ni, _ = t._keras_history
                self.parent_nodes.append(op._inbound_nodes[ni])
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(operation, node_index, i)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history.operation._outbound_nodes.append(self)

    @property
    def is_input(self):
        return not self.input_tensors

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"


def any_symbolic(*structures) -> bool:
    return _has_symbolic(structures)


def _has_symbolic(s) -> bool:
    # Plain tuples/lists/dicts and the common leaves (tensors, arrays, Python scalars) are
    # checked here without the general walker: every layer call asks this of its arguments.
    t = type(s)
    if t is _eager_tensor_type or t in _PLAIN_LEAVES:
        return False
    if t is tuple or t is list:
        for v in s:  # loops, not any(<generator>): a generator costs more than these checks
            if _has_symbolic(v):
                return True
        return False
    if t is dict:
        for v in s.values():
            if _has_symbolic(v):
                return True
        return False
    from featherflow._src.module.walk import flatten_with_paths  # noqa: PLC0415
    return any(isinstance(v, KerasTensor) for _, v in flatten_with_paths(s))


_PLAIN_LEAVES = frozenset((type(None), bool, int, float, str))
try:
    from featherflow._src.framework.tensor import EagerTensor as _eager_tensor_type
except ImportError:  # pragma: no cover - the framework is always importable
    _eager_tensor_type = None
