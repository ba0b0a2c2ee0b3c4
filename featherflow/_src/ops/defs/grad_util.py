"""Helpers shared by the gradient modules (`*_grad.py`): reducing a broadcast gradient back to an
input's shape, and the sets the reverse walk consults.

Gradients here may carry a leading batch axis (vectorized Jacobians: every gradient is
[batch] + output shape). `unbroadcast` reads the batch rank off `grad.ndim - out.ndim`, so a
gradient written with elementwise ops and `unbroadcast` handles it unchanged; such gradients are
listed in BATCHABLE.
"""
from __future__ import annotations

# Op types whose gradient accepts upstream gradients with extra leading (batch) axes.
BATCHABLE: set = set()
# Op types whose gradient function accepts IndexedSlices upstream (others get them densified).
SPARSE_OK: set = {"Identity", "ReadVariableOp"}


def batchable(*names):
    BATCHABLE.update(names)


def unbroadcast(grad, x, out):
    """`grad` (shaped [batch...] + out.shape) summed over the axes along which `x` was
    broadcast, and reshaped to [batch...] + x.shape."""
    gshape = grad._value.shape
    xshape = x._value.shape
    if gshape == xshape:
        return grad
    nb = len(gshape) - len(out._value.shape)
    lead = len(gshape) - nb - len(xshape)
    axes = list(range(nb, nb + lead))
    axes += [nb + lead + i for i, d in enumerate(xshape) if d == 1 and gshape[nb + lead + i] != 1]
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    if axes:
        grad = reduce_sum(grad, axes)
    target = tuple(gshape[:nb]) + tuple(xshape)
    return grad if grad._value.shape == target else reshape(grad, target)
