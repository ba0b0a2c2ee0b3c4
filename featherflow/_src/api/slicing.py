"""tensor[key]: TensorFlow's indexing, as one StridedSlice op per expression.

Valid keys: ints, slices (with any step, including negative), `...`, `tf.newaxis`/None and
scalar int32/int64 tensors; a bool tensor (or Python bool) is a boolean mask. A list is read as
a tuple of indices, as TensorFlow does (`x[[0, 1]]` is `x[0, 1]`); other keys are a TypeError.
"""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import indexing as I

_execute = dispatch.execute
_ET = EagerTensor


def _bad_key(item):
    return TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                     f"scalar tf.int32/tf.int64 tensors are valid indices, got {item!r}")


def _index(v, item):
    """An int from a slice bound or index: Python/NumPy ints and scalar int tensors."""
    if type(v) is int:
        return v
    if isinstance(v, (bool, np.bool_)):
        raise _bad_key(item)
    if isinstance(v, numbers.Integral):
        return int(v)
    if is_tensor(v):
        dtype = v.dtype
        if dtype.is_integer and dtype.name in ("int32", "int64") and len(v.shape) == 0:
            return int(v)
    raise _bad_key(item)


def _spec(key):
    """TF's sparse slice spec (begin, end, strides, masks) for an indexing key."""
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_mask = 0
    for i, item in enumerate(key):
        bit = 1 << i
        t = type(item)
        if t is int:
            begin.append(item)
            end.append(item + 1)
            strides.append(1)
            shrink_mask |= bit
        elif t is slice:
            start, stop, step = item.start, item.stop, item.step
            s = 1 if step is None else _index(step, item)
            if start is None:
                begin.append(0)
                begin_mask |= bit
            else:
                begin.append(_index(start, item))
            if stop is None:
                end.append(0)
                end_mask |= bit
            else:
                end.append(_index(stop, item))
            strides.append(s)
        elif item is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= bit
        elif item is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= bit
        else:
            v = _index(item, item)
            begin.append(v)
            end.append(v + 1)
            strides.append(1)
            shrink_mask |= bit
    return {"begin": tuple(begin), "end": tuple(end), "strides": tuple(strides),
            "begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
            "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_mask}


def _is_bool_key(key):
    if isinstance(key, (bool, np.bool_)):
        return True
    if isinstance(key, np.ndarray):
        return key.dtype == np.bool_
    return is_tensor(key) and key.dtype.is_bool


def getitem(tensor, key):
    """tensor[key] with TensorFlow's semantics and errors.

    >>> import featherflow as tf
    >>> x = tf.constant([[1, 2, 3], [4, 5, 6]])
    >>> x[1, ::-1].numpy()
    array([6, 5, 4], dtype=int32)
    """
    t = type(key)
    if t is int:  # the common x[i]: skip building the general spec
        return _execute(I.StridedSlice, (tensor,), {"begin": (key,), "end": (key + 1,),
                                                    "strides": (1,), "shrink_axis_mask": 1})
    if t is not tuple and t is not slice and _is_bool_key(key):
        from featherflow._src.api.indexing_ops import boolean_mask  # noqa: PLC0415

        return boolean_mask(tensor, key)
    if t is not tuple:
        key = tuple(key) if isinstance(key, list) else (key,)
    return _execute(I.StridedSlice, (tensor,), _spec(key))
