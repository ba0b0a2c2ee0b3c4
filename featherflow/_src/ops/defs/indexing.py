"""Indexing primitives: StridedSlice, GatherV2, GatherNd, Unique, UniqueWithCounts.

Out-of-range indices are data-dependent errors: kernels raise ValueError with TensorFlow's
message and dispatch turns it into InvalidArgumentError.
"""
from __future__ import annotations

from functools import lru_cache

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import primitive


# ---------------------------------------------------------------------------------------------
# StridedSlice: TensorFlow's sparse slice spec -> a NumPy basic-indexing key
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def strided_key(shape, begin, end, strides, begin_mask, end_mask, ellipsis_mask,
                new_axis_mask, shrink_axis_mask):
    """The NumPy key (ints, slices, None) for a TF strided slice of `shape`.

    Raises ValueError with TF's message for bad specs and out-of-bounds shrink indices.
    """
    n = len(begin)
    if len(end) != n or len(strides) != n:
        raise ValueError(f"Expected begin, end, and strides to be 1D equal size tensors, but got "
                         f"shapes [{n}], [{len(end)}], and [{len(strides)}] instead.")
    if ellipsis_mask & (ellipsis_mask - 1):
        raise ValueError("Multiple ellipses in slice spec not allowed")
    rank = len(shape)
    if rank == 0 and any(not (ellipsis_mask | new_axis_mask) >> i & 1 for i in range(n)):
        raise ValueError("Attempting to slice scalar input.")
    # Input dims the ellipsis stands for: all not consumed by the other (non-newaxis) entries.
    consumed = sum(1 for i in range(n) if not (ellipsis_mask >> i & 1)
                   and not (new_axis_mask >> i & 1))
    key, dim = [], 0
    has_ellipsis = bool(ellipsis_mask)
    for i in range(n):
        bit = 1 << i
        if ellipsis_mask & bit:
            span = max(0, rank - consumed)
            key.extend([slice(None)] * span)
            dim += span
            continue
        if new_axis_mask & bit:
            key.append(None)
            continue
        if dim >= rank:
            raise ValueError(f"Index out of range using input dim {dim}; input has only {rank} "
                             "dims")
        d = shape[dim]
        s = strides[i]
        if s == 0:
            raise ValueError(f"strides[{i}] must be non-zero")
        if shrink_axis_mask & bit:
            b = begin[i]
            if not -d <= b < d:
                # TF reports a negative index after adding the dimension (-4 of 3 -> -1).
                raise ValueError(f"slice index {b + d if b < 0 else b} of dimension {dim} out "
                                 "of bounds.")
            key.append(b + d if b < 0 else b)
        else:
            key.append(_canonical_slice(d, begin[i], end[i], s, begin_mask & bit,
                                        end_mask & bit))
        dim += 1
    if not has_ellipsis and dim < rank:
        key.extend([slice(None)] * (rank - dim))
    return tuple(key)


def _canonical_slice(d, b, e, s, b_masked, e_masked):
    """TF's clamping rules as a Python slice with no negative (wrap-around) bounds."""
    if s > 0:
        b = 0 if b_masked else min(max(b + d if b < 0 else b, 0), d)
        e = d if e_masked else min(max(e + d if e < 0 else e, 0), d)
        return slice(b, e, s)
    b = d - 1 if b_masked else min(max(b + d if b < 0 else b, -1), d - 1)
    e = -1 if e_masked else min(max(e + d if e < 0 else e, -1), d - 1)
    if b < 0:
        return slice(0, 0, 1)
    return slice(b, None if e < 0 else e, s)


@primitive("StridedSlice", out_dtype="same")
def StridedSlice(xp, x, *, begin, end, strides, begin_mask=0, end_mask=0, ellipsis_mask=0,
                 new_axis_mask=0, shrink_axis_mask=0):
    key = strided_key(x.shape, begin, end, strides, begin_mask, end_mask, ellipsis_mask,
                      new_axis_mask, shrink_axis_mask)
    out = x[key] if key else x
    if not hasattr(out, "dtype"):  # one element of a string (object) array
        return xp.array(out, dtype=object)
    # A copy: a small slice must not keep its (possibly large) source buffer alive.
    return out.copy() if hasattr(out, "base") and out.base is not None else out


