"""Matrix primitives of tf.linalg: inverse, determinant, Cholesky, solves, diagonals.

All are batched over leading dimensions. Gradients are written with public ops (matmul with
adjoint flags, these primitives, elementwise math) so that they nest for higher orders.

NOTE: TF's MatrixDiagV3/MatrixDiagPartV3 take k, num_rows, num_cols and padding_value as tensor
inputs; here they are attrs (a single diagonal `k`).
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.dispatch import execute
from featherflow._src.ops.registry import NUMBERS, primitive, register_gradient

INV_TYPES = (_dt.float16, _dt.float32, _dt.float64, _dt.complex64, _dt.complex128)
DET_TYPES = INV_TYPES
CHOL_TYPES = INV_TYPES
SOLVE_TYPES = INV_TYPES
TRI_TYPES = (_dt.bfloat16,) + INV_TYPES
DIAG_TYPES = NUMBERS + (_dt.bool,)
_HALF = (np.dtype(np.float16), _dt.bfloat16._np)


def _up(x):
    """float16/bfloat16 computed in float32 (NumPy's LAPACK has no half kernels)."""
    return x.astype(np.float32) if x.dtype in _HALF else x


def _square(inputs, op_name, index=0):
    shape = inputs[index]._value.shape
    if len(shape) < 2:
        raise errors.InvalidArgumentError(
            None, None, f"Input tensor {index} must have rank >= 2, got {len(shape)} "
            f"[Op:{op_name}]")
    if shape[-1] != shape[-2]:
        raise errors.InvalidArgumentError(None, None, f"Input matrix must be square. "
                                                      f"[Op:{op_name}]")


def _adj(xp, x):
    x = xp.swapaxes(x, -1, -2)
    return xp.conj(x) if x.dtype.kind == "c" else x


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------
@primitive("MatrixInverse", dtypes=INV_TYPES, out_dtype="same",
           check=lambda inputs, attrs: _square(inputs, "MatrixInverse"))
def matrix_inverse_kernel(xp, x, adjoint=False):
    a = _up(xp.asarray(x))
    if adjoint:
        a = _adj(xp, a)
    try:
        out = xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise ValueError("Input is not invertible.") from None
    return out.astype(x.dtype, copy=False)


@primitive("MatrixDeterminant", dtypes=DET_TYPES, out_dtype="same",
           check=lambda inputs, attrs: _square(inputs, "MatrixDeterminant"))
def matrix_determinant_kernel(xp, x):
    out = xp.linalg.det(_up(xp.asarray(x))) if x.shape[-1] else xp.ones(x.shape[:-2])
    out = xp.asarray(out).astype(x.dtype)
    return out[()] if out.ndim == 0 and type(out) is np.ndarray else out


@primitive("Cholesky", dtypes=CHOL_TYPES, out_dtype="same",
           check=lambda inputs, attrs: _square(inputs, "Cholesky"))
def cholesky_kernel(xp, x):
    a = _up(xp.asarray(x))
    try:
        out = xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        # NOTE: TF 2.21 does not raise for a matrix that is not positive definite: it returns
        # NaN in the lower triangle of that matrix (and zeros above). Redo matrix by matrix.
        n = a.shape[-1]
        flat = a.reshape(-1, n, n)
        out = xp.zeros_like(flat)
        nan = xp.tril(xp.full((n, n), np.nan, dtype=flat.dtype))
        for i in range(flat.shape[0]):
            try:
                out[i] = xp.linalg.cholesky(flat[i])
            except np.linalg.LinAlgError:
                out[i] = nan
        out = out.reshape(a.shape)
    return out.astype(x.dtype, copy=False)


def _solve_check(inputs, attrs):
    a, b = inputs[0]._value.shape, inputs[1]._value.shape
    name = "MatrixSolve"
    if len(a) < 2 or a[-1] != a[-2]:
        raise errors.InvalidArgumentError(
            None, None, f"First input (lhs) must be a square matrix. [Op:{name}]")
    if len(a) != len(b):
        raise errors.InvalidArgumentError(
            None, None, f"All input tensors must have the same rank. [Op:{name}]")
    if a[:-2] != b[:-2]:
        raise errors.InvalidArgumentError(
            None, None, f"All input tensors must have the same outer dimensions. [Op:{name}]")
    if a[-1] != b[-2]:
        raise errors.InvalidArgumentError(
            None, None, f"Input matrix and rhs are incompatible. [Op:{name}]")


@primitive("MatrixSolve", dtypes=SOLVE_TYPES, out_dtype="same", check=_solve_check)
def matrix_solve_kernel(xp, a, b, adjoint=False):
    a2, b2 = _up(xp.asarray(a)), _up(xp.asarray(b))
    if adjoint:
        a2 = _adj(xp, a2)
    try:
        out = xp.linalg.solve(a2, b2) if a2.shape[-1] else xp.zeros_like(b2)
    except np.linalg.LinAlgError:
        raise ValueError("Input matrix is not invertible.") from None
    return out.astype(b.dtype, copy=False)


def _tri_check(inputs, attrs):
    a, b = inputs[0]._value.shape, inputs[1]._value.shape
    name = "MatrixTriangularSolve"
    if len(a) < 2 or len(b) < 2:
        raise errors.InvalidArgumentError(
            None, None, f"In[0] and In[1] must have rank >= 2: {list(a)} {list(b)} [Op:{name}]")
    if a[-1] != a[-2]:
        raise errors.InvalidArgumentError(
            None, None, f"In[0] matrices in the last dimensions must be square ({a[-1]} =/= "
            f"{a[-2]}) [Op:{name}]")
    if a[-1] != b[-2]:
        raise errors.InvalidArgumentError(
            None, None, f"In[0] mismatch In[1] shape: {a[-1]} vs. {b[-2]}: {list(a)} "
            f"{list(b)} [Op:{name}]")
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None, f"In[0] and In[1] must have compatible batch dimensions: {list(a)} vs. "
            f"{list(b)} [Op:{name}]") from None


