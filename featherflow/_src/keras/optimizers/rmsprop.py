"""tf.keras.optimizers.RMSprop (plain, centered, with momentum)."""
from __future__ import annotations

from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers._common import base_kwargs
from featherflow._src.keras.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a running root mean square (centered: minus the
    running mean gradient squared).

    >>> import featherflow as tf
    >>> v = tf.Variable(1.0)
    >>> opt = tf.keras.optimizers.RMSprop(learning_rate=0.01)
    >>> _ = opt.apply_gradients([(tf.constant(1.0), v)])
    >>> round(float(v), 4)
    0.9684
    """

    _LEGACY_SLOT_NAMES = {"rms": "velocity", "mg": "average_gradient"}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list,
                                                                   "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        i = self._get_variable_index(variable)
        velocity = self._velocities[i]
        rho = self.rho
        velocity.assign(rho * velocity + (1 - rho) * ops.sparse_square(gradient))
        if self.centered:
            average_grad = self._average_gradients[i]
            average_grad.assign(rho * average_grad + (1 - rho) * ops.dense(gradient))
            denominator = velocity - ops.square(average_grad) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (lr * ops.dense(gradient)) / ops.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[i]
            momentum.assign(self.momentum * momentum + increment)
            variable.assign_sub(momentum)
        else:
            variable.assign_sub(increment)

    def _fused_step(self, grads, variables, learning_rate):
        if self.momentum <= 0:   # TF's fused RMSProp needs a momentum slot Keras lacks here
            for g, v in zip(grads, variables):
                self.update_step(g, v, learning_rate)
            return
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        for g, v in zip(grads, variables):
            i = self._index[id(v)]
            if self.centered:
                updates.apply_centered_rms_prop(v, self._average_gradients[i],
                                                self._velocities[i], self._momentums[i], lr,
                                                self.rho, self.momentum, self.epsilon, g)
            else:
                updates.apply_rms_prop(v, self._velocities[i], self._momentums[i], lr,
                                       self.rho, self.momentum, self.epsilon, g)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
