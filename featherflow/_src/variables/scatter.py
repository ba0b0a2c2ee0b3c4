"""The scatter family of tf.Variable: `scatter_*`, `scatter_nd_*` and `batch_scatter_update`.

`ScatterMixin` is a base class of `Variable` (variable.py); its methods use the Variable's
`_locked_write`, `_indices` and `_operand`, so every sparse update goes through the same
copy-on-write and locking as the dense ones.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.ops.defs import resource as R
from featherflow._src.variables.variable import _NUMERIC, _REAL, _no_kernel


class ScatterMixin:
    """Sparse in-place updates of a Variable (mixed into `Variable`)."""


    # -- sparse updates ----------------------------------------------------------------------
    def _scatter(self, op, sparse_delta, allowed=None):
        values = getattr(sparse_delta, "values", None)
        indices = getattr(sparse_delta, "indices", None)
        if values is None or indices is None:
            raise TypeError(f"Argument `sparse_delta` must be a `tf.IndexedSlices`. Received arg: "
                            f"{sparse_delta}")
        if allowed is not None and self._dtype not in allowed:
            raise _no_kernel(op.name, self._dtype)
        self._locked_write(op, (self._handle, self._indices(indices, op.name),
                                self._operand(values)))
        return self

    def scatter_update(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterUpdate, sparse_delta)

    def scatter_add(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterAdd, sparse_delta, _NUMERIC)

    def scatter_sub(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterSub, sparse_delta, _NUMERIC)

    def scatter_mul(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterMul, sparse_delta, _NUMERIC)

    def scatter_div(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterDiv, sparse_delta, _NUMERIC)

    def scatter_min(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterMin, sparse_delta, _REAL)

    def scatter_max(self, sparse_delta, use_locking=False, name=None):
        return self._scatter(R.ResourceScatterMax, sparse_delta, _REAL)

    def batch_scatter_update(self, sparse_delta, use_locking=False, name=None):
        """scatter_update along the last axis of `indices`, batched over its leading axes."""
        indices = getattr(sparse_delta, "indices", None)
        if indices is None or getattr(sparse_delta, "values", None) is None:
            raise TypeError(f"Argument `sparse_delta` must be a `tf.IndexedSlices`. Received arg: "
                            f"{sparse_delta}")
        idx = self._indices(indices, "ResourceScatterNdUpdate")
        if len(idx.shape) <= 1:
            return self.scatter_update(sparse_delta)
        # Index bookkeeping on the host (indices are small): batch coordinates + the given index.
        host = idx.numpy()
        grid = np.indices(host.shape, dtype=host.dtype)[:-1]
        nd = np.stack([*grid, host], axis=-1)
        return self.scatter_nd_update(nd, sparse_delta.values)

    def _scatter_nd(self, op, indices, updates, allowed=None):
        if allowed is not None and self._dtype not in allowed:
            raise _no_kernel(op.name, self._dtype)
        self._locked_write(op, (self._handle, self._indices(indices, op.name),
                                self._operand(updates)))
        return self

    def scatter_nd_update(self, indices, updates, name=None):
        return self._scatter_nd(R.ResourceScatterNdUpdate, indices, updates)

    def scatter_nd_add(self, indices, updates, name=None):
        return self._scatter_nd(R.ResourceScatterNdAdd, indices, updates, _NUMERIC)

    def scatter_nd_sub(self, indices, updates, name=None):
        return self._scatter_nd(R.ResourceScatterNdSub, indices, updates, _NUMERIC)

    def scatter_nd_max(self, indices, updates, name=None):
        return self._scatter_nd(R.ResourceScatterNdMax, indices, updates, _REAL)

    def scatter_nd_min(self, indices, updates, name=None):
        return self._scatter_nd(R.ResourceScatterNdMin, indices, updates, _REAL)
