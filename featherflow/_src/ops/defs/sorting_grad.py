"""Gradients of the sorting and selection primitives (ops/defs/sorting.py).

Sort permutes its input along an axis, so its gradient applies the inverse permutation to the
values' gradient; TopKV2 picks k entries per row, so its gradient scatters the values' gradient
back to the picked positions (zeros elsewhere). The indices outputs are integers and carry no
gradient. Both accept a leading batch axis (vectorized Jacobians): the indices are broadcast
over it.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.defs.grad_util import batch_rank, batchable
from featherflow._src.ops.registry import register_gradient


def _shape(t):
    return tuple(t._value.shape)


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


@register_gradient("Sort")
def _sort_grad(op, grad, _indices_grad=None):
    from featherflow._src.api.array_ops import broadcast_to, transpose  # noqa: PLC0415
    from featherflow._src.api.indexing_ops import gather  # noqa: PLC0415
    from featherflow._src.api.sort_ops import argsort  # noqa: PLC0415

    values, perm = op.outputs
    rank = len(_shape(values))
    axis = op.attrs.get("axis", -1) % rank
    nb = batch_rank(grad, values)
    # values = x[perm] along `axis`, so x = values[inverse(perm)] and dx = grad[inverse(perm)].
    inv = argsort(perm, axis=axis)
    last = nb + rank - 1
    move = axis != rank - 1
    if move:  # gather with batch_dims works along the last axis
        perm_r = [a for a in range(rank) if a != axis] + [axis]
        inv = transpose(inv, perm_r)
        grad = transpose(grad, list(range(nb)) + [nb + a for a in perm_r])
    if nb:
        inv = broadcast_to(inv, _shape(grad))
    dx = gather(grad, inv, axis=last, batch_dims=last)
    if move:
        back = list(range(nb + rank - 1))
        back.insert(nb + axis, nb + rank - 1)
        dx = transpose(dx, back)
    return dx


@register_gradient("TopKV2")
def _top_k_grad(op, grad, _indices_grad=None):
    from featherflow._src.api.array_ops import broadcast_to, reshape  # noqa: PLC0415
    from featherflow._src.api.indexing_ops import scatter_nd  # noqa: PLC0415
    from featherflow._src.api.manip_ops import range as arange  # noqa: PLC0415
    from featherflow._src.api.math_ops import cast  # noqa: PLC0415

    x = op.inputs[0]
    indices = op.outputs[1]
    gshape = _shape(grad)
    n, k = _shape(x)[-1], gshape[-1]
    rows = _prod(gshape[:-1])  # batch axes included: each row scatters independently
    itype = _dt.int64 if rows * n >= 2 ** 31 else _dt.int32
    idx = cast(indices, itype)
    if _shape(idx) != gshape:
        idx = broadcast_to(idx, gshape)
    flat = reshape(idx, (rows, k)) + reshape(arange(0, rows * n, n, dtype=itype), (rows, 1))
    dx = scatter_nd(reshape(flat, (rows * k, 1)), reshape(grad, (rows * k,)), (rows * n,))
    return reshape(dx, gshape[:-1] + (n,))


batchable("Sort", "TopKV2")
