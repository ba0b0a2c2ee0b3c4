"""Resource-variable primitives: read, assign, scatter and gather on a variable's buffer.

The first input of every op here is a variable handle (a `tf.resource` tensor) whose backend value
is the variable's buffer: the kernels receive that buffer and write into it IN PLACE. Update ops
return no output (`num_outputs=0`). Every kernel validates everything (shapes, index ranges,
zero divisors) before its first write, so a failed update leaves the buffer unchanged.

Dtype rules (which dtypes a variable op accepts) are checked by the Variable, which knows its
dtype; the registry's `dtypes=` would only see the handle's `resource` dtype.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import errors
from featherflow._src.ops.registry import primitive, register_gradient


def _dims(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _shape_list(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


# ---------------------------------------------------------------------------------------------
# Buffers and reads
# ---------------------------------------------------------------------------------------------
@primitive("DeepCopy", differentiable=False, out_dtype="same")
def deep_copy(xp, x):
    """A fresh array (never a NumPy scalar, never a view) with x's contents: a variable buffer."""
    return xp.array(x, copy=True)


# quiet=False: indexing cannot warn, and the read is the hottest resource op.
@primitive("ReadVariableOp", same_dtype=0, quiet=False)
def read_variable(xp, buf):
    """The variable's value. Aliases the buffer (a view); the Variable copies on its next write
    while such a view lives. A 0-d numeric value is returned as a NumPy scalar (a copy, cheaper
    than a view, and what tensors hold for 0-d values anyway)."""
    if buf.ndim == 0 and buf.dtype.kind != "O":
        return buf[()]
    return buf.view()


@register_gradient("ReadVariableOp")
def _read_variable_grad(op, grad):
    return grad


def _check_range(xp, indices, limit, op_fmt="flat"):
    """Raises TF's InvalidArgumentError text when an index is outside [0, limit)."""
    idx = xp.asarray(indices)
    if idx.size == 0:
        return idx
    bad = (idx < 0) | (idx >= limit)
    if bool(bad.any()):
        pos = np.unravel_index(int(xp.argmax(bad.reshape(-1))), idx.shape) if idx.ndim else ()
        value = int(idx[pos]) if idx.ndim else int(idx)
        where = ",".join(str(int(p)) for p in pos) if op_fmt == "nd" else \
            str(int(np.ravel_multi_index(pos, idx.shape))) if idx.ndim else "0"
        raise ValueError(f"indices[{where}] = {value} is not in [0, {limit})")
    return idx


@primitive("ResourceGather", same_dtype=0)
def resource_gather(xp, buf, indices, batch_dims=0):
    idx = _check_range(xp, indices, buf.shape[0] if buf.ndim else 0, "nd")
    return xp.take(buf, idx, axis=0)


def _check_nd(xp, indices, shape, what, suffix=""):
    idx = xp.asarray(indices)
    k = idx.shape[-1] if idx.ndim else 0
    if idx.ndim == 0 or k > len(shape):
        raise ValueError(f"index innermost dimension length must be <= params rank; saw: {k} vs. "
                         f"{len(shape)}")
    flat = idx.reshape(-1, k)
    lim = xp.asarray(shape[:k], dtype=np.int64) if k else xp.zeros((0,), np.int64)
    bad = ((flat < 0) | (flat >= lim)).any(axis=1) if flat.size else xp.zeros((0,), bool)
    if bool(bad.any()):
        i = int(xp.argmax(bad))
        row = ", ".join(str(int(v)) for v in flat[i])
        raise ValueError(f"indices[{i}] = [{row}] does not index into {what} {_dims(shape)}"
                         f"{suffix}")
    return flat, k


@primitive("ResourceGatherNd", same_dtype=0)
def resource_gather_nd(xp, buf, indices):
    flat, k = _check_nd(xp, indices, buf.shape, "param shape",
                        ", node name: ResourceGatherNd")
    out = buf[tuple(flat.T)] if k else xp.broadcast_to(buf, (flat.shape[0],) + buf.shape)
    return xp.array(out.reshape(tuple(xp.asarray(indices).shape[:-1]) + buf.shape[k:]), copy=True)


