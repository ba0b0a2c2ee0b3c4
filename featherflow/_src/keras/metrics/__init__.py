"""tf.keras.metrics: `get`, `serialize`, `deserialize` over the metric classes and functions."""
from __future__ import annotations

import inspect

from featherflow._src.keras import _serial
from featherflow._src.keras import loss_functions as F
from featherflow._src.keras.metrics import accuracy as _acc
from featherflow._src.keras.metrics import base as _base
from featherflow._src.keras.metrics import confusion as _conf
from featherflow._src.keras.metrics import regression as _reg
from featherflow._src.module.module import camel_to_snake

_CLASSES = (
    _base.Metric, _base.Mean, _base.Sum, _base.MeanMetricWrapper, _acc.Accuracy,
    _acc.BinaryAccuracy, _acc.CategoricalAccuracy, _acc.SparseCategoricalAccuracy,
    _acc.TopKCategoricalAccuracy, _acc.SparseTopKCategoricalAccuracy, _conf.TruePositives,
    _conf.FalsePositives, _conf.TrueNegatives, _conf.FalseNegatives, _conf.Precision,
    _conf.Recall, _conf.AUC, _reg.MeanSquaredError, _reg.MeanAbsoluteError,
    _reg.MeanAbsolutePercentageError, _reg.MeanSquaredLogarithmicError, _reg.LogCoshError,
    _reg.Hinge, _reg.SquaredHinge, _reg.CategoricalHinge, _reg.KLDivergence, _reg.Poisson,
    _reg.CosineSimilarity, _reg.RootMeanSquaredError, _reg.BinaryCrossentropy,
    _reg.CategoricalCrossentropy, _reg.SparseCategoricalCrossentropy)
_FUNCTIONS = (_acc.accuracy, _acc.binary_accuracy, _acc.categorical_accuracy,
              _acc.sparse_categorical_accuracy, _acc.top_k_categorical_accuracy,
              _acc.sparse_top_k_categorical_accuracy) + F.FUNCTIONS

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({camel_to_snake(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({
    "bce": _reg.BinaryCrossentropy, "BCE": _reg.BinaryCrossentropy,
    "mse": _reg.MeanSquaredError, "MSE": _reg.MeanSquaredError,
    "mae": _reg.MeanAbsoluteError, "MAE": _reg.MeanAbsoluteError,
    "mape": _reg.MeanAbsolutePercentageError, "MAPE": _reg.MeanAbsolutePercentageError,
    "msle": _reg.MeanSquaredLogarithmicError, "MSLE": _reg.MeanSquaredLogarithmicError,
})
_FUNCTION_DICT = {fn.__name__: fn for fn in _FUNCTIONS}


def serialize(metric) -> dict:
    """A metric (instance or function) as Keras' config dict."""
    if inspect.isfunction(metric):
        return {"module": "keras.metrics", "class_name": "function",
                "config": metric.__name__, "registered_name": "function"}
    return {"module": "keras.metrics", "class_name": type(metric).__name__,
            "config": metric.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The metric described by `config` (from `serialize`)."""
    objects = dict(ALL_OBJECTS_DICT, **(custom_objects or {}))
    if isinstance(config, str):
        found = objects.get(config) or _FUNCTION_DICT.get(config)
        if found is None:
            raise ValueError(f"Could not interpret metric identifier: {config}")
        return found
    if config.get("class_name") == "function":
        return _FUNCTION_DICT[config["config"]]
    cls = objects.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Could not interpret metric identifier: {config}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A metric from a name ("accuracy", "mse", "AUC"), a config dict, a function or an
    instance; classes are instantiated.

    >>> import featherflow as tf
    >>> tf.keras.metrics.get("mse")
    <MeanSquaredError name=mean_squared_error>
    """
    return _serial.resolve(identifier, ALL_OBJECTS_DICT, deserialize, "metric")
