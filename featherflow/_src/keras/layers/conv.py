"""Conv1D and Conv2D (Keras 3): kernel (*kernel_size, in_channels // groups, filters)."""
from __future__ import annotations

from featherflow._src.keras import activations as _act
from featherflow._src.keras import constraints as _con
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras.layers.base import InputSpec, Layer
from featherflow._src.keras.layers.core import ser
from featherflow._src.framework.public import tf as _tf


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                         f"Received {name}={value}")
    return value


def conv_output_length(length, kernel, padding, stride, dilation=1):
    if length is None:
        return None
    k = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - k + stride) // stride


class _Conv(Layer):
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        n = self.rank
        self.filters, self.groups = int(filters), int(groups)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size")
        self.strides = _tuple(strides, n, "strides")
        self.dilation_rate = _tuple(dilation_rate, n, "dilation_rate")
        self.padding = padding.lower()
        if self.padding not in ("valid", "same"):
            raise ValueError("The `padding` argument must be one of 'valid', 'same'. "
                             f"Received: padding={padding}")
        self.data_format = data_format or "channels_last"
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}.")
        self.activation = _act.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel_constraint = _con.get(kernel_constraint)
        self.bias_constraint = _con.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=n + 2)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        ch = input_shape[self._channel_axis()]
        if ch % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number"
                             f" of groups. Received groups={self.groups}, but the input has {ch} "
                             f"channels (full input shape is {tuple(input_shape)}).")
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (ch // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={self._channel_axis(): ch})

    def _conv(self, x, kernel):
        tf = _tf()
        pad = self.padding.upper()
        if self.rank == 1:
            return tf.nn.conv1d(x, kernel, self.strides[0], pad,
                                dilations=self.dilation_rate[0])
        return tf.nn.conv2d(x, kernel, (1,) + self.strides + (1,), pad,
                            dilations=(1,) + self.dilation_rate + (1,))

    def call(self, inputs):
        tf = _tf()
        n = self.rank
        x = inputs
        if self.data_format == "channels_first":
            x = tf.transpose(x, [0] + list(range(2, n + 2)) + [1])
        if self.groups == 1:
            y = self._conv(x, self.kernel)
        else:
            xs = tf.split(x, self.groups, axis=-1)
            ks = tf.split(self.kernel, self.groups, axis=-1)
            y = tf.concat([self._conv(a, k) for a, k in zip(xs, ks)], axis=-1)
        if self.bias is not None:
            y = y + self.bias
        y = self.activation(y)
        if self.data_format == "channels_first":
            y = tf.transpose(y, [0, n + 1] + list(range(1, n + 1)))
        return y

    def compute_output_shape(self, input_shape):
        first = self.data_format == "channels_first"
        spatial = input_shape[2:] if first else input_shape[1:-1]
        out = tuple(conv_output_length(s, k, self.padding, st, d) for s, k, st, d in
                    zip(spatial, self.kernel_size, self.strides, self.dilation_rate))
        if first:
            return (input_shape[0], self.filters) + out
        return (input_shape[0],) + out + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": _act.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer, "init"),
                "bias_initializer": ser(self.bias_initializer, "init"),
                "kernel_regularizer": ser(self.kernel_regularizer, "reg"),
                "bias_regularizer": ser(self.bias_regularizer, "reg"),
                "activity_regularizer": ser(self.activity_regularizer, "reg"),
                "kernel_constraint": ser(self.kernel_constraint, "con"),
                "bias_constraint": ser(self.bias_constraint, "con")}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) (or channels_first)."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) (or channels_first).

    >>> import featherflow as tf
    >>> tf.keras.layers.Conv2D(4, 3)(tf.ones((1, 5, 5, 2))).shape
    TensorShape([1, 3, 3, 4])
    """

    rank = 2
