"""tf.linalg basics: inv, det, cholesky, solve, triangular_solve, norm, trace, diag, diag_part,
tensor_diag, tensor_diag_part."""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.api._args import pair, tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import linalg_extra as L

_execute = dispatch.execute


def inv(input, adjoint=False, name=None):  # noqa: A002 - TF's name
    """The inverse of each square matrix in the last two dimensions (of its adjoint when
    `adjoint`); InvalidArgumentError when a matrix is singular.

    >>> import featherflow as tf
    >>> tf.linalg.inv(tf.constant([[2.0, 0.0], [0.0, 4.0]])).numpy()
    array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    return _execute(L.MatrixInverse, (tensor(input),), {"adjoint": bool(adjoint)})


def det(input, name=None):  # noqa: A002
    """The determinant of each square matrix in the last two dimensions.

    >>> import featherflow as tf
    >>> float(tf.linalg.det(tf.constant([[1.0, 2.0], [3.0, 4.0]])))
    -2.0
    """
    return _execute(L.MatrixDeterminant, (tensor(input),))


def cholesky(input, name=None):  # noqa: A002
    """The lower Cholesky factor of each Hermitian positive definite matrix (reads the lower
    triangle only); a matrix that is not positive definite gives NaN, as TF 2.21 on CPU.

    >>> import featherflow as tf
    >>> tf.linalg.cholesky(tf.constant([[4.0, 2.0], [2.0, 5.0]])).numpy()
    array([[2., 0.],
           [1., 2.]], dtype=float32)
    """
    return _execute(L.Cholesky, (tensor(input),))


def solve(matrix, rhs, adjoint=False, name=None):
    """Solves matrix @ X = rhs (matrix^H @ X = rhs when `adjoint`) for each batch member.

    >>> import featherflow as tf
    >>> tf.linalg.solve(tf.constant([[2.0, 0.0], [0.0, 4.0]]), tf.constant([[1.0], [1.0]])).numpy()
    array([[0.5 ],
           [0.25]], dtype=float32)
    """
    a, b = pair(matrix, rhs)
    return _execute(L.MatrixSolve, (a, b), {"adjoint": bool(adjoint)})


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves a triangular system (the lower or upper triangle of `matrix` is read); batch
    dimensions broadcast.

    >>> import featherflow as tf
    >>> tf.linalg.triangular_solve(tf.constant([[2.0, 0.0], [1.0, 1.0]]),
    ...                            tf.constant([[2.0], [3.0]])).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    a, b = pair(matrix, rhs)
    return _execute(L.MatrixTriangularSolve, (a, b), {"lower": bool(lower),
                                                      "adjoint": bool(adjoint)})


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0,
         align="RIGHT_LEFT"):
    """A batch of matrices with `diagonal` on their k-th diagonal (a single k).

    >>> import featherflow as tf
    >>> tf.linalg.diag(tf.constant([1, 2])).numpy()
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    from featherflow._src.framework import errors  # noqa: PLC0415

    d = tensor(diagonal)
    if len(d._value.shape) < 1:
        raise errors.InvalidArgumentError(
            None, None, f"diagonal must be at least 1-dim, received shape: "
            f"{list(d._value.shape)} [Op:MatrixDiagV3]")
    k = _single_k(k)
    pad = padding_value.numpy().item() if hasattr(padding_value, "numpy") else padding_value
    return _execute(L.MatrixDiagV3, (d,), {"k": k, "num_rows": int(num_rows),
                                           "num_cols": int(num_cols), "padding_value": pad})


def diag_part(input, name="diag_part", k=0, padding_value=0,  # noqa: A002
              align="RIGHT_LEFT"):
    """The k-th diagonal of each matrix in the last two dimensions (a single k).

    >>> import featherflow as tf
    >>> tf.linalg.diag_part(tf.constant([[1, 2], [3, 4]])).numpy()
    array([1, 4], dtype=int32)
    """
    from featherflow._src.framework import errors  # noqa: PLC0415

    x = tensor(input)
    if len(x._value.shape) < 2:
        raise errors.InvalidArgumentError(
            None, None, f"input must be at least 2-dim, received shape: "
            f"{list(x._value.shape)} [Op:MatrixDiagPartV3]")
    return _execute(L.MatrixDiagPartV3, (x,), {"k": _single_k(k)})


def _single_k(k):
    if hasattr(k, "numpy"):
        k = k.numpy()
    values = np.asarray(k).reshape(-1).tolist()
    if len(values) == 2 and values[0] == values[1]:
        values = values[:1]
    if len(values) != 1:
        raise NotImplementedError(f"featherflow's diag/diag_part take a single diagonal k. "
                                  f"Received: k={k!r}")
    return int(values[0])