# ---------------------------------------------------------------------------------------------
# Gathers
# ---------------------------------------------------------------------------------------------
def _pos(shape, flat):
    """TF's spelling of a position in an index array: `0,1` for a 2-d position."""
    out = []
    for d in reversed(shape):
        out.append(flat % d)
        flat //= d
    return ",".join(str(v) for v in reversed(out)) if out else "0"


def _check_range(xp, indices, limit):
    bad = (indices < 0) | (indices >= limit)
    if bool(bad.any()):
        flat = int(xp.argmax(bad.reshape(-1)))
        value = int(indices.reshape(-1)[flat])
        raise ValueError(f"indices[{_pos(indices.shape, flat)}] = {value} is not in "
                         f"[0, {limit})")


@primitive("GatherV2", same_dtype=0, out_dtype="same")
def GatherV2(xp, params, indices, *, axis, batch_dims=0):
    params, indices = xp.asarray(params), xp.asarray(indices)
    _check_range(xp, indices, params.shape[axis])
    if batch_dims == 0:
        out = xp.take(params, indices, axis=axis)
        return out if hasattr(out, "dtype") else xp.array(out, dtype=object)
    batch = params.shape[:batch_dims]
    nb = 1
    for d in batch:
        nb *= d
    p = params.reshape((nb,) + params.shape[batch_dims:])
    ix = indices.reshape((nb,) + indices.shape[batch_dims:])
    parts = [xp.take(p[i], ix[i], axis=axis - batch_dims) for i in range(nb)]
    out_tail = params.shape[batch_dims:axis] + indices.shape[batch_dims:] + params.shape[axis + 1:]
    if not parts:
        return xp.zeros(batch + out_tail, dtype=params.dtype)
    return xp.stack(parts).reshape(batch + out_tail)


def _gather_nd(xp, params, indices):
    k = indices.shape[-1]
    flat = indices.reshape(-1, k)
    limits = xp.asarray(params.shape[:k], dtype=indices.dtype)
    bad = ((flat < 0) | (flat >= limits)).any(axis=1) if k else None
    if bad is not None and bool(bad.any()):
        i = int(xp.argmax(bad))
        idx = ", ".join(str(int(v)) for v in flat[i])
        raise ValueError(f"indices[{i}] = [{idx}] does not index into param shape "
                         f"[{','.join(map(str, params.shape))}], node name: GatherNd")
    out = params[tuple(flat[:, j] for j in range(k))] if k else \
        xp.broadcast_to(params, (flat.shape[0],) + params.shape)
    return xp.array(out.reshape(indices.shape[:-1] + params.shape[k:]))


@primitive("GatherNd", same_dtype=0, out_dtype="same")
def GatherNd(xp, params, indices, *, batch_dims=0):
    params, indices = xp.asarray(params), xp.asarray(indices)
    if batch_dims == 0:
        return _gather_nd(xp, params, indices)
    batch = params.shape[:batch_dims]
    nb = 1
    for d in batch:
        nb *= d
    p = params.reshape((nb,) + params.shape[batch_dims:])
    ix = indices.reshape((nb,) + indices.shape[batch_dims:])
    k = indices.shape[-1]
    tail = indices.shape[batch_dims:-1] + params.shape[batch_dims + k:]
    if nb == 0:
        return xp.zeros(batch + tail, dtype=params.dtype)
    return xp.stack([_gather_nd(xp, p[i], ix[i]) for i in range(nb)]).reshape(batch + tail)


# ---------------------------------------------------------------------------------------------
# Unique
# ---------------------------------------------------------------------------------------------
def _unique(xp, x, out_idx):
    x = xp.asarray(x)
    if x.ndim != 1:
        raise ValueError("unique expects a 1D vector.")
    values, first, inverse, counts = xp.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True)
    # TF orders the unique values by first occurrence, NumPy sorts them.
    order = xp.argsort(first, kind="stable")
    rank = xp.empty_like(order)
    rank[order] = xp.arange(order.size)
    return values[order], rank[inverse.reshape(-1)].astype(out_idx), counts[order].astype(out_idx)


@primitive("Unique", num_outputs=2, differentiable=False)
def Unique(xp, x, *, out_idx):
    y, idx, _ = _unique(xp, x, out_idx)
    return y, idx


@primitive("UniqueWithCounts", num_outputs=3, differentiable=False)
def UniqueWithCounts(xp, x, *, out_idx):
    return _unique(xp, x, out_idx)

