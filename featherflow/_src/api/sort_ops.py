"""tf.sort, tf.argsort, tf.math.top_k and tf.where."""
from __future__ import annotations

import collections

import numpy as np

from featherflow._src.api._args import pair, tensor
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import sorting as _s

_execute = dispatch.execute
TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _int(value, what):
    if is_tensor(value) or isinstance(value, np.ndarray):
        value = tensor(value).numpy()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{what}` must be an integer. Received: {what}={value!r}")
    return int(value)


def top_k(input, k=1, sorted=True, index_type=_dt.int32, name=None):  # noqa: A002
    """The `k` largest entries along the last axis and their indices (ties: lower index first).

    >>> import featherflow as tf
    >>> tf.math.top_k(tf.constant([1, 3, 3, 2]), k=2).indices.numpy()
    array([1, 2], dtype=int32)
    """
    x = tensor(input)
    k = _int(k, "k")
    index_type = _dt.as_dtype(index_type)
    if index_type not in (_dt.int16, _dt.int32, _dt.int64):
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'index_type' of {index_type.name} is not in the list of "
            "allowed values: int16, int32, int64 [Op:TopKV2]")
    shape = x._value.shape
    if k < 0:
        raise errors.InvalidArgumentError(None, None, f"Need k >= 0, got {k} [Op:TopKV2]")
    if not shape:
        raise errors.InvalidArgumentError(
            None, None, "input must be >= 1-D, got shape [] [Op:TopKV2]")
    if shape[-1] < k:
        raise errors.InvalidArgumentError(
            None, None, f"input must have at least k columns. Had {shape[-1]}, needed {k} "
            "[Op:TopKV2]")
    values, indices = _execute(_s.TopKV2, (x,), {"k": k, "sorted": bool(sorted),
                                                 "index_type": index_type._np})
    return TopKV2(values, indices)


def _sorted(values, axis, direction):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError("Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    x = tensor(values)
    axis = _int(axis, "axis")
    ndim = len(x._value.shape)
    if not -ndim <= axis < ndim:
        raise errors.InvalidArgumentError(
            None, None, f"slice index {axis} of dimension 0 out of bounds. [Op:StridedSlice]")
    return _execute(_s.Sort, (x,), {"axis": axis % ndim,
                                    "descending": direction == "DESCENDING"})


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis` (stable).

    >>> import featherflow as tf
    >>> tf.sort(tf.constant([3, 1, 2]), direction="DESCENDING").numpy()
    array([3, 2, 1], dtype=int32)
    """
    return _sorted(values, axis, direction)[0]


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """int32 indices that sort `values` along `axis`; always stable (ties: lower index first).

    >>> import featherflow as tf
    >>> tf.argsort(tf.constant([3, 1, 2])).numpy()
    array([1, 2, 0], dtype=int32)
    """
    return _sorted(values, axis, direction)[1]


def _dims(shape):
    return "[" + ",".join(str(n) for n in shape) + "]"


def where(condition, x=None, y=None, name=None):
    """With one argument: the int64 coordinates of the true (non-zero) entries, shape
    [num_true, rank]. With three: elementwise select, broadcasting all three.

    >>> import featherflow as tf
    >>> tf.where(tf.constant([True, False, True])).numpy().tolist()
    [[0], [2]]
    >>> tf.where(tf.constant([True, False]), 1.0, 0.0).numpy()
    array([1., 0.], dtype=float32)
    """
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    if x is None:
        return _execute(_s.Where, (tensor(condition),))
    c = tensor(condition)
    if c._dtype is not _dt.bool:
        raise ValueError(f"Tensor conversion requested dtype bool for Tensor with dtype "
                         f"{c._dtype.name}: {c!r}")
    x, y = pair(x, y)
    cs, xs, ys = c._value.shape, x._value.shape, y._value.shape
    if not (cs == xs == ys):
        try:
            np.broadcast_shapes(cs, xs, ys)
        except ValueError:
            raise errors.InvalidArgumentError(
                None, None, f"condition {_dims(cs)}, then {_dims(xs)}, and else {_dims(ys)} must "
                "be broadcastable [Op:SelectV2]") from None
    return _execute(_s.SelectV2, (c, x, y))

