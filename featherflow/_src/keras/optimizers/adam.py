"""tf.keras.optimizers.Adam, AdamW, Adamax and Nadam."""
from __future__ import annotations

from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers._common import base_kwargs
from featherflow._src.keras.optimizers.base import Optimizer



def _step(opt, dtype):
    """iterations + 1 in `dtype` (the step the update is for)."""
    return ops.cast(opt.iterations + 1, dtype)


class Adam(Optimizer):
    """Adam (with AMSGrad): bias-corrected first and second moment estimates.

    >>> import featherflow as tf
    >>> v = tf.Variable([1.0, 2.0])
    >>> opt = tf.keras.optimizers.Adam(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tf.constant([1.0, -1.0]), v)])
    >>> [round(x, 4) for x in v.numpy().tolist()]
    [0.9, 2.1]
    """

    _LEGACY_SLOT_NAMES = {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **base_kwargs(locals()))
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        step = _step(self, dtype)
        b1p = ops.pow(ops.cast(self.beta_1, dtype), step)
        b2p = ops.pow(ops.cast(self.beta_2, dtype), step)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        alpha = lr * ops.sqrt(1 - b2p) / (1 - b1p)
        m.assign_add((ops.dense(gradient) - m) * (1 - self.beta_1))
        v.assign_add((ops.sparse_square(gradient) - v) * (1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[i]
            v_hat.assign(ops.maximum(v_hat, v))
            v = v_hat
        variable.assign_sub((m * alpha) / (ops.sqrt(v) + self.epsilon))

    # Keras' decoupled weight decay (`var -= var * weight_decay * lr`, before the update) is
    # applied by the fused step itself: folded into FeatherMultiApplyAdamW, bit-identical.
    _FUSED_WEIGHT_DECAY = True

    def _fused_slot_lists(self):
        if self.amsgrad:
            return (self._momentums, self._velocities, self._velocity_hats)
        return (self._momentums, self._velocities)

    def _fused_step(self, grads, variables, learning_rate, slots):
        from featherflow._src.train import updates  # noqa: PLC0415

        dtype = variables[0].dtype
        lr = ops.cast(learning_rate, dtype)
        step = self._next_step(dtype)
        b1p = ops.pow(self._hyper(self.beta_1, dtype), step)
        b2p = ops.pow(self._hyper(self.beta_2, dtype), step)
        hyper = (b1p, b2p, lr, self.beta_1, self.beta_2, self.epsilon)
        decayed = self.weight_decay is not None
        if self.amsgrad:
            if decayed:
                self._apply_weight_decay(variables)
            for g, var, m, v, vhat in zip(grads, variables, *slots):
                updates.apply_adam_with_amsgrad(var, m, v, vhat, *hyper, g)
            return
        if not decayed:
            updates.multi_apply_adam(variables, *slots, grads, *hyper)
            return
        use = self._use_weight_decay
        parts = {True: [], False: []}
        for item in zip(variables, *slots, grads):
            parts[use(item[0])].append(item)
        if parts[True]:
            # cast as the plain path does (a Python float goes through float32, as in TF)
            updates.multi_apply_adam_w(*map(list, zip(*parts[True])), *hyper,
                                       self._hyper(self.weight_decay, dtype))
        if parts[False]:
            updates.multi_apply_adam(*map(list, zip(*parts[False])), *hyper)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (`weight_decay` defaults to 0.004 and is required)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, **base_kwargs(locals()))
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm as second moment."""

    _LEGACY_SLOT_NAMES = {"m": "momentum", "v": "norm"}

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
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        b1p = ops.pow(ops.cast(self.beta_1, dtype), _step(self, dtype))
        i = self._get_variable_index(variable)
        m, u = self._m[i], self._u[i]
        m.assign_add((ops.dense(gradient) - m) * (1 - self.beta_1))
        u.assign(ops.maximum(u * self.beta_2, ops.sparse_abs(gradient)))
        variable.assign_sub((lr * m) / ((1 - b1p) * (u + self.epsilon)))

    def _fused_slot_lists(self):
        return (self._m, self._u)

    def _fused_step(self, grads, variables, learning_rate, slots):
        # ResourceApplyAdaMax computes Keras' formula: m and u (its `v`) are updated alike and
        # var -= lr / (1 - beta_1^t) * (m / (u + epsilon)), which is Keras'
        # (lr * m) / ((1 - beta_1^t) * (u + epsilon)) with another rounding order only.
        from featherflow._src.train import updates  # noqa: PLC0415

        dtype = variables[0].dtype
        lr = ops.cast(learning_rate, dtype)
        b1p = ops.pow(self._hyper(self.beta_1, dtype), self._next_step(dtype))
        for g, var, m, u in zip(grads, variables, *slots):
            updates.apply_ada_max(var, m, u, b1p, lr, self.beta_1, self.beta_2, self.epsilon, g)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Keras' momentum-decay schedule, 0.96)."""

    _LEGACY_SLOT_NAMES = {"m": "momentum", "v": "velocity"}

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
        dtype = var_list[0].dtype if var_list else None
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if not getattr(self, "_extending", False):
            # One running product for all variables, as in Keras (named "variable").
            self._u_product = self.add_variable((), initializer=1.0, dtype=dtype,
                                                name="variable")

    def _backend_update_step(self, grads, variables, learning_rate):
        dtype = self._u_product.dtype
        decay = 1.0 - 0.5 * ops.pow(ops.cast(0.96, dtype), _step(self, dtype))
        self._u_product.assign(self._u_product * self.beta_1 * decay)
        super()._backend_update_step(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        local_step = _step(self, dtype)
        next_step = ops.cast(self.iterations + 2, dtype)
        decay = ops.cast(0.96, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        u_t = beta_1 * (1.0 - 0.5 * ops.pow(decay, local_step))
        u_t_1 = beta_1 * (1.0 - 0.5 * ops.pow(decay, next_step))
        u_product_t = ops.cast(self._u_product, dtype)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = ops.pow(beta_2, local_step)
        i = self._get_variable_index(variable)
        m, v = self._momentums[i], self._velocities[i]
        g = ops.dense(gradient)
        m.assign_add((g - m) * (1 - beta_1))
        v.assign_add((ops.sparse_square(gradient) - v) * (1 - beta_2))
        m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        variable.assign_sub((m_hat * lr) / (ops.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
