"""Segment reductions (SegmentSum/Mean/Max, UnsortedSegmentSum/Max) and their gradients.

`GatherDropNegatives` (rows of a tensor picked by ids, zero rows for negative ids) is the adjoint
of UnsortedSegmentSum; each one's gradient is the other, so gradients of any order work.
Segment ids are validated in the kernels with TensorFlow's run-time messages.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.registry import NUMBERS, REAL, primitive, register_gradient
from featherflow._src.framework.public import tf as _tf

_ID_DTYPES = (_dt.int32, _dt.int64)


def _check_ids(op_name):
    def check(inputs, attrs):
        d = inputs[1]._dtype
        if d not in _ID_DTYPES:
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'Tindices' of {d.name} is not in the list of "
                f"allowed values: int32, int64 [Op:{op_name}]")

    return check


def _lowest(np_dtype):
    return _dt.from_numpy(np_dtype).min


def _dims(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def _sorted_ids(xp, data, ids):
    """Validates sorted segment ids against TF's rules; returns (ids as ndarray, rows)."""
    data, ids = xp.asarray(data), xp.asarray(ids)
    if data.ndim < 1:
        raise ValueError("input must be at least rank 1")
    if ids.ndim != 1:
        raise ValueError("segment_ids should be a vector.")
    if ids.shape[0] != data.shape[0]:
        raise ValueError("segment_ids should be the same size as dimension 0 of input.")
    if ids.size == 0:
        return data, ids, 0
    if bool(xp.any(ids[1:] < ids[:-1])):
        raise ValueError("segment ids are not increasing")
    rows = int(ids[-1]) + 1
    first = int(ids[0])
    if first < 0:
        raise ValueError(f"Segment id {first} out of range [0, {rows}), possibly because "
                         "'segment_ids' input is not sorted.")
    return data, ids, rows


def _unsorted_ids(xp, data, ids, num_segments):
    data, ids = xp.asarray(data), xp.asarray(ids)
    if num_segments < 0:
        raise ValueError(f"Input num_segments == {num_segments} must not be negative.")
    if data.shape[:ids.ndim] != ids.shape:
        raise ValueError(f"data.shape = {_dims(data.shape)} does not start with "
                         f"segment_ids.shape = {_dims(ids.shape)}")
    flat = ids.reshape(-1)
    bad = flat >= num_segments
    if flat.size and bool(xp.any(bad)):
        i = int(xp.argmax(bad))
        raise ValueError(f"segment_ids[{i}] = {int(flat[i])} is out of range [0, "
                         f"{num_segments})")
    rows = data.reshape((flat.size,) + data.shape[ids.ndim:])
    keep = flat >= 0
    if not bool(xp.all(keep)):
        rows, flat = rows[keep], flat[keep]
    return rows, flat, data.shape[ids.ndim:]


def _scatter(xp, ufunc_at, init, rows, ids, n, tail):
    out = xp.full((n,) + tuple(tail), init, dtype=rows.dtype)
    ufunc_at(out, ids.astype(xp.intp), rows)
    return out


# -- sorted segments ----------------------------------------------------------------------------
@primitive("SegmentSum", dtypes=NUMBERS, same_dtype=1, check=_check_ids("SegmentSum"),
           out_dtype="same")
def SegmentSum(xp, data, segment_ids):
    data, ids, n = _sorted_ids(xp, data, segment_ids)
    return _scatter(xp, xp.add.at, 0, data, ids, n, data.shape[1:])


@register_gradient("SegmentSum")
def _segment_sum_grad(op, grad):
    return [gather_drop_negatives(grad, op.inputs[1]), None]


@primitive("SegmentMean", dtypes=NUMBERS, same_dtype=1, check=_check_ids("SegmentMean"),
           out_dtype="same")
def SegmentMean(xp, data, segment_ids):
    data, ids, n = _sorted_ids(xp, data, segment_ids)
    total = _scatter(xp, xp.add.at, 0, data, ids, n, data.shape[1:])
    count = xp.bincount(ids.astype(xp.intp), minlength=n).reshape((n,) + (1,) * (data.ndim - 1))
    count = xp.maximum(count, 1)
    if data.dtype.kind in "iu":
        # C++ integer division truncates toward zero.
        q = xp.abs(total) // count.astype(total.dtype)
        return xp.where(total < 0, -q, q).astype(data.dtype)
    return (total / count.astype(total.dtype)).astype(data.dtype)


