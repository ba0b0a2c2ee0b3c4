"""Dataset.shuffle: TensorFlow's buffer shuffle, seeded through tf.random's seed rules.

The buffer holds up to `buffer_size` elements; each step emits a uniformly chosen buffer slot and
refills that slot with the next input element; once the input is exhausted the buffer drains in
random order. A buffer at least as large as the dataset gives a uniform permutation.

Seeds: the op seed comes from `tf.random`'s `get_seed` when the dataset is built (so a global
seed, or an explicit `seed=`, makes every run give the same orders). Each pass (each `iter()`)
draws from a Philox stream keyed by the seed pair with the pass number as counter: passes differ
with `reshuffle_each_iteration=True` and repeat the first pass's order with False.
"""
from __future__ import annotations

import itertools
import secrets
import threading

import numpy as np

from featherflow._src.data.dataset import Dataset, Plan, _int64
from featherflow._src.framework import errors

_DRAW_BLOCK = 1024
_ROWS_BLOCK = 8192  # row indices handed to batch at a time (bounded for infinite inputs)


class _Draws:
    """Random slot indices, drawn from the generator in blocks (the same draws whether the
    shuffle moves elements or row indices, so both paths give the same order)."""

    def __init__(self, rng):
        self._rng, self._block, self._pos = rng, [], 0

    def index(self, n: int) -> int:
        if self._pos == len(self._block):
            self._block = self._rng.integers(0, 1 << 62, size=_DRAW_BLOCK).tolist()
            self._pos = 0
        r = self._block[self._pos]
        self._pos += 1
        return r % n


def buffer_shuffle(items, buffer_size, rng):
    """Yields `items` in buffer-shuffled order."""
    it = iter(items)
    buf = []
    for x in it:
        buf.append(x)
        if len(buf) == buffer_size:
            break
    draws = _Draws(rng)
    exhausted = len(buf) < buffer_size
    while buf:
        j = draws.index(len(buf))
        yield buf[j]
        nxt = _END if exhausted else next(it, _END)
        if nxt is _END:
            exhausted = True
            buf[j] = buf[-1]
            buf.pop()
        else:
            buf[j] = nxt


_END = object()


def _seeds(seed):
    from featherflow._src.api.random_ops import get_seed  # noqa: PLC0415

    s1, s2 = get_seed(None if seed is None else _int64(seed, "seed"))
    if s1 is None:
        return secrets.randbits(64), secrets.randbits(64)
    return s1 & ((1 << 64) - 1), s2 & ((1 << 64) - 1)


class ShuffleDataset(Dataset):
    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        self._input = input_dataset
        size = _int64(buffer_size, "buffer_size")
        if size == -2:  # UNKNOWN_CARDINALITY: as large as the dataset
            size = 1 << 62
        if size <= 0:
            raise errors.InvalidArgumentError(None, None, "buffer_size must be greater than zero "
                                              "or UNKNOWN_CARDINALITY")
        self._size = size
        self._key = _seeds(seed)
        self._reshuffle = bool(reshuffle_each_iteration)
        self._passes = 0
        self._lock = threading.Lock()
        inner = input_dataset._plan
        if inner is not None:
            self._plan = Plan(inner.flat, inner.template, self._shuffled_chunks, False)

    def _rng(self):
        with self._lock:
            n = self._passes
            if self._reshuffle:
                self._passes += 1
        s1, s2 = self._key
        return np.random.Generator(np.random.Philox(key=s1 | (s2 << 64), counter=n))

    def _shuffled_chunks(self):
        # Shuffle row numbers (ints) instead of rows; batch then gathers each batch at once.
        rows = (int(i) for chunk in self._input._plan.chunks() for i in chunk)
        order = buffer_shuffle(rows, self._size, self._rng())
        while True:
            block = list(itertools.islice(order, _ROWS_BLOCK))
            if not block:
                return
            yield np.asarray(block, dtype=np.int64)

    def _elements(self):
        it = self._input._host_iter()
        try:
            yield from buffer_shuffle(it, self._size, self._rng())
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _card(self):
        return self._input._card()

    def _compute_spec(self, allow_run):
        return self._input._spec(allow_run)
