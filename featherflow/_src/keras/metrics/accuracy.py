"""Accuracy metrics (Keras 3): per-sample match values averaged by `MeanMetricWrapper`."""
from __future__ import annotations

from featherflow._src.keras import _lossops as ops
from featherflow._src.keras._lossops import FLOATX, squeeze_or_expand_to_same_rank
from featherflow._src.keras.metrics.base import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred, else 0.0."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), FLOATX)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true.

    >>> import featherflow as tf
    >>> tf.keras.metrics.binary_accuracy([1., 0.], [0.7, 0.6]).numpy()
    array([1., 0.], dtype=float32)
    """
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = ops.cast(ops.greater(y_pred, ops.to_tensor(threshold, y_pred.dtype)), y_true.dtype)
    return ops.cast(ops.equal(y_true, y_pred), FLOATX)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_true) == argmax(y_pred) on the last axis."""
    y_true = ops.argmax(ops.to_tensor(y_true), axis=-1)
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    org_shape = ops.shape(y_true)
    reshape = False
    if ops.ndim(y_true) == ops.ndim(y_pred):
        y_true = ops.squeeze(y_true, axis=[-1])
        reshape = True
    y_pred = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = ops.cast(ops.equal(y_true, y_pred), FLOATX)
    return ops.reshape(matches, org_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals argmax(y_pred) on the last axis."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    org_shape = ops.shape(y_true)
    reshape = False
    if ops.ndim(y_true) == ops.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=[-1])
        reshape = True
    y_pred = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = ops.cast(ops.equal(y_true, y_pred), FLOATX)
    if reshape:
        matches = ops.reshape(matches, org_shape)
    if ops.ndim(matches) > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, axis=[-1])
    return matches


def in_top_k(targets, predictions, k):
    """TF's `in_top_k`: the target's score has fewer than k scores strictly above it (ties count
    as inside); rows with a non-finite target score are outside."""
    targets = ops.to_tensor(targets, "int32")
    rows = ops.reshape(ops.cast(ops.to_tensor(list(range(predictions.shape[0]))), "int32"),
                       [-1, 1])
    idx = ops.stack([ops.reshape(rows, [-1]), targets], axis=1)
    from featherflow._src.api.indexing_ops import gather_nd  # noqa: PLC0415
    from featherflow._src.api.math_ops import is_finite  # noqa: PLC0415

    target_score = ops.expand_dims(gather_nd(predictions, idx), -1)
    above = ops.reduce_sum(ops.cast(ops.greater(predictions, target_score), "int32"), axis=-1)
    finite = is_finite(ops.reshape(target_score, [-1]))
    return ops.logical_and(ops.less_equal(above, ops.to_tensor(k - 1, "int32")), finite)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where argmax(y_true) is among the k highest predictions."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.argmax(ops.to_tensor(y_true, y_pred.dtype), axis=-1)
    org_shape = ops.shape(y_true)
    reshape = False
    if ops.ndim(y_pred) > 2:
        y_pred = ops.reshape(y_pred, [-1, y_pred.shape[-1]])
    if ops.ndim(y_true) > 1:
        reshape = True
        y_true = ops.reshape(y_true, [-1])
    matches = ops.cast(in_top_k(y_true, y_pred, k), FLOATX)
    return ops.reshape(matches, org_shape) if reshape else matches


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest predictions (or, with
    `from_sorted_ids`, among the first k ids of y_pred)."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype if from_sorted_ids else "int32")
    org_shape = ops.shape(y_true)
    reshape = False
    if ops.ndim(y_pred) > 2:
        y_pred = ops.reshape(y_pred, [-1, y_pred.shape[-1]])
    if ops.ndim(y_true) > 1:
        reshape = True
        y_true = ops.reshape(y_true, [-1])
    if from_sorted_ids:
        from featherflow._src.api.reduce_ops import reduce_any  # noqa: PLC0415

        matches = reduce_any(ops.equal(ops.expand_dims(y_true, 1), y_pred[:, :k]), axis=1)
    else:
        matches = in_top_k(y_true, y_pred, k)
    matches = ops.cast(matches, FLOATX)
    return ops.reshape(matches, org_shape) if reshape else matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) matches binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top `k` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top `k` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
