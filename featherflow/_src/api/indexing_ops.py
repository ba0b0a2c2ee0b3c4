"""tf.* indexing ops: slice, strided_slice, gather, gather_nd, boolean_mask, scatter_nd,
tensor_scatter_nd_*, unique, unique_with_counts.

tf.slice and tensor[...] both run the StridedSlice primitive, so one gradient serves them all.
"""
from __future__ import annotations

import collections

from featherflow._src.api._args import tensor as _tensor
from featherflow._src.api.array_ops import _axis_arg, _invalid, reshape, shape_arg
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import indexing as I
from featherflow._src.ops.defs import scatter as S

_execute = dispatch.execute
_GATHER_INDEX = (_dt.int16, _dt.int32, _dt.int64)
_INDEX = (_dt.int32, _dt.int64)

Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def _dims(shape):
    return f"[{','.join(map(str, shape))}]"


def _indices(indices, allowed, attr, op):
    idx = _tensor(indices)
    if idx._dtype not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise _invalid(f"Value for attr '{attr}' of {idx._dtype.name} is not in the list of "
                       f"allowed values: {names}", op)
    return idx


# -- slicing --------------------------------------------------------------------------------
def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """NumPy-style strided slicing with TensorFlow's bit masks.

    >>> import featherflow as tf
    >>> tf.strided_slice(tf.constant([1, 2, 3, 4]), [1], [4], [2]).numpy()
    array([2, 4], dtype=int32)
    """
    x = _tensor(input_)
    begin, end = shape_arg(begin), shape_arg(end)
    strides = (1,) * len(begin) if strides is None else shape_arg(strides)
    attrs = {"begin": begin, "end": end, "strides": strides, "begin_mask": int(begin_mask),
             "end_mask": int(end_mask), "ellipsis_mask": int(ellipsis_mask),
             "new_axis_mask": int(new_axis_mask), "shrink_axis_mask": int(shrink_axis_mask)}
    return _execute(I.StridedSlice, (x,), attrs)


def slice(input_, begin, size, name=None):  # noqa: A001 - TF's name
    """The slice of `input_` starting at `begin` with extent `size` (-1: to the end).

    >>> import featherflow as tf
    >>> tf.slice(tf.constant([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, -1]).numpy().tolist()
    [[2, 3], [5, 6]]
    """
    x = _tensor(input_)
    begin, size = shape_arg(begin), shape_arg(size)
    shape = x._value.shape
    r = len(shape)
    if len(begin) != r or len(size) != r:
        raise _invalid(f"Expected begin and size arguments to be 1-D tensors of size {r}, but "
                       f"got shapes [{len(begin)}] and [{len(size)}] instead.", "Slice")
    end = []
    for i, (b, s, d) in enumerate(zip(begin, size, shape)):
        if s == -1:
            s = d - b
        if not 0 <= b <= d:
            raise _invalid(f"Expected begin[{i}] in [0, {d}], but got {b}", "Slice")
        if not 0 <= s <= d - b:
            raise _invalid(f"Expected size[{i}] in [0, {d - b}], but got {s}", "Slice")
        end.append(b + s)
    attrs = {"begin": begin, "end": tuple(end), "strides": (1,) * r}
    return _execute(I.StridedSlice, (x,), attrs)


