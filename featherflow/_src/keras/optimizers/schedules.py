"""tf.keras.optimizers.schedules: learning rates as functions of the step (Keras 3's formulas,
computed in float32 with featherflow ops like Keras does with TF ops)."""
from __future__ import annotations

import math

from featherflow._src.api import math_ops as _m
from featherflow._src.api.sort_ops import where as _where
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.convert import convert_to_tensor


def _f32(x):
    return _m.cast(convert_to_tensor(x), _dt.float32)


class LearningRateSchedule:
    """Base class: `schedule(step)` returns the learning rate for `step`.

    >>> import featherflow as tf
    >>> s = tf.keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5, staircase=True)
    >>> float(s(3))
    0.05000000074505806
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps) (integer division with
    `staircase`)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError(f"Argument `decay_steps` must be > 0. Received: "
                             f"decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            p = _m.floor(p)
        return _f32(self.initial_learning_rate) * _m.pow(_f32(self.decay_rate), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] up to boundaries[0] (inclusive), values[1] up to boundaries[1], ..."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        x = convert_to_tensor(step)
        x = _m.cast(x, _dt.int64) if x.dtype.is_integer else _f32(x)
        out = _f32(self.values[-1])
        # Walk from the last interval back so the first matching interval wins.
        for b, v in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            out = _where(x <= _m.cast(convert_to_tensor(b), x.dtype), _f32(v), out)
        return out

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end; with `cycle`, decay_steps
    grows to the next multiple past the step."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = _f32(step)
        steps = _f32(self.decay_steps)
        if self.cycle:
            mult = _where(_m.equal(s, 0.0), _f32(1.0), _m.ceil(s / steps))
            steps = steps * mult
        else:
            s = _m.minimum(s, steps)
        p = s / steps
        init, end = _f32(self.initial_learning_rate), _f32(self.end_learning_rate)
        return (init - end) * _m.pow(1 - p, _f32(self.power)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            p = _m.floor(p)
        return _f32(self.initial_learning_rate) / (1 + _f32(self.decay_rate) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha):
    decayed = 0.5 * (1.0 + _m.cos(_f32(math.pi) * fraction))
    return (1 - _f32(alpha)) * decayed + _f32(alpha)


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, then cosine decay to `alpha` times the peak over `decay_steps`."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        s = _f32(step)
        init = _f32(self.initial_learning_rate)
        steps = _f32(self.decay_steps)
        if self.warmup_target is None:
            return init * _cosine(_m.minimum(s, steps) / steps, self.alpha)
        target, warm = _f32(self.warmup_target), _f32(self.warmup_steps)
        warming = init + (s / warm) * (target - init)
        decay_step = _m.minimum(s - warm, steps)
        decayed = target * _cosine(decay_step / steps, self.alpha)
        return _where(s < warm, warming, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by `t_mul`, peaks by `m_mul`."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _f32(step) / _f32(self.first_decay_steps)
        t_mul, m_mul = _f32(self._t_mul), _f32(self._m_mul)
        if self._t_mul == 1.0:
            restart = _m.floor(fraction)
            fraction = fraction - restart
        else:
            restart = _m.floor(_m.log(1.0 - fraction * (1.0 - t_mul)) / _m.log(t_mul))
            done = (1.0 - _m.pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / _m.pow(t_mul, restart)
        m_fac = _m.pow(m_mul, restart)
        cosine = 0.5 * m_fac * (1.0 + _m.cos(_f32(math.pi) * fraction))
        decayed = (1 - _f32(self.alpha)) * cosine + _f32(self.alpha)
        return _f32(self.initial_learning_rate) * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_ALL = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
                                InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """{'module', 'class_name', 'config', 'registered_name'}, as Keras writes it."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _ALL.get(name)
    if cls is None:
        raise ValueError(f"Could not interpret learning rate schedule: {config}")
    return cls.from_config(config.get("config", {}))