@primitive("MatrixTriangularSolve", dtypes=TRI_TYPES, out_dtype="same", check=_tri_check)
def matrix_triangular_solve_kernel(xp, a, b, lower=True, adjoint=False):
    a2, b2 = _up(xp.asarray(a)), _up(xp.asarray(b))
    a2 = xp.tril(a2) if lower else xp.triu(a2)
    if adjoint:
        a2, lower = _adj(xp, a2), not lower
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = xp.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = xp.broadcast_to(b2, batch + b2.shape[-2:])
    n = a2.shape[-1]
    diag = xp.diagonal(a2, axis1=-2, axis2=-1)
    if n and bool(xp.all(diag != 0)):
        out = xp.linalg.solve(a2, b2)
    else:
        # NOTE: a zero on the diagonal gives inf/nan as TF's substitution does (LAPACK raises).
        out = xp.zeros(b2.shape, dtype=xp.result_type(a2, b2))
        rows = range(n) if lower else range(n - 1, -1, -1)
        for i in rows:
            acc = xp.matmul(a2[..., i:i + 1, :], out)
            out[..., i, :] = (b2[..., i, :] - acc[..., 0, :]) / a2[..., i, i:i + 1]
    return out.astype(b.dtype, copy=False)


def _diag_len(rows, cols, k):
    return min(rows - max(-k, 0), cols - max(k, 0))


def _diag_index(xp, rows, cols, k):
    n = max(_diag_len(rows, cols, k), 0)
    i = xp.arange(n)
    return i + max(-k, 0), i + max(k, 0)


@primitive("MatrixDiagV3", dtypes=DIAG_TYPES, out_dtype="same")
def matrix_diag_kernel(xp, d, k=0, num_rows=-1, num_cols=-1, padding_value=0):
    d = xp.asarray(d)
    n = d.shape[-1]
    rows = num_rows if num_rows >= 0 else n + abs(k)
    cols = num_cols if num_cols >= 0 else n + abs(k)
    if _diag_len(rows, cols, k) != n:
        raise ValueError(f"The number of diagonal elements ({n}) does not match a "
                         f"[{rows}, {cols}] matrix with k = {k}")
    out = xp.full(d.shape[:-1] + (rows, cols), padding_value, dtype=d.dtype)
    r, c = _diag_index(xp, rows, cols, k)
    out[..., r, c] = d
    return out


