"""tf.keras.optimizers.Lion, Lamb and Adafactor (composed from public ops and in-place assigns;
TensorFlow has no fused kernels for them)."""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers._common import base_kwargs
from featherflow._src.keras.optimizers.base import Optimizer
from featherflow._src.variables.variable import Variable


def _step(opt, dtype):
    return ops.cast(opt.iterations + 1, dtype)


class Lion(Optimizer):
    """Lion: the sign of an interpolated momentum, times the learning rate.

    >>> import featherflow as tf
    >>> v = tf.Variable([1.0, 1.0])
    >>> _ = tf.keras.optimizers.Lion(learning_rate=0.1).apply_gradients(
    ...     [(tf.constant([2.0, -2.0]), v)])
    >>> v.numpy().tolist()
    [0.8999999761581421, 1.100000023841858]
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.dense(gradient)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        variable.assign_sub(lr * ops.sign(m * beta_1 + g * (1.0 - beta_1)))
        m.assign(m * beta_2 + g * (1.0 - beta_2))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config


class Lamb(Optimizer):
    """LAMB: Adam's update scaled per variable by ||w|| / ||update||."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        step = _step(self, dtype)
        b1p = ops.pow(ops.cast(self.beta_1, dtype), step)
        b2p = ops.pow(ops.cast(self.beta_2, dtype), step)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        m.assign_add((ops.dense(gradient) - m) * (1 - self.beta_1))
        v.assign_add((ops.sparse_square(gradient) - v) * (1 - self.beta_2))
        update = (m / (1.0 - b1p)) / (ops.sqrt(v / (1.0 - b2p)) + self.epsilon)
        w_norm = ops.sqrt(ops.reduce_sum(ops.square(variable)))
        g_norm = ops.sqrt(ops.reduce_sum(ops.square(update)))
        one = ops.cast(1.0, dtype)
        ratio = ops.where(w_norm > 0, ops.where(g_norm > 0, w_norm / g_norm, one), one)
        variable.assign_sub(ratio * lr * update)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Adafactor(Optimizer):
    """Adafactor: factored second moments (row and column averages) for rank >= 2."""

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            if len(var.shape) < 2:
                # Unused placeholders, created as Keras does (int32 scalars named after var).
                for store in (self._r, self._c):
                    with _name_scope(self.name):
                        placeholder = Variable(0, name=var.name, trainable=False,
                                               dtype=_dt.int32)
                    self._variables.append(placeholder)
                    store.append(placeholder)
            else:
                shape = list(var.shape)
                self._r.append(self.add_variable(shape[:-1], dtype=var.dtype, name=var.name))
                self._c.append(self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype,
                                                 name=var.name))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    @staticmethod
    def _rms(x):
        return ops.sqrt(ops.reduce_mean(ops.square(x)))

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.dense(gradient)
        epsilon_2 = ops.cast(self.epsilon_2, dtype)
        one = ops.cast(1.0, dtype)
        local_step = _step(self, dtype)
        if not callable(self._learning_rate) and self.relative_step:
            lr = ops.minimum(lr, 1 / ops.sqrt(local_step))
        i = self._get_variable_index(variable)
        r, c, v = self._r[i], self._c[i], self._v[i]
        rho_t = ops.minimum(lr, 1 / ops.sqrt(local_step))
        alpha_t = ops.maximum(epsilon_2, self._rms(variable)) * rho_t
        regulated = ops.square(g) + self.epsilon_1
        beta_2_t = 1 - ops.pow(local_step, ops.cast(self.beta_2_decay, dtype))
        if len(variable.shape) >= 2:
            r.assign(beta_2_t * r + (1 - beta_2_t) * ops.reduce_mean(regulated, axis=-1))
            c.assign(beta_2_t * c + (1 - beta_2_t) * ops.reduce_mean(regulated, axis=-2))
            v.assign(ops.expand_dims(r / ops.reduce_mean(r, axis=-1, keepdims=True), -1) *
                     ops.expand_dims(c, -2))
        else:
            v.assign(beta_2_t * v + (1 - beta_2_t) * regulated)
        u_t = g / ops.sqrt(v)
        u_t_hat = u_t / ops.maximum(one, self._rms(u_t) / self.clip_threshold)
        variable.assign_sub(alpha_t * u_t_hat)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config
