"""Regression and probabilistic metrics (Keras 3): means of the per-sample loss functions."""
from __future__ import annotations

from featherflow._src.keras import _lossops as ops
from featherflow._src.keras import loss_functions as F
from featherflow._src.keras._lossops import squeeze_or_expand_to_same_rank
from featherflow._src.keras.metrics.base import Mean, MeanMetricWrapper


def _plain(fn, default_name, doc):
    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    return {"__init__": __init__, "get_config": get_config, "__doc__": doc,
            "__module__": __name__}


MeanSquaredError = type("MeanSquaredError", (MeanMetricWrapper,), _plain(
    F.mean_squared_error, "mean_squared_error", "Mean of squared errors over all samples."))
MeanAbsoluteError = type("MeanAbsoluteError", (MeanMetricWrapper,), _plain(
    F.mean_absolute_error, "mean_absolute_error", "Mean of absolute errors."))
MeanAbsolutePercentageError = type("MeanAbsolutePercentageError", (MeanMetricWrapper,), _plain(
    F.mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "Mean absolute percentage error."))
MeanSquaredLogarithmicError = type("MeanSquaredLogarithmicError", (MeanMetricWrapper,), _plain(
    F.mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "Mean squared logarithmic error."))
LogCoshError = type("LogCoshError", (MeanMetricWrapper,), _plain(
    F.log_cosh, "logcosh", "Mean of log(cosh(error))."))
Hinge = type("Hinge", (MeanMetricWrapper,), _plain(F.hinge, "hinge", "Mean hinge loss."))
SquaredHinge = type("SquaredHinge", (MeanMetricWrapper,), _plain(
    F.squared_hinge, "squared_hinge", "Mean squared hinge loss."))
CategoricalHinge = type("CategoricalHinge", (MeanMetricWrapper,), _plain(
    F.categorical_hinge, "categorical_hinge", "Mean categorical hinge loss."))
KLDivergence = type("KLDivergence", (MeanMetricWrapper,), _plain(
    F.kl_divergence, "kl_divergence", "Mean Kullback-Leibler divergence."))
Poisson = type("Poisson", (MeanMetricWrapper,), _plain(F.poisson, "poisson",
                                                        "Mean Poisson loss."))


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity (positive: 1 for identical directions)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def _cosine_similarity(y_true, y_pred, axis=-1):
    return -F.cosine_similarity(y_true, y_pred, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean squared error over all samples seen.

    >>> import featherflow as tf
    >>> m = tf.keras.metrics.RootMeanSquaredError()
    >>> float(m([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]]))
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.to_tensor(y_true, self.dtype)
        y_pred = ops.to_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        from featherflow._src.api.math_ops import sqrt  # noqa: PLC0415

        return sqrt(ops.divide_no_nan(ops.to_tensor(self.total), ops.to_tensor(self.count)))


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(F.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(F.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (entries labelled `ignore_class` left out)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(F.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def _values(self, y_true, y_pred):
        return F.sparse_categorical_crossentropy_with_mask(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
