"""Scatter primitives: ScatterNd and TensorScatter{Update,Add,Sub,Min,Max}.

Duplicate indices follow TensorFlow: ScatterNd and TensorScatterAdd/Sub accumulate them, Min/Max
combine them, Update keeps the last write (TF leaves the order unspecified; CPU keeps the last).
"""
from __future__ import annotations

from featherflow._src.ops.registry import primitive


def _flat_indices(xp, indices, shape, op):
    """Validated index rows [n, k] and the slice shape they address."""
    indices = xp.asarray(indices)
    k = indices.shape[-1]
    flat = indices.reshape(-1, k)
    if k:
        limits = xp.asarray(shape[:k], dtype=flat.dtype)
        bad = ((flat < 0) | (flat >= limits)).any(axis=1)
        if bool(bad.any()):
            i = int(xp.argmax(bad))
            idx = ", ".join(str(int(v)) for v in flat[i])
            raise ValueError(f"indices[{i}] = [{idx}] does not index into shape "
                             f"[{','.join(map(str, shape))}]")
    return flat, k


def _scatter(xp, out, indices, updates, mode):
    flat, k = _flat_indices(xp, indices, out.shape, mode)
    upd = xp.asarray(updates).reshape((flat.shape[0],) + out.shape[k:])
    key = tuple(flat[:, j] for j in range(k))
    if mode == "update":
        out[key] = upd
    elif mode == "add":
        xp.add.at(out, key, upd)
    elif mode == "sub":
        xp.subtract.at(out, key, upd)
    elif mode == "min":
        xp.minimum.at(out, key, upd)
    else:
        xp.maximum.at(out, key, upd)
    return out


@primitive("ScatterNd", same_dtype=0)
def ScatterNd(xp, indices, updates, *, shape):
    updates = xp.asarray(updates)
    return _scatter(xp, xp.zeros(shape, dtype=updates.dtype), indices, updates, "add")


def _tensor_scatter(name, mode):
    def kernel(xp, tensor, indices, updates):
        return _scatter(xp, xp.array(tensor, copy=True), indices, updates, mode)

    kernel.__name__ = name
    return primitive(name, same_dtype=0, out_dtype="same")(kernel)


TensorScatterUpdate = _tensor_scatter("TensorScatterUpdate", "update")
TensorScatterAdd = _tensor_scatter("TensorScatterAdd", "add")
TensorScatterSub = _tensor_scatter("TensorScatterSub", "sub")
TensorScatterMin = _tensor_scatter("TensorScatterMin", "min")
TensorScatterMax = _tensor_scatter("TensorScatterMax", "max")
