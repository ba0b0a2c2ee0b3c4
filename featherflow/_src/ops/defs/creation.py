"""Creation primitives: Fill, Zeros, Ones, ZerosLike, OnesLike, Eye, Range, LinSpace, OneHot.

Ops without tensor inputs (Zeros, Ones, Eye, Range) carry a `dtype` attr: dispatch places them
by it (the tf.device scope's device, else the default device for that dtype), and the kernel
allocates directly on that device's backend.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import NUMBERS, primitive

BOOL = (_dt.bool,)
ALL = NUMBERS + BOOL + (_dt.string,)


def _full(xp, shape, value, dtype):
    if dtype == object:
        # Strings live on the CPU (NumPy); object arrays start as 0, so fill explicitly.
        out = xp.empty(shape, dtype=object)
        out.fill(value)
        return out
    return xp.full(shape, value, dtype=dtype)


@primitive("Fill", out_dtype="same")
def Fill(xp, value, *, dims):
    return _full(xp, dims, value, value.dtype)


@primitive("Zeros", differentiable=False)
def Zeros(xp, *, shape, dtype):
    if dtype == object:
        return _full(xp, shape, b"", dtype)
    return xp.zeros(shape, dtype=dtype)


@primitive("Ones", differentiable=False)
def Ones(xp, *, shape, dtype):
    return xp.ones(shape, dtype=dtype)


@primitive("ZerosLike", dtypes=ALL, differentiable=False)
def ZerosLike(xp, x, *, dtype=None):
    dtype = dtype or x.dtype
    if dtype == object:
        return _full(xp, x.shape, b"", dtype)
    return xp.zeros(x.shape, dtype=dtype)


@primitive("OnesLike", dtypes=NUMBERS + BOOL, differentiable=False)
def OnesLike(xp, x, *, dtype=None):
    return xp.ones(x.shape, dtype=dtype or x.dtype)


@primitive("Eye", differentiable=False)
def Eye(xp, *, num_rows, num_columns, batch_shape, dtype):
    out = xp.eye(num_rows, num_columns, dtype=dtype)
    if batch_shape:
        out = xp.array(xp.broadcast_to(out, tuple(batch_shape) + out.shape))
    return out


@primitive("Range", differentiable=False)
def Range(xp, *, start, limit, delta, dtype):
    # NOTE: the length is computed in Python (exact for ints, TF's ceil for floats) so that
    # float steps never give NumPy's off-by-one extra element.
    return _range(xp, start, limit, delta, dtype)


def _range(xp, start, limit, delta, dtype):
    import math  # noqa: PLC0415

    if isinstance(start, int) and isinstance(limit, int) and isinstance(delta, int):
        n = max(0, -((start - limit) // delta))  # exact integer ceil((limit - start) / delta)
    else:
        n = max(0, math.ceil((limit - start) / delta))
    if dtype.kind == "f":
        # TF computes start + i * delta in the output dtype (0.3 * 3 is 0.90000004 in float32).
        return xp.arange(n).astype(dtype) * dtype.type(delta) + dtype.type(start)
    return (xp.arange(n, dtype=xp.int64) * delta + start).astype(dtype)


@primitive("LinSpace", dtypes=(_dt.bfloat16, _dt.float16, _dt.float32, _dt.float64),
           out_dtype="same")
def LinSpace(xp, start, stop, *, num, axis=0):
    start, stop = xp.asarray(start), xp.asarray(stop)
    if num == 1:
        shape = xp.broadcast_shapes(start.shape, stop.shape)
        out = xp.broadcast_to(start, shape)[..., None].astype(start.dtype)
    else:
        t = (xp.arange(num, dtype=xp.float64) / (num - 1))
        a = start.astype(xp.float64)[..., None]
        b = stop.astype(xp.float64)[..., None]
        out = a + (b - a) * t
        out[..., -1] = b[..., 0]
        out = out.astype(start.dtype)
    return xp.moveaxis(out, -1, axis)


@primitive("OneHot", same_dtype=0, differentiable=False)
def OneHot(xp, indices, on_value, off_value, *, depth, axis):
    indices = xp.asarray(indices)
    hot = indices[..., None] == xp.arange(depth, dtype=indices.dtype)
    out = xp.where(hot, on_value, off_value).astype(xp.asarray(on_value).dtype)
    if axis != -1 and axis != out.ndim - 1:
        out = xp.moveaxis(out, -1, axis)
    return out
