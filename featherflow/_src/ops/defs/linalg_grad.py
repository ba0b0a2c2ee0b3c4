"""Gradients of MatMul and BatchMatMulV2 (ops/defs/linalg.py).

For complex inputs the adjoint (conjugate transpose) takes the transpose's place, as in
TensorFlow. BatchMatMulV2 broadcasts batch axes, so its gradients are summed back to each
input's shape.
"""
from __future__ import annotations

from featherflow._src.ops.defs.grad_util import sum_to
from featherflow._src.ops.registry import register_gradient


def _products(a, b, g, ta, tb):
    """(da, db) for out = op(a) @ op(b), where op is the adjoint when ta/tb is set."""
    from featherflow._src.api.linalg_ops import matmul  # noqa: PLC0415

    if not ta and not tb:
        return matmul(g, b, adjoint_b=True), matmul(a, g, adjoint_a=True)
    if not ta and tb:
        return matmul(g, b), matmul(g, a, adjoint_a=True)
    if ta and not tb:
        return matmul(b, g, adjoint_b=True), matmul(a, g)
    return matmul(b, g, adjoint_a=True, adjoint_b=True), matmul(g, a, adjoint_a=True,
                                                                adjoint_b=True)


@register_gradient("MatMul")
def _matmul(op, grad):
    a, b = op.inputs
    return _products(a, b, grad, op.attrs.get("transpose_a", False),
                     op.attrs.get("transpose_b", False))


@register_gradient("BatchMatMulV2")
def _batch_matmul(op, grad):
    a, b = op.inputs
    da, db = _products(a, b, grad, op.attrs.get("adj_x", False), op.attrs.get("adj_y", False))
    return sum_to(da, a._value.shape), sum_to(db, b._value.shape)
