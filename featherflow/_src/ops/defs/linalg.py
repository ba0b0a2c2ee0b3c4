"""Matrix products: MatMul (2-D), BatchMatMulV2 (batched, broadcasting batch dims), Einsum."""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.registry import checked_dtypes, primitive

# Types with a CPU kernel in TensorFlow; unsigned types pass TF's attr check but have no kernel
# (NotFoundError), int8/int16 fail the attr check (InvalidArgumentError).
MATMUL_TYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64,
                _dt.complex64, _dt.complex128)
_NO_KERNEL = (_dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64)
_NO_KERNEL_NAMES = frozenset(t.name for t in _NO_KERNEL)  # a set lookup, no DType.__eq__ calls
_HALF = (np.dtype(np.float16), _dt.bfloat16._np)


def _dims(shape):
    return "[" + ",".join(str(n) for n in shape) + "]"


def _no_kernel_check(op_name):
    def check(inputs, attrs):
        d = inputs[0]._dtype
        if d.name in _NO_KERNEL_NAMES:
            raise errors.NotFoundError(
                None, None, f"Could not find device for node: {op_name}[T={d.name}]. "
                f"Registered types: {', '.join(t.name for t in MATMUL_TYPES)} [Op:{op_name}]")
    return check


def _mm(xp, a, b):
    if a.dtype.itemsize == 2 and a.dtype in _HALF:
        # NOTE: accumulate half types in float32 (TF does; NumPy's float16 matmul is also slow).
        return xp.matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return xp.matmul(a, b)


def _matmul(xp, a, b, transpose_a=False, transpose_b=False):
    sa, sb = a.shape, b.shape  # arrays (or NumPy scalars, which have a shape too)
    if len(sa) != 2 or len(sb) != 2:
        raise ValueError(f"In[0] and In[1] has different ndims: {_dims(sa)} vs. {_dims(sb)}"
                         if len(sa) != len(sb) else
                         f"In[0] is not a matrix. Instead it has shape {_dims(sa)}")
    ka = sa[0] if transpose_a else sa[1]
    kb = sb[1] if transpose_b else sb[0]
    if ka != kb:
        raise ValueError(f"Matrix size-incompatible: In[0]: {_dims(sa)}, In[1]: {_dims(sb)}")
    return _mm(xp, a.T if transpose_a else a, b.T if transpose_b else b)


# quiet=False: matmul is a C ufunc, whose warnings the ops.defs filter catches. The check only
# rejects the unsigned types: the others skip it.
MatMul = checked_dtypes(primitive("MatMul", dtypes=MATMUL_TYPES + _NO_KERNEL, out_dtype="same",
                                  check=_no_kernel_check("MatMul"), quiet=False)(_matmul),
                        MATMUL_TYPES)


def _adjoint(xp, x):
    x = xp.swapaxes(x, -1, -2)
    return xp.conj(x) if x.dtype.kind == "c" else x


def _batch_matmul(xp, x, y, adj_x=False, adj_y=False):
    sx, sy = xp.shape(x), xp.shape(y)
    for i, s in enumerate((sx, sy)):
        if len(s) < 2:
            raise ValueError(f"In[{i}] ndims must be >= 2: {len(s)}")
    try:
        np.broadcast_shapes(sx[:-2], sy[:-2])
    except ValueError:
        raise ValueError(f"In[0] and In[1] must have compatible batch dimensions: {_dims(sx)} "
                         f"vs. {_dims(sy)}") from None
    kx = sx[-2] if adj_x else sx[-1]
    ky = sy[-1] if adj_y else sy[-2]
    if kx != ky:
        raise ValueError(f"Matrix size-incompatible: In[0]: {_dims(sx)}, In[1]: {_dims(sy)}")
    out = _mm(xp, _adjoint(xp, x) if adj_x else x, _adjoint(xp, y) if adj_y else y)
    return out


BatchMatMulV2 = primitive("BatchMatMulV2", dtypes=MATMUL_TYPES + _NO_KERNEL, out_dtype="same",
                          check=_no_kernel_check("BatchMatMulV2"))(_batch_matmul)

EINSUM_TYPES = MATMUL_TYPES + (_dt.uint64,)


def _einsum(xp, *operands, equation=""):
    if operands[0].dtype in _HALF:
        out = xp.einsum(equation, *[o.astype(np.float32) for o in operands])
        out = xp.asarray(out).astype(operands[0].dtype)
    else:
        out = xp.einsum(equation, *operands)
    if type(out) is np.ndarray and out.ndim == 0:
        return out[()]
    return out


Einsum = primitive("Einsum", dtypes=EINSUM_TYPES, out_dtype="same")(_einsum)
