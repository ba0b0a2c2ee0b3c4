"""tf.keras.optimizers.LossScaleOptimizer: dynamic loss scaling around another optimizer."""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers.base import Optimizer

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Scales the loss by a dynamic factor; a step whose gradients are not all finite is
    skipped and halves the scale; `dynamic_growth_steps` finite steps in a row double it.

    >>> import featherflow as tf
    >>> v = tf.Variable(1.0)
    >>> opt = tf.keras.optimizers.LossScaleOptimizer(tf.keras.optimizers.SGD(0.5),
    ...                                              initial_scale=4.0)
    >>> _ = opt.apply_gradients([(tf.constant(float("inf")), v)])
    >>> float(v), float(opt.dynamic_scale)
    (1.0, 2.0)
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the "
                             "`inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg not in kwargs:
                continue
            value = kwargs.pop(arg)
            if (default is None and value is not None) or value != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs.keys())}`.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        if not self.built:
            self.step_counter = self.add_variable((), dtype=_dt.int64, name="step_counter")
            self.dynamic_scale = self.add_variable((), initializer=float(self.initial_scale),
                                                   dtype=_dt.float32, name="dynamic_scale")
        with _name_scope(self.name):
            if not self.inner_optimizer.built:
                self.inner_optimizer.build(var_list)
                self.inner_optimizer.built = True
        super().build(var_list)

    @property
    def variables(self) -> list:
        return self._variables + self.inner_optimizer.variables

    def check_finite(self, grads) -> bool:
        finite = [ops.reduce_all(ops.is_finite(ops.dense(g))) for g in grads if g is not None]
        return bool(ops.reduce_all(ops.stack(finite)).numpy()) if finite else True

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not self.built:
            self.build(trainable_variables)
            self.built = True
        if not self.check_finite(grads):
            self.step_counter.assign(0)
            self.dynamic_scale.assign(self.dynamic_scale * 0.5)
            return
        scale = self.dynamic_scale
        unscaled = [g if g is None else (ops.map_values(g, lambda x: x / scale)
                                         if ops.is_sparse(g) else g / scale) for g in grads]
        self.inner_optimizer.apply(unscaled, trainable_variables=trainable_variables)
        if int(self.step_counter.numpy()) == self.dynamic_growth_steps - 1:
            self.step_counter.assign(0)
            self.dynamic_scale.assign(self.dynamic_scale * 2.0)
        else:
            self.step_counter.assign_add(1)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if "inner_optimizer" not in vars(self):   # the base constructor's own learning rate
            Optimizer.learning_rate.fset(self, learning_rate)
            return
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        scale = self.dynamic_scale if self.built else self.initial_scale
        return ops.multiply(loss, ops.cast(scale, loss.dtype) if hasattr(loss, "dtype")
                            else scale)

    # TF 2.x (mixed_precision.LossScaleOptimizer) helpers.
    def get_scaled_loss(self, loss):
        """loss * the current loss scale (TF 2.x API)."""
        if callable(loss):
            return lambda: self.scale_loss(loss())
        return self.scale_loss(loss)

    def get_unscaled_gradients(self, grads):
        """grads / the current loss scale (TF 2.x API)."""
        scale = self.dynamic_scale if self.built else self.initial_scale
        return [None if g is None else g / scale for g in grads]

    @property
    def loss_scale(self):
        return self.dynamic_scale if self.built else self.initial_scale

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from featherflow._src.keras.optimizers import registry  # noqa: PLC0415

        return {"name": self.name, "inner_optimizer": registry.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from featherflow._src.keras.optimizers import registry  # noqa: PLC0415

        config = dict(config)
        inner = registry.deserialize(config.pop("inner_optimizer"),
                                     custom_objects=custom_objects)
        return cls(inner, **config)
