"""tf.math reductions: reduce_sum, reduce_mean, reduce_max, ... with TensorFlow's axis rules."""
from __future__ import annotations

import numpy as np

from featherflow._src.api._args import tensor
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import reduction as red

_execute = dispatch.execute
_ET = EagerTensor
# tuple(range(n)) for the common ranks, so axis=None costs a lookup.
_ALL = [tuple(range(n)) for n in range(9)]


def _bad_axis(a, ndim, op_name):
    return errors.InvalidArgumentError(
        None, None, f"Invalid reduction dimension ({a} for input with {ndim} dimension(s) "
        f"[Op:{op_name}]")


def normalize_axes(x: EagerTensor, axis, op_name: str) -> tuple:
    """`axis` (None, int, list, NumPy array or integer tensor) as a sorted tuple of
    non-negative axes of `x`; TensorFlow's InvalidArgumentError for out-of-range or duplicate
    axes and TypeError for non-integers."""
    ndim = len(x._value.shape)
    if axis is None:
        return _ALL[ndim] if ndim < 9 else tuple(range(ndim))
    if type(axis) is int:
        if -ndim <= axis < ndim:
            return (axis % ndim,)
        raise _bad_axis(axis, ndim, op_name)
    if is_tensor(axis):
        t = tensor(axis)
        if not t._dtype.is_integer:
            raise TypeError(f"Value for attr 'Tidx' of {t._dtype.name} is not in the list of "
                            f"allowed values: int32, int64. Received: axis={axis!r}")
        axis = t.numpy()
    values = np.asarray(axis)
    if values.dtype.kind not in "iu":
        if values.size == 0:
            values = values.astype(np.int64)
        else:
            raise TypeError(f"Cannot convert {axis!r} to EagerTensor of dtype int32. "
                            "`axis` must be integers.")
    if values.ndim > 1:
        raise errors.InvalidArgumentError(
            None, None, f"axis must be a scalar or a vector, got shape {list(values.shape)} "
            f"[Op:{op_name}]")
    out = []
    for a in values.reshape(-1).tolist():
        if not -ndim <= a < ndim:
            raise _bad_axis(a, ndim, op_name)
        a %= ndim
        if a in out:
            raise errors.InvalidArgumentError(
                None, None, f"Invalid reduction arguments: Axes contains duplicate dimension: "
                f"{a} [Op:{op_name}]")
        out.append(a)
    return tuple(sorted(out))


def _reducer(op, tf_name, doc):
    def fn(input_tensor, axis=None, keepdims=False, name=None):
        x = input_tensor if type(input_tensor) is _ET else tensor(input_tensor)
        return _execute(op, (x,), {"axis": normalize_axes(x, axis, op.name),
                                   "keep_dims": bool(keepdims)})

    fn.__name__ = fn.__qualname__ = tf_name
    fn.__doc__ = doc
    return fn


reduce_sum = _reducer(red.Sum, "reduce_sum", """Sums `input_tensor` over `axis` (all axes by
    default), keeping the input's dtype.

    >>> import featherflow as tf
    >>> tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=0).numpy()
    array([4, 6], dtype=int32)
    """)
reduce_mean = _reducer(red.Mean, "reduce_mean", """The mean over `axis`; integer inputs give
    the integer mean (truncated toward zero), as in TensorFlow.

    >>> import featherflow as tf
    >>> tf.reduce_mean(tf.constant([1, 2])).numpy()
    np.int32(1)
    """)
reduce_max = _reducer(red.Max, "reduce_max", """The maximum over `axis` (-inf when empty).

    >>> import featherflow as tf
    >>> tf.reduce_max(tf.constant([1.0, 3.0, 2.0])).numpy()
    np.float32(3.0)
    """)
reduce_min = _reducer(red.Min, "reduce_min", """The minimum over `axis` (+inf when empty).

    >>> import featherflow as tf
    >>> tf.reduce_min(tf.constant([1.0, 3.0, 2.0])).numpy()
    np.float32(1.0)
    """)
reduce_prod = _reducer(red.Prod, "reduce_prod", """The product over `axis` (1 when empty).

    >>> import featherflow as tf
    >>> tf.reduce_prod(tf.constant([2, 3])).numpy()
    np.int32(6)
    """)
