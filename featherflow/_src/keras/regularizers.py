"""tf.keras.regularizers (Keras 3): callables `reg(weight)` returning a scalar loss."""
from __future__ import annotations

import numpy as np

from featherflow._src.keras import _serial
from featherflow._src.framework.public import tf as _tf

_MODULE = "keras.regularizers"


def _f32(value, name):
    # Keras 3 keeps the factors as float32-rounded Python floats (0.01 -> 0.009999999776...).
    if not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
        raise ValueError(f"Value for argument `{name}` must be a positive number. "
                         f"Received: {name}={value}")
    return float(np.float32(value))


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1(Regularizer):
    """l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        self.l1 = _f32(l1, "l1")

    def __call__(self, x):
        tf = _tf()
        return self.l1 * tf.reduce_sum(tf.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x ** 2).

    >>> import featherflow as tf
    >>> float(tf.keras.regularizers.L2(0.1)(tf.ones((2, 2))))
    0.4000000059604645
    """

    def __init__(self, l2=0.01):
        self.l2 = _f32(l2, "l2")

    def __call__(self, x):
        tf = _tf()
        return self.l2 * tf.reduce_sum(tf.square(x))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _f32(l1, "l1")
        self.l2 = _f32(l2, "l2")

    def __call__(self, x):
        tf = _tf()
        out = tf.zeros((), dtype=x.dtype)
        if self.l1:
            out = out + self.l1 * tf.reduce_sum(tf.abs(x))
        if self.l2:
            out = out + self.l2 * tf.reduce_sum(tf.square(x))
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |off-diagonal of (normalised rows or columns) @ their transpose|."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _f32(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError("Invalid value for argument `mode`. Expected one of "
                             f"{{'rows', 'columns'}}. Received: mode={mode}")
        self.mode = mode

    def __call__(self, x):
        tf = _tf()
        if x.shape.rank != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        if self.mode == "columns":
            x = tf.transpose(x)
        x = tf.math.l2_normalize(x, axis=1)
        prod = tf.matmul(x, x, transpose_b=True)
        n = int(x.shape[0])
        off = prod * (1.0 - tf.eye(n, dtype=x.dtype))
        return self.factor * tf.reduce_sum(tf.abs(off)) / (n * (n - 1) / 2.0)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_TABLE = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer,
          "l1": L1, "l2": L2, "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    return _serial.serialize(regularizer, _MODULE)


def deserialize(config, custom_objects=None):
    return _serial.lookup(config, {**_TABLE, **(custom_objects or {})}, "regularizer")


def get(identifier):
    """A regularizer from a name ("l2"), config dict, instance or callable."""
    return _serial.lookup(identifier, _TABLE, "regularizer")