# -- gathers --------------------------------------------------------------------------------
def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gathers slices of `params` along `axis` at `indices`.

    >>> import featherflow as tf
    >>> tf.gather(tf.constant([10, 20, 30]), [2, 0]).numpy()
    array([30, 10], dtype=int32)
    """
    p = _tensor(params)
    idx = _indices(indices, _GATHER_INDEX, "Tindices", "GatherV2")
    pr, ir = p.ndim, idx.ndim
    batch_dims = _axis_arg(batch_dims, "batch_dims")
    if batch_dims < 0:
        batch_dims += ir
    axis = batch_dims if axis is None else _axis_arg(axis)
    if axis < 0:
        axis += pr
    if axis >= pr or axis < 0:
        raise _invalid(f"Shape must be at least rank {max(axis, 0) + 1} but is rank {pr}",
                       "GatherV2")
    if not 0 <= batch_dims <= ir:
        raise ValueError(f"batch_dims must be in [{-ir}, {ir}]. Received: batch_dims="
                         f"{batch_dims}")
    if batch_dims > axis:
        raise _invalid(f"batch_dims ({batch_dims}) must be less than or equal to axis "
                       f"({axis}).", "GatherV2")
    for i in range(batch_dims):
        if p._value.shape[i] != idx._value.shape[i]:
            raise _invalid(f"params.shape[{i}]: {p._value.shape[i]} should be equal to "
                           f"indices.shape[{i}]: {idx._value.shape[i]}", "GatherV2")
    return _execute(I.GatherV2, (p, idx), {"axis": axis, "batch_dims": batch_dims})


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of `params` addressed by the index vectors in the last axis of `indices`.

    >>> import featherflow as tf
    >>> tf.gather_nd(tf.constant([[1, 2], [3, 4]]), [[1, 0]]).numpy()
    array([3], dtype=int32)
    """
    p = _tensor(params)
    idx = _indices(indices, _GATHER_INDEX, "Tindices", "GatherNd")
    batch_dims = _axis_arg(batch_dims, "batch_dims")
    if idx.ndim == 0:
        raise _invalid("indices must be at least a vector.", "GatherNd")
    k = idx._value.shape[-1]
    if k > p.ndim - batch_dims:
        raise _invalid(f"index innermost dimension length must be <= params rank; saw: {k} vs. "
                       f"{p.ndim - batch_dims}", "GatherNd")
    if batch_dims < 0 or batch_dims >= idx.ndim:
        raise ValueError(f"batch_dims must be in [0, {idx.ndim - 1}]. Received: "
                         f"batch_dims={batch_dims}")
    return _execute(I.GatherNd, (p, idx), {"batch_dims": batch_dims})


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The elements (or slices along `axis`) of `tensor` where `mask` is True.

    >>> import featherflow as tf
    >>> tf.boolean_mask(tf.constant([1, 2, 3]), [True, False, True]).numpy()
    array([1, 3], dtype=int32)
    """
    x = _tensor(tensor)
    m = _tensor(mask) if is_tensor(mask) else _tensor(mask, dtype=_dt.bool)
    k = m.ndim
    if k == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else _axis_arg(axis)
    shape = x._value.shape
    if axis < 0:
        axis += len(shape)
    part = shape[axis:axis + k]
    if tuple(part) != tuple(m._value.shape):
        raise ValueError(f"Shapes {tuple(part)} and {tuple(m._value.shape)} are incompatible")
    n = 1
    for d in part:
        n *= d
    flat = reshape(x, shape[:axis] + (n,) + shape[axis + k:])
    from featherflow._src.ops.defs import sorting  # noqa: PLC0415 - the math helper's Where

    where = _execute(sorting.Where, (reshape(m, (n,)),))
    return gather(flat, reshape(where, (-1,)), axis=axis)


# -- scatters -------------------------------------------------------------------------------
def _check_updates(idx, updates, shape, op):
    ishape, ushape = idx._value.shape, updates._value.shape
    if not ishape:
        raise _invalid("Indices must be at least a vector.", op)
    outer = ishape[:-1]
    k = ishape[-1]
    if k > len(shape):
        raise _invalid(f"Index innermost dimension length must be <= output rank; saw: {k} vs. "
                       f"{len(shape)}", op)
    if tuple(ushape) != tuple(outer) + tuple(shape[k:]):
        if tuple(ushape[:len(outer)]) != tuple(outer):
            raise _invalid(f"Outer dimensions of indices and update must match. Indices shape: "
                           f"{_dims(ishape)}, updates shape:{_dims(ushape)}", op)
        raise _invalid(f"Inner dimensions of output shape must match inner dimensions of "
                       f"updates shape. Output: {_dims(shape)} updates: {_dims(ushape)}", op)


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of `shape` with `updates` added at `indices` (duplicates are summed).

    >>> import featherflow as tf
    >>> tf.scatter_nd([[1], [1]], [1, 2], [3]).numpy()
    array([0, 3, 0], dtype=int32)
    """
    idx = _indices(indices, _INDEX, "Tindices", "ScatterNd")
    upd = _tensor(updates)
    dims = shape_arg(shape)
    _check_updates(idx, upd, dims, "ScatterNd")
    return _execute(S.ScatterNd, (idx, upd), {"shape": dims})


