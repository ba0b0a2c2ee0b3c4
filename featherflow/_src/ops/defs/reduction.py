"""Reduction primitives: Sum, Mean, Max, Min, Prod, All, Any.

Every kernel takes `axis` (a tuple of non-negative axes, already checked by the public function)
and `keep_dims`. Outputs keep the input's dtype, as TensorFlow's reductions do; 0-d results are
NumPy scalars.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import NUMBERS, REAL, primitive

BOOL = (_dt.bool,)
# NOTE: float16/bfloat16 accumulate in float32 (as TF's kernels do); summing in the half type
# loses whole digits after a few thousand elements.
_HALF = (np.dtype(np.float16), _dt.bfloat16._np)


def _scalar(out):
    """A 0-d result as a NumPy scalar (how 0-d values are held)."""
    return out[()] if type(out) is np.ndarray and out.ndim == 0 else out


def _acc(x):
    return np.float32 if x.dtype in _HALF else x.dtype


def _sum(xp, x, axis=(), keep_dims=False):
    out = xp.sum(x, axis=axis, dtype=_acc(x), keepdims=keep_dims)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    return _scalar(out)


def _prod(xp, x, axis=(), keep_dims=False):
    out = xp.prod(x, axis=axis, dtype=_acc(x), keepdims=keep_dims)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    return _scalar(out)


def _mean(xp, x, axis=(), keep_dims=False):
    kind = x.dtype.kind
    if kind in "fc":
        out = xp.mean(x, axis=axis, dtype=_acc(x), keepdims=keep_dims)
        return _scalar(out if out.dtype == x.dtype else out.astype(x.dtype))
    # Integer mean: the sum divided by the count, truncated toward zero (C's division, as TF);
    # summed in 64 bits so that narrow types do not wrap. An empty mean is 0, as in TF.
    count = 1
    shape = xp.shape(x)
    for a in axis:
        count *= shape[a]
    total = xp.sum(x, axis=axis, dtype=np.int64 if kind == "i" else np.uint64,
                   keepdims=keep_dims)
    if count == 0:
        return _scalar(xp.zeros_like(total).astype(x.dtype))
    if kind == "i":
        q = xp.abs(total) // count
        total = xp.where(total < 0, -q, q)
    else:
        total = total // np.uint64(count)
    return _scalar(xp.asarray(total).astype(x.dtype))


def _reduced_shape(shape, axis, keep_dims):
    if keep_dims:
        return tuple(1 if i in axis else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axis)


def _extreme(fn, identity):
    def kernel(xp, x, axis=(), keep_dims=False):
        if xp.size(x) == 0:
            # TF's identity for an empty reduction: -inf/+inf for floats, the type's min/max
            # for integers (NumPy raises instead).
            shape = _reduced_shape(xp.shape(x), axis, keep_dims)
            return _scalar(xp.full(shape, identity(x.dtype), dtype=x.dtype))
        return _scalar(fn(xp)(x, axis=axis, keepdims=keep_dims))

    return kernel


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if dtype.kind == "f" else np.iinfo(dtype).max


def _all(xp, x, axis=(), keep_dims=False):
    return _scalar(xp.all(x, axis=axis, keepdims=keep_dims))


def _any(xp, x, axis=(), keep_dims=False):
    return _scalar(xp.any(x, axis=axis, keepdims=keep_dims))


Sum = primitive("Sum", dtypes=NUMBERS, out_dtype="same")(_sum)
Prod = primitive("Prod", dtypes=NUMBERS, out_dtype="same")(_prod)
Mean = primitive("Mean", dtypes=NUMBERS, out_dtype="same")(_mean)
Max = primitive("Max", dtypes=REAL, out_dtype="same")(_extreme(lambda xp: xp.max, _lowest))
Min = primitive("Min", dtypes=REAL, out_dtype="same")(_extreme(lambda xp: xp.min, _highest))
All = primitive("All", dtypes=BOOL, differentiable=False, out_dtype=_dt.bool)(_all)
Any = primitive("Any", dtypes=BOOL, differentiable=False, out_dtype=_dt.bool)(_any)
