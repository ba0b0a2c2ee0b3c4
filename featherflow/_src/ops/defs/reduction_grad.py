"""Gradients of the reductions and scans (ops/defs/reduction.py) and of SelectV2 (tf.where).

The reduced axes arrive as the sorted, non-negative `axis` attr. Sum/Mean/Max/Min/EuclideanNorm
and the scans accept a leading batch axis on the upstream gradient (vectorized Jacobians).
"""
from __future__ import annotations

from featherflow._src.api import math_ops as m
from featherflow._src.ops.defs.grad_util import batch_rank, batchable, unbroadcast
from featherflow._src.ops.registry import register_gradient


def _expand(op, grad):
    """The upstream gradient broadcast back over the reduced axes: [batch] + x.shape. Runs
    Reshape and BroadcastTo directly (the shapes are computed here, valid by construction);
    they record on an outer tape like the public functions."""
    from featherflow._src.ops.defs.array import BroadcastTo, Reshape  # noqa: PLC0415
    from featherflow._src.ops.dispatch import execute  # noqa: PLC0415

    x, y = op.inputs[0], op.outputs[0]
    nb = batch_rank(grad, y)
    xshape = x._value.shape
    axes = set(op.attrs.get("axis", ()))
    batch = tuple(grad._value.shape[:nb])
    kept = batch + tuple(1 if i in axes else d for i, d in enumerate(xshape))
    if grad._value.shape != kept:
        grad = execute(Reshape, (grad,), {"shape": kept})
    target = batch + tuple(xshape)
    if grad._value.shape == target:
        return grad
    return execute(BroadcastTo, (grad,), {"shape": target})


def _count(op):
    shape = op.inputs[0]._value.shape
    n = 1
    for a in op.attrs.get("axis", ()):
        n *= shape[a]
    return n


@register_gradient("Sum")
def _sum(op, grad):
    return _expand(op, grad)


@register_gradient("Mean")
def _mean(op, grad):
    # Divided before broadcasting: the same value in every element, one division per
    # upstream element instead of one per input element.
    return _expand(op, grad / max(_count(op), 1))


def _extreme(op, grad):
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    # The gradient is shared equally between the elements that attain the extreme.
    x = op.inputs[0]
    y_full = _expand(op, op.outputs[0])
    hit = m.cast(m.equal(y_full, x), grad.dtype)
    count = reduce_sum(hit, list(op.attrs.get("axis", ())), keepdims=True)
    return _expand(op, grad) * hit / count


register_gradient("Max")(_extreme)
register_gradient("Min")(_extreme)


@register_gradient("EuclideanNorm")
def _euclidean_norm(op, grad):
    x = op.inputs[0]
    return _expand(op, grad) * m.divide_no_nan(m.conj(x), _expand(op, op.outputs[0]))


@register_gradient("Prod")
def _prod(op, grad):
    from featherflow._src.api.array_ops import reshape, transpose  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import cumprod  # noqa: PLC0415

    # The product of all *other* elements, without dividing (exact where x has zeros): move the
    # reduced axes to the front, flatten them, and multiply exclusive cumulative products taken
    # from both ends.
    x = op.inputs[0]
    shape = x._value.shape
    axes = list(op.attrs.get("axis", ()))
    rest = [i for i in range(len(shape)) if i not in axes]
    perm = axes + rest
    flat = reshape(transpose(x, perm), (-1,) + tuple(shape[i] for i in rest))
    others = cumprod(flat, 0, exclusive=True) * cumprod(flat, 0, exclusive=True, reverse=True)
    others = reshape(others, tuple(shape[i] for i in perm))
    inverse = [perm.index(i) for i in range(len(shape))]
    return _expand(op, grad) * m.conj(transpose(others, inverse))


def _scan_axis(op, grad):
    return op.attrs.get("axis", 0) % len(op.inputs[0]._value.shape) + batch_rank(
        grad, op.outputs[0])


@register_gradient("Cumsum")
def _cumsum(op, grad):
    from featherflow._src.api.reduce_ops import cumsum  # noqa: PLC0415

    return cumsum(grad, _scan_axis(op, grad), exclusive=op.attrs.get("exclusive", False),
                  reverse=not op.attrs.get("reverse", False))


@register_gradient("Cumprod")
def _cumprod(op, grad):
    from featherflow._src.api.reduce_ops import cumsum  # noqa: PLC0415

    # NOTE: divides by x, as TensorFlow does: inf/nan where x has zeros.
    x, y = op.inputs[0], op.outputs[0]
    out = cumsum(grad * m.conj(y), _scan_axis(op, grad),
                 exclusive=op.attrs.get("exclusive", False),
                 reverse=not op.attrs.get("reverse", False))
    return out / m.conj(x)


@register_gradient("SelectV2")
def _select(op, grad):
    from featherflow._src.api.array_ops import zeros_like  # noqa: PLC0415
    from featherflow._src.api.sort_ops import where  # noqa: PLC0415

    cond, x, y = op.inputs
    out = op.outputs[0]
    zeros = zeros_like(grad)
    return (None, unbroadcast(where(cond, grad, zeros), x, out),
            unbroadcast(where(cond, zeros, grad), y, out))


batchable("Sum", "Mean", "Max", "Min", "EuclideanNorm", "Cumsum", "Cumprod", "SelectV2")
