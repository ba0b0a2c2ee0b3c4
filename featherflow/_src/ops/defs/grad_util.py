"""Helpers shared by the gradient modules (`*_grad.py`): reducing a broadcast gradient back to an
input's shape, and the sets the reverse walk consults.

Gradients here may carry a leading batch axis (vectorized Jacobians: every gradient is
[batch] + output shape). `unbroadcast` reads the batch rank off `grad.ndim - out.ndim`, so a
gradient written with elementwise ops and `unbroadcast` handles it unchanged; such gradients are
listed in BATCHABLE.
"""
from __future__ import annotations

# Op types whose gradient accepts upstream gradients with extra leading (batch) axes.
# ReadVariableOp: its gradient is the identity (the walk passes it on untouched).
BATCHABLE: set = {"ReadVariableOp"}
# Op types whose gradient function accepts IndexedSlices upstream (others get them densified).
SPARSE_OK: set = {"Identity", "ReadVariableOp"}
# Multi-output op types whose gradient takes None for an output no gradient reached (the walk
# then builds no zeros for it); others get zeros, as TensorFlow passes them.
NONE_OK: set = set()


def batchable(*names):
    BATCHABLE.update(names)


def batch_rank(grad, out):
    """How many leading batch axes `grad` carries beyond `out`'s shape."""
    return len(grad._value.shape) - len(out._value.shape)


def unbroadcast(grad, x, out):
    """`grad` (shaped [batch...] + out.shape) summed over the axes along which `x` was
    broadcast, and reshaped to [batch...] + x.shape."""
    gshape = grad._value.shape
    xshape = x._value.shape
    if gshape == xshape:
        return grad
    return sum_to(grad, xshape, batch_rank(grad, out))


_SUM = None  # the Sum OpDef, looked up on first use (the op modules import this one)


def _sum_op():
    global _SUM
    from featherflow._src.ops.registry import get  # noqa: PLC0415
    _SUM = get("Sum")
    return _SUM


def sum_to(grad, shape, nb=0):
    """Sums `grad` ([nb batch axes] + a shape `shape` broadcasts to) down to [batch] + shape.

    Runs Sum (and Reshape only where size-1 axes must be restored) directly through `execute`:
    the axes are computed here, so the public functions' argument handling is not needed. The
    ops still record on active tapes (higher-order gradients)."""
    from featherflow._src.ops.dispatch import execute  # noqa: PLC0415

    gshape = grad._value.shape
    shape = tuple(shape)
    ns = len(shape)
    lead = len(gshape) - nb - ns
    axes = tuple(range(nb, nb + lead))
    keep = False
    if ns:
        ones = [nb + lead + i for i, d in enumerate(shape) if d == 1 and gshape[nb + lead + i] != 1]
        if ones:
            if not lead:
                # Only size-1 axes are reduced: keep_dims gives the target shape directly.
                axes, keep = tuple(ones), True
            else:
                axes += tuple(ones)
    if axes:
        grad = execute(_SUM or _sum_op(), (grad,), {"axis": axes, "keep_dims": keep})
    target = tuple(gshape[:nb]) + shape
    if grad._value.shape == target:
        return grad
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415
    return reshape(grad, target)
