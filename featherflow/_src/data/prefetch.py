"""Dataset.prefetch: a background thread runs the upstream pipeline into a bounded queue.

The thread starts when the iterator is created and stays at most `buffer_size` elements ahead.
An exception raised upstream is handed over and re-raised by the consumer's `next()`. The thread
stops when the iterator is closed or garbage collected (it holds no reference to the iterator,
so dropping the iterator is enough), and when the upstream ends.
"""
from __future__ import annotations

import queue
import threading

from featherflow._src.data.dataset import AUTOTUNE, Dataset, _int64
from featherflow._src.framework import errors

# NOTE: TF's autotuner grows the buffer while it helps; a few elements keep a consumer that is
# slower than the pipeline fed without holding many large batches in memory.
AUTOTUNE_BUFFER = 4
_POLL_S = 0.05
_ITEM, _DONE, _ERROR = 0, 1, 2


def _put(q, entry, stop) -> bool:
    """Puts `entry`, giving up (False) once `stop` is set."""
    while not stop.is_set():
        try:
            q.put(entry, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _produce(source, q, stop):
    try:
        for item in source:
            if not _put(q, (_ITEM, item), stop):
                return
        _put(q, (_DONE, None), stop)
    except BaseException as e:  # noqa: BLE001 - handed to the consumer, who re-raises it
        _put(q, (_ERROR, e), stop)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


class PrefetchIterator:
    def __init__(self, source, size):
        self._queue = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=_produce, args=(source, self._queue, self._stop),
                                        name="featherflow-prefetch", daemon=True)
        self._thread.start()

    def __iter__(self):
        return self

    def __next__(self):
        if self._finished:
            raise StopIteration
        kind, item = self._queue.get()
        if kind == _ITEM:
            return item
        self._finished = True
        self.close()
        if kind == _ERROR:
            raise item
        raise StopIteration

    def close(self):
        self._stop.set()
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def __del__(self):
        self.close()


class PrefetchDataset(Dataset):
    def __init__(self, input_dataset, buffer_size):
        self._input = input_dataset
        size = _int64(buffer_size, "buffer_size")
        if size == AUTOTUNE:
            size = AUTOTUNE_BUFFER
        elif size < 0:
            raise errors.InvalidArgumentError(
                None, None, "buffer_size must be >= 0 or set buffer_size to be -1 for "
                "auto-tuning")
        self._size = size

    def _elements(self):
        source = self._input._host_iter()
        if self._size == 0:
            return source
        return PrefetchIterator(source, self._size)

    def _card(self):
        return self._input._card()

    def _compute_spec(self, allow_run):
        return self._input._spec(allow_run)
