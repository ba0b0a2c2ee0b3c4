"""Gradients of the indexing and scatter primitives (ops/defs/indexing.py, scatter.py) and of
the variable gathers (ResourceGather, ResourceGatherNd).

Written with public ops, so they record on an outer tape (higher-order gradients). As in
TensorFlow, a gather along axis 0 (GatherV2 with batch_dims 0, GatherNd with [n, 1] indices,
ResourceGather) gives a `tf.IndexedSlices`: one row per index, duplicates kept, never densified
here; the reverse walk or `tf.convert_to_tensor` sums duplicates when a dense value is needed.
"""
from __future__ import annotations

from featherflow._src.api import array_ops as _a
from featherflow._src.api import indexing_ops as _ix
from featherflow._src.api import manip_ops as _m
from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.defs import resource as _resource  # noqa: F401 - registers its ops
from featherflow._src.ops.defs.grad_util import batch_rank, batchable
from featherflow._src.ops.defs.indexing import strided_key
from featherflow._src.ops.registry import register_gradient


def _shape(t):
    return tuple(t._value.shape)


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def _slices(values, indices, dense_shape):
    from featherflow._src.framework.indexed_slices import IndexedSlices  # noqa: PLC0415

    return IndexedSlices(values, indices, dense_shape)


def _index32(indices):
    # NOTE: int16 indices (allowed by the gathers) are widened: the segment and scatter ops the
    # gradients and densification run on take int32/int64 only.
    if indices._dtype is not _dt.int16:
        return indices
    from featherflow._src.api.math_ops import cast  # noqa: PLC0415

    return cast(indices, _dt.int32)


# -- StridedSlice (tf.slice, tf.strided_slice and tensor[...]) ----------------------------------
@register_gradient("StridedSlice")
def _strided_slice(op, grad):
    x, out = op.inputs[0], op.outputs[0]
    a = op.attrs
    shape = _shape(x)
    key = strided_key(shape, a["begin"], a["end"], a["strides"], a.get("begin_mask", 0),
                      a.get("end_mask", 0), a.get("ellipsis_mask", 0), a.get("new_axis_mask", 0),
                      a.get("shrink_axis_mask", 0))
    nb = batch_rank(grad, out)
    lead = _shape(grad)[:nb]
    # Per input axis: (count, first position, step) of the elements the slice read, in
    # ascending order; `flip` lists the axes read backwards.
    picks, flip = [], []
    items = [k for k in key if k is not None]
    items += [slice(None)] * (len(shape) - len(items))
    for axis, (k, d) in enumerate(zip(items, shape)):
        if isinstance(k, slice):
            r = range(d)[k]
            if r.step < 0:
                flip.append(nb + axis)
                r = r[::-1]
            picks.append((len(r), r[0] if len(r) else 0, r.step))
        else:
            picks.append((1, k, 1))
    if any(n == 0 for n, _, _ in picks):
        return _a.zeros(lead + shape, grad.dtype)
    # newaxis entries dropped, shrunk axes back as size 1: grad now lines up with x's axes.
    g = _a.reshape(grad, lead + tuple(n for n, _, _ in picks))
    if flip:
        g = _m.reverse(g, flip)
    spread = [i for i, (n, _, s) in enumerate(picks) if n > 1 and s > 1]
    if spread:
        # Every step s: each element followed by s - 1 zeros, then the trailing zeros cut off.
        inter = list(lead)
        pads = [(0, 0)] * nb
        for i, (n, _, s) in enumerate(picks):
            inter.append(n)
            pads.append((0, 0))
            if i in spread:
                inter.append(1)
                pads.append((0, s - 1))
        g = _m.pad(_a.reshape(g, tuple(inter)), pads)
        g = _a.reshape(g, lead + tuple(n * s if i in spread else n
                                       for i, (n, _, s) in enumerate(picks)))
        extent = [(n - 1) * s + 1 if i in spread else n for i, (n, _, s) in enumerate(picks)]
        g = _ix.slice(g, [0] * len(_shape(g)), list(lead) + extent)
    else:
        extent = [n for n, _, _ in picks]
    pads = [(0, 0)] * nb + [(f, d - f - e) for (_, f, _), d, e in zip(picks, shape, extent)]
    return _m.pad(g, pads) if any(lo or hi for lo, hi in pads) else g


