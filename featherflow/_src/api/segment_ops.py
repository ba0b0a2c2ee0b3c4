"""tf.math.segment_* and unsorted_segment_*: reductions of rows grouped by segment ids."""
from __future__ import annotations

from featherflow._src.api._args import tensor
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import segment as seg

_execute = dispatch.execute


def _num_segments(num_segments, op: str) -> int:
    if is_tensor(num_segments) or not isinstance(num_segments, int):
        t = tensor(num_segments)
        if not t._dtype.is_integer:
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'Tnumsegments' of {t._dtype.name} is not in the "
                f"list of allowed values: int32, int64 [Op:{op}]")
        if t.ndim != 0:
            raise errors.InvalidArgumentError(
                None, None, f"num_segments should be a scalar, not shape "
                f"[{','.join(str(d) for d in t.shape)}] [Op:{op}]")
        num_segments = int(t.numpy())
    return num_segments


def _sorted(op):
    def fn(data, segment_ids, name=None):
        return _execute(op, (tensor(data), tensor(segment_ids)))

    return fn


def _unsorted(op):
    def fn(data, segment_ids, num_segments, name=None):
        n = _num_segments(num_segments, op.name)
        return _execute(op, (tensor(data), tensor(segment_ids)), {"num_segments": n})

    return fn


segment_sum = _sorted(seg.SegmentSum)
segment_sum.__doc__ = """Sums the rows of `data` that share a (sorted) segment id.

    >>> import featherflow as tf
    >>> tf.math.segment_sum(tf.constant([1, 2, 3]), [0, 0, 2]).numpy()
    array([3, 0, 3], dtype=int32)
    """
segment_mean = _sorted(seg.SegmentMean)
segment_mean.__doc__ = "Mean of the rows of `data` per sorted segment id (0 for empty segments)."
segment_max = _sorted(seg.SegmentMax)
segment_max.__doc__ = "Max of the rows of `data` per sorted segment id (0 for empty segments)."
unsorted_segment_sum = _unsorted(seg.UnsortedSegmentSum)
unsorted_segment_sum.__doc__ = """Sums rows of `data` into `num_segments` segments by id, in any
    order; rows with a negative id are dropped.

    >>> import featherflow as tf
    >>> tf.math.unsorted_segment_sum(tf.constant([1, 2, 3]), [1, 0, 1], 2).numpy()
    array([2, 4], dtype=int32)
    """
unsorted_segment_max = _unsorted(seg.UnsortedSegmentMax)
unsorted_segment_max.__doc__ = ("Max of the rows of `data` per segment id, in any order; empty "
                                "segments hold the dtype's lowest value.")


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Mean of the rows of `data` per segment id, in any order (integers divide as truediv).

    >>> import featherflow as tf
    >>> tf.math.unsorted_segment_mean(tf.constant([1.0, 2.0, 4.0]), [1, 0, 1], 2).numpy()
    array([2. , 2.5], dtype=float32)
    """
    import featherflow as tf  # noqa: PLC0415

    data = tensor(data)
    segment_ids = tensor(segment_ids)
    total = unsorted_segment_sum(data, segment_ids, num_segments)
    count = unsorted_segment_sum(tf.ones_like(data), segment_ids, num_segments)
    return total / tf.maximum(count, 1)