@primitive("MatrixDiagPartV3", dtypes=DIAG_TYPES, out_dtype="same")
def matrix_diag_part_kernel(xp, x, k=0, padding_value=0):
    x = xp.asarray(x)
    r, c = _diag_index(xp, x.shape[-2], x.shape[-1], k)
    return x[..., r, c]


@primitive("Diag", dtypes=DIAG_TYPES, out_dtype="same")
def diag_kernel(xp, d):
    d = xp.asarray(d)
    n = d.size
    out = xp.zeros((n, n), dtype=d.dtype)
    out[xp.arange(n), xp.arange(n)] = d.reshape(-1)
    return out.reshape(d.shape + d.shape)


@primitive("DiagPart", dtypes=DIAG_TYPES, out_dtype="same")
def diag_part_kernel(xp, x):
    x = xp.asarray(x)
    half = x.ndim // 2
    shape = x.shape[:half]
    if x.ndim % 2 or x.shape[half:] != shape:
        raise ValueError(f"Invalid shape {list(x.shape)}: dimensions 0 and {half} do not match.")
    n = int(np.prod(shape))
    flat = x.reshape(n, n)
    out = flat[xp.arange(n), xp.arange(n)].reshape(shape)
    return out[()] if out.ndim == 0 and type(out) is np.ndarray else out


MatrixInverse = matrix_inverse_kernel
MatrixDeterminant = matrix_determinant_kernel
Cholesky = cholesky_kernel
MatrixSolve = matrix_solve_kernel
MatrixTriangularSolve = matrix_triangular_solve_kernel
MatrixDiagV3 = matrix_diag_kernel
MatrixDiagPartV3 = matrix_diag_part_kernel
Diag = diag_kernel
DiagPart = diag_part_kernel


# ---------------------------------------------------------------------------------------------
# Gradients (public ops only)
# ---------------------------------------------------------------------------------------------
def _mm(a, b, adjoint_a=False, adjoint_b=False):
    from featherflow._src.api.linalg_ops import matmul  # noqa: PLC0415

    return matmul(a, b, adjoint_a=adjoint_a, adjoint_b=adjoint_b)


def _adjoint(x):
    from featherflow._src.api.array_ops import transpose  # noqa: PLC0415

    n = len(x._value.shape)
    perm = list(range(n - 2)) + [n - 1, n - 2]
    return transpose(x, perm, conjugate=x._dtype.is_complex)


def _shape(t):
    return tuple(int(d) for d in t._value.shape)


def _tri_mask(n, lower, dtype, diag_scale=1.0):
    """A constant lower/upper triangular mask (diag scaled by diag_scale)."""
    from featherflow._src.framework.convert import constant  # noqa: PLC0415

    m = np.tril(np.ones((n, n))) if lower else np.triu(np.ones((n, n)))
    m[np.diag_indices(n)] = diag_scale
    return constant(m, dtype=dtype)


@register_gradient("MatrixInverse")
def _inverse_grad(op, grad):
    y = op.outputs[0]
    # y = A^-1: dA = -A^-H g A^-H; with adjoint, y = A^-H and dA = -y g^H y.
    if op.attrs.get("adjoint", False):
        return (-_mm(y, _mm(grad, y, adjoint_a=True)),)
    return (-_mm(y, _mm(grad, y, adjoint_b=True), adjoint_a=True),)


@register_gradient("MatrixDeterminant")
def _det_grad(op, grad):
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415

    a = op.inputs[0]
    scale = reshape(grad * op.outputs[0], _shape(grad) + (1, 1))
    if a._dtype.is_complex:
        from featherflow._src.api.math_ops import conj  # noqa: PLC0415

        scale = conj(scale)
    return (scale * execute(MatrixInverse, (a,), {"adjoint": True}),)


@register_gradient("Cholesky")
def _cholesky_grad(op, grad):
    # Murray (2016), as TF: phi(L^H gL) with the diagonal halved, then L^-H phi L^-1 symmetrized.
    from featherflow._src.api.math_ops import multiply  # noqa: PLC0415

    chol = op.outputs[0]
    n = _shape(chol)[-1]
    from featherflow._src.framework.convert import constant  # noqa: PLC0415

    eye = constant(np.eye(n), dtype=chol._dtype)
    l_inv = execute(MatrixTriangularSolve, (chol, _broadcast_eye(eye, chol)),
                    {"lower": True, "adjoint": False})
    phi = multiply(_mm(chol, grad, adjoint_a=True), _tri_mask(n, True, chol._dtype, 0.5))
    middle = _mm(_mm(l_inv, phi, adjoint_a=True), l_inv)
    return ((middle + _adjoint(middle)) * 0.5,)