reduce_all = _reducer(red.All, "reduce_all", """Logical AND over `axis` of a bool tensor.

    >>> import featherflow as tf
    >>> tf.reduce_all(tf.constant([True, False])).numpy()
    np.False_
    """)
reduce_any = _reducer(red.Any, "reduce_any", """Logical OR over `axis` of a bool tensor.

    >>> import featherflow as tf
    >>> tf.reduce_any(tf.constant([True, False])).numpy()
    np.True_
    """)


# -- composite reductions ------------------------------------------------------------------------
def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) over `axis`, computed stably by shifting by the maximum.

    >>> import featherflow as tf
    >>> round(float(tf.reduce_logsumexp(tf.constant([1000.0, 1000.0]))), 3)
    1000.693
    """
    from featherflow._src.api import math_ops as m  # noqa: PLC0415
    from featherflow._src.api.sort_ops import where  # noqa: PLC0415

    x = tensor(input_tensor)
    if not x._dtype.is_floating:
        # TF fails in its IsFinite step for non-float input.
        m.is_finite(x)
    axes = normalize_axes(x, axis, "Max")
    # The shift cancels in value and in gradient (d/dm of the sum is -1, of the +m is +1), so
    # no stop_gradient is needed; non-finite maxima (all -inf, inf) shift by 0 instead.
    keep = _execute(red.Max, (x,), {"axis": axes, "keep_dims": True})
    keep = where(m.is_finite(keep), keep, m.cast(0, x._dtype))
    total = _execute(red.Sum, (m.exp(m.subtract(x, keep)),), {"axis": axes,
                                                             "keep_dims": bool(keepdims)})
    shift = keep if keepdims else _execute(red.Max, (keep,), {"axis": axes, "keep_dims": False})
    return m.add(m.log(total), shift)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """The variance over `axis`; complex input gives a real result.

    >>> import featherflow as tf
    >>> tf.math.reduce_variance(tf.constant([1.0, 2.0, 3.0, 4.0])).numpy()
    np.float32(1.25)
    """
    from featherflow._src.api import math_ops as m  # noqa: PLC0415

    x = tensor(input_tensor)
    if x._dtype.is_integer:
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"{x._dtype!r}.")
    axes = normalize_axes(x, axis, "Mean")
    mean = _execute(red.Mean, (x,), {"axis": axes, "keep_dims": True})
    diff = m.subtract(x, mean)
    sq = m.real(m.multiply(diff, m.conj(diff))) if x._dtype.is_complex else m.square(diff)
    return _execute(red.Mean, (sq,), {"axis": axes, "keep_dims": bool(keepdims)})


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """The standard deviation over `axis` (sqrt of reduce_variance).

    >>> import featherflow as tf
    >>> tf.math.reduce_std(tf.constant([1.0, 3.0])).numpy()
    np.float32(1.0)
    """
    from featherflow._src.api import math_ops as m  # noqa: PLC0415

    return m.sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(|x|**2)) over `axis`; keeps the input dtype (integers truncate).

    >>> import featherflow as tf
    >>> tf.math.reduce_euclidean_norm(tf.constant([3, 4])).numpy()
    np.int32(5)
    """
    x = tensor(input_tensor)
    return _execute(red.EuclideanNorm, (x,), {"axis": normalize_axes(x, axis, "EuclideanNorm"),
                                             "keep_dims": bool(keepdims)})


def count_nonzero(input, axis=None, keepdims=None, dtype=None, name=None,  # noqa: A002
                  reduction_indices=None, keep_dims=None):
    """The number of non-zero (non-empty for strings, True for bools) elements over `axis`.

    >>> import featherflow as tf
    >>> tf.math.count_nonzero(tf.constant([0, 1, 2])).numpy()
    np.int64(2)
    """
    from featherflow._src.api import math_ops as m  # noqa: PLC0415
    from featherflow._src.framework import dtypes as _dt  # noqa: PLC0415

    if axis is None:
        axis = reduction_indices
    if keepdims is None:
        keepdims = bool(keep_dims)
    dtype = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    x = tensor(input)
    zero = "" if x._dtype is _dt.string else (False if x._dtype.is_bool else 0)
    nonzero = m.cast(m.not_equal(x, zero), _dt.int64)
    axes = normalize_axes(x, axis, "Sum")
    return m.cast(_execute(red.Sum, (nonzero,), {"axis": axes, "keep_dims": bool(keepdims)}),
                  dtype)


