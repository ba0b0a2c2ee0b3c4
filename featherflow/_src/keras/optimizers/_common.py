"""The keyword arguments every Keras optimizer forwards to the base class."""
BASE_KWARGS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
               "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
               "gradient_accumulation_steps", "name")


def base_kwargs(local: dict) -> dict:
    """The base-class arguments out of a constructor's `locals()`, plus its **kwargs."""
    out = {k: local[k] for k in BASE_KWARGS if k in local}
    out.update(local.get("kwargs", {}))
    return out
