"""Keras 3's `Metric` base class on featherflow: state in non-trainable variables updated in place
(`assign_add`), found by the module walker so a Module or Checkpoint holding a metric sees them.
Also `Mean`, `Sum` and `MeanMetricWrapper`."""
from __future__ import annotations

import inspect

from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.keras import _lossops as ops
from featherflow._src.keras import losses as _losses
from featherflow._src.keras._lossops import squeeze_or_expand_to_same_rank
from featherflow._src.module import walk as _walk
from featherflow._src.module.module import Module
from featherflow._src.variables.variable import (Variable, VariableAggregation,
                                                 VariableSynchronization)

_AGGREGATIONS = {"sum": VariableAggregation.SUM, "mean": VariableAggregation.MEAN,
                 "none": VariableAggregation.NONE, None: VariableAggregation.NONE,
                 "only_first_replica": VariableAggregation.ONLY_FIRST_REPLICA}


class Metric(Module):
    """Base class of Keras metrics: `update_state` accumulates into variables made with
    `add_variable`, `result` reads them, `reset_state` zeroes them.

    >>> import featherflow as tf
    >>> m = tf.keras.metrics.Mean()
    >>> m.update_state([1., 2., 3.])
    >>> float(m.result())
    2.0
    """

    def __init__(self, dtype=None, name=None):
        # Module's own __init__ would insist on an identifier-like name; Keras allows any.
        self._metric_name = name or _losses.auto_name(type(self).__name__)
        self._name = self._metric_name
        self._name_scope = None
        self._dtype = _losses._float_dtype_name(dtype)
        self._variables = []
        self._metrics = []

    @property
    def name(self) -> str:
        return self._metric_name

    @name.setter
    def name(self, value):
        self._metric_name = self._name = value

    @property
    def name_scope(self):
        return _name_scope(self.name.replace("/", ">"))

    @property
    def dtype(self) -> str:
        return self._dtype

    def __setattr__(self, key, value):
        # Keras tracks metrics assigned as attributes (their variables join ours).
        if isinstance(value, Metric) and "_metrics" in self.__dict__ and \
                value not in self._metrics:
            self._metrics.append(value)
        super().__setattr__(key, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` "
                               "method. Go add it!")

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A non-trainable state variable (on-read synchronized, summed across replicas)."""
        self._check_super_called()
        dtype = dtype or self.dtype
        shape = tuple(shape)
        if isinstance(initializer, (str, dict)) or inspect.isclass(initializer):
            from featherflow._src.keras import initializers  # noqa: PLC0415

            initializer = initializers.get(initializer)
        if initializer is None:
            initial = ops.zeros(shape, dtype)
        elif callable(initializer):
            initial = initializer(shape, dtype=dtype)
        else:
            initial = ops.fill(list(shape), ops.to_tensor(initializer, dtype))
        with _name_scope(self.name.replace("/", ">")):
            variable = Variable(initial, trainable=False, name=name, dtype=dtype,
                                synchronization=VariableSynchronization.ON_READ,
                                aggregation=_AGGREGATIONS.get(aggregation, aggregation))
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Keras' older name for `add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """This metric's variables in creation order, then those of metrics it holds."""
        out = list(self._variables)
        for metric in self._metrics:
            out.extend(metric.variables)
        return out

    @property
    def trainable_variables(self) -> list:
        return []

    @property
    def non_trainable_variables(self) -> list:
        return self.variables

    def reset_state(self):
        for v in self.variables:
            v.assign(ops.zeros(v.shape, v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__


_walk.register_module_type(Metric)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras' rule: values are reduced to the weights' rank, weighted, then to one per sample."""
    values = ops.to_tensor(values, dtype or ops.FLOATX)
    if sample_weight is not None:
        sample_weight = ops.to_tensor(sample_weight, dtype or ops.FLOATX)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = ops.ndim(sample_weight), ops.ndim(values)
        if v_ndim > w_ndim:
            values = reduce_fn(values, axis=list(range(w_ndim, v_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(values))
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, w_ndim)))
    if ops.ndim(values) > 1:
        values = reduce_fn(values, axis=list(range(1, ops.ndim(values))))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.reduce_sum,
                                                self.dtype)
        self.total.assign_add(ops.reduce_sum(values))

    def reset_state(self):
        self.total.assign(ops.zeros((), self.total.dtype))

    def result(self):
        return ops.to_tensor(self.total, self.dtype)


class Mean(Metric):
    """The (weighted) mean of the values seen: total / count."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight,
                                                            ops.reduce_mean, self.dtype)
        self.total.assign_add(ops.reduce_sum(values))
        if sample_weight is not None:
            num = ops.reduce_sum(sample_weight)
        elif ops.ndim(values) >= 1:
            num = ops.to_tensor(values.shape[0], self.dtype)
        else:
            num = ops.to_tensor(1, self.dtype)
        self.count.assign_add(ops.cast(num, self.count.dtype))

    def reset_state(self):
        self.total.assign(ops.zeros((), self.total.dtype))
        self.count.assign(ops.zeros((), self.count.dtype))

    def result(self):
        return ops.divide_no_nan(ops.to_tensor(self.total), ops.to_tensor(self.count,
                                                                          self.dtype))


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over the samples seen.

    >>> import featherflow as tf
    >>> m = tf.keras.metrics.MeanMetricWrapper(tf.keras.losses.mse)
    >>> float(m([[0., 1.]], [[1., 1.]]))
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def _values(self, y_true, y_pred):
        return self._fn(y_true, y_pred, **self._fn_kwargs), None

    def update_state(self, y_true, y_pred, sample_weight=None):
        values, mask = self._values(y_true, y_pred)
        sample_weight = _losses.apply_mask(sample_weight, mask, self.dtype, "sum")
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        fn = self._fn
        if inspect.isfunction(fn):
            config["fn"] = {"module": "builtins", "class_name": "function",
                            "config": fn.__name__, "registered_name": "function"}
        else:
            config["fn"] = fn
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, dict) and fn.get("class_name") == "function":
            from featherflow._src.keras import metrics as _metrics  # noqa: PLC0415

            config["fn"] = _metrics.deserialize(fn)
        return cls(**config)
