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
