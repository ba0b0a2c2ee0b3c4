"""tf.keras.constraints (Keras 3): callables `c(w)` returning the projected weight. Layers pass
them to their variables (`tf.Variable(constraint=...)`); optimizers apply them after updates."""
from __future__ import annotations

from featherflow._src.keras import _serial
from featherflow._src.framework.public import tf as _tf

_MODULE = "keras.constraints"


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    tf = _tf()
    return tf.sqrt(tf.reduce_sum(tf.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales slices whose L2 norm along `axis` exceeds `max_value`.

    >>> import featherflow as tf
    >>> tf.keras.constraints.MaxNorm(1.0)(tf.constant([[3.0], [4.0]])).numpy().ravel()
    array([0.6, 0.8], dtype=float32)
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        tf = _tf()
        w = tf.convert_to_tensor(w)
        n = _norms(w, self.axis)
        desired = tf.clip_by_value(n, 0.0, float(self.max_value))
        return w * (desired / (1e-7 + n))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        tf = _tf()
        w = tf.convert_to_tensor(w)
        return w * tf.cast(w >= 0.0, w.dtype)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _tf().convert_to_tensor(w)
        return w / (1e-7 + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        tf = _tf()
        w = tf.convert_to_tensor(w)
        n = _norms(w, self.axis)
        desired = (self.rate * tf.clip_by_value(n, float(self.min_value), float(self.max_value))
                   + (1.0 - self.rate) * n)
        return w * (desired / (1e-7 + n))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_TABLE = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
          "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
          "min_max_norm": MinMaxNorm}


def serialize(constraint):
    return _serial.serialize(constraint, _MODULE)


def deserialize(config, custom_objects=None):
    return _serial.lookup(config, {**_TABLE, **(custom_objects or {})}, "constraint")


def get(identifier):
    """A constraint from a name ("max_norm"), config dict, instance or callable."""
    return _serial.lookup(identifier, _TABLE, "constraint")