def _tensor_scatter(op, doc):
    def fn(tensor, indices, updates, name=None):
        t = _tensor(tensor)
        idx = _indices(indices, _INDEX, "Tindices", op.name)
        from featherflow._src.api._args import like  # noqa: PLC0415

        upd = like(updates, t)
        if upd._dtype is not t._dtype:
            raise _invalid(f"cannot compute {op.name} as input #2(zero-based) was expected to "
                           f"be a {t._dtype.name} tensor but is a {upd._dtype.name} tensor",
                           op.name)
        _check_updates(idx, upd, t._value.shape, op.name)
        return _execute(op, (t, idx, upd))

    fn.__doc__ = doc
    return fn


tensor_scatter_nd_update = _tensor_scatter(S.TensorScatterUpdate, """Returns `tensor` with the
    slices at `indices` replaced by `updates`.

    >>> import featherflow as tf
    >>> tf.tensor_scatter_nd_update(tf.zeros([3]), [[1]], [5.0]).numpy()
    array([0., 5., 0.], dtype=float32)
    """)
tensor_scatter_nd_add = _tensor_scatter(S.TensorScatterAdd,
                                        "Returns `tensor` with `updates` added at `indices`.")
tensor_scatter_nd_sub = _tensor_scatter(S.TensorScatterSub,
                                        "Returns `tensor` with `updates` subtracted at `indices`.")
tensor_scatter_nd_min = _tensor_scatter(S.TensorScatterMin,
                                        "Returns `tensor` with min(tensor, updates) at `indices`.")
tensor_scatter_nd_max = _tensor_scatter(S.TensorScatterMax,
                                        "Returns `tensor` with max(tensor, updates) at `indices`.")


# -- unique ---------------------------------------------------------------------------------
def _out_idx(out_idx):
    out_idx = _dt.as_dtype(out_idx)
    if out_idx not in _INDEX:
        raise _invalid(f"Value for attr 'out_idx' of {out_idx.name} is not in the list of "
                       "allowed values: int32, int64", "Unique")
    return out_idx


def unique(x, out_idx=_dt.int32, name=None):
    """The unique values of a 1-D tensor in order of first occurrence, and each element's index
    into them.

    >>> import featherflow as tf
    >>> y, idx = tf.unique([3, 1, 3])
    >>> y.numpy(), idx.numpy()
    (array([3, 1], dtype=int32), array([0, 1, 0], dtype=int32))
    """
    t = _tensor(x)
    if t.ndim != 1:
        raise _invalid("unique expects a 1D vector.", "Unique")
    return Unique(*_execute(I.Unique, (t,), {"out_idx": _out_idx(out_idx)._np}))


def unique_with_counts(x, out_idx=_dt.int32, name=None):
    """Like tf.unique, plus how often each unique value occurs.

    >>> import featherflow as tf
    >>> tf.unique_with_counts([3, 1, 3]).count.numpy()
    array([2, 1], dtype=int32)
    """
    t = _tensor(x)
    if t.ndim != 1:
        raise _invalid("unique expects a 1D vector.", "UniqueWithCounts")
    return UniqueWithCounts(*_execute(I.UniqueWithCounts, (t,),
                                      {"out_idx": _out_idx(out_idx)._np}))
