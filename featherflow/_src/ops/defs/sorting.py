"""Sorting and selection primitives: TopKV2, Sort, Where (coordinates) and SelectV2.

Ties keep the lower index first everywhere (TensorFlow's stable order for top_k).
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.registry import NUMBERS, REAL, primitive


def _desc_order(xp, x, axis):
    """Indices that sort `x` descending along `axis`, ties lower index first."""
    n = x.shape[axis]
    # A stable ascending sort of the reversed array, read backwards, is a stable descending sort.
    idx = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(idx, axis)


def _top_k(xp, x, k=1, sorted=True, index_type=np.int32):  # noqa: A002 - TF's attr name
    x = xp.asarray(x)
    idx = _desc_order(xp, x, -1)[..., :k]
    values = xp.take_along_axis(x, idx, axis=-1)
    return values, xp.ascontiguousarray(idx, dtype=index_type)


TopKV2 = primitive("TopKV2", dtypes=REAL, num_outputs=2)(_top_k)


def _sort(xp, x, axis=-1, descending=False):
    """(values, int32 indices) of a stable sort along `axis`."""
    x = xp.asarray(x)
    idx = _desc_order(xp, x, axis) if descending else xp.argsort(x, axis=axis, kind="stable")
    values = xp.take_along_axis(x, idx, axis=axis)
    return values, xp.ascontiguousarray(idx, dtype=np.int32)


# NOTE: TensorFlow has no Sort kernel (tf.sort transposes and calls TopKV2 on negated values);
# one primitive for both directions keeps unsigned types and the axis argument simple.
Sort = primitive("Sort", dtypes=REAL, num_outputs=2)(_sort)


def _where(xp, condition):
    return xp.argwhere(condition).astype(np.int64, copy=False)


# Integer coordinates: nothing to differentiate (TensorFlow declares Where non-differentiable).
Where = primitive("Where", dtypes=NUMBERS + (_dt.bool,), differentiable=False,
                  out_dtype=_dt.int64)(_where)


def _check_select(inputs, attrs):
    c, x, y = inputs
    if c._dtype is not _dt.bool:
        raise errors.InvalidArgumentError(
            None, None, f"cannot compute SelectV2 as input #0(zero-based) was expected to be a "
            f"bool tensor but is a {c._dtype.name} tensor [Op:SelectV2]")
    if y._dtype is not x._dtype:
        raise errors.InvalidArgumentError(
            None, None, f"cannot compute SelectV2 as input #2(zero-based) was expected to be a "
            f"{x._dtype.name} tensor but is a {y._dtype.name} tensor [Op:SelectV2]")


def _select(xp, condition, x, y):
    out = xp.where(condition, x, y)
    return out[()] if type(out) is np.ndarray and out.ndim == 0 else out


SelectV2 = primitive("SelectV2", dtypes=None, same_dtype=0, check=_check_select)(_select)
