"""tf.keras.optimizers.SGD: gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers._common import base_kwargs
from featherflow._src.keras.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent (with momentum): `m = momentum * m - lr * g; w += m`.

    >>> import featherflow as tf
    >>> v = tf.Variable(1.0)
    >>> opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> _ = opt.apply_gradients([(tf.constant(1.0), v)])
    >>> round(float(v), 4)
    0.9
    """

    _LEGACY_SLOT_NAMES = {"momentum": "momentum"}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        if self.momentum == 0:
            if ops.is_sparse(gradient):
                self.assign_sub(variable, ops.map_values(gradient, lambda g: g * lr))
            else:
                self.assign_sub(variable, gradient * lr)
            return
        gradient = ops.dense(gradient)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.momentum, variable.dtype)
        m.assign(m * momentum - gradient * lr)
        if self.nesterov:
            variable.assign_add(m * momentum - gradient * lr)
        else:
            variable.assign_add(m)

    def _fused_slot_lists(self):
        return (self.momentums,) if self.momentum != 0 else ()

    def _fused_step(self, grads, variables, learning_rate, slots):
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        if self.momentum == 0:
            updates.multi_apply_gradient_descent(variables, grads, lr)
        else:
            updates.multi_apply_keras_momentum(variables, slots[0], grads, lr, self.momentum,
                                               use_nesterov=self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
