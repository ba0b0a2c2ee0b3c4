"""tf.keras.optimizers.get / serialize / deserialize."""
from __future__ import annotations

from featherflow._src.keras.optimizers.adagrad import Adadelta, Adagrad, Ftrl
from featherflow._src.keras.optimizers.adam import Adam, Adamax, AdamW, Nadam
from featherflow._src.keras.optimizers.base import Optimizer
from featherflow._src.keras.optimizers.lion_lamb import Adafactor, Lamb, Lion
from featherflow._src.keras.optimizers.loss_scale import LossScaleOptimizer
from featherflow._src.keras.optimizers.rmsprop import RMSprop
from featherflow._src.keras.optimizers.sgd import SGD

ALL = {c.__name__: c for c in (SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta,
                               Ftrl, Lion, Lamb, Adafactor, LossScaleOptimizer)}
_BY_LOWER = {k.lower(): v for k, v in ALL.items()}


def serialize(optimizer) -> dict:
    """{'module', 'class_name', 'config', 'registered_name'}, as Keras writes it."""
    if optimizer is None:
        return None
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"Could not serialize {optimizer!r}: not an Optimizer.")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None, **kwargs):
    """An optimizer from a `serialize` dict (class names match case-insensitively)."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = (custom_objects or {}).get(name) or (_BY_LOWER.get(name.lower()) if name else None)
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {config}")
    return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)


def get(identifier, **kwargs):
    """An optimizer from a name ("adam"), a `serialize` dict, or an instance (returned)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, **kwargs)
    if isinstance(identifier, str):
        cls = _BY_LOWER.get(identifier.lower())
        if cls is not None:
            return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