# ResourceGather / ResourceGatherNd gradients (IndexedSlices / dense w.r.t. the variable) are
# registered in indexing_grad.py beside the GatherV2 / GatherNd ones.


# ---------------------------------------------------------------------------------------------
# Whole-buffer updates
# ---------------------------------------------------------------------------------------------
@primitive("AssignVariableOp", same_dtype=0, num_outputs=0, differentiable=False)
def assign_variable(xp, buf, value):
    """Writes `value` (already of the buffer's shape: the Variable checked it) into the buffer."""
    if value.shape != buf.shape:
        raise ValueError(f"Trying to assign variable with wrong shape. Expected "
                         f"{_dims(buf.shape)} got {_dims(value.shape)}")
    buf[...] = value
    return ()


def _update(name, fn):
    def kernel(xp, buf, value):
        if value.shape != buf.shape:
            raise ValueError(f"Cannot update variable with shape {_dims(buf.shape)} using a Tensor "
                             f"with shape {_dims(value.shape)}, shapes must be equal.")
        fn(buf, value, out=buf)
        return ()

    kernel.__name__ = name
    # quiet=False: the one ufunc call warns from this module, which the warnings filter on
    # ops.defs silences (see dispatch.py); saves the error-state switch on every update.
    return primitive(name, same_dtype=0, num_outputs=0, differentiable=False,
                     quiet=False)(kernel)


AssignAddVariableOp = _update("AssignAddVariableOp", np.add)
AssignSubVariableOp = _update("AssignSubVariableOp", np.subtract)


@primitive("ResourceCountUpTo", same_dtype=0, differentiable=False)
def resource_count_up_to(xp, buf, limit=0):
    old = buf[()]
    if old >= limit:
        raise errors.OutOfRangeError(None, None,
                                     f"Reached limit of {limit} [Op:ResourceCountUpTo]")
    buf[...] = old + 1
    return old


# ---------------------------------------------------------------------------------------------
# Scatter (rows along the first axis): ResourceScatter{Update,Add,Sub,Mul,Div,Min,Max}
# ---------------------------------------------------------------------------------------------
def _trunc_div(a, b):
    """Integer division rounding toward zero, as TensorFlow's integer ScatterDiv."""
    q = a // b
    return q + ((q < 0) & (q * b != a))


def _scatter(name, mode):
    def kernel(xp, buf, indices, updates):
        idx = xp.asarray(indices)
        upd = xp.asarray(updates)
        if buf.ndim == 0:
            raise ValueError(f"params must be at least 1-D, got shape {_dims(buf.shape)}")
        want = idx.shape + buf.shape[1:]
        if upd.ndim and upd.shape != want:
            if upd.shape[:idx.ndim] != idx.shape:
                raise ValueError(f"The shape of indices ({_dims(idx.shape)}) must be a prefix of "
                                 f"the shape of updates ({_dims(upd.shape)})")
            raise ValueError(f"Must have updates.shape = indices.shape + params.shape[1:] or "
                             f"updates.shape = [], got updates.shape {_dims(upd.shape)}, "
                             f"indices.shape {_dims(idx.shape)}, params.shape "
                             f"{_dims(buf.shape)}")
        _check_range(xp, idx, buf.shape[0])
        flat = idx.reshape(-1)
        upd = xp.broadcast_to(upd, want).reshape((flat.shape[0],) + buf.shape[1:])
        if mode == "div" and buf.dtype.kind in "iu" and bool((upd == 0).any()):
            raise ValueError("updates must not contain 0")
        if mode == "update":
            buf[flat] = upd
        elif mode == "div" and buf.dtype.kind in "iu":
            # No ufunc.at for truncating division: apply duplicates one at a time.
            for i in range(flat.shape[0]):
                j = int(flat[i])
                buf[j] = _trunc_div(buf[j], upd[i])
        else:
            getattr(xp, _UFUNC[mode]).at(buf, flat, upd)
        return ()

    kernel.__name__ = name
    # quiet=False: the one ufunc call warns from this module, which the warnings filter on
    # ops.defs silences (see dispatch.py); saves the error-state switch on every update.
    return primitive(name, same_dtype=0, num_outputs=0, differentiable=False,
                     quiet=False)(kernel)


_UFUNC = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide",
          "min": "minimum", "max": "maximum"}