# -- arg-reductions ------------------------------------------------------------------------------
_INDEX_TYPES = ("int16", "uint16", "int32", "int64")


def _arg_reduce(op, x, axis, output_type):
    from featherflow._src.framework import dtypes as _dt  # noqa: PLC0415

    x = tensor(x)
    out = _dt.as_dtype(output_type)
    if out.name not in _INDEX_TYPES:
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'output_type' of {out.name} is not in the list of "
            f"allowed values: {', '.join(_INDEX_TYPES)} [Op:{op.name}]")
    if axis is None:
        axis = 0
    elif is_tensor(axis) or isinstance(axis, np.ndarray):
        axis = int(tensor(axis).numpy())
    elif not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    ndim = len(x._value.shape)
    if not -ndim <= axis < ndim:
        raise errors.InvalidArgumentError(
            None, None, f"Expected dimension in the range [{-ndim}, {ndim}), but got {axis} "
            f"[Op:{op.name}]")
    return _execute(op, (x,), {"axis": int(axis) % ndim, "output_type": out._np})


def argmax(input, axis=None, output_type="int64", name=None):  # noqa: A002
    """Index of the largest value along `axis` (0 when None), lowest index on ties.

    >>> import featherflow as tf
    >>> tf.argmax(tf.constant([[1, 5], [7, 2]]), axis=1).numpy()
    array([1, 0])
    """
    return _arg_reduce(red.ArgMax, input, axis, output_type)


def argmin(input, axis=None, output_type="int64", name=None):  # noqa: A002
    """Index of the smallest value along `axis` (0 when None), lowest index on ties.

    >>> import featherflow as tf
    >>> tf.argmin(tf.constant([3, 1, 2])).numpy()
    np.int64(1)
    """
    return _arg_reduce(red.ArgMin, input, axis, output_type)


# -- scans -----------------------------------------------------------------------------------------
def _scan(op, x, axis, exclusive, reverse):
    x = tensor(x)
    if is_tensor(axis) or isinstance(axis, np.ndarray):
        axis = int(tensor(axis).numpy())
    elif not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
    ndim = len(x._value.shape)
    if not -ndim <= axis < ndim:
        raise errors.InvalidArgumentError(
            None, None, f"ScanOp: Expected scan axis in the range [{-ndim}, {ndim}), but got "
            f"{axis} [Op:{op.name}]")
    return _execute(op, (x,), {"axis": int(axis) % ndim, "exclusive": bool(exclusive),
                               "reverse": bool(reverse)})


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along `axis`; `exclusive` starts at 0, `reverse` sums from the end.

    >>> import featherflow as tf
    >>> tf.cumsum(tf.constant([1, 2, 3]), exclusive=True).numpy()
    array([0, 1, 3], dtype=int32)
    """
    return _scan(red.Cumsum, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along `axis`; `exclusive` starts at 1, `reverse` from the end.

    >>> import featherflow as tf
    >>> tf.math.cumprod(tf.constant([1, 2, 3]), reverse=True).numpy()
    array([6, 6, 3], dtype=int32)
    """
    return _scan(red.Cumprod, x, axis, exclusive, reverse)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips `t` to [clip_value_min, clip_value_max], computed as max(min(t, max), min) like
    TensorFlow (so min > max gives min everywhere).

    >>> import featherflow as tf
    >>> tf.clip_by_value(tf.constant([1, 5, 9]), 2, 6).numpy()
    array([2, 5, 6], dtype=int32)
    """
    from featherflow._src.api import math_ops as m  # noqa: PLC0415

    if getattr(t, "_is_indexed_slices", False):
        return type(t)(clip_by_value(t.values, clip_value_min, clip_value_max), t.indices,
                       t.dense_shape)
    t = tensor(t)
    out = m.maximum(m.minimum(t, clip_value_max), clip_value_min)
    if out._value.shape != t._value.shape:
        raise ValueError(f"Shapes {out.shape} and {t.shape} are incompatible: the clip values "
                         f"must broadcast to the shape of `t`. Received: t.shape={t.shape}")
    return out
