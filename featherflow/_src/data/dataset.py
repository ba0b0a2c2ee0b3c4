"""tf.data.Dataset: the base class (every public method) and the in-memory sources.

A dataset is a recipe: each `iter(ds)` starts a fresh pass over it. Internally a pass is a Python
iterator of host elements (see structure.py). Datasets whose elements are rows of in-memory
arrays also offer an index `Plan` (the arrays and a stream of row indices per pass), so that
`batch` can take one array slice (or one fancy-index gather after a shuffle) per batch instead
of handling every row in Python.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.data import structure as S
from featherflow._src.data.iterator import NumpyIterator, OwnedIterator
from featherflow._src.framework import convert, device as _device, dtypes as _dt, errors
from featherflow._src.framework.tensor_spec import TensorSpec

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2


class Plan:
    """Rows of in-memory arrays: element i is `pack(template, [a[i] for a in flat])`, and each
    pass visits the rows that `chunks()` yields (ranges or int64 index arrays)."""

    __slots__ = ("flat", "template", "chunks", "deterministic")

    def __init__(self, flat, template, chunks, deterministic=True):
        self.flat, self.template = flat, template
        self.chunks, self.deterministic = chunks, deterministic

    def rows(self):
        flat, template = self.flat, self.template
        for chunk in self.chunks():
            for i in chunk:
                yield S.pack(template, [a[i, ...] for a in flat])


def _int64(value, what) -> int:
    """TF converts counts and sizes to int64 tensors (TypeError for 1.5)."""
    if hasattr(value, "_host"):
        value = value._host()
    a = convert.host_array(value, _dt.int64)
    if a.ndim != 0:
        raise errors.InvalidArgumentError(None, None, f"{what} must be a scalar. Received: "
                                          f"shape {list(a.shape)}")
    return int(a)


class Dataset:
    """A re-iterable sequence of elements (nested structures of tensors), built from sources
    and transformations, iterated on the host.

    >>> import featherflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices([1, 2, 3]).map(lambda x: x * 2).batch(2)
    >>> [b.numpy().tolist() for b in ds]
    [[2, 4], [6]]
    """

    _plan = None  # a Plan where the elements are rows of in-memory arrays
    _spec_cache = None

    # -- to be provided by subclasses -------------------------------------------------------
    def _elements(self):
        """A fresh iterator of host elements (one pass)."""
        raise NotImplementedError

    def _card(self) -> int:
        raise NotImplementedError

    def _compute_spec(self, allow_run):
        """The element spec; None when finding it would run user code and allow_run is False."""
        raise NotImplementedError

    # -- machinery --------------------------------------------------------------------------
    def _host_iter(self):
        plan = self._plan
        if plan is not None:
            return plan.rows()
        return self._elements()

    def _spec(self, allow_run=True):
        spec = self._spec_cache
        if spec is None:
            spec = self._compute_spec(allow_run)
            self._spec_cache = spec
        return spec

    @property
    def element_spec(self):
        """The structure of `tf.TensorSpec`s that describes one element."""
        return self._spec()

    def __iter__(self) -> OwnedIterator:
        return OwnedIterator(self)

    def __bool__(self):
        return True

    def __len__(self):
        n = self._card()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec!r}>"

    def cardinality(self):
        """The number of elements as a scalar int64 tensor: tf.data.INFINITE_CARDINALITY (-1)
        or tf.data.UNKNOWN_CARDINALITY (-2) when not known without iterating.

        >>> import featherflow as tf
        >>> int(tf.data.Dataset.range(10).batch(3).cardinality())
        4
        """
        return convert.place_host(np.asarray(self._card(), np.int64), _dt.int64,
                                  _device.cpu0())

    def as_numpy_iterator(self) -> NumpyIterator:
        """An iterator of NumPy values (nested structure kept; strings as bytes).

        >>> import featherflow as tf
        >>> list(tf.data.Dataset.range(3).as_numpy_iterator())
        [np.int64(0), np.int64(1), np.int64(2)]
        """
        return NumpyIterator(self)

    # -- sources ----------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> "Dataset":
        """A dataset of the slices of `tensors` along their first dimension.

        Tuples, namedtuples and dicts are structures; lists and arrays become tensors.

        >>> import featherflow as tf
        >>> ds = tf.data.Dataset.from_tensor_slices(([1, 2], [3.0, 4.0]))
        >>> [(int(a), float(b)) for a, b in ds]
        [(1, 3.0), (2, 4.0)]
        """
        return _TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None) -> "Dataset":
        """A dataset with `tensors` as its single element."""
        return _TensorDataset(tensors)

    @staticmethod
    def range(*args, **kwargs) -> "Dataset":
        """`range(stop)`, `range(start, stop)` or `range(start, stop, step)` as int64 scalars
        (or `output_type=`).

        >>> import featherflow as tf
        >>> list(tf.data.Dataset.range(5, 1, -2).as_numpy_iterator())
        [np.int64(5), np.int64(3)]
        """
        return _RangeDataset(*args, **kwargs)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name=None) -> "Dataset":
        """A dataset of the values a Python generator yields; each pass calls
        `generator(*args)` again. Values are checked against `output_signature`.

        >>> import featherflow as tf
        >>> def gen():
        ...     yield from [1, 2]
        >>> ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.int32))
        >>> [int(x) for x in ds]
        [1, 2]
        """
        from featherflow._src.data.generator import GeneratorDataset  # noqa: PLC0415

        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*args, datasets=None, name=None) -> "Dataset":
        """Elements of several datasets side by side, as long as the shortest.

        >>> import featherflow as tf
        >>> ds = tf.data.Dataset.zip(tf.data.Dataset.range(3), tf.data.Dataset.range(2))
        >>> len(ds)
        2
        """
        from featherflow._src.data.transforms import ZipDataset  # noqa: PLC0415

        if datasets is not None and args:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        if datasets is None:
            datasets = args[0] if len(args) == 1 else args
        return ZipDataset(datasets)

    # -- transformations --------------------------------------------------------------------
    def concatenate(self, dataset, name=None) -> "Dataset":
        from featherflow._src.data.transforms import ConcatenateDataset  # noqa: PLC0415

        return ConcatenateDataset(self, dataset)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None) -> "Dataset":
        """Stacks `batch_size` consecutive elements; the last batch may be smaller unless
        `drop_remainder`."""
        from featherflow._src.data.batching import BatchDataset  # noqa: PLC0415

        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None,
                     drop_remainder=False, name=None) -> "Dataset":
        """Like batch, padding each component to the longest in the batch (or padded_shapes)."""
        from featherflow._src.data.batching import PaddedBatchDataset  # noqa: PLC0415

        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values,
                                  drop_remainder)

    def unbatch(self, name=None) -> "Dataset":
        from featherflow._src.data.batching import UnbatchDataset  # noqa: PLC0415

        return UnbatchDataset(self)

    def map(self, map_func, num_parallel_calls=None, deterministic=None,
            name=None) -> "Dataset":
        """Applies `map_func` to each element (a tuple element is unpacked into arguments).
        With `num_parallel_calls`, calls run in a thread pool and keep the input order unless
        `deterministic=False`."""
        from featherflow._src.data.transforms import MapDataset  # noqa: PLC0415

        return MapDataset(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None) -> "Dataset":
        from featherflow._src.data.transforms import FilterDataset  # noqa: PLC0415

        return FilterDataset(self, predicate)

    def flat_map(self, map_func, name=None) -> "Dataset":
        from featherflow._src.data.transforms import FlatMapDataset  # noqa: PLC0415

        return FlatMapDataset(self, map_func)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True,
                name=None) -> "Dataset":
        """Shuffles with a buffer of `buffer_size` elements (a buffer as large as the dataset
        gives a uniform permutation)."""
        from featherflow._src.data.shuffle import ShuffleDataset  # noqa: PLC0415

        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None) -> "Dataset":
        from featherflow._src.data.transforms import RepeatDataset  # noqa: PLC0415

        return RepeatDataset(self, count)

    def take(self, count, name=None) -> "Dataset":
        from featherflow._src.data.transforms import TakeDataset  # noqa: PLC0415

        return TakeDataset(self, count)

    def skip(self, count, name=None) -> "Dataset":
        from featherflow._src.data.transforms import SkipDataset  # noqa: PLC0415

        return SkipDataset(self, count)

    def cache(self, filename="", name=None) -> "Dataset":
        """Keeps the elements of the first complete pass in memory and replays them."""
        from featherflow._src.data.transforms import CacheDataset  # noqa: PLC0415

        return CacheDataset(self, filename)

    def prefetch(self, buffer_size, name=None) -> "Dataset":
        """Produces up to `buffer_size` elements ahead in a background thread."""
        from featherflow._src.data.prefetch import PrefetchDataset  # noqa: PLC0415

        return PrefetchDataset(self, buffer_size)

    def enumerate(self, start=0, name=None) -> "Dataset":
        """Pairs each element with its int64 index, counting from `start`."""
        start = _int64(start, "start")
        return Dataset.zip((_RangeDataset(start, np.iinfo(np.int64).max), self))

    def apply(self, transformation_func) -> "Dataset":
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError(f"`transformation_func` must return a `tf.data.Dataset` object. "
                            f"Received: {type(out).__name__}")
        return out

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds the elements into a state: `state = reduce_func(state, element)`."""
        from featherflow._src.data.transforms import reduce_dataset  # noqa: PLC0415

        return reduce_dataset(self, initial_state, reduce_func)

    def get_single_element(self, name=None):
        """The only element (InvalidArgumentError when the dataset is empty or longer)."""
        it = self._host_iter()
        first = next(it, _END)
        if first is _END:
            raise errors.InvalidArgumentError(None, None, "Dataset was empty.")
        if next(it, _END) is not _END:
            raise errors.InvalidArgumentError(None, None, "Dataset had more than one element.")
        return S.to_tensors(first)


