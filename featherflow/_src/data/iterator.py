"""Iterators over a tf.data.Dataset: tensors (OwnedIterator) and NumPy values."""
from __future__ import annotations

from featherflow._src.data import structure as S
from featherflow._src.framework import errors


class OwnedIterator:
    """The iterator `iter(dataset)` returns: each element as tensors on CPU:0.

    Python iteration ends with StopIteration; `get_next()` raises `tf.errors.OutOfRangeError`
    at the end, as TensorFlow's iterator does.
    """

    def __init__(self, dataset):
        self._dataset = dataset
        self._it = dataset._host_iter()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        return S.to_tensors(next(self._it))

    def get_next(self, name=None):
        try:
            return self.__next__()
        except StopIteration:
            raise errors.OutOfRangeError(None, None, "End of sequence") from None

    def get_next_as_optional(self):
        raise NotImplementedError("tf.experimental.Optional is not implemented in featherflow; "
                                  "use next(iterator) and catch StopIteration.")

    def close(self):
        """Stops background work (prefetch threads) now instead of when garbage collected."""
        close = getattr(self._it, "close", None)
        if close is not None:
            close()


class NumpyIterator:
    """The iterator of `dataset.as_numpy_iterator()`: NumPy arrays and scalars, strings as
    bytes, with the element's nested structure kept."""

    def __init__(self, dataset):
        self._it = dataset._host_iter()

    def __iter__(self):
        return self

    def __next__(self):
        return S.to_numpy(next(self._it))

    def next(self):
        return self.__next__()

    def close(self):
        close = getattr(self._it, "close", None)
        if close is not None:
            close()
