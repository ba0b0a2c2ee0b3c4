"""Gradient of Einsum (ops/defs/linalg.py), for any equation the kernel accepts: any number of
operands, implicit output ('ij,jk'), ellipsis with broadcasting, repeated labels (diagonals,
traces) and labels summed out of one operand only.

The gradient of operand i is itself an einsum: the output gradient contracted with the other
operands (conjugated for complex dtypes, as TensorFlow does) down to operand i's distinct labels.
Then three fix-ups give it operand i's exact shape:
- labels that only operand i has (summed out in the forward pass) are broadcast back;
- a label repeated in operand i (a diagonal) is spread back onto that diagonal with an identity
  mask;
- size-1 axes of operand i that broadcast against a larger ellipsis axis are summed.

Leading batch axes on the output gradient (vectorized Jacobians) ride along as extra labels.
"""
from __future__ import annotations

import string

from featherflow._src.ops.defs.grad_util import batch_rank, batchable, sum_to
from featherflow._src.ops.registry import register_gradient

_ELLIPSIS = "..."


def _shape(t):
    return tuple(t._value.shape)


def parse(equation, shapes):
    """(labels per operand, output labels, fresh-letter iterator): the equation with every
    ellipsis replaced by explicit letters (right-aligned, as broadcasting aligns them) and the
    implicit output made explicit (NumPy's rule, which the kernel follows: ellipsis axes first,
    then the labels used exactly once, in sorted order)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    used = set(eq)
    fresh = (c for c in string.ascii_letters if c not in used)
    ranks = [len(s) - len(t.replace(_ELLIPSIS, "")) if _ELLIPSIS in t else 0
             for t, s in zip(terms, shapes)]
    width = max(ranks, default=0)
    ell = "".join(next(fresh) for _ in range(width))
    labels = [t.replace(_ELLIPSIS, ell[width - r:]) for t, r in zip(terms, ranks)]
    if not arrow:
        named = "".join(t.replace(_ELLIPSIS, "") for t in terms)
        once = sorted(c for c in set(named) if named.count(c) == 1)
        rhs = (_ELLIPSIS if any(_ELLIPSIS in t for t in terms) else "") + "".join(once)
    return labels, rhs.replace(_ELLIPSIS, ell), fresh


def _sizes(labels, shapes):
    """Each label's size (the largest among its axes: size-1 axes broadcast)."""
    size = {}
    for lab, shape in zip(labels, shapes):
        for c, d in zip(lab, shape):
            size[c] = max(size.get(c, d), d)
    return size


def _unique(labels):
    return "".join(dict.fromkeys(labels))


def _diagonal_mask(labels, size, lead, dtype):
    """A tensor broadcasting to lead + [size of each label], 1 where every repeated label has
    equal coordinates, else 0 (a product of identity matrices, one per repeat)."""
    from featherflow._src.api.array_ops import reshape  # noqa: PLC0415
    from featherflow._src.api.manip_ops import eye  # noqa: PLC0415

    mask = None
    first = {}
    rank = len(lead) + len(labels)
    for p, c in enumerate(labels):
        if c not in first:
            first[c] = p
            continue
        dims = [1] * rank
        dims[len(lead) + first[c]] = dims[len(lead) + p] = size[c]
        m = reshape(eye(size[c], dtype=dtype), dims)
        mask = m if mask is None else mask * m
    return mask


def _operand_grad(i, grad, g_labels, batch, inputs, labels, size):
    from featherflow._src.api.array_ops import broadcast_to, reshape  # noqa: PLC0415
    from featherflow._src.api.linalg_ops import einsum  # noqa: PLC0415
    from featherflow._src.api.math_ops import conj  # noqa: PLC0415

    x = inputs[i]
    lab = labels[i]
    terms, operands = [g_labels], [grad]
    for j, (t, lj) in enumerate(zip(inputs, labels)):
        if j == i:
            continue
        full = tuple(size[c] for c in lj)
        if _shape(t) != full:  # NOTE: explicit broadcast of size-1 ellipsis axes
            t = broadcast_to(t, full)
        terms.append(lj)
        operands.append(conj(t) if t._dtype.is_complex else t)
    available = set("".join(terms))
    uniq = _unique(lab)
    kept = "".join(c for c in uniq if c in available)
    lead = _shape(grad)[:len(batch)]
    target = batch + kept
    if len(operands) == 1 and g_labels == target:
        g = grad
    else:
        g = einsum(",".join(terms) + "->" + target, *operands)
    if kept != uniq:
        # Labels only operand i has: every element of it got the same gradient.
        g = reshape(g, lead + tuple(size[c] if c in available else 1 for c in uniq))
        g = broadcast_to(g, lead + tuple(size[c] for c in uniq))
    if uniq != lab:
        # Repeated labels: the gradient lives on the diagonal only.
        seen = set()
        dims = []
        for c in lab:
            dims.append(1 if c in seen else size[c])
            seen.add(c)
        g = reshape(g, lead + tuple(dims)) * _diagonal_mask(lab, size, lead, g.dtype)
    return sum_to(g, _shape(x), len(lead))


@register_gradient("Einsum")
def _einsum_grad(op, grad):
    inputs = op.inputs
    shapes = [_shape(t) for t in inputs]
    labels, out_labels, fresh = parse(op.attrs["equation"], shapes)
    size = _sizes(labels, shapes)
    nb = batch_rank(grad, op.outputs[0])
    batch = "".join(next(fresh) for _ in range(nb))
    g_labels = batch + out_labels
    skip = op.skip_input_indices
    return tuple(None if i in skip or not t._dtype.is_floating and not t._dtype.is_complex
                 else _operand_grad(i, grad, g_labels, batch, inputs, labels, size)
                 for i, t in enumerate(inputs))


batchable("Einsum")
