"""tf.data batching: batch (fused with in-memory sources), padded_batch and unbatch.

When the input's elements are rows of in-memory arrays (a Plan: from_tensor_slices, possibly
shuffled, repeated, taken or skipped), each batch is one contiguous slice of every array (a view)
or one fancy-index gather, instead of a Python stack of single rows.
"""
from __future__ import annotations

import itertools

import numpy as np

from featherflow._src.data import structure as S
from featherflow._src.data.dataset import INFINITE, UNKNOWN, Dataset, _int64
from featherflow._src.framework import errors
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor_spec import TensorSpec


def _close(it):
    close = getattr(it, "close", None)
    if close is not None:
        close()


def _batched_spec(spec, batch_dim):
    def one(s):
        if s.shape.rank is None:
            return TensorSpec(None, s.dtype)
        return TensorSpec([batch_dim] + s.shape.as_list(), s.dtype)
    return S.map_leaves(one, spec)


def _batched_card(n, batch_size, drop_remainder):
    if n < 0:
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


# ---------------------------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------------------------
def _check_batch_size(batch_size):
    n = _int64(batch_size, "batch_size")
    if n <= 0:
        raise errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
    return n


def stack(elements):
    """Stacks host elements leaf by leaf (TF's error when shapes differ)."""
    flats = [S.flatten(e) for e in elements]
    out = []
    for k in range(len(flats[0])):
        parts = [f[k] for f in flats]
        s0 = parts[0].shape
        for j, p in enumerate(parts):
            if p.shape != s0:
                raise errors.InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes in component {k}. "
                    f"First element had shape {S.shape_text(s0)} and element {j} had shape "
                    f"{S.shape_text(p.shape)}.")
        out.append(np.stack(parts))
    return S.pack(elements[0], out)


def _gather(flat, parts):
    """The rows `parts` (ranges / index arrays, in order) of each array: one contiguous slice
    when possible (a view, no copy), else one fancy-index gather."""
    if len(parts) == 1 and isinstance(parts[0], range) and parts[0].step == 1:
        r = parts[0]
        return [a[r.start:r.stop] for a in flat]
    idx = np.concatenate([np.arange(p.start, p.stop, p.step) if isinstance(p, range) else p
                          for p in parts])
    return [a[idx] for a in flat]


def plan_batches(plan, batch_size, drop_remainder):
    """Batches of a Plan's rows, each gathered at once."""
    flat, template = plan.flat, plan.template
    parts, have = [], 0
    for chunk in plan.chunks():
        pos, size = 0, len(chunk)
        while pos < size:
            take = min(batch_size - have, size - pos)
            parts.append(chunk[pos:pos + take])
            have += take
            pos += take
            if have == batch_size:
                yield S.pack(template, _gather(flat, parts))
                parts, have = [], 0
    if have and not drop_remainder:
        yield S.pack(template, _gather(flat, parts))


class BatchDataset(Dataset):
    def __init__(self, input_dataset, batch_size, drop_remainder):
        self._input = input_dataset
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)

    def _elements(self):
        plan = self._input._plan
        if plan is not None:
            yield from plan_batches(plan, self._batch_size, self._drop)
            return
        it = self._input._host_iter()
        try:
            while True:
                chunk = list(itertools.islice(it, self._batch_size))
                if not chunk or (self._drop and len(chunk) < self._batch_size):
                    return
                yield self._combine(chunk)
        finally:
            _close(it)

    def _combine(self, chunk):
        return stack(chunk)

    def _card(self):
        return _batched_card(self._input._card(), self._batch_size, self._drop)

    def _compute_spec(self, allow_run):
        spec = self._input._spec(allow_run)
        if spec is None:
            return None
        return _batched_spec(spec, self._batch_size if self._drop else None)


