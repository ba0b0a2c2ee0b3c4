"""MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D (Keras 3)."""
from __future__ import annotations

from featherflow._src.keras.layers.base import InputSpec, Layer
from featherflow._src.keras.layers.conv import _tuple, conv_output_length
from featherflow._src.framework.public import tf as _tf


class _Pool2D(Layer):
    _op = "max_pool2d"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides")
        self.padding = padding.lower()
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def call(self, inputs):
        tf = _tf()
        x = inputs
        first = self.data_format == "channels_first"
        if first:
            x = tf.transpose(x, [0, 2, 3, 1])
        y = getattr(tf.nn, self._op)(x, self.pool_size, self.strides, self.padding.upper())
        return tf.transpose(y, [0, 3, 1, 2]) if first else y

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:3]
        out = tuple(conv_output_length(s, k, self.padding, st)
                    for s, k, st in zip(spatial, self.pool_size, self.strides))
        if first:
            return (input_shape[0], input_shape[1]) + out
        return (input_shape[0],) + out + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pool2D):
    """Max over `pool_size` windows.

    >>> import featherflow as tf
    >>> tf.keras.layers.MaxPooling2D()(tf.ones((1, 4, 4, 1))).shape
    TensorShape([1, 2, 2, 1])
    """

    _op = "max_pool2d"


class AveragePooling2D(_Pool2D):
    """Mean over `pool_size` windows (padding excluded from the count with "same")."""

    _op = "avg_pool2d"


class GlobalAveragePooling2D(Layer):
    """Mean over the spatial axes."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=4)
        self.built = True

    def call(self, inputs):
        axes = [1, 2] if self.data_format == "channels_last" else [2, 3]
        return _tf().reduce_mean(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        ch = input_shape[3] if self.data_format == "channels_last" else input_shape[1]
        if not self.keepdims:
            return (input_shape[0], ch)
        if self.data_format == "channels_last":
            return (input_shape[0], 1, 1, ch)
        return (input_shape[0], ch, 1, 1)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}