ResourceScatterUpdate = _scatter("ResourceScatterUpdate", "update")
ResourceScatterAdd = _scatter("ResourceScatterAdd", "add")
ResourceScatterSub = _scatter("ResourceScatterSub", "sub")
ResourceScatterMul = _scatter("ResourceScatterMul", "mul")
ResourceScatterDiv = _scatter("ResourceScatterDiv", "div")
ResourceScatterMin = _scatter("ResourceScatterMin", "min")
ResourceScatterMax = _scatter("ResourceScatterMax", "max")


# ---------------------------------------------------------------------------------------------
# ScatterNd: ResourceScatterNd{Update,Add,Sub,Max,Min}
# ---------------------------------------------------------------------------------------------
def _scatter_nd(name, mode):
    def kernel(xp, buf, indices, updates):
        idx = xp.asarray(indices)
        upd = xp.asarray(updates)
        k = idx.shape[-1] if idx.ndim else 0
        batch = idx.shape[:-1]
        nb = len(batch)
        if upd.shape[:nb] != batch or upd.ndim < nb:
            raise ValueError(f"Dimensions [0,{nb}) of indices[shape={_dims(idx.shape)}] = "
                             f"{_dims(batch)[1:-1]} must match dimensions [0,{nb}) of "
                             f"updates[shape={_dims(upd.shape)}] = "
                             f"{_dims(upd.shape[:nb])[1:-1]}")
        if upd.shape[nb:] != buf.shape[k:]:
            raise ValueError(f"Dimensions [{k},{buf.ndim}) of input[shape={_dims(buf.shape)}] "
                             f"must match dimensions [{nb},{upd.ndim}) of "
                             f"updates[shape={_dims(upd.shape)}]")
        flat, k = _check_nd(xp, idx, buf.shape, "shape")
        key = tuple(flat.T)
        upd = upd.reshape((flat.shape[0],) + buf.shape[k:])
        if mode == "update":
            buf[key] = upd
        else:
            getattr(xp, _UFUNC[mode]).at(buf, key, upd)
        return ()

    kernel.__name__ = name
    # quiet=False: the one ufunc call warns from this module, which the warnings filter on
    # ops.defs silences (see dispatch.py); saves the error-state switch on every update.
    return primitive(name, same_dtype=0, num_outputs=0, differentiable=False,
                     quiet=False)(kernel)


ResourceScatterNdUpdate = _scatter_nd("ResourceScatterNdUpdate", "update")
ResourceScatterNdAdd = _scatter_nd("ResourceScatterNdAdd", "add")
ResourceScatterNdSub = _scatter_nd("ResourceScatterNdSub", "sub")
ResourceScatterNdMax = _scatter_nd("ResourceScatterNdMax", "max")
ResourceScatterNdMin = _scatter_nd("ResourceScatterNdMin", "min")


# ---------------------------------------------------------------------------------------------
# Sliced assignment: v[key].assign(value)
# ---------------------------------------------------------------------------------------------
def _check_key(shape, key):
    """TF's bounds check for integer indices in a basic-indexing key."""
    dim = 0
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - n_real
        elif k is None:
            continue
        else:
            if dim >= len(shape):
                raise ValueError(f"Index out of range using input dim {dim}; input has only "
                                 f"{len(shape)} dims")
            if isinstance(k, int) and not -shape[dim] <= k < shape[dim]:
                raise ValueError(f"slice index {k} of dimension {dim} out of bounds.")
            dim += 1


@primitive("ResourceStridedSliceAssign", same_dtype=0, num_outputs=0, differentiable=False)
def resource_strided_slice_assign(xp, buf, value, key=()):
    """buf[key] = value, where `key` is a tuple of ints, slices, Ellipsis and None (newaxis);
    `value` must broadcast to the slice's shape."""
    _check_key(buf.shape, key)
    target = xp.shape(buf[key])
    try:
        xp.broadcast_shapes(value.shape, target)
        ok = len(value.shape) <= len(target) and \
            xp.broadcast_shapes(value.shape, target) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"Cannot broadcast input shape {_dims(value.shape)} into final shape "
                         f"{_dims(target)}")
    buf[key] = value
    return ()