def _broadcast_eye(eye, like):
    from featherflow._src.api.array_ops import broadcast_to  # noqa: PLC0415

    return broadcast_to(eye, _shape(like))


@register_gradient("MatrixSolve")
def _solve_grad(op, grad):
    a, _ = op.inputs
    x = op.outputs[0]
    adjoint = op.attrs.get("adjoint", False)
    gb = execute(MatrixSolve, (a, grad), {"adjoint": not adjoint})
    ga = -_mm(x, gb, adjoint_b=True) if adjoint else -_mm(gb, x, adjoint_b=True)
    return ga, gb


def _unbroadcast(g, shape):
    """Sums `g` down to `shape` over the leading (batch) dimensions it was broadcast along."""
    gs = _shape(g)
    if gs == shape:
        return g
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    lead = len(gs) - len(shape)
    axes = list(range(lead)) + [lead + i for i, d in enumerate(shape[:-2])
                                if d == 1 and gs[lead + i] != 1]
    return reshape(reduce_sum(g, axes, keepdims=True), shape) if axes else g


@register_gradient("MatrixTriangularSolve")
def _triangular_solve_grad(op, grad):
    a, b = op.inputs
    x = op.outputs[0]
    lower, adjoint = op.attrs.get("lower", True), op.attrs.get("adjoint", False)
    gb = execute(MatrixTriangularSolve, (a, grad), {"lower": lower, "adjoint": not adjoint})
    ga = -_mm(x, gb, adjoint_b=True) if adjoint else -_mm(gb, x, adjoint_b=True)
    ga = _unbroadcast(ga, _shape(a)) * _tri_mask(_shape(a)[-1], lower, a._dtype)
    return ga, _unbroadcast(gb, _shape(b))


@register_gradient("MatrixDiagV3")
def _matrix_diag_grad(op, grad):
    return (execute(MatrixDiagPartV3, (grad,), {"k": op.attrs.get("k", 0)}),)


@register_gradient("MatrixDiagPartV3")
def _matrix_diag_part_grad(op, grad):
    shape = _shape(op.inputs[0])
    return (execute(MatrixDiagV3, (grad,), {"k": op.attrs.get("k", 0), "num_rows": shape[-2],
                                            "num_cols": shape[-1]}),)


@register_gradient("Diag")
def _diag_grad(op, grad):
    return (execute(DiagPart, (grad,)),)


@register_gradient("DiagPart")
def _diag_part_grad(op, grad):
    return (execute(Diag, (grad,)),)


# ---------------------------------------------------------------------------------------------
# Svd (used by the spectral matrix norm)
# ---------------------------------------------------------------------------------------------
@primitive("Svd", dtypes=INV_TYPES, num_outputs=-1)
def svd_kernel(xp, x, compute_uv=True, full_matrices=False):
    """[s] when not compute_uv, else [s, u, v] (v, not v^H, as TF)."""
    a = _up(xp.asarray(x))
    if not compute_uv:
        s = xp.linalg.svd(a, compute_uv=False)
        return [s.astype(x.dtype, copy=False)]
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return [s.astype(x.dtype, copy=False), u.astype(x.dtype, copy=False),
            _adj(xp, vh).astype(x.dtype, copy=False)]


Svd = svd_kernel


@register_gradient("Svd")
def _svd_grad(op, grad_s, *grad_uv):
    # The singular values' gradient, A -> U diag(gs) V^H. The singular vectors' gradient is not
    # implemented: an op that used u or v cannot be differentiated (raises rather than lie).
    from featherflow._src.api.array_ops import expand_dims  # noqa: PLC0415

    if op.attrs.get("compute_uv", True):
        raise NotImplementedError("The gradient of Svd with compute_uv=True is not implemented "
                                  "in featherflow. Received: compute_uv=True")
    a = op.inputs[0]
    _, u, v = execute(Svd, (a,), {"compute_uv": True, "full_matrices": False})
    return (_mm(u * expand_dims(grad_s, -2), v, adjoint_b=True),)
