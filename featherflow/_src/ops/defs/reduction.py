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
    # The array method, not xp.sum: the same reduction without NumPy's Python-level wrapper
    # (a few microseconds per call, more than the sum of a small gradient).
    out = x.sum(axis=axis, dtype=_acc(x), keepdims=keep_dims)
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
    if kind not in "iu":  # bfloat16 has kind "V"
        if xp.size(x) == 0:
            # NaN (0/0) as TF, without NumPy's "Mean of empty slice" warning.
            shape = _reduced_shape(xp.shape(x), axis, keep_dims)
            return _scalar(xp.full(shape, np.nan, dtype=x.dtype))
        # The sum divided by the count: what xp.mean computes (the division of the sum by an
        # integer count, rounded once to the accumulator type), without its Python-level
        # wrapper, which costs ~10 us (more than a small mean). Bit-identical for real types.
        shape = x.shape
        count = 1
        for a in axis:
            count *= shape[a]
        if kind == "c":  # complex: xp.mean's own rounding (it divides in complex128)
            out = xp.mean(x, axis=axis, dtype=_acc(x), keepdims=keep_dims)
        else:
            out = x.sum(axis=axis, dtype=_acc(x), keepdims=keep_dims) / count
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
    return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf


def _highest(dtype):
    return np.iinfo(dtype).max if dtype.kind in "iu" else np.inf


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


# ---------------------------------------------------------------------------------------------
# Norms, arg-reductions and scans
# ---------------------------------------------------------------------------------------------
def _euclidean_norm(xp, x, axis=(), keep_dims=False):
    kind = x.dtype.kind
    if kind == "c":
        sq = xp.sum(xp.real(x * xp.conj(x)), axis=axis, keepdims=keep_dims)
    else:
        # Integers and half floats square and sum in float64/float32, so that the squares do
        # not wrap; the root is then cast back (truncating for integers, as TF's int kernel).
        wide = np.float32 if x.dtype in _HALF else np.float64
        sq = xp.sum(xp.square(xp.asarray(x, dtype=wide)), axis=axis, keepdims=keep_dims)
    return _scalar(xp.asarray(xp.sqrt(sq)).astype(x.dtype))


EuclideanNorm = primitive("EuclideanNorm", dtypes=NUMBERS, out_dtype="same")(_euclidean_norm)


def _arg(fn, fill):
    def kernel(xp, x, axis=0, output_type=np.int64):
        if xp.shape(x)[axis] == 0:
            raise ValueError(f"Reduction axis {axis} is empty in shape "
                             f"[{','.join(str(n) for n in xp.shape(x))}]")
        if x.dtype.kind not in "iub" and bool(xp.isnan(x).any()):
            # TF's comparisons skip NaN (the first non-NaN extreme wins); NumPy picks the NaN.
            x = xp.where(xp.isnan(x), fill, x)
        return _scalar(xp.asarray(fn(xp)(x, axis=axis)).astype(output_type))

    return kernel


_ARG_TYPES = REAL + BOOL
ArgMax = primitive("ArgMax", dtypes=_ARG_TYPES, differentiable=False)(
    _arg(lambda xp: xp.argmax, -np.inf))
ArgMin = primitive("ArgMin", dtypes=_ARG_TYPES, differentiable=False)(
    _arg(lambda xp: xp.argmin, np.inf))


def _scan(fn, identity):
    def kernel(xp, x, axis=0, exclusive=False, reverse=False):
        x = xp.asarray(x)
        if reverse:
            x = xp.flip(x, axis)
        out = fn(xp)(x, axis=axis, dtype=_acc(x))
        if exclusive and x.shape[axis]:
            out = xp.roll(out, 1, axis=axis)
            first = [slice(None)] * x.ndim
            first[axis] = 0
            out[tuple(first)] = identity
        if reverse:
            out = xp.flip(out, axis)
        # A fresh, contiguous array of the input's dtype (flip returns a view).
        return xp.ascontiguousarray(out, dtype=x.dtype)

    return kernel


Cumsum = primitive("Cumsum", dtypes=NUMBERS, out_dtype="same")(_scan(lambda xp: xp.cumsum, 0))
Cumprod = primitive("Cumprod", dtypes=NUMBERS, out_dtype="same")(
    _scan(lambda xp: xp.cumprod, 1))
