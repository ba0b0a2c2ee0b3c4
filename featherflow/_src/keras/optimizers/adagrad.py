"""tf.keras.optimizers.Adagrad, Adadelta and Ftrl (accumulator-based optimizers)."""
from __future__ import annotations

from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers._common import base_kwargs
from featherflow._src.keras.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Adagrad: `acc += g**2; w -= lr * g / sqrt(acc + epsilon)`.

    NOTE: Keras puts epsilon inside the square root; TF's fused ResourceApplyAdagradV2 adds it
    outside, so the fused path runs featherflow's own FeatherMultiApplyAdagradKeras (Keras'
    formula, same order of operations as `update_step`).

    >>> import featherflow as tf
    >>> v = tf.Variable(1.0)
    >>> _ = tf.keras.optimizers.Adagrad(learning_rate=0.1).apply_gradients(
    ...     [(tf.constant(1.0), v)])
    >>> round(float(v), 4)
    0.9047
    """

    _LEGACY_SLOT_NAMES = {}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=float(self.initial_accumulator_value))

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        accumulator.assign_add(ops.sparse_square(gradient))
        variable.assign_sub((lr * ops.dense(gradient)) / ops.sqrt(accumulator + self.epsilon))

    def _fused_slot_lists(self):
        return (self._accumulators,)

    def _fused_step(self, grads, variables, learning_rate, slots):
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        updates.multi_apply_adagrad_keras(variables, *slots, grads, lr, self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates."""

    _LEGACY_SLOT_NAMES = {"accum_grad": "accumulated_grad", "accum_var": "accumulated_delta_var"}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, grad, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        rho = self.rho
        i = self._get_variable_index(variable)
        acc_grad, acc_delta = self._accumulated_grads[i], self._accumulated_delta_vars[i]
        acc_grad.assign(rho * acc_grad + (1 - rho) * ops.sparse_square(grad))
        # ratio * g per slice, so delta**2 sums per slice: ratio**2 * sparse_square(g)
        ratio = ops.sqrt(acc_delta + self.epsilon) / ops.sqrt(acc_grad + self.epsilon)
        delta = -(ratio * ops.dense(grad))
        delta_sq = ops.square(ratio) * ops.sparse_square(grad) if ops.is_sparse(grad) else \
            ops.square(delta)
        acc_delta.assign(rho * acc_delta + (1 - rho) * delta_sq)
        variable.assign_add(lr * delta)

    def _fused_slot_lists(self):
        return (self._accumulated_grads, self._accumulated_delta_vars)

    def _fused_step(self, grads, variables, learning_rate, slots):
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        for g, v, acc_grad, acc_delta in zip(grads, variables, *slots):
            updates.apply_adadelta(v, acc_grad, acc_delta, lr, self.rho, self.epsilon, g)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config


class Ftrl(Optimizer):
    """FTRL-proximal with L1, L2 and L2-shrinkage regularization."""

    _LEGACY_SLOT_NAMES = {}

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        checks = [("initial_accumulator_value", initial_accumulator_value < 0.0,
                   "needs to be positive or zero"),
                  ("learning_rate_power", learning_rate_power > 0.0,
                   "needs to be negative or zero"),
                  ("l1_regularization_strength", l1_regularization_strength < 0.0,
                   "needs to be positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength < 0.0,
                   "needs to be positive or zero")]
        for arg, bad, what in checks:
            if bad:
                raise ValueError(f"`{arg}` {what}. Received: {arg}={locals()[arg]}.")
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError("`l2_shrinkage_regularization_strength` needs to be positive or "
                             "zero. Received: l2_shrinkage_regularization_strength"
                             f"={l2_shrinkage_regularization_strength}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[float(self.initial_accumulator_value), "zeros"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        i = self._get_variable_index(variable)
        accum, linear = self._accumulators[i], self._linears[i]
        lr_power = self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad_to_use = ops.dense(gradient) + 2 * self.l2_shrinkage_regularization_strength * \
            variable
        new_accum = accum + ops.sparse_square(gradient)
        linear.assign_add(grad_to_use - ((ops.pow(new_accum, -lr_power) -
                                          ops.pow(accum, -lr_power)) / lr) * variable)
        quadratic = ops.pow(new_accum, -lr_power) / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        clipped = ops.clip_by_value(linear, -l1, l1)
        variable.assign((clipped - linear) / quadratic)
        accum.assign(new_accum)

    def _fused_slot_lists(self):
        return (self._accumulators, self._linears)

    def _fused_step(self, grads, variables, learning_rate, slots):
        # ResourceApplyFtrl(V2) computes Keras' formula with l2 = l2 + beta / (2 lr): the
        # accumulator takes g^2, the linear term the gradient with shrinkage, and the square
        # root for learning_rate_power -0.5 equals Keras' pow(., 0.5) up to rounding.
        from featherflow._src.train import updates  # noqa: PLC0415

        lr = ops.cast(learning_rate, variables[0].dtype)
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        l1, power = self.l1_regularization_strength, self.learning_rate_power
        shrinkage = self.l2_shrinkage_regularization_strength
        for g, v, accum, linear in zip(grads, variables, *slots):
            if shrinkage:
                updates.apply_ftrl_v2(v, accum, linear, g, lr, l1, l2, shrinkage, power)
            else:
                updates.apply_ftrl(v, accum, linear, g, lr, l1, l2, power)

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta})
        return config
