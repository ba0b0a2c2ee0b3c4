"""tf.data transformations: zip, concatenate, batch, padded_batch, unbatch, map, filter,
flat_map, repeat, take, skip, cache, and Dataset.reduce.

User functions (map, filter, flat_map, reduce) run eagerly, once per element, on tensors placed
on CPU:0 and inside a `tf.device("/CPU:0")` scope, as TensorFlow runs dataset functions on the
host. (TensorFlow traces them once into a graph instead; see docs/compat.md.)
"""
from __future__ import annotations

import collections
import concurrent.futures as _futures
import itertools
import os
import threading

import numpy as np

from featherflow._src.data import structure as S
from featherflow._src.data.dataset import (
    AUTOTUNE, INFINITE, UNKNOWN, Dataset, Plan, _END, _int64)
from featherflow._src.framework import dtypes as _dt, errors
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor_spec import TensorSpec


def _close(it):
    close = getattr(it, "close", None)
    if close is not None:
        close()


def _call_user(fn, element, unpack=True):
    """Runs a user function on an element's tensors on the host, as TF runs dataset functions:
    a plain tuple is unpacked into positional arguments."""
    from featherflow._src.framework.device_scope import device  # noqa: PLC0415

    args = S.to_tensors(element)
    with device("/CPU:0"):
        if unpack and type(args) is tuple:
            return fn(*args)
        return fn(args)


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
# Combining datasets
# ---------------------------------------------------------------------------------------------
class ZipDataset(Dataset):
    def __init__(self, datasets):
        self._datasets = S.map_leaves(self._check, datasets, lists_as_tuples=True)
        self._flat = S.flatten(self._datasets)
        if not self._flat:
            raise ValueError("Invalid input to `zip`. Expected at least one dataset.")

    @staticmethod
    def _check(ds):
        if not isinstance(ds, Dataset):
            raise TypeError(f"Invalid input to `zip`. Inputs are expected to be (nested) "
                            f"structures of `tf.data.Dataset` objects but encountered object "
                            f"of type {type(ds)}.")
        return ds

    def _elements(self):
        its = [ds._host_iter() for ds in self._flat]
        try:
            while True:
                parts = []
                for it in its:
                    x = next(it, _END)
                    if x is _END:
                        return
                    parts.append(x)
                yield S.pack(self._datasets, parts)
        finally:
            for it in its:
                _close(it)

    def _card(self):
        cards = [ds._card() for ds in self._flat]
        finite = [c for c in cards if c >= 0]
        if UNKNOWN in cards:
            return UNKNOWN
        return min(finite) if finite else INFINITE

    def _compute_spec(self, allow_run):
        specs = [ds._spec(allow_run) for ds in self._flat]
        if any(s is None for s in specs):
            return None
        return S.pack(self._datasets, specs)


class ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"Invalid `dataset`. Expected a `tf.data.Dataset`. Received: "
                            f"{type(second).__name__}")
        self._first, self._second = first, second
        a, b = first.element_spec, second.element_spec
        ok = S.same_structure(a, b) and all(
            x.dtype == y.dtype for x, y in zip(S.flatten(a), S.flatten(b)))
        if not ok:
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs.   {b}")
        self._spec_cache = S.pack(a, [
            TensorSpec(x.shape.most_specific_compatible_shape(y.shape), x.dtype)
            for x, y in zip(S.flatten(a), S.flatten(b))])

    def _elements(self):
        yield from self._first._host_iter()
        yield from self._second._host_iter()

    def _card(self):
        a, b = self._first._card(), self._second._card()
        if INFINITE in (a, b):
            return INFINITE
        if UNKNOWN in (a, b):
            return UNKNOWN
        return a + b


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


# ---------------------------------------------------------------------------------------------
# Functions over elements
# ---------------------------------------------------------------------------------------------
def _num_calls(num_parallel_calls):
    if num_parallel_calls is None:
        return None
    n = _int64(num_parallel_calls, "num_parallel_calls")
    if n == AUTOTUNE:
        return max(1, os.cpu_count() or 1)
    if n <= 0:
        raise ValueError(f"num_parallel_calls must be positive or tf.data.AUTOTUNE. "
                         f"Received: {num_parallel_calls}")
    return n