def tensor_diag(diagonal, name=None):
    """A tensor of shape D + D with `diagonal` (shape D) on its diagonal (tf.linalg.tensor_diag).

    >>> import featherflow as tf
    >>> tf.linalg.tensor_diag(tf.constant([1, 2])).numpy()
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    from featherflow._src.framework import errors  # noqa: PLC0415

    d = tensor(diagonal)
    if len(d._value.shape) < 1:
        raise errors.InvalidArgumentError(
            None, None, "Input must be at least rank 1, got 0 [Op:Diag]")
    return _execute(L.Diag, (d,))


def tensor_diag_part(input, name=None):  # noqa: A002
    """The diagonal of a tensor of shape D + D (tf.linalg.tensor_diag_part).

    >>> import featherflow as tf
    >>> tf.linalg.tensor_diag_part(tf.constant([[1, 2], [3, 4]])).numpy()
    array([1, 4], dtype=int32)
    """
    return _execute(L.DiagPart, (tensor(input),))


def trace(x, name=None):
    """The sum of the main diagonal of each matrix in the last two dimensions.

    >>> import featherflow as tf
    >>> int(tf.linalg.trace(tf.constant([[1, 2], [3, 4]])))
    5
    """
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415

    return reduce_sum(diag_part(x), axis=-1)


# -- norm -------------------------------------------------------------------------------------
_MATRIX_ORDS = ["euclidean", "fro", 1, 2, np.inf]


def _is_real_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """Vector norms (ord 'euclidean', any p > 0, inf) over one axis or all, and matrix norms
    ('fro'/'euclidean', 1, 2, inf) over two axes, as tf.norm.

    >>> import featherflow as tf
    >>> float(tf.norm(tf.constant([3.0, 4.0])))
    5.0
    """
    from featherflow._src.api import math_ops as M  # noqa: PLC0415
    from featherflow._src.api.array_ops import squeeze  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import reduce_max, reduce_sum  # noqa: PLC0415

    x = _tensor(tensor)
    keepdims = bool(keepdims)
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix:
        axis = tuple(axis)
        if not all(isinstance(a, numbers.Integral) for a in axis) or axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             f"got {axis}")
        ok = ord in ("euclidean", "fro") if isinstance(ord, str) else \
            _is_real_number(ord) and ord in (1, 2, np.inf)
        if not ok:
            raise ValueError(f"'ord' must be a supported matrix norm in "
                             f"['euclidean', 'fro', 1, 2, inf], got {ord}")
    else:
        if not (axis is None or isinstance(axis, numbers.Integral)):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, "
                             f"got {axis}")
        if not (ord == "euclidean" or (_is_real_number(ord) and ord > 0)):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (int(axis),)
    rank = len(x._value.shape)
    if is_matrix:
        axis = tuple(a + rank if a < 0 else a for a in axis)
    if is_matrix and ord == 2 and not isinstance(ord, str):
        result = _spectral_norm(x, axis, rank)
    elif ord in ("euclidean", "fro") or (ord == 2 and not isinstance(ord, str)):
        prod = x * M.conj(x) if x._dtype.is_complex else x * x
        result = M.sqrt(reduce_sum(prod, axis, keepdims=True))
    else:
        a = M.abs(x)
        if x._dtype.is_complex:
            a = M.cast(a, x._dtype)
        if ord == 1 and is_matrix:
            result = reduce_max(reduce_sum(a, axis[0], keepdims=True), axis[1], keepdims=True)
        elif ord == np.inf and is_matrix:
            result = reduce_max(reduce_sum(a, axis[1], keepdims=True), axis[0], keepdims=True)
        elif ord == 1:
            result = reduce_sum(a, axis, keepdims=True)
        elif ord == np.inf:
            result = reduce_max(a, axis, keepdims=True)
        else:
            p = float(ord)
            result = M.pow(reduce_sum(M.pow(a, p), axis, keepdims=True), 1.0 / p)
    if not keepdims:
        result = squeeze(result, list(axis) if axis is not None else None)
    return result


def _tensor(x):
    return tensor(x)


def _spectral_norm(x, axis, rank):
    """The largest singular value over `axis` (two axes), kept as size-1 dimensions."""
    from featherflow._src.api.array_ops import reshape, transpose  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import reduce_max  # noqa: PLC0415

    rest = [i for i in range(rank) if i not in axis]
    moved = transpose(x, rest + list(axis))
    (s,) = _execute(L.Svd, (moved,), {"compute_uv": False, "full_matrices": False})
    top = reduce_max(s, axis=-1)
    shape = list(x._value.shape)
    for a in axis:
        shape[a] = 1
    # `top` is ordered as `rest`, which keeps the original order, so a reshape restores it.
    return reshape(top, shape)
