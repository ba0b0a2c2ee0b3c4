"""tf.config: physical and logical devices, visibility, virtual-device splits, placement flags and
per-device memory statistics.

The device registry (`framework/device.py`) owns the state; this module is TensorFlow's API over
it. As in TensorFlow, visibility and logical splits can change only until the runtime is
initialized (the first op or device query that needs logical devices).
"""
from __future__ import annotations

from featherflow._src.framework import context
from featherflow._src.framework.device import (REGISTRY, LogicalDevice, LogicalDeviceConfiguration,
                                               PhysicalDevice, as_spec)

__all__ = ["LogicalDevice", "LogicalDeviceConfiguration", "PhysicalDevice"]


# ---------------------------------------------------------------------------------------------
# Physical and logical devices
# ---------------------------------------------------------------------------------------------
def list_physical_devices(device_type: str | None = None) -> list:
    """The physical devices known to the runtime, optionally only those of `device_type`.

    >>> import featherflow as tf
    >>> tf.config.list_physical_devices("CPU")
    [PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]
    """
    return [d for d in REGISTRY.physical if device_type is None or d.device_type == device_type]


def list_logical_devices(device_type: str | None = None) -> list:
    """The logical devices ops can be placed on (initializes the runtime).

    >>> import featherflow as tf
    >>> tf.config.list_logical_devices("CPU")[0].name
    '/device:CPU:0'
    """
    devices = REGISTRY.ensure_initialized()
    return [LogicalDevice(d.short_name, d.device_type) for d in devices
            if device_type is None or d.device_type == device_type]


def get_visible_devices(device_type: str | None = None) -> list:
    """The physical devices the runtime will use (all of them unless set_visible_devices)."""
    return [d for d in REGISTRY.visible if device_type is None or d.device_type == device_type]


def set_visible_devices(devices, device_type: str | None = None):
    """Restricts the runtime to `devices` (of `device_type`, when given); before initialization.

    CPU:0 always stays usable, as in TensorFlow.
    """
    if not isinstance(devices, (list, tuple)):
        devices = [devices]
    devices = list(devices)
    for d in devices:
        if d not in REGISTRY.physical:
            raise ValueError(f"Unrecognized device: {d!r}")
    if device_type is not None:
        keep = [d for d in REGISTRY.visible if d.device_type != device_type]
    else:
        keep = []
    new = keep + devices
    if new == REGISTRY.visible:
        return
    REGISTRY.check_not_initialized("Visible devices")
    REGISTRY.visible = new


def get_logical_device_configuration(device) -> list | None:
    """The LogicalDeviceConfigurations set for physical `device`, or None."""
    if device not in REGISTRY.physical:
        raise ValueError(f"Unrecognized device: {device!r}")
    return REGISTRY.logical_config.get(device)


def set_logical_device_configuration(device, logical_devices):
    """Splits physical `device` into one logical device per LogicalDeviceConfiguration.

    CPU splits take no memory limit; GPU splits need one (as in TensorFlow). Only before the
    runtime is initialized.

    >>> import featherflow as tf
    >>> cpu = tf.config.list_physical_devices("CPU")[0]
    >>> tf.config.get_logical_device_configuration(cpu) is None
    True
    """
    if device not in REGISTRY.physical:
        raise ValueError(f"Unrecognized device: {device!r}")
    if logical_devices is not None:
        logical_devices = list(logical_devices)
        _check_configs(device, logical_devices)
    if REGISTRY.logical_config.get(device) == logical_devices:
        return
    REGISTRY.check_not_initialized("Virtual devices")
    if logical_devices is None:
        REGISTRY.logical_config.pop(device, None)
    else:
        REGISTRY.logical_config[device] = logical_devices


def _check_configs(device, configs):
    for cfg in configs:
        if not isinstance(cfg, LogicalDeviceConfiguration):
            raise TypeError("logical_devices must be a list of tf.config.LogicalDeviceConfiguration."
                            f" Received: {cfg!r}")
    if device.device_type == "CPU":
        for cfg in configs:
            if cfg.memory_limit is not None:
                raise ValueError("Setting memory limit on CPU virtual devices is currently not "
                                 "supported")
            if cfg.experimental_priority is not None:
                raise ValueError("Setting experimental_priority on CPU virtual devices is "
                                 "currently not supported")
            if cfg.experimental_device_ordinal is not None:
                raise ValueError("Setting experimental_device_ordinal on CPU virtual devices is "
                                 "currently not supported")
    elif device.device_type == "GPU":
        for cfg in configs:
            if cfg.memory_limit is None:
                raise ValueError("Setting memory limit is required for GPU virtual devices")
    else:
        raise ValueError(f"Virtual devices are not supported for {device.device_type}")