class PaddedBatchDataset(BatchDataset):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values,
                 drop_remainder):
        super().__init__(input_dataset, batch_size, drop_remainder)
        self._shapes = padded_shapes
        self._values = padding_values

    def _elements(self):
        it = self._input._host_iter()
        try:
            while True:
                chunk = list(itertools.islice(it, self._batch_size))
                if not chunk or (self._drop and len(chunk) < self._batch_size):
                    return
                yield self._combine(chunk)
        finally:
            _close(it)

    def _leaf_options(self, template):
        n = len(S.flatten(template))
        shapes = [None] * n if self._shapes is None else [
            TensorShape(s) for s in S.flatten(
                S.map_leaves(lambda s: s, self._shapes, lists_as_tuples=False))]
        if self._values is None:
            values = [None] * n
        elif S.is_structure(self._values):
            values = S.flatten(self._values)
        else:
            values = [self._values] * n
        return shapes, values

    def _combine(self, chunk):
        flats = [S.flatten(e) for e in chunk]
        shapes, values = self._leaf_options(chunk[0])
        out = []
        for k in range(len(flats[0])):
            parts = [f[k] for f in flats]
            rank = parts[0].ndim
            if any(p.ndim != rank for p in parts):
                raise errors.InvalidArgumentError(
                    None, None, f"All elements in a batch must have the same rank as the padded "
                    f"shape for component{k}: expected rank {rank}")
            target = [max(p.shape[d] for p in parts) for d in range(rank)]
            if shapes[k] is not None and shapes[k].rank is not None:
                for d, want in enumerate(shapes[k].as_list()):
                    if want is not None and want >= 0:
                        if want < target[d]:
                            raise errors.InvalidArgumentError(
                                None, None, "Attempted to pad to a smaller size than the input "
                                "element.")
                        target[d] = want
            fill = values[k]
            if fill is None:
                fill = b"" if parts[0].dtype == object else 0
            elif hasattr(fill, "_host"):
                fill = fill._host()
            buf = np.full([len(parts)] + target, fill, dtype=parts[0].dtype)
            for j, p in enumerate(parts):
                buf[(j,) + tuple(slice(0, s) for s in p.shape)] = p
            out.append(buf)
        return S.pack(chunk[0], out)

    def _compute_spec(self, allow_run):
        spec = self._input._spec(allow_run)
        if spec is None:
            return None

        flat = S.flatten(spec)
        shapes, _ = self._leaf_options(spec)
        out = []
        for s, want in zip(flat, shapes):
            if want is not None and want.rank is not None:
                dims = [d if d is not None and d >= 0 else None for d in want.as_list()]
            else:
                dims = None if s.shape.rank is None else [None] * s.shape.rank
            out.append(TensorSpec(dims, s.dtype))
        return _batched_spec(S.pack(spec, out), self._batch_size if self._drop else None)


class UnbatchDataset(Dataset):
    def __init__(self, input_dataset):
        self._input = input_dataset
        spec = input_dataset._spec(allow_run=False)
        if spec is not None and any(s.shape.rank == 0 for s in S.flatten(spec)):
            raise ValueError("Cannot unbatch an input with scalar components.")

    def _elements(self):
        it = self._input._host_iter()
        try:
            for element in it:
                flat = S.flatten(element)
                if any(a.ndim == 0 for a in flat):
                    raise ValueError("Cannot unbatch an input with scalar components.")
                n = flat[0].shape[0]
                for k, a in enumerate(flat):
                    if a.shape[0] != n:
                        raise errors.InvalidArgumentError(
                            None, None, f"Input element must have the same batch size in each "
                            f"component. Component 0 had size {n} but component {k} had size "
                            f"{a.shape[0]}.")
                for i in range(n):
                    yield S.pack(element, [a[i, ...] for a in flat])
        finally:
            _close(it)

    def _card(self):
        n = self._input._card()
        if n < 0:
            return n if n == INFINITE else UNKNOWN
        spec = self._input._spec(allow_run=False)
        dims = [] if spec is None else [
            s.shape[0] for s in S.flatten(spec) if s.shape.rank and s.shape[0] is not None]
        return n * int(dims[0]) if dims else UNKNOWN

    def _compute_spec(self, allow_run):
        spec = self._input._spec(allow_run)
        if spec is None:
            return None
        return S.map_leaves(lambda s: TensorSpec(None if s.shape.rank is None else s.shape[1:],
                                                 s.dtype), spec)
