"""Gradient clipping, decoupled weight decay, EMA of the model variables and loss scaling:
the part of `Optimizer` (featherflow._src.keras.optimizers.base) that transforms gradients
and variables around the update step, as a mixin it inherits from.
"""
from __future__ import annotations

import re

from featherflow._src.keras.optimizers import _ops as ops


class ClipDecayEmaMixin:
    """`Optimizer` methods for clipping, weight decay, EMA and loss scaling (they read the
    optimizer's `clipnorm`, `weight_decay`, `use_ema`, ... attributes)."""

    # -- clipping, weight decay, EMA -----------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [ops.clip_by_value(ops.dense(g), -v, v) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        # tf.clip_by_norm: an IndexedSlices is clipped by the norm of its values.
        if ops.is_sparse(values):
            return ops.map_values(values, self._clip_by_norm)
        l2sum = ops.reduce_sum(ops.square(values), keepdims=True)
        pred = l2sum > 0
        safe = ops.where(pred, l2sum, ops.ones_like(l2sum))
        l2norm = ops.where(pred, ops.sqrt(safe), l2sum)
        return values * self.clipnorm / ops.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (by identity, or by a name substring) from weight decay; call it
        before the optimizer is built."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list} if var_list else set()
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._wd_cache = {}

    def _use_weight_decay(self, variable):
        cache = self.__dict__.setdefault("_wd_cache", {})
        key = id(variable)
        if key in cache:
            return cache[key]
        use = key not in getattr(self, "_exclude_ids", ())
        pattern = getattr(self, "_exclude_pattern", None)
        if use and pattern is not None and pattern.search(variable.name) is not None:
            use = False
        cache[key] = use
        return use

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        lr = self.learning_rate
        for variable in variables:
            if self._use_weight_decay(variable):
                lr_t = ops.cast(lr, variable.dtype)
                variable.assign_sub(variable * ops.cast(self.weight_decay, variable.dtype) * lr_t)

    def _update_model_variables_moving_average(self, variables):
        first = int(self.iterations.numpy()) == 0
        momentum = 0.0 if first else self.ema_momentum
        for var, average in zip(variables, self._model_variables_moving_average):
            m = ops.cast(momentum, var.dtype)
            average.assign(m * average + (1 - m) * var)

    def _overwrite_model_variables_with_average_value(self, variables):
        averages = self._model_variables_moving_average
        if len(variables) != len(averages):
            raise ValueError(
                f"The length of model variables ({len(variables)}) to override does not match "
                f"the length of model variables stored in the optimizer ({len(averages)}). "
                "Please check if the optimizer was called on your model.")
        for var, average in zip(variables, averages):
            var.assign(average)

    def finalize_variable_values(self, var_list):
        """With `use_ema`, overwrites the variables with their moving averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(list(var_list))

    def scale_loss(self, loss):
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss


def global_norm(values):
    sq = [ops.reduce_sum(ops.square(ops.dense(v))) for v in values if v is not None]
    return ops.sqrt(ops.reduce_sum(ops.stack(sq)))


def clip_by_global_norm(values, clip_norm):
    norm = global_norm(values)
    # A non-finite norm gives a NaN scale, as in Keras.
    scale = clip_norm * ops.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [None if v is None else ops.dense(v) * scale for v in values]
