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

    def _fused_slot_lists(self):
        lists = [self._velocities]
        if self.centered:
            lists.insert(0, self._average_gradients)
        if self.momentum > 0:
            lists.append(self._momentums)
        return tuple(lists)

    def _fused_step(self, grads, variables, learning_rate, slots):
        # NOTE: the fused ops update the velocity in TF's order, ms += (g^2 - ms) * (1 - rho),
        # where Keras writes rho * ms + (1 - rho) * g^2: equal up to float rounding.
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        if self.momentum > 0:
            run = (updates.multi_apply_centered_rms_prop if self.centered else
                   updates.multi_apply_rms_prop)
            run(variables, *slots, grads, lr, self.rho, self.momentum, self.epsilon)
        else:
            run = (updates.multi_apply_centered_rms_prop_no_momentum if self.centered else
                   updates.multi_apply_rms_prop_no_momentum)
            run(variables, *slots, grads, lr, self.rho, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
