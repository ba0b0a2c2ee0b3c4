"""Core layers: Dense, Embedding, Dropout, Flatten, Reshape, Activation, InputLayer/Input."""
from __future__ import annotations

import math

from featherflow._src.keras import activations as _act
from featherflow._src.keras import constraints as _con
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras.layers import keras_tensor as _kt
from featherflow._src.keras.layers.base import InputSpec, Layer, unique_name
from featherflow._src.module.module import Module
from featherflow._src.framework.public import tf as _tf


def ser(obj, kind):
    """Config entry of an initializer/regularizer/constraint/activation."""
    mod = {"init": _init, "reg": _reg, "con": _con, "act": _act}[kind]
    return mod.serialize(obj)


class SeedGenerator(Module):
    """Keras 3's seed state: an int64 variable [seed, counter] advanced by each draw, so a seeded
    layer gives a reproducible sequence of random masks."""

    def __init__(self, seed=None, name=None):
        tf = _tf()
        from featherflow._src.keras.layers.base import KerasVariable  # noqa: PLC0415
        name = name or unique_name("seed_generator")
        super().__init__(name=name)
        if seed is None:
            seed = int(tf.random.uniform((), 0, 2**30, dtype=tf.int32))
        self.state = KerasVariable([int(seed), 0], trainable=False, dtype=tf.int64,
                                   name=f"{name}/seed_generator_state")
        self.state._keras_init("seed_generator_state", f"{name}/seed_generator_state", None)

    def next(self):
        """A stateless seed for one draw; advances the state."""
        seed = self.state.read_value()
        self.state.assign_add(_tf().constant([0, 1], dtype="int64"))
        return seed


class Dense(Layer):
    """`activation(inputs @ kernel + bias)` over the last axis.

    >>> import featherflow as tf
    >>> d = tf.keras.layers.Dense(2, kernel_initializer="ones")
    >>> d(tf.ones((1, 3))).numpy()
    array([[3., 3.]], dtype=float32)
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = _act.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel_constraint = _con.get(kernel_constraint)
        self.bias_constraint = _con.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        last = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(last, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})

    def call(self, inputs, training=None):
        tf = _tf()
        x = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _act.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer, "init"),
                "bias_initializer": ser(self.bias_initializer, "init"),
                "kernel_regularizer": ser(self.kernel_regularizer, "reg"),
                "bias_regularizer": ser(self.bias_regularizer, "reg"),
                "kernel_constraint": ser(self.kernel_constraint, "con"),
                "bias_constraint": ser(self.bias_constraint, "con"),
                "quantization_config": None}


class Embedding(Layer):
    """Looks rows of `embeddings` up by integer id (a gather, so gradients are IndexedSlices)."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        super().__init__(weights=weights, **kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = _init.get(embeddings_initializer)
        self.embeddings_regularizer = _reg.get(embeddings_regularizer)
        self.embeddings_constraint = _con.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim), initializer=self.embeddings_initializer,
            name="embeddings", regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)

    def call(self, inputs):
        tf = _tf()
        inputs = tf.convert_to_tensor(inputs)
        if not inputs.dtype.is_integer:
            inputs = tf.cast(inputs, "int32")
        return tf.gather(self.embeddings, inputs)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return _tf().not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": ser(self.embeddings_initializer, "init"),
                "embeddings_regularizer": ser(self.embeddings_regularizer, "reg"),
                "activity_regularizer": ser(self.activity_regularizer, "reg"),
                "embeddings_constraint": ser(self.embeddings_constraint, "con"),
                "mask_zero": self.mask_zero}


def dropout_mask_apply(x, rate, seed_generator, noise_shape=None):
    """x * keep / (1 - rate), keep drawn from a stateless uniform seeded by the generator."""
    tf = _tf()
    shape = x.shape if noise_shape is None else [
        x.shape[i] if d is None else d for i, d in enumerate(noise_shape)]
    u = tf.random.stateless_uniform(list(shape), seed=seed_generator.next(), dtype=x.dtype)
    keep = tf.cast(u >= rate, x.dtype)
    return x * keep / (1.0 - rate)


class Dropout(Layer):
    """Zeroes inputs with probability `rate` (scaling the rest) when `training=True` only."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value"
                             f" between 0 and 1. Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed
        self.seed_generator = SeedGenerator(seed) if rate > 0 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return dropout_mask_apply(inputs, self.rate, self.seed_generator, self.noise_shape)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class Flatten(Layer):
    """Flattens all axes but the batch axis (channels_first inputs move channels last first)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs):
        tf = _tf()
        rank = inputs.shape.rank
        if self.data_format == "channels_first" and rank > 2:
            inputs = tf.transpose(inputs, [0] + list(range(2, rank)) + [1])
        return tf.reshape(inputs, [inputs.shape[0], -1])

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes every sample to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        self.built = True

    def call(self, inputs):
        return _tf().reshape(inputs, [inputs.shape[0], *self.target_shape])

    def compute_output_shape(self, input_shape):
        target = list(self.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            rest = input_shape[1:]
            target[target.index(-1)] = (None if any(d is None for d in rest)
                                        else math.prod(rest) // known)
        return (input_shape[0], *target)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _act.get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": _act.serialize(self.activation)}


class InputLayer(Layer):
    """The source of a functional graph: holds the KerasTensor that `Input` returns."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        kwargs.pop("input_shape", None)
        super().__init__(name=name, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument.")
        if input_tensor is not None:
            batch_shape = tuple(input_tensor.shape)
        elif batch_shape is None:
            batch_shape = (batch_size,) + tuple(shape)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._dtype_policy = type(self._dtype_policy)(dtype or "float32")
        self.sparse, self.ragged, self.optional = bool(sparse), bool(ragged), optional
        self.built = True
        tensor = input_tensor
        if tensor is None:
            tensor = _kt.KerasTensor(self.batch_shape, dtype=self.dtype, sparse=self.sparse,
                                     ragged=self.ragged, name=name)
        _kt.Node(self, (), {}, outputs=tensor)
        self.output = tensor

    def call(self):
        return self.output

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse,
                "ragged": self.ragged, "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,  # noqa: N802
          name=None, tensor=None, optional=False):
    """A symbolic input (KerasTensor) for the functional API.

    >>> import featherflow as tf
    >>> x = tf.keras.Input(shape=(3,))
    >>> x.shape, x.dtype.name
    ((None, 3), 'float32')
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, input_tensor=tensor,
                       optional=optional, name=name)
    return layer.output