# ---------------------------------------------------------------------------------------------
# Placement flags
# ---------------------------------------------------------------------------------------------
def get_soft_device_placement() -> bool:
    """Whether an op whose requested device cannot run it falls back to another device."""
    return context.get_soft_device_placement()


def set_soft_device_placement(enabled: bool):
    """Turns soft placement on (the default) or off (unmet requests raise InvalidArgumentError)."""
    context.set_soft_device_placement(enabled)


def set_log_device_placement(enabled: bool):
    """tf.debugging.set_log_device_placement: print each op's device (and fallbacks) to stderr."""
    context.set_log_device_placement(enabled)


def get_log_device_placement() -> bool:
    return context.get_log_device_placement()


# ---------------------------------------------------------------------------------------------
# Memory statistics and device details (tf.config.experimental)
# ---------------------------------------------------------------------------------------------
_PARSE_HINT = ("Note a valid device string should at least contain a device type and a device "
               "index, like \"GPU:0\".")


def _logical(device: str):
    if not isinstance(device, str):
        device = getattr(device, "name", device)
    try:
        spec = as_spec(device)
    except (TypeError, ValueError):
        spec = None
    if spec is None or spec.device_type is None or spec.device_index is None:
        raise ValueError(f"Failed parsing device name: '{device}'. {_PARSE_HINT}")
    REGISTRY.ensure_initialized()
    devs = REGISTRY.by_type.get(spec.device_type) or []
    if not 0 <= spec.device_index < len(devs) or \
            spec.job not in (None, "localhost") or spec.replica not in (None, 0) or \
            spec.task not in (None, 0):
        raise ValueError(f"No matching devices found for '{device}'")
    return devs[spec.device_index]


def get_memory_info(device: str) -> dict:
    """Bytes held by live tensors on `device` now ('current') and at most so far ('peak').

    Works for every device, CPU included (TensorFlow raises ValueError for CPU; see
    docs/compat.md).

    >>> import featherflow as tf
    >>> sorted(tf.config.experimental.get_memory_info("CPU:0"))
    ['current', 'peak']
    """
    dev = _logical(device)
    return {"current": int(dev.bytes_in_use), "peak": int(dev.peak_bytes)}


def reset_memory_stats(device: str):
    """Resets `device`'s peak byte count to its current byte count."""
    dev = _logical(device)
    dev.peak_bytes = dev.bytes_in_use


def get_memory_usage(device: str) -> int:
    """Deprecated in TensorFlow: get_memory_info(device)['current']."""
    return get_memory_info(device)["current"]


def get_device_details(device) -> dict:
    """Details of a physical device: {} for the CPU; name (and compute capability) for a GPU."""
    if not isinstance(device, PhysicalDevice):
        raise ValueError(f"device must be a tf.config.PhysicalDevice, but got: {device}")
    if device not in REGISTRY.physical:
        raise ValueError(f"Unrecognized device: {device!r}")
    if device.device_type != "GPU":
        return {}
    backend = device.backend_factory()
    details = getattr(backend, "device_details", None)
    if callable(details):
        return dict(details())
    return {"device_name": f"featherflow {backend.name} GPU"}


_memory_growth = {}


def get_memory_growth(device) -> bool:
    """Whether memory growth is enabled for physical `device` (recorded; allocation is lazy)."""
    if device not in REGISTRY.physical:
        raise ValueError(f"Unrecognized device: {device!r}")
    return _memory_growth.get(device, False)


def set_memory_growth(device, enable: bool):
    """Records memory growth for a GPU (featherflow allocates lazily either way)."""
    if device not in REGISTRY.physical:
        raise ValueError(f"Unrecognized device: {device!r}")
    if device.device_type != "GPU":
        raise ValueError("Cannot set memory growth on non-GPU devices")
    if _memory_growth.get(device, False) == bool(enable):
        return
    REGISTRY.check_not_initialized("Physical devices")
    _memory_growth[device] = bool(enable)