@register_gradient("SegmentMean")
def _segment_mean_grad(op, grad):
    tf = _tf()
    data, ids = op.inputs
    # Counts at full row shape, so no reshape is needed to divide by them.
    count = tf.math.segment_sum(tf.ones_like(data), ids)
    return [gather_drop_negatives(grad / tf.maximum(count, 1.0), ids), None]


@primitive("SegmentMax", dtypes=REAL, same_dtype=1, check=_check_ids("SegmentMax"),
           out_dtype="same")
def SegmentMax(xp, data, segment_ids):
    data, ids, n = _sorted_ids(xp, data, segment_ids)
    out = _scatter(xp, xp.maximum.at, _lowest(data.dtype), data, ids, n, data.shape[1:])
    # Sorted segment ops give 0 for an empty segment (unsorted ones give the lowest value).
    empty = xp.bincount(ids.astype(xp.intp), minlength=n) == 0
    if bool(xp.any(empty)):
        out[empty] = 0
    return out


@register_gradient("SegmentMax")
def _segment_max_grad(op, grad):
    data, ids = op.inputs
    return [_max_grad(data, ids, op.outputs[0], grad, op.outputs[0].shape[0]), None]


# -- unsorted segments --------------------------------------------------------------------------
@primitive("UnsortedSegmentSum", dtypes=NUMBERS, same_dtype=1,
           check=_check_ids("UnsortedSegmentSum"), out_dtype="same")
def UnsortedSegmentSum(xp, data, segment_ids, num_segments=0):
    """Sums rows into `num_segments` segments; negative ids are dropped, as TF does."""
    rows, ids, tail = _unsorted_ids(xp, data, segment_ids, num_segments)
    return _scatter(xp, xp.add.at, 0, rows, ids, num_segments, tail)


@register_gradient("UnsortedSegmentSum")
def _unsorted_segment_sum_grad(op, grad):
    return [gather_drop_negatives(grad, op.inputs[1]), None]


@primitive("UnsortedSegmentMax", dtypes=REAL, same_dtype=1,
           check=_check_ids("UnsortedSegmentMax"), out_dtype="same")
def UnsortedSegmentMax(xp, data, segment_ids, num_segments=0):
    rows, ids, tail = _unsorted_ids(xp, data, segment_ids, num_segments)
    return _scatter(xp, xp.maximum.at, _lowest(rows.dtype), rows, ids, num_segments, tail)


@register_gradient("UnsortedSegmentMax")
def _unsorted_segment_max_grad(op, grad):
    data, ids = op.inputs
    n = op.attrs.get("num_segments", 0)
    return [_max_grad(data, ids, op.outputs[0], grad, n), None]


def _max_grad(data, ids, out, grad, num_segments):
    """The gradient flows to the entries equal to their segment's max, split evenly on ties."""
    tf = _tf()
    selected = tf.cast(tf.equal(data, gather_drop_negatives(out, ids)), grad.dtype)
    count = tf.math.unsorted_segment_sum(selected, ids, num_segments)
    share = grad / tf.maximum(count, 1.0)
    return selected * gather_drop_negatives(share, ids)


# -- GatherDropNegatives: the adjoint of UnsortedSegmentSum ---------------------------------------
@primitive("GatherDropNegatives", dtypes=NUMBERS, same_dtype=1,
           check=_check_ids("GatherDropNegatives"), out_dtype="same")
def GatherDropNegatives(xp, params, ids):
    """params[ids] with zero rows where an id is negative (TF's `_GatherDropNegatives`).

    NOTE: not a TensorFlow raw op; segment gradients use it so that they stay differentiable.
    """
    params, ids = xp.asarray(params), xp.asarray(ids)
    safe = xp.maximum(ids, 0).astype(xp.intp)
    out = params[safe]
    neg = ids < 0
    if bool(xp.any(neg)):
        out[neg] = 0
    return out


@register_gradient("GatherDropNegatives")
def _gather_drop_negatives_grad(op, grad):
    params, ids = op.inputs
    return [_tf().math.unsorted_segment_sum(grad, ids, params.shape[0]), None]


def gather_drop_negatives(params, ids):
    """Public-op form of GatherDropNegatives (runs through dispatch, so tapes record it)."""
    from featherflow._src.ops import dispatch  # noqa: PLC0415

    return dispatch.execute(GatherDropNegatives, (params, ids))
