"""Shape-manipulating primitives: Reshape, Transpose, BroadcastTo, Shape/Size/Rank, Identity,
ConcatV2, Pack, Unpack, Split, Tile, Pad, MirrorPad, ReverseV2.

Shapes, axes and permutations arrive as attrs (plain Python tuples): the public functions read
them on the host and validate them with TensorFlow's messages, so kernels only move data.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import NUMBERS, primitive

BOOL = (_dt.bool,)
ALL = NUMBERS + BOOL + (_dt.string,)


def _view(x):
    # NOTE: a view, not the same object: the result does not count the bytes a second time,
    # and the base array stays referenced (variables see the alias before writing in place).
    return x.view() if hasattr(x, "base") else x


@primitive("Reshape", out_dtype="same")
def Reshape(xp, x, *, shape):
    return x.reshape(shape)  # the method: xp.reshape adds a Python-level wrapper


@primitive("Transpose", out_dtype="same")
def Transpose(xp, x, *, perm):
    return xp.transpose(x, perm)


@primitive("BroadcastTo", out_dtype="same")
def BroadcastTo(xp, x, *, shape):
    # A read-only broadcast view would alias one element many times: materialised, by a
    # broadcasting copy into a fresh array (xp.broadcast_to is a slow Python-level function;
    # it only runs to produce NumPy's message for incompatible shapes).
    out = xp.empty(shape, dtype=x.dtype)
    try:
        out[...] = x
    except ValueError:
        xp.broadcast_to(x, shape)
        raise
    return out


@primitive("Identity", out_dtype="same")
def Identity(xp, x, *, copy=False):
    if copy:
        return xp.array(x, copy=True)
    return _view(x)


@primitive("Shape", differentiable=False)
def Shape(xp, x, *, out_type):
    return xp.asarray(x.shape, dtype=out_type)


@primitive("Size", differentiable=False)
def Size(xp, x, *, out_type):
    return xp.asarray(x.size, dtype=out_type)


@primitive("Rank", differentiable=False, out_dtype=_dt.int32)
def Rank(xp, x):
    return xp.asarray(x.ndim, dtype=xp.int32)


@primitive("ConcatV2", out_dtype="same")
def ConcatV2(xp, *xs, axis):
    return xp.concatenate([xp.asarray(x) for x in xs], axis=axis)


@primitive("Pack", out_dtype="same")
def Pack(xp, *xs, axis):
    return xp.stack([xp.asarray(x) for x in xs], axis=axis)


@primitive("Unpack", num_outputs=-1)
def Unpack(xp, x, *, num, axis):
    x = xp.asarray(x)
    out = [xp.take(x, i, axis=axis) for i in range(num)]
    if x.dtype == object and x.ndim == 1:  # elements of a string vector are bytes objects
        out = [xp.array(v, dtype=object) for v in out]
    return out


@primitive("SplitV", num_outputs=-1)
def SplitV(xp, x, *, size_splits, axis):
    x = xp.asarray(x)
    out, start = [], 0
    index = [slice(None)] * x.ndim
    for n in size_splits:
        index[axis] = slice(start, start + n)
        out.append(xp.array(x[tuple(index)]))
        start += n
    return out


@primitive("Tile", out_dtype="same")
def Tile(xp, x, *, multiples):
    return xp.tile(x, multiples)


def _pad_constant(xp, x, paddings, constant_values):
    x = xp.asarray(x)
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, paddings))
    out = xp.full(shape, constant_values, dtype=x.dtype)
    out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, paddings))] = x
    return out


@primitive("PadV2", same_dtype=2, out_dtype="same")
def PadV2(xp, x, constant_values, *, paddings):
    return _pad_constant(xp, x, paddings, constant_values)


@primitive("MirrorPad", out_dtype="same")
def MirrorPad(xp, x, *, paddings, mode):
    return xp.pad(x, paddings, mode="reflect" if mode == "REFLECT" else "symmetric")


@primitive("ReverseV2", out_dtype="same")
def ReverseV2(xp, x, *, axis):
    return xp.array(xp.flip(x, axis=axis))