_END = object()


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------
class _TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        element = S.normalize(tensors)
        flat = S.flatten(element)
        if not flat:
            raise ValueError("Invalid `element`. `element` should not be empty.")
        n = None
        for a in flat:
            if a.ndim == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise ValueError(f"Dimensions {n} and {a.shape[0]} are not compatible")
        self._n = n
        self._plan = Plan(flat, element, lambda: iter((range(n),)))
        self._spec_cache = S.map_leaves(lambda a: TensorSpec(a.shape[1:], S.dtype_of(a)),
                                        element)

    def _card(self):
        return self._n


class _TensorDataset(Dataset):
    def __init__(self, tensors):
        self._element = S.normalize(tensors)
        self._spec_cache = S.spec_of(self._element)

    def _elements(self):
        yield self._element

    def _card(self):
        return 1


class _RangeDataset(Dataset):
    def __init__(self, *args, output_type=_dt.int64, name=None):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid `args`. The length of `args` should be between 1 and 3 "
                             f"but was {len(args)}.")
        vals = [_int64(a, "range argument") for a in args]
        start, stop, step = (0, vals[0], 1) if len(vals) == 1 else (vals + [1])[:3]
        if step == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self._range = range(start, stop, step)
        self._dtype = _dt.as_dtype(output_type)
        self._spec_cache = TensorSpec([], self._dtype)

    def _elements(self):
        np_dtype = self._dtype._np
        for v in self._range:
            yield np.asarray(v, np_dtype)

    def _card(self):
        return len(self._range)
