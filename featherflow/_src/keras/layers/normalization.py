"""BatchNormalization and LayerNormalization (Keras 3)."""
from __future__ import annotations

from featherflow._src.keras import constraints as _con
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras.layers.base import InputSpec, Layer
from featherflow._src.keras.layers.core import ser
from featherflow._src.framework.public import tf as _tf


def _axes(axis, rank):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(a % rank for a in axes)


class BatchNormalization(Layer):
    """Normalises with batch statistics when training (updating the moving statistics by
    `moving = moving * momentum + batch * (1 - momentum)`), with the moving ones otherwise.

    A frozen layer (`trainable=False`) always runs in inference mode, as in Keras 3.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise ValueError("featherflow's BatchNormalization does not implement renorm=True.")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = _init.get(beta_initializer)
        self.gamma_initializer = _init.get(gamma_initializer)
        self.moving_mean_initializer = _init.get(moving_mean_initializer)
        self.moving_variance_initializer = _init.get(moving_variance_initializer)
        self.beta_regularizer = _reg.get(beta_regularizer)
        self.gamma_regularizer = _reg.get(gamma_regularizer)
        self.beta_constraint = _con.get(beta_constraint)
        self.gamma_constraint = _con.get(gamma_constraint)
        self.synchronized = synchronized
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank
        shape = (input_shape[axis],)
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: input_shape[axis]})
        self._reduce = [i for i in range(rank) if i != axis]
        self._bshape = [1] * rank
        self._bshape[axis] = input_shape[axis]

    def call(self, inputs, training=None, mask=None):
        tf = _tf()
        x = inputs
        if training and self.trainable:
            if mask is not None:
                w = tf.cast(tf.expand_dims(mask, -1) if mask.shape.rank < x.shape.rank else mask,
                            x.dtype)
                w = tf.broadcast_to(w, x.shape)
                n = tf.reduce_sum(w, axis=self._reduce)
                mean = tf.reduce_sum(x * w, axis=self._reduce) / n
                var = tf.reduce_sum(tf.square(x - tf.reshape(mean, self._bshape)) * w,
                                    axis=self._reduce) / n
            else:
                mean, var = tf.nn.moments(x, self._reduce)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + var * (1.0 - m))
        else:
            mean, var = self.moving_mean, self.moving_variance
        r = self._bshape
        gamma = None if self.gamma is None else tf.reshape(self.gamma, r)
        beta = None if self.beta is None else tf.reshape(self.beta, r)
        return tf.nn.batch_normalization(x, tf.reshape(mean, r), tf.reshape(var, r), beta, gamma,
                                         self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": ser(self.beta_initializer, "init"),
                "gamma_initializer": ser(self.gamma_initializer, "init"),
                "moving_mean_initializer": ser(self.moving_mean_initializer, "init"),
                "moving_variance_initializer": ser(self.moving_variance_initializer, "init"),
                "beta_regularizer": ser(self.beta_regularizer, "reg"),
                "gamma_regularizer": ser(self.gamma_regularizer, "reg"),
                "beta_constraint": ser(self.beta_constraint, "con"),
                "gamma_constraint": ser(self.gamma_constraint, "con"),
                "synchronized": self.synchronized}


class LayerNormalization(Layer):
    """Normalises each sample over `axis` (default the last), then scales and shifts."""

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.beta_initializer = _init.get(beta_initializer)
        self.gamma_initializer = _init.get(gamma_initializer)
        self.beta_regularizer = _reg.get(beta_regularizer)
        self.gamma_regularizer = _reg.get(gamma_regularizer)
        self.beta_constraint = _con.get(beta_constraint)
        self.gamma_constraint = _con.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        self._axes = _axes(self.axis, rank)
        shape = tuple(input_shape[a] for a in self._axes)
        self._bshape = [input_shape[i] if i in self._axes else 1 for i in range(rank)]
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(name="beta", shape=shape,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def call(self, inputs):
        tf = _tf()
        mean, var = tf.nn.moments(inputs, self._axes, keepdims=True)
        gamma = None if self.gamma is None else tf.reshape(self.gamma, self._bshape)
        beta = None if self.beta is None else tf.reshape(self.beta, self._bshape)
        return tf.nn.batch_normalization(inputs, mean, var, beta, gamma, self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": ser(self.beta_initializer, "init"),
                "gamma_initializer": ser(self.gamma_initializer, "init"),
                "beta_regularizer": ser(self.beta_regularizer, "reg"),
                "gamma_regularizer": ser(self.gamma_regularizer, "reg"),
                "beta_constraint": ser(self.beta_constraint, "con"),
                "gamma_constraint": ser(self.gamma_constraint, "con")}
