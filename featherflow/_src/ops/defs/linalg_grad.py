"""Gradients of MatMul and BatchMatMulV2 (ops/defs/linalg.py).

For complex inputs the adjoint (conjugate transpose) takes the transpose's place, as in
TensorFlow. BatchMatMulV2 broadcasts batch axes, so its gradients are summed back to each
input's shape. Inputs in `op.skip_input_indices` (not needed by the walk) are not computed.
"""
from __future__ import annotations

from featherflow._src.ops.defs.grad_util import sum_to
from featherflow._src.ops.defs.linalg import MatMul as _MatMul
from featherflow._src.ops.dispatch import execute as _execute
from featherflow._src.ops.registry import register_gradient


def _real_mm(x, y, adjoint_a=False, adjoint_b=False):
    return _execute(_MatMul, (x, y), {"transpose_a": adjoint_a, "transpose_b": adjoint_b})


def _matmul_fn(a, b, g):
    """`matmul(x, y, adjoint_a=, adjoint_b=)` for the products below. For real matrices it runs
    MatMul with its transpose attrs directly (what the public function would, minus its argument
    handling and conj no-ops): no transpose is materialised, BLAS reads the strides."""
    if (not a._dtype.is_complex and len(a._value.shape) == 2 and len(b._value.shape) == 2
            and len(g._value.shape) == 2 and a._dtype is b._dtype is g._dtype):
        return _real_mm
    from featherflow._src.api.linalg_ops import matmul  # noqa: PLC0415
    return matmul


def _products(a, b, g, ta, tb, skip=()):
    """(da, db) for out = op(a) @ op(b), where op is the adjoint when ta/tb is set; an input
    whose index is in `skip` (no gradient needed) gets None, and its product is not run."""
    matmul = _matmul_fn(a, b, g)

    want_a, want_b = 0 not in skip, 1 not in skip
    da = db = None
    if not ta and not tb:
        if want_a:
            da = matmul(g, b, adjoint_b=True)
        if want_b:
            db = matmul(a, g, adjoint_a=True)
    elif not ta and tb:
        if want_a:
            da = matmul(g, b)
        if want_b:
            db = matmul(g, a, adjoint_a=True)
    elif ta and not tb:
        if want_a:
            da = matmul(b, g, adjoint_b=True)
        if want_b:
            db = matmul(a, g)
    else:
        if want_a:
            da = matmul(b, g, adjoint_a=True, adjoint_b=True)
        if want_b:
            db = matmul(g, a, adjoint_a=True, adjoint_b=True)
    return da, db


@register_gradient("MatMul")
def _matmul(op, grad):
    a, b = op.inputs
    return _products(a, b, grad, op.attrs.get("transpose_a", False),
                     op.attrs.get("transpose_b", False), op.skip_input_indices)


@register_gradient("BatchMatMulV2")
def _batch_matmul(op, grad):
    a, b = op.inputs
    da, db = _products(a, b, grad, op.attrs.get("adj_x", False), op.attrs.get("adj_y", False),
                       op.skip_input_indices)
    return (None if da is None else sum_to(da, a._value.shape),
            None if db is None else sum_to(db, b._value.shape))
