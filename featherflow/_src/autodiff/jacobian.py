"""Jacobians on top of the reverse walk (autodiff/backprop.py): `jacobian` and `batch_jacobian`.

Both seed the walk with one-hot cotangents. When every op between the sources and the target
has a gradient that takes a leading batch axis (grad_util.BATCHABLE), all seeds go through one
batched backward pass; otherwise there is one pass per seed, stacked.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.autodiff import backprop
from featherflow._src.ops.defs import grad_util


def _batchable(nodes, target_id):
    """True when every op between the sources and the target (on `nodes`, a `path`) has a
    gradient that takes a leading batch axis (grad_util.BATCHABLE)."""
    needed = {target_id}
    for op, inputs, _attrs, outputs in reversed(nodes):
        if any(id(o) in needed for o in outputs):
            if op.name not in grad_util.BATCHABLE:
                return False
            needed.update(id(t) for t in inputs)
    return True


def _seed(host, y):
    """Host cotangent(s) as a tensor on y's device."""
    from featherflow._src.framework.convert import place_host  # noqa: PLC0415

    return place_host(np.ascontiguousarray(host, dtype=y._dtype._np), y._dtype, y._device)


def _jacobian_flat(tape, y, tracked, vectorize, host_seeds):
    """For each source, the gradients of (seed_k . y) for every row k of `host_seeds` (a host
    array [n] + y.shape), stacked on a new leading axis; None for an unconnected source."""
    from featherflow._src.api import array_ops  # noqa: PLC0415
    from featherflow._src.api.manip_ops import stack  # noqa: PLC0415

    n = host_seeds.shape[0]
    source_ids = backprop._source_ids(tape, tracked)
    if y._dtype not in backprop.TRAINABLE or n == 0:
        return [None] * len(tracked)
    nodes, reach = backprop.path(tape, source_ids)
    nodes = list(nodes)  # a persistent tape may record while we walk
    if vectorize and _batchable(nodes, id(y)):
        grads = backprop.backward(nodes, {id(y): [_seed(host_seeds, y)]}, source_ids, reach,
                                  batch=n)
        out = []
        for s in tracked:
            gl = backprop.source_grads(grads, tape, s)
            out.append(None if gl is None else backprop._densify(backprop.aggregate(gl)))
        return out
    rows = [[] for _ in tracked]
    for k in range(n):
        grads = backprop.backward(nodes, {id(y): [_seed(host_seeds[k], y)]}, source_ids, reach)
        for j, s in enumerate(tracked):
            gl = backprop.source_grads(grads, tape, s)
            rows[j].append(None if gl is None else backprop._densify(backprop.aggregate(gl)))
    out = []
    for j, s in enumerate(tracked):
        if all(r is None for r in rows[j]):
            out.append(None)
            continue
        like = next(r for r in rows[j] if r is not None)
        filled = [r if r is not None else array_ops.zeros_like(like) for r in rows[j]]
        out.append(stack(filled, 0))
    return out


def jacobian(tape, target, sources, unconnected_gradients, vectorize=True):
    from featherflow._src.api import array_ops  # noqa: PLC0415

    unconnected = backprop._unconnected(unconnected_gradients)
    flat_sources = backprop.flatten(sources)
    tracked = [backprop._as_source(s)[0] for s in flat_sources]
    y = backprop._target_tensor(target)
    yshape = y._value.shape
    n = int(np.prod(yshape, dtype=np.int64))
    host = np.eye(n, dtype=y._dtype._np).reshape((n,) + tuple(yshape))
    flat = _jacobian_flat(tape, y, tracked, vectorize, host)
    result = []
    for s, tr, j in zip(flat_sources, tracked, flat):
        sshape = tuple(s.shape.as_list())
        if j is None:
            if unconnected is backprop.UnconnectedGradients.ZERO:
                result.append(array_ops.zeros(tuple(yshape) + sshape, s.dtype))
            else:
                result.append(None)
            continue
        result.append(array_ops.reshape(backprop._densify(j), tuple(yshape) + sshape))
    return backprop.pack_as(sources, result)


def batch_jacobian(tape, target, source, unconnected_gradients, vectorize=True):
    from featherflow._src.api import array_ops  # noqa: PLC0415

    unconnected = backprop._unconnected(unconnected_gradients)
    y = backprop._target_tensor(target)
    tr = backprop._as_source(source)[0]
    yshape, sshape = tuple(y._value.shape), tuple(source.shape.as_list())
    for shape in (yshape, sshape):
        if len(shape) < 2:
            raise ValueError(f"Shape {shape} must have rank at least 2")
    if yshape[0] != sshape[0]:
        raise ValueError(f"Need first dimension of target shape {yshape} and source shape "
                         f"{sshape} to match.")
    b = yshape[0]
    m = int(np.prod(yshape[1:], dtype=np.int64))
    # Examples are independent, so one cotangent per target column, repeated over the batch,
    # gives every example's row at once: seeds[k, i, ...] = onehot_k.
    eye = np.eye(m, dtype=y._dtype._np).reshape((m, 1) + yshape[1:])
    (j,) = _jacobian_flat(tape, y, [tr], vectorize, np.broadcast_to(eye, (m,) + yshape))
    if j is None:
        if unconnected is backprop.UnconnectedGradients.ZERO:
            return array_ops.zeros((b,) + yshape[1:] + sshape[1:], source.dtype)
        return None
    # j: [m, b, s...] -> [b, m, s...] -> [b, y[1:]..., s[1:]...]
    perm = (1, 0) + tuple(range(2, 2 + len(sshape) - 1))
    j = array_ops.transpose(j, perm)
    return array_ops.reshape(j, (b,) + yshape[1:] + sshape[1:])
