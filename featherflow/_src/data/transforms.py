"""tf.data transformations: zip, concatenate, map, filter, flat_map, repeat, take, skip,
cache, and Dataset.reduce (batching is in batching.py).

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
from featherflow._src.framework import errors
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
