"""Gradients of the shape-manipulating and creation primitives (ops/defs/array.py, creation.py):
Reshape, Identity, BroadcastTo, Transpose, ConcatV2, Pack, Unpack, SplitV, Tile, PadV2, MirrorPad,
ReverseV2, Fill and LinSpace.

Written with public ops, so they record on an outer tape (higher-order gradients). Every gradient
here only moves or sums data along the op's own axes, so each accepts upstream gradients with
extra leading batch axes (vectorized Jacobians, see grad_util): `nb` below is that batch rank, and
every axis an attr names is shifted by it.
"""
from __future__ import annotations

from featherflow._src.api import array_ops as _a
from featherflow._src.api import manip_ops as _m
from featherflow._src.ops.defs.grad_util import batch_rank, batchable, sum_to, unbroadcast
from featherflow._src.ops.registry import register_gradient


def _shape(t):
    return tuple(t._value.shape)


@register_gradient("Reshape")
def _reshape(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    return _a.reshape(grad, _shape(grad)[:nb] + _shape(op.inputs[0]))


@register_gradient("Identity")
def _identity(op, grad):
    return grad


@register_gradient("BroadcastTo")
def _broadcast_to(op, grad):
    return unbroadcast(grad, op.inputs[0], op.outputs[0])


@register_gradient("Transpose")
def _transpose(op, grad):
    perm = list(op.attrs["perm"])
    nb = batch_rank(grad, op.outputs[0])
    inverse = list(range(nb)) + [nb + perm.index(i) for i in range(len(perm))]
    return _a.transpose(grad, inverse)


# -- joining and splitting --------------------------------------------------------------------
@register_gradient("ConcatV2")
def _concat(op, grad):
    axis = op.attrs["axis"]
    nb = batch_rank(grad, op.outputs[0])
    sizes = [_shape(x)[axis] for x in op.inputs]
    return _m.split(grad, sizes, axis=axis + nb)


@register_gradient("Pack")
def _pack(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    return _m.unstack(grad, num=len(op.inputs), axis=op.attrs["axis"] + nb)


@register_gradient("Unpack")
def _unpack(op, *grads):
    # Outputs the target does not use arrive as zeros (the reverse walk fills them in).
    nb = batch_rank(grads[0], op.outputs[0])
    return _m.stack(list(grads), axis=op.attrs["axis"] + nb)


@register_gradient("SplitV")
def _split(op, *grads):
    nb = batch_rank(grads[0], op.outputs[0])
    return _m.concat(list(grads), op.attrs["axis"] + nb)


# -- repeating, padding, reversing ------------------------------------------------------------
@register_gradient("Tile")
def _tile(op, grad):
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    x = op.inputs[0]
    nb = batch_rank(grad, op.outputs[0])
    lead = _shape(grad)[:nb]
    if not any(m != 1 for m in op.attrs["multiples"]):
        return _a.reshape(grad, lead + _shape(x))
    # [.., m0 * d0, m1 * d1, ..] -> [.., m0, d0, m1, d1, ..], then sum over every m_i.
    split = lead + tuple(v for m, d in zip(op.attrs["multiples"], _shape(x)) for v in (m, d))
    g = reduce_sum(_a.reshape(grad, split), [nb + 2 * i for i in range(len(_shape(x)))])
    return _a.reshape(g, lead + _shape(x))


def _crop(grad, nb, paddings, shape):
    """grad with `paddings` cut off every (non-batch) axis: the slice that held the input."""
    from featherflow._src.api.indexing_ops import slice as slice_  # noqa: PLC0415

    if not any(lo or hi for lo, hi in paddings):
        return grad
    begin = [0] * nb + [lo for lo, _ in paddings]
    return slice_(grad, begin, list(_shape(grad)[:nb]) + list(shape))


@register_gradient("PadV2")
def _pad(op, grad):
    # TensorFlow gives constant_values no gradient.
    nb = batch_rank(grad, op.outputs[0])
    return _crop(grad, nb, op.attrs["paddings"], _shape(op.inputs[0])), None


@register_gradient("MirrorPad")
def _mirror_pad(op, grad):
    from featherflow._src.api.indexing_ops import slice as slice_  # noqa: PLC0415

    nb = batch_rank(grad, op.outputs[0])
    shape = _shape(op.inputs[0])
    # NOTE: REFLECT mirrors around the edge element (padded entry j of the left pad is x[lo - j]),
    # SYMMETRIC repeats it (x[lo - 1 - j]); `skip` is that one-element shift.
    skip = 1 if op.attrs["mode"] == "REFLECT" else 0
    g = grad
    for axis, ((lo, hi), d) in enumerate(zip(op.attrs["paddings"], shape)):
        if not (lo or hi):
            continue
        ax = axis + nb
        gshape = list(_shape(g))

        def part(start, size, g=g, ax=ax, gshape=gshape):
            begin = [0] * len(gshape)
            sizes = list(gshape)
            begin[ax], sizes[ax] = start, size
            return slice_(g, begin, sizes)

        def place(piece, start, size, ax=ax):
            # Folded back onto x's positions [start, start + size) of this axis.
            pads = [(0, 0)] * len(_shape(piece))
            pads[ax] = (start, d - start - size)
            return _m.pad(_m.reverse(piece, [ax]), pads)

        total = part(lo, d)
        if lo:
            total = total + place(part(0, lo), skip, lo)
        if hi:
            total = total + place(part(lo + d, hi), d - skip - hi, hi)
        g = total
    return g


@register_gradient("ReverseV2")
def _reverse(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    axes = [a + nb for a in op.attrs["axis"]]
    return _m.reverse(grad, axes) if axes else grad


# -- creation ---------------------------------------------------------------------------------
@register_gradient("Fill")
def _fill(op, grad):
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    nb = batch_rank(grad, op.outputs[0])
    axes = list(range(nb, len(_shape(grad))))
    return reduce_sum(grad, axes) if axes else grad


@register_gradient("LinSpace")
def _linspace(op, grad):
    # out = start + t * (stop - start) with t = i / (num - 1) along `axis` (t = 0 when num is 1),
    # as tf.linspace (a composite in TensorFlow) differentiates; `num` has no gradient.
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    start, stop = op.inputs
    out = op.outputs[0]
    num, axis = op.attrs["num"], op.attrs.get("axis", 0)
    nb = batch_rank(grad, out)
    rank = len(_shape(out))
    t = _m.range(num, dtype=grad.dtype)
    if num > 1:
        t = t * (1.0 / (num - 1))
    t = _a.reshape(t, (num,) + (1,) * (rank - axis - 1))
    g_stop = reduce_sum(grad * t, nb + axis)
    g_start = reduce_sum(grad, nb + axis) - g_stop
    return sum_to(g_start, _shape(start), nb), sum_to(g_stop, _shape(stop), nb)


batchable("Reshape", "Identity", "BroadcastTo", "Transpose", "ConcatV2", "Pack", "Unpack",
          "SplitV", "Tile", "PadV2", "MirrorPad", "ReverseV2", "Fill", "LinSpace")