class MapDataset(Dataset):
    def __init__(self, input_dataset, map_func, num_parallel_calls, deterministic):
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable. Received: {map_func!r}")
        self._input, self._fn = input_dataset, map_func
        self._workers = _num_calls(num_parallel_calls)
        self._ordered = deterministic is not False

    def _call(self, element):
        return S.from_function(_call_user(self._fn, element))

    def _elements(self):
        if self._workers is None:
            it = self._input._host_iter()
            try:
                for element in it:
                    yield self._call(element)
            finally:
                _close(it)
        else:
            yield from self._parallel()

    def _parallel(self):
        n = self._workers
        pool = _futures.ThreadPoolExecutor(max_workers=n, thread_name_prefix="featherflow-map")
        it = self._input._host_iter()
        window = collections.deque()
        try:
            for element in it:
                window.append(pool.submit(self._call, element))
                if len(window) >= 2 * n:
                    yield self._next_done(window)
            while window:
                yield self._next_done(window)
        finally:
            for f in window:
                f.cancel()
            pool.shutdown(wait=True)
            _close(it)

    def _next_done(self, window):
        if self._ordered:
            return window.popleft().result()
        done, _ = _futures.wait(window, return_when=_futures.FIRST_COMPLETED)
        f = next(iter(done))
        window.remove(f)
        return f.result()

    def _card(self):
        return self._input._card()

    def _compute_spec(self, allow_run):
        if not allow_run:
            return None
        # NOTE: TF knows the spec by tracing map_func; featherflow runs it on the first element
        # (or on zeros shaped like the input when the dataset is empty), so the spec has the
        # first element's concrete shapes.
        it = self._host_iter()
        try:
            first = next(it, _END)
        finally:
            _close(it)
        if first is _END:
            first = self._call(S.zeros_for(self._input.element_spec))
        return S.spec_of(first)


class FilterDataset(Dataset):
    def __init__(self, input_dataset, predicate):
        if not callable(predicate):
            raise TypeError(f"`predicate` must be callable. Received: {predicate!r}")
        self._input, self._fn = input_dataset, predicate

    def _keep(self, element) -> bool:
        out = S.from_function(_call_user(self._fn, element))
        if S.is_structure(out) or out.dtype != np.bool_ or out.ndim != 0:
            raise ValueError(f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar "
                             f"tensor, but its return type is {S.spec_of(out)}.")
        return bool(out)

    def _elements(self):
        it = self._input._host_iter()
        try:
            for element in it:
                if self._keep(element):
                    yield element
        finally:
            _close(it)

    def _card(self):
        return UNKNOWN

    def _compute_spec(self, allow_run):
        return self._input._spec(allow_run)


class FlatMapDataset(MapDataset):
    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset, map_func, None, True)

    def _elements(self):
        it = self._input._host_iter()
        try:
            for element in it:
                ds = _call_user(self._fn, element)
                if not isinstance(ds, Dataset):
                    raise TypeError(f"The `map_func` argument must return a `Dataset` object. "
                                    f"Got {type(ds)!r}.")
                yield from ds._host_iter()
        finally:
            _close(it)

    def _card(self):
        return UNKNOWN

    def _compute_spec(self, allow_run):
        if not allow_run:
            return None
        it = self._input._host_iter()
        try:
            first = next(it, _END)
        finally:
            _close(it)
        if first is _END:
            first = S.zeros_for(self._input.element_spec)
        return _call_user(self._fn, first).element_spec


def reduce_dataset(dataset, initial_state, reduce_func):
    from featherflow._src.framework.device_scope import device  # noqa: PLC0415

    state = S.normalize(initial_state)
    want = [S.dtype_of(a) for a in S.flatten(state)]
    it = dataset._host_iter()
    try:
        for element in it:
            with device("/CPU:0"):
                new = reduce_func(S.to_tensors(state), S.to_tensors(element))
            new = S.from_function(new)
            got = [S.dtype_of(a) for a in S.flatten(new)]
            if not S.same_structure(state, new):
                raise TypeError(f"The element structure for the new state must match the "
                                f"initial state. Expected {S.spec_of(state)}; got "
                                f"{S.spec_of(new)}.")
            for w, g in zip(want, got):
                if w != g:
                    raise TypeError(f"The element types for the new state must match the "
                                    f"initial state. Expected {w} but got {g}.")
            state = new
    finally:
        _close(it)
    return S.to_tensors(state)


