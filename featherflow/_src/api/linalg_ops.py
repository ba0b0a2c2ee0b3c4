"""tf.linalg products: matmul (also the `@` operator), tensordot and einsum."""
from __future__ import annotations

import re
import string

from featherflow._src.api._args import matching, pair
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import EagerTensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import linalg as _la

_execute = dispatch.execute
_ET = EagerTensor
_MATMUL = _la.MatMul
_BATCH = _la.BatchMatMulV2


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, grad_a=False, grad_b=False,
           name=None):
    """The matrix product a @ b over the last two axes; leading (batch) axes broadcast.

    >>> import featherflow as tf
    >>> tf.matmul(tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]])).numpy()
    array([[11.]], dtype=float32)
    """
    if type(a) is not _ET or type(b) is not _ET:
        a, b = pair(a, b)
    if transpose_a or transpose_b or adjoint_a or adjoint_b or output_type is not None:
        return _matmul_general(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b,
                               output_type)
    # MatMul for matrices (and for a vector against a matrix: TF's "different ndims" error).
    if len(a._value.shape) <= 2 and len(b._value.shape) <= 2:
        return _execute(_MATMUL, (a, b), {"transpose_a": False, "transpose_b": False})
    return _execute(_BATCH, (a, b), {"adj_x": False, "adj_y": False})


def _matmul_general(a, b, transpose_a, transpose_b, adjoint_a, adjoint_b, output_type):
    from featherflow._src.api import math_ops as m  # noqa: PLC0415

    for which, t, adj in (("a", transpose_a, adjoint_a), ("b", transpose_b, adjoint_b)):
        if t and adj:
            raise ValueError(f"Only one of `transpose_{which}` and `adjoint_{which}` can be "
                             f"True. Received `transpose_{which}`={t}, `adjoint_{which}`={adj}.")
    if output_type is not None:
        output_type = _dt.as_dtype(output_type)
        if output_type is not a._dtype:
            a, b = m.cast(a, output_type), m.cast(b, output_type)
    if len(a._value.shape) <= 2 and len(b._value.shape) <= 2:
        # adjoint = conj + transpose; conj is the identity for real types.
        if adjoint_a:
            a = m.conj(a)
        if adjoint_b:
            b = m.conj(b)
        return _execute(_MATMUL, (a, b), {"transpose_a": bool(transpose_a or adjoint_a),
                                          "transpose_b": bool(transpose_b or adjoint_b)})
    if transpose_a:
        a = m.conj(a)
    if transpose_b:
        b = m.conj(b)
    return _execute(_BATCH, (a, b), {"adj_x": bool(transpose_a or adjoint_a),
                                     "adj_y": bool(transpose_b or adjoint_b)})


# -- einsum ----------------------------------------------------------------------------------
_EQ = re.compile(r"^[a-zA-Z.,\s]*(->[a-zA-Z.\s]*)?$")


def _check_equation(equation, n):
    if not isinstance(equation, str) or not _EQ.match(equation):
        raise ValueError(f"Invalid equation: expected subscripts of letters, ',', '...' and one "
                         f"optional '->'. Received: equation={equation!r}")
    eq = equation.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != n:
        raise ValueError(f'Got {n} inputs for equation "{equation}", expecting {len(terms)}')
    for term in terms + ([rhs] if "->" in eq else []):
        if term.replace("...", "").count(".") or term.count("...") > 1:
            raise ValueError(f"Invalid ellipsis in subscripts {term!r}. Received: "
                             f"equation={equation!r}")
    if "->" in eq:
        labels = set(lhs.replace("...", "").replace(",", ""))
        for c in rhs.replace("...", ""):
            if c not in labels:
                raise ValueError(f"Output subscripts contain the label {c} not present in the "
                                 "input subscripts.")
            if rhs.count(c) > 1:
                raise ValueError(f"Output subscripts contain the label {c} more than once. "
                                 f"Received: equation={equation!r}")
    return eq


def einsum(equation, *inputs, **kwargs):
    """Einstein summation, e.g. 'ij,jk->ik' (matmul) or '...ij->...ji'.

    >>> import featherflow as tf
    >>> tf.einsum("ij,jk->ik", tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]])).numpy()
    array([[11.]], dtype=float32)
    """
    unknown = set(kwargs) - {"name", "optimize"}
    if unknown:
        raise TypeError(f"Invalid keyword arguments for einsum: {sorted(unknown)}. Received: "
                        f"{kwargs!r}")
    eq = _check_equation(equation, len(inputs))
    tensors = tuple(matching(inputs))
    return _execute(_la.Einsum, tensors, {"equation": eq})


# -- tensordot -------------------------------------------------------------------------------
def _tensordot_axes(a, b, axes):
    ra, rb = len(a._value.shape), len(b._value.shape)
    if isinstance(axes, EagerTensor):
        axes = axes.numpy().tolist()
    if hasattr(axes, "tolist"):
        axes = axes.tolist()
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError(f"`axes` must be at least 0. Received: {axes}.")
        if axes > ra or axes > rb:
            raise ValueError(f"`axes` must not be larger than the number of dimensions of "
                             f"tensor {a if axes > ra else b}.  Received {axes}, vs tensor "
                             f"dimensions {ra if axes > ra else rb}.")
        return list(range(ra - axes, ra)), list(range(axes))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise ValueError(f"`axes` must be an integer or have length 2. Received {axes}.")
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError(f"Different number of contraction axes `a` and `b`, {len(ax_a)} != "
                         f"{len(ax_b)}.")
    for ax, r in ((ax_a, ra), (ax_b, rb)):
        for i in ax:
            if not -r <= i < r:
                raise ValueError(f"Contraction axis {i} is out of range for a tensor of rank "
                                 f"{r}. Received: axes={axes}")
    return [i % ra for i in ax_a], [i % rb for i in ax_b]


def tensordot(a, b, axes, name=None):
    """Sums the products of `a` and `b` over the given axes (an int n: the last n of a with the
    first n of b; or a pair of axis lists).

    >>> import featherflow as tf
    >>> tf.tensordot(tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]), 1).numpy()
    np.float32(11.0)
    """
    a, b = pair(a, b)
    ax_a, ax_b = _tensordot_axes(a, b, axes)
    sa, sb = a._value.shape, b._value.shape
    letters = iter(string.ascii_letters)
    la = [next(letters) for _ in sa]
    lb = [next(letters) for _ in sb]
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    if any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b)):
        free_a = [n for i, n in enumerate(sa) if i not in ax_a]
        free_b = [n for j, n in enumerate(sb) if j not in ax_b]
        k_a = _prod(sa[i] for i in ax_a)
        k_b = _prod(sb[j] for j in ax_b)
        raise errors.InvalidArgumentError(
            None, None, f"Matrix size-incompatible: In[0]: [{_prod(free_a)},{k_a}], In[1]: "
            f"[{k_b},{_prod(free_b)}] [Op:MatMul]")
    out = [c for i, c in enumerate(la) if i not in ax_a] + \
        [c for j, c in enumerate(lb) if j not in ax_b]
    eq = f"{''.join(la)},{''.join(lb)}->{''.join(out)}"
    return _execute(_la.Einsum, (a, b), {"equation": eq})


def _prod(values):
    n = 1
    for v in values:
        n *= v
    return n

