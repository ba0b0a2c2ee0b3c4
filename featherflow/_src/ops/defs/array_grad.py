"""Gradients of the shape primitives the other gradients are built from: Reshape, Identity,
BroadcastTo, Transpose (needed for higher-order gradients). The remaining array-op gradients
(concat, gather, slicing, ...) belong here too and are added by the array-gradient work.
"""
from __future__ import annotations

from featherflow._src.ops.defs.grad_util import batch_rank, batchable, unbroadcast
from featherflow._src.ops.registry import register_gradient


@register_gradient("Reshape")
def _reshape(op, grad):
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415

    nb = batch_rank(grad, op.outputs[0])
    return reshape(grad, tuple(grad._value.shape[:nb]) + tuple(op.inputs[0]._value.shape))


@register_gradient("Identity")
def _identity(op, grad):
    return grad


@register_gradient("BroadcastTo")
def _broadcast_to(op, grad):
    return unbroadcast(grad, op.inputs[0], op.outputs[0])


@register_gradient("Transpose")
def _transpose(op, grad):
    from featherflow._src.api.array_ops import transpose  # noqa: PLC0415

    perm = list(op.attrs["perm"])
    nb = batch_rank(grad, op.outputs[0])
    inverse = list(range(nb)) + [nb + perm.index(i) for i in range(len(perm))]
    return transpose(grad, inverse)


batchable("Reshape", "Identity", "BroadcastTo", "Transpose")


@register_gradient("GatherV2")
def _gather(op, grad):
    # Along axis 0 the gradient is sparse: the upstream rows at the gathered indices.
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415
    from featherflow._src.framework.convert import constant  # noqa: PLC0415
    from featherflow._src.framework.indexed_slices import IndexedSlices  # noqa: PLC0415

    params, indices = op.inputs
    if op.attrs.get("axis", 0) != 0 or op.attrs.get("batch_dims", 0) != 0:
        raise NotImplementedError("The gradient of GatherV2 is implemented for axis=0 and "
                                  f"batch_dims=0 only. Received: attrs={op.attrs}")
    pshape = tuple(params._value.shape)
    flat = reshape(indices, (-1,))
    values = reshape(grad, (flat._value.shape[0],) + pshape[1:])
    return IndexedSlices(values, flat, constant(list(pshape), dtype=indices.dtype)), None