# ---------------------------------------------------------------------------------------------
# Counting: repeat, take, skip, cache
# ---------------------------------------------------------------------------------------------
class _PassThrough(Dataset):
    def __init__(self, input_dataset):
        self._input = input_dataset

    def _compute_spec(self, allow_run):
        return self._input._spec(allow_run)


class RepeatDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = -1 if count is None else _int64(count, "count")
        inner = input_dataset._plan
        if inner is not None:
            self._plan = Plan(inner.flat, inner.template, self._repeat_chunks,
                              inner.deterministic)

    def _repeat_chunks(self):
        inner, k = self._input._plan, 0
        while self._count < 0 or k < self._count:
            seen = False
            for chunk in inner.chunks():
                if len(chunk):
                    seen = True
                    yield chunk
            if not seen:
                return
            k += 1

    def _elements(self):
        k = 0
        while self._count < 0 or k < self._count:
            seen = False
            for element in self._input._host_iter():
                seen = True
                yield element
            if not seen:
                return
            k += 1

    def _card(self):
        n, c = self._input._card(), self._count
        if c < 0:
            return 0 if n == 0 else INFINITE
        if c == 0:
            return 0
        return n if n < 0 else n * c


class TakeDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = _int64(count, "count")
        inner = input_dataset._plan
        if inner is not None:
            self._plan = Plan(inner.flat, inner.template, self._take_chunks,
                              inner.deterministic)

    def _take_chunks(self):
        left = self._count
        for chunk in self._input._plan.chunks():
            if left >= 0 and len(chunk) >= left:
                if left:
                    yield chunk[:left]
                return
            left -= len(chunk) if left >= 0 else 0
            yield chunk

    def _elements(self):
        it = self._input._host_iter()
        try:
            yield from (it if self._count < 0 else itertools.islice(it, self._count))
        finally:
            _close(it)

    def _card(self):
        n, c = self._input._card(), self._count
        if n == UNKNOWN:
            return UNKNOWN
        if c < 0:
            return n
        return c if n == INFINITE else min(n, c)


class SkipDataset(_PassThrough):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = _int64(count, "count")
        inner = input_dataset._plan
        if inner is not None:
            self._plan = Plan(inner.flat, inner.template, self._skip_chunks,
                              inner.deterministic)

    def _skip_chunks(self):
        left = self._count
        for chunk in self._input._plan.chunks():
            if left < 0:
                continue
            if left >= len(chunk):
                left -= len(chunk)
                continue
            yield chunk[left:]
            left = 0

    def _elements(self):
        it = self._input._host_iter()
        try:
            if self._count < 0:
                for _ in it:
                    pass
                return
            for _ in itertools.islice(it, self._count):
                pass
            yield from it
        finally:
            _close(it)

    def _card(self):
        n, c = self._input._card(), self._count
        if n < 0:
            return n
        return 0 if c < 0 else max(0, n - c)


class CacheDataset(_PassThrough):
    def __init__(self, input_dataset, filename):
        super().__init__(input_dataset)
        if hasattr(filename, "_host"):
            filename = filename._host()[()]
        if filename not in ("", b""):
            raise NotImplementedError(
                f"Dataset.cache(filename) to a file is not implemented in featherflow; use "
                f"cache() (in memory). Received: filename={filename!r}")
        inner = input_dataset._plan
        # Rows of in-memory arrays in a fixed order are a cache already.
        if inner is not None and inner.deterministic:
            self._plan = inner
        self._cached = None
        self._lock = threading.Lock()

    def _elements(self):
        cached = self._cached
        if cached is not None:
            yield from cached
            return
        seen = []
        for element in self._input._host_iter():
            seen.append(element)
            yield element
        with self._lock:
            if self._cached is None:
                self._cached = seen

    def _card(self):
        return self._input._card()
