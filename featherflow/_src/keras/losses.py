"""tf.keras.losses: Keras 3's `Loss` classes (reduction, sample weights, configs) and `get`.

The per-sample functions live in `loss_functions.py`; a class converts both inputs to its dtype,
aligns their ranks, computes the per-sample values and reduces them with the sample weights.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.keras import _serial
from featherflow._src.keras import _lossops as ops
from featherflow._src.keras import loss_functions as F
from featherflow._src.keras._lossops import squeeze_or_expand_to_same_rank

# Keras' accepted values, listed in a fixed order for the error message.
REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")
_NAME_COUNTS: dict = {}


def auto_name(class_name: str) -> str:
    """Keras' default object names: "loss", then "loss_1", ... per process."""
    from featherflow._src.module.module import camel_to_snake  # noqa: PLC0415

    base = camel_to_snake(class_name)
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        allowed = "{" + ", ".join(repr(r) for r in REDUCTIONS) + "}"
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {allowed}. "
                         f"Received: reduction={reduction}")
    return reduction


def _float_dtype_name(dtype) -> str:
    if dtype is None:
        return ops.FLOATX
    name = getattr(dtype, "compute_dtype", None) or ops.dtype_name(dtype)
    return name


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a validity mask into the sample weights (Keras' rule: for averaging reductions,
    valid entries are scaled up so the mean runs over valid entries only)."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = ops.cast(ops.reduce_prod(ops.shape(mask)), dtype)
        valid = ops.reduce_sum(ops.cast(mask, dtype))
        scale = ops.divide_no_nan(total, valid)
        float_mask = ops.where(ops.cast(mask, "bool"), ops.fill(ops.shape(mask), scale),
                               ops.zeros(ops.shape(mask), dtype))
    else:
        float_mask = ops.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = ops.cast(sample_weight, dtype)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    dims = ops.dims(values)
    if reduction is None or reduction == "none" or dims in ((), (0,)):
        return values
    loss = ops.reduce_sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = ops.cast(ops.reduce_sum(sample_weight), loss.dtype)
        elif None not in dims:
            # The element count is static here: the int32 product cast to the loss dtype, as
            # cast(reduce_prod(shape(values))) gives, without three ops per step. A Python
            # number (exactly that value) takes the loss's dtype and device.
            count = math.prod(dims)
            count = (count + 2 ** 31) % 2 ** 32 - 2 ** 31  # int32 wraparound, as reduce_prod
            divisor = loss.dtype.as_numpy_dtype(count).item()
        else:
            divisor = ops.cast(ops.reduce_prod(ops.shape(values)), loss.dtype)
        loss = ops.divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """Weights per-sample `values` (rank-aligned with `sample_weight`, then broadcast) and
    reduces them as `reduction` says."""
    reduction = standardize_reduction(reduction)
    values = ops.to_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = ops.to_tensor(sample_weight, dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of Keras losses: a subclass writes `call(y_true, y_pred)` (per-sample values).

    >>> import featherflow as tf
    >>> class MyMSE(tf.keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return tf.reduce_mean(tf.square(y_pred - y_true), axis=-1)
    >>> float(MyMSE()(tf.constant([[0., 2.]]), tf.constant([[0., 0.]])))
    2.0
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = _float_dtype_name(dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        with _name_scope(self.name):
            y_pred = ops.to_tensor(y_pred, self.dtype)
            y_true = ops.to_tensor(y_true, self.dtype)
            losses, mask = self._call_with_mask(y_true, y_pred)
            return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                          reduction=self.reduction, dtype=self.dtype)

    def _call_with_mask(self, y_true, y_pred):
        # (per-sample losses, mask or None): Keras carries the mask on the tensor itself.
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A `Loss` around a per-sample function `fn(y_true, y_pred, **kwargs)`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["fn"] = getattr(self.fn, "__name__", self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = get(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


def _simple(fn, default_name, doc):
    """A LossFunctionWrapper subclass whose only arguments are reduction, name and dtype."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    return {"__init__": __init__, "get_config": get_config, "__doc__": doc}


MeanSquaredError = type("MeanSquaredError", (LossFunctionWrapper,), _simple(
    F.mean_squared_error, "mean_squared_error", """Mean of squares of errors.

    >>> import featherflow as tf
    >>> float(tf.keras.losses.MeanSquaredError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]]))
    0.5
    """))
MeanAbsoluteError = type("MeanAbsoluteError", (LossFunctionWrapper,), _simple(
    F.mean_absolute_error, "mean_absolute_error", "Mean of absolute errors."))
MeanAbsolutePercentageError = type("MeanAbsolutePercentageError", (LossFunctionWrapper,),
                                   _simple(F.mean_absolute_percentage_error,
                                           "mean_absolute_percentage_error",
                                           "Mean absolute percentage error."))
MeanSquaredLogarithmicError = type("MeanSquaredLogarithmicError", (LossFunctionWrapper,),
                                   _simple(F.mean_squared_logarithmic_error,
                                           "mean_squared_logarithmic_error",
                                           "Mean squared logarithmic error."))
LogCosh = type("LogCosh", (LossFunctionWrapper,), _simple(
    F.log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error."))
Hinge = type("Hinge", (LossFunctionWrapper,), _simple(F.hinge, "hinge", "Hinge loss."))
SquaredHinge = type("SquaredHinge", (LossFunctionWrapper,), _simple(
    F.squared_hinge, "squared_hinge", "Squared hinge loss."))
CategoricalHinge = type("CategoricalHinge", (LossFunctionWrapper,), _simple(
    F.categorical_hinge, "categorical_hinge", "Categorical hinge loss."))
KLDivergence = type("KLDivergence", (LossFunctionWrapper,), _simple(
    F.kl_divergence, "kl_divergence", "Kullback-Leibler divergence."))
Poisson = type("Poisson", (LossFunctionWrapper,), _simple(F.poisson, "poisson", "Poisson loss."))
for _cls in (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
             MeanSquaredLogarithmicError, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
             KLDivergence, Poisson):
    _cls.__module__ = __name__


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between labels and predictions along `axis`."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(F.cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)
        self.axis = axis

    def get_config(self):
        # NOTE: Keras 3 leaves `axis` out, so a round trip silently resets it; kept here.
        return {**Loss.get_config(self), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic below `delta`, linear above."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(F.huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        # NOTE: Keras 3 leaves `delta` out, so a round trip silently resets it; kept here.
        return {**Loss.get_config(self), "delta": self.delta}


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy between labels (0/1) and probabilities or logits.

    >>> import featherflow as tf
    >>> bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    >>> round(float(bce([[1.]], [[0.]])), 4)
    0.6931
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(F.binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy (down-weights easy examples by (1 - p_t)^gamma)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(F.binary_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis,
                "apply_class_balancing": self.apply_class_balancing, "alpha": self.alpha,
                "gamma": self.gamma}


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot labels and class probabilities or logits."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(F.categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer labels and class probabilities or logits; entries labelled
    `ignore_class` are left out of the loss and of the average."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(F.sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _call_with_mask(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return F.sparse_categorical_crossentropy_with_mask(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**Loss.get_config(self), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class}


ALL_OBJECTS = (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
               MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
               Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
               BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
               SparseCategoricalCrossentropy) + F.FUNCTIONS
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(F.ALIASES)


def serialize(loss) -> dict:
    """A loss (instance or function) as Keras' config dict."""
    if inspect.isfunction(loss):
        return {"module": "keras.losses", "class_name": "function", "config": loss.__name__,
                "registered_name": "function"}
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": loss.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The loss described by `config` (from `serialize`)."""
    objects = dict(ALL_OBJECTS_DICT, **(custom_objects or {}))
    if isinstance(config, str):
        return objects[config] if config in objects else get(config)
    name = config.get("class_name")
    if name == "function":
        return objects[config["config"]]
    cls = objects.get(name)
    if cls is None or not inspect.isclass(cls):
        raise ValueError(f"Could not interpret loss identifier: {config}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A loss from a name ("mse", "CategoricalCrossentropy"), a config dict, a function or an
    instance; classes are instantiated.

    >>> import featherflow as tf
    >>> tf.keras.losses.get("mse").__name__
    'mean_squared_error'
    """
    return _serial.resolve(identifier, ALL_OBJECTS_DICT, deserialize, "loss")
