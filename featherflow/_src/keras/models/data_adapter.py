"""Batches for `fit`/`evaluate`/`predict` from NumPy arrays, tensors (nested in lists/dicts) or a
`tf.data.Dataset`, with Keras 3's rules: batch size 32 by default, a fresh shuffle of all samples
each epoch, float arrays cast to float32, `class_weight` turned into per-sample weights,
`validation_split` taking the last samples (before shuffling)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.convert import place_host as _place_host
from featherflow._src.framework.public import tf as _tf


def unpack_x_y_sample_weight(data):
    """`(x, y, sample_weight)` from a batch: a tuple/list of 1 to 3 items, or `x` alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def map_structure(fn, s):
    if isinstance(s, dict):
        return {k: map_structure(fn, v) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return type(s)(map_structure(fn, v) for v in s)
    return None if s is None else fn(s)


def flatten(s):
    if isinstance(s, dict):
        return [leaf for k in sorted(s) for leaf in flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [leaf for v in s for leaf in flatten(v)]
    return [] if s is None else [s]


def _is_dataset(x):
    from featherflow._src.data.dataset import Dataset  # noqa: PLC0415
    return isinstance(x, Dataset)


def _to_array(x):
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    x = np.asarray(x)
    if x.dtype.kind == "f" and x.dtype != np.float32:
        x = x.astype(np.float32)
    if x.ndim == 0:
        raise ValueError(f"Expected array-like input with a batch dimension. Received a scalar: "
                         f"{x}")
    return x


def class_weight_to_sample_weights(y, class_weight):
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    y = np.round(y).astype("int32")
    lookup = np.vectorize(lambda c: float(class_weight.get(int(c), 1.0)), otypes=[np.float32])
    return lookup(y) if y.size else np.ones((0,), np.float32)


def train_validation_split(arrays, validation_split):
    """(train, validation): the last `validation_split` fraction of the samples is held out."""
    flat = flatten(arrays)
    bad = [type(t) for t in flat if _is_dataset(t) or not hasattr(t, "shape")
           and not isinstance(t, (list, tuple))]
    if bad:
        raise ValueError("Argument `validation_split` is only supported for tensors or NumPy "
                         f"arrays.Found incompatible type in the input: {bad}")
    if not flat:
        return arrays, arrays
    arrays = map_structure(_to_array, arrays)
    n = int(flatten(arrays)[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         "it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`. Either provide more data, or "
                         "a different value for the `validation_split` argument.")
    return (map_structure(lambda t: t[:split_at], arrays),
            map_structure(lambda t: t[split_at:], arrays))


class DataHandler:
    """One epoch at a time: `for step, (x, y, sample_weight) in handler.epoch(): ...`."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None):
        self.steps_per_epoch = steps_per_epoch
        self._iterator = None
        if _is_dataset(x):
            if y is not None:
                raise ValueError("When providing `x` as a tf.data.Dataset, `y` should not be "
                                 "passed. Instead, the targets should be included as part of the "
                                 "dataset `x`.")
            if sample_weight is not None:
                raise ValueError("`sample_weight` argument is not supported when using a "
                                 "dataset as input. Instead, the sample weights should be "
                                 "included as part of the dataset.")
            if batch_size is not None:
                raise ValueError("When providing `x` as a tf.data.Dataset, `batch_size` should "
                                 "not be passed; the dataset is already batched.")
            self._dataset = x
            self._class_weight = class_weight
            card = int(x.cardinality())
            self.num_batches = steps_per_epoch or (card if card >= 0 else None)
            return
        self._dataset = None
        if x is None:
            raise ValueError("Unrecognized data type: x=None (of type <class 'NoneType'>)")
        self._x = map_structure(_to_array, x)
        self._y = map_structure(_to_array, y)
        if sample_weight is not None and class_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if class_weight is not None:
            if isinstance(self._y, (list, tuple, dict)):
                raise ValueError("`class_weight` is only supported for Models with a single "
                                 "output.")
            sample_weight = class_weight_to_sample_weights(self._y, class_weight)
        self._sw = map_structure(_to_array, sample_weight)
        sizes = {int(a.shape[0]) for a in flatten((self._x, self._y, self._sw))}
        if len(sizes) > 1:
            raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the "
                             "same number of samples. Sizes: " + ", ".join(
                                 str(s) for s in sorted(sizes)))
        self.num_samples = sizes.pop()
        if batch_size is None:
            batch_size = 32 if steps_per_epoch is None else \
                max(1, int(math.ceil(self.num_samples / steps_per_epoch)))
        self.batch_size = int(batch_size)
        self._shuffle = shuffle
        full = int(math.ceil(self.num_samples / self.batch_size))
        self.num_batches = steps_per_epoch or full

    # -- batches -------------------------------------------------------------------------------
    def _array_batches(self):
        tf = _tf()
        n, bs = self.num_samples, self.batch_size
        order = np.random.permutation(n) if self._shuffle else None
        convert = tf.convert_to_tensor
        x, y, sw = self._x, self._y, self._sw
        for start in range(0, n, bs):
            if order is None:
                sel = slice(start, start + bs)
            else:
                sel = order[start:start + bs]

            def take(a, sel=sel):
                if order is not None and type(a) is np.ndarray and a.dtype.kind in "biufc":
                    # Rows gathered by an index array are a fresh copy already: held as is
                    # (convert_to_tensor would copy them again, to not alias the caller's data).
                    return _place_host(a[sel], _dt.from_numpy(a.dtype))
                return convert(a[sel])
            yield (map_structure(take, x), map_structure(take, y), map_structure(take, sw))

    def _dataset_batches(self):
        for element in self._dataset:
            x, y, sw = unpack_x_y_sample_weight(element)
            if self._class_weight is not None and y is not None:
                if sw is not None:
                    raise ValueError("You cannot `class_weight` and `sample_weight` at the "
                                     "same time.")
                sw = _tf().convert_to_tensor(class_weight_to_sample_weights(
                    _to_array(y), self._class_weight))
            yield x, y, sw

    def _new_iterator(self):
        return self._dataset_batches() if self._dataset is not None else self._array_batches()

    def epoch(self):
        """Yields `(step, (x, y, sample_weight))` for one epoch."""
        if self.steps_per_epoch is None:
            yield from enumerate(self._new_iterator())
            return
        # NOTE: with `steps_per_epoch` the data stream continues across epochs (Keras 3).
        if self._iterator is None:
            self._iterator = self._new_iterator()
        for step in range(self.steps_per_epoch):
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if step == 0:
                    self._iterator = self._new_iterator()
                    batch = next(self._iterator, None)
                    if batch is not None:
                        yield step, batch
                        continue
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "that your dataset or generator can generate at least "
                              "`steps_per_epoch * epochs` batches. You may need to use the "
                              "`.repeat()` function when building your dataset.", stacklevel=3)
                return
            yield step, batch