# -- leading batch axes (vectorized Jacobians) -------------------------------------------------
def _move(t, src, n, dst):
    """`t` with its `n` axes starting at `src` moved to start at `dst` (in the result)."""
    if n == 0 or src == dst:
        return t
    rest = [i for i in range(len(_shape(t))) if not src <= i < src + n]
    perm = rest[:dst] + list(range(src, src + n)) + rest[dst:]
    return _a.transpose(t, perm)


def _gather_nd_b(t, indices, nb):
    """gather_nd on the data axes of `t` ([nb batch axes] + data); result [batch] + gathered."""
    if nb == 0:
        return _ix.gather_nd(t, indices)
    k, outer = _shape(indices)[-1], len(_shape(indices)) - 1
    # The batch axes ride behind the k indexed axes, i.e. inside each gathered slice.
    return _move(_ix.gather_nd(_move(t, 0, nb, k), indices), outer, nb, 0)


def _scatter_nd_b(indices, updates, shape, nb):
    """scatter_nd of `updates` ([nb batch axes] + outer + slice) into [batch] + shape."""
    if nb == 0:
        return _ix.scatter_nd(indices, updates, shape)
    k, outer = _shape(indices)[-1], len(_shape(indices)) - 1
    lead = _shape(updates)[:nb]
    shape = tuple(shape)
    out = _ix.scatter_nd(indices, _move(updates, 0, nb, outer), shape[:k] + lead + shape[k:])
    return _move(out, k, nb, 0)


# -- gathers ------------------------------------------------------------------------------------
@register_gradient("GatherV2")
def _gather(op, grad):
    params, indices = op.inputs
    axis, b = op.attrs["axis"], op.attrs.get("batch_dims", 0)
    pshape, ishape = _shape(params), _shape(indices)
    nb = batch_rank(grad, op.outputs[0])
    if axis == 0 and b == 0 and nb == 0:
        n = _prod(ishape)
        values = _a.reshape(grad, (n,) + pshape[1:])
        return (_slices(values, _a.reshape(_index32(indices), (n,)), _a.shape(params)),
                None)
    # Dense: params B + M + [P] + I, indices B + J, grad [N] + B + M + J + I (N: batch axes of
    # a vectorized Jacobian). Each B-batch gets its own block of P segment ids, so one
    # unsorted_segment_sum folds every row back.
    from featherflow._src.api.segment_ops import unsorted_segment_sum  # noqa: PLC0415

    lead = _shape(grad)[:nb]
    nn, bn, mn = _prod(lead), _prod(pshape[:b]), _prod(pshape[b:axis])
    p, inner = pshape[axis], _prod(pshape[axis + 1:])
    jn = _prod(ishape[b:])
    g = _a.reshape(grad, (nn, bn, mn, jn, inner))
    g = _a.reshape(_a.transpose(g, (1, 3, 0, 2, 4)), (bn * jn, nn * mn, inner))
    ids = _index32(indices)
    if bn > 1:
        offsets = _m.range(0, bn * p, p, dtype=ids.dtype)
        ids = _a.reshape(ids, (bn, jn)) + _a.reshape(offsets, (bn, 1))
    ids = _a.reshape(ids, (bn * jn,))
    s = unsorted_segment_sum(g, ids, bn * p)
    s = _a.transpose(_a.reshape(s, (bn, p, nn, mn, inner)), (2, 0, 3, 1, 4))
    return _a.reshape(s, lead + pshape), None


def _with_batch_column(indices, b, bn):
    """[Bn, Jn, k + 1] indices: each batch's index vectors with its batch number in front."""
    ishape = _shape(indices)
    k = ishape[-1]
    jn = _prod(ishape[b:-1])
    idx = _a.reshape(indices, (bn, jn, k))
    col = _a.broadcast_to(_a.reshape(_m.range(bn, dtype=idx.dtype), (bn, 1, 1)), (bn, jn, 1))
    return _m.concat([col, idx], 2), jn


@register_gradient("GatherNd")
def _gather_nd(op, grad):
    params, indices = op.inputs
    b = op.attrs.get("batch_dims", 0)
    pshape, ishape = _shape(params), _shape(indices)
    nb = batch_rank(grad, op.outputs[0])
    idx = _index32(indices)
    if b == 0:
        if len(ishape) == 2 and ishape[-1] == 1 and nb == 0:
            # Rows of params: sparse, like GatherV2 (TF's dense_shape has the indices' dtype).
            return (_slices(grad, _a.reshape(idx, (ishape[0],)),
                            _a.shape(params, out_type=idx.dtype)), None)
        return _scatter_nd_b(idx, grad, pshape, nb), None
    lead = _shape(grad)[:nb]
    bn = _prod(pshape[:b])
    full, jn = _with_batch_column(idx, b, bn)
    tail = pshape[b + ishape[-1]:]
    g = _a.reshape(grad, lead + (bn, jn) + tail)
    return _a.reshape(_scatter_nd_b(full, g, (bn,) + pshape[b:], nb), lead + pshape), None


# -- scatters -------------------------------------------------------------------------------------
@register_gradient("ScatterNd")
def _scatter_nd(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    return None, _gather_nd_b(grad, op.inputs[0], nb)


@register_gradient("TensorScatterUpdate")
def _tensor_scatter_update(op, grad):
    _, indices, updates = op.inputs
    nb = batch_rank(grad, op.outputs[0])
    # Overwritten entries of `tensor` get no gradient.
    k = _shape(indices)[-1]
    zeros = _a.zeros(_shape(indices)[:-1] + _shape(grad)[:nb] + _shape(updates)[
        len(_shape(indices)) - 1:], grad.dtype)
    g_tensor = _move(_ix.tensor_scatter_nd_update(_move(grad, 0, nb, k), indices, zeros), k, nb, 0)
    return g_tensor, None, _gather_nd_b(grad, indices, nb)


@register_gradient("TensorScatterAdd")
def _tensor_scatter_add(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    return grad, None, _gather_nd_b(grad, op.inputs[1], nb)


@register_gradient("TensorScatterSub")
def _tensor_scatter_sub(op, grad):
    nb = batch_rank(grad, op.outputs[0])
    return grad, None, -_gather_nd_b(grad, op.inputs[1], nb)


def _scatter_extreme(op, grad):
    # The gradient goes to every candidate equal to the result (the old value and the updates
    # that landed on an entry), split evenly between ties.
    from featherflow._src.api.math_ops import cast, equal  # noqa: PLC0415

    tensor, indices, updates = op.inputs
    out = op.outputs[0]
    nb = batch_rank(grad, out)
    from_tensor = cast(equal(tensor, out), grad.dtype)
    from_updates = cast(equal(updates, _ix.gather_nd(out, indices)), grad.dtype)
    count = from_tensor + _ix.scatter_nd(indices, from_updates, _shape(tensor))
    share = grad / count
    return share * from_tensor, None, _gather_nd_b(share, indices, nb) * from_updates


register_gradient("TensorScatterMin")(_scatter_extreme)
register_gradient("TensorScatterMax")(_scatter_extreme)


# -- variable gathers (tf.Variable.sparse_read, gather_nd) ----------------------------------------
@register_gradient("ResourceGather")
def _resource_gather(op, grad):
    from featherflow._src.framework.convert import constant  # noqa: PLC0415

    handle, indices = op.inputs
    vshape = _shape(handle)
    nb = batch_rank(grad, op.outputs[0])
    n = _prod(_shape(indices))
    if nb:
        rows = _a.reshape(_index32(indices), (n, 1))
        g = _a.reshape(grad, _shape(grad)[:nb] + (n,) + vshape[1:])
        return _scatter_nd_b(rows, g, vshape, nb), None
    values = _a.reshape(grad, (n,) + vshape[1:])
    return (_slices(values, _a.reshape(_index32(indices), (n,)),
                    constant(list(vshape), dtype=_dt.int32)), None)


@register_gradient("ResourceGatherNd")
def _resource_gather_nd(op, grad):
    handle, indices = op.inputs
    nb = batch_rank(grad, op.outputs[0])
    idx = _index32(indices)
    ishape = _shape(idx)
    if len(ishape) == 2 and ishape[-1] == 1 and nb == 0:
        # Rows of the variable: sparse, as TensorFlow gives (dense_shape in the indices' dtype).
        from featherflow._src.framework.convert import constant  # noqa: PLC0415

        return (_slices(grad, _a.reshape(idx, (ishape[0],)),
                        constant(list(_shape(handle)), dtype=idx.dtype)), None)
    return _scatter_nd_b(idx, grad, _shape(handle), nb), None


batchable("StridedSlice", "GatherV2", "GatherNd", "ScatterNd", "TensorScatterUpdate",
          "TensorScatterAdd", "TensorScatterSub", "TensorScatterMin", "TensorScatterMax",
          "ResourceGather", "ResourceGatherNd")
