"""Devices: DeviceSpec parsing, the device registry (physical and logical), and placement."""
from __future__ import annotations

import os
import threading

from featherflow._src.backends.numpy_backend import NUMPY
from featherflow._src.framework import errors

_KNOWN_TYPES = ("CPU", "GPU", "TPU")


# ---------------------------------------------------------------------------------------------
# DeviceSpec
# ---------------------------------------------------------------------------------------------
class DeviceSpec:
    """A (possibly partial) device specification: job, replica, task, device type and index.

    >>> import featherflow as tf
    >>> tf.DeviceSpec.from_string("/job:localhost/replica:0/task:0/device:GPU:1").device_index
    1
    """

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index", "_str")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self._job = None if job is None else str(job)
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        if device_type is not None:
            device_type = str(device_type)
            if device_type.upper() in _KNOWN_TYPES:
                device_type = device_type.upper()
        self._device_type = device_type
        self._device_index = None if device_index is None else int(device_index)
        self._str = None

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        return cls(*_parse(spec))

    def to_string(self) -> str:
        if self._str is None:
            out = []
            if self._job is not None:
                out.append(f"/job:{self._job}")
            if self._replica is not None:
                out.append(f"/replica:{self._replica}")
            if self._task is not None:
                out.append(f"/task:{self._task}")
            if self._device_type is not None:
                index = "*" if self._device_index is None else self._device_index
                out.append(f"/device:{self._device_type}:{index}")
            self._str = "".join(out)
        return self._str

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    def replace(self, **kwargs) -> "DeviceSpec":
        fields = dict(job=self._job, replica=self._replica, task=self._task,
                      device_type=self._device_type, device_index=self._device_index)
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev: "DeviceSpec") -> "DeviceSpec":
        """Fields set in `dev` override this spec's (an inner tf.device scope over an outer one)."""
        out = {}
        for f in ("job", "replica", "task", "device_type", "device_index"):
            theirs = getattr(dev, f)
            out[f] = theirs if theirs is not None else getattr(self, f)
        # NOTE: as TensorFlow, an unset inner index keeps the outer one even when the device
        # type changes ("/cpu:0" then "/device:GPU:*" is GPU:0); see tests/fixtures.
        return DeviceSpec(**out)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        return (f"<DeviceSpec(job={self._job}, replica={self._replica}, task={self._task}, "
                f"device_type={self._device_type}, device_index={self._device_index})>")


def _parse(spec):
    if spec is None:
        return (None,) * 5
    if not isinstance(spec, str):
        raise TypeError(f"A device specification must be a string, a tf.DeviceSpec or None. "
                        f"Received: {spec!r} of type {type(spec).__name__}")
    job = replica = task = device_type = device_index = None
    for part in spec.split("/"):
        if not part:
            continue
        y = part.split(":")
        n = len(y)
        try:
            if n == 2 and y[0] == "job":
                job = y[1]
            elif n == 2 and y[0] == "replica":
                replica = int(y[1])
            elif n == 2 and y[0] == "task":
                task = int(y[1])
            elif n in (1, 2) and y[0].upper() in _KNOWN_TYPES:
                if device_type is not None:
                    raise ValueError("Multiple device types are not allowed while parsing the "
                                     f"device spec: {spec}.")
                device_type = y[0].upper()
                if n == 2 and y[1] != "*":
                    device_index = int(y[1])
            elif n == 3 and y[0] == "device":
                if device_type is not None:
                    raise ValueError("Multiple device types are not allowed while parsing the "
                                     f"device spec: {spec}.")
                device_type = y[1].upper() if y[1].upper() in _KNOWN_TYPES else y[1]
                if y[2] != "*":
                    device_index = int(y[2])
            else:
                raise ValueError(f"Unknown attribute '{y[0]}' is encountered while parsing the "
                                 f"device spec: '{spec}'.")
        except ValueError as e:
            if "device spec" in str(e):
                raise
            raise ValueError(f"Invalid device specification '{spec}': '{part}' has a non-integer "
                             "index.") from None
    return job, replica, task, device_type, device_index


def as_spec(device) -> DeviceSpec:
    if isinstance(device, DeviceSpec):
        return device
    name = getattr(device, "name", None)
    if isinstance(name, str) and hasattr(device, "device_type"):  # LogicalDevice / PhysicalDevice
        device = name
    return DeviceSpec.from_string(device)


# ---------------------------------------------------------------------------------------------
# Devices and the registry
# ---------------------------------------------------------------------------------------------
LOCAL_PREFIX = "/job:localhost/replica:0/task:0/device:"


class Device:
    """One logical device: a name, a backend, and its memory counters."""

    __slots__ = ("name", "short_name", "device_type", "index", "backend", "xp", "direct",
                 "physical", "bytes_in_use", "peak_bytes", "memory_limit", "__weakref__")

    def __init__(self, device_type, index, backend, physical, memory_limit=None):
        self.device_type = device_type
        self.index = index
        self.name = f"{LOCAL_PREFIX}{device_type}:{index}"
        self.short_name = f"/device:{device_type}:{index}"
        self.backend = backend
        self.xp = backend.xp
        self.direct = backend.direct
        self.physical = physical
        self.bytes_in_use = 0
        self.peak_bytes = 0
        self.memory_limit = memory_limit

    def allocated(self, nbytes: int):
        self.bytes_in_use += nbytes
        if self.bytes_in_use > self.peak_bytes:
            self.peak_bytes = self.bytes_in_use

    def supports(self, dtype) -> bool:
        """Strings, resources and variants live on the CPU only, as in TensorFlow."""
        return self.device_type == "CPU" or dtype._kind != "O"

    def __repr__(self):
        return f"<Device {self.name} backend={self.backend.name}>"


class PhysicalDevice:
    """tf.config.PhysicalDevice: a named hardware (or simulated) device."""

    __slots__ = ("name", "device_type", "backend_factory")

    def __init__(self, name, device_type, backend_factory):
        self.name = name
        self.device_type = device_type
        self.backend_factory = backend_factory

    def __eq__(self, other):
        return (isinstance(other, PhysicalDevice) and self.name == other.name
                and self.device_type == other.device_type)

    def __hash__(self):
        return hash((self.name, self.device_type))

    def __repr__(self):
        return f"PhysicalDevice(name='{self.name}', device_type='{self.device_type}')"


class LogicalDevice:
    """tf.config.LogicalDevice: what ops are placed on."""

    __slots__ = ("name", "device_type")

    def __init__(self, name, device_type):
        self.name = name
        self.device_type = device_type

    def __eq__(self, other):
        return (isinstance(other, LogicalDevice) and self.name == other.name
                and self.device_type == other.device_type)

    def __hash__(self):
        return hash((self.name, self.device_type))

    def __repr__(self):
        return f"LogicalDevice(name='{self.name}', device_type='{self.device_type}')"


class LogicalDeviceConfiguration:
    """tf.config.LogicalDeviceConfiguration: one logical device carved out of a physical one."""

    def __init__(self, memory_limit=None, experimental_priority=None,
                 experimental_device_ordinal=None):
        self.memory_limit = memory_limit
        self.experimental_priority = experimental_priority
        self.experimental_device_ordinal = experimental_device_ordinal

    def __eq__(self, other):
        return isinstance(other, LogicalDeviceConfiguration) and vars(self) == vars(other)

    def __repr__(self):
        return (f"LogicalDeviceConfiguration(memory_limit={self.memory_limit}, "
                f"experimental_priority={self.experimental_priority}, "
                f"experimental_device_ordinal={self.experimental_device_ordinal})")


def _simulated_factory():
    from featherflow._src.backends.simulated import SIMULATED  # noqa: PLC0415

    return SIMULATED


def _cupy_factory(index):
    def make():
        from featherflow._src.backends.cupy_backend import CupyBackend  # noqa: PLC0415

        return CupyBackend(index)
    return make


class Registry:
    """Physical devices, their logical split, and the runtime's initialization state."""

    def __init__(self):
        self._lock = threading.RLock()
        self.physical = [PhysicalDevice("/physical_device:CPU:0", "CPU", lambda: NUMPY)]
        n_sim = int(os.environ.get("FEATHERFLOW_SIMULATED_GPUS", "0") or 0)
        if n_sim:
            for i in range(n_sim):
                self.physical.append(PhysicalDevice(f"/physical_device:GPU:{i}", "GPU",
                                                    _simulated_factory))
        elif os.environ.get("FEATHERFLOW_DISABLE_GPU", "") != "1":
            from featherflow._src.backends.cupy_backend import cuda_device_count  # noqa: PLC0415

            for i in range(cuda_device_count()):
                self.physical.append(PhysicalDevice(f"/physical_device:GPU:{i}", "GPU",
                                                    _cupy_factory(i)))
        self.visible = list(self.physical)
        self.logical_config = {}
        self.devices = None          # list[Device] once initialized
        self.by_name = {}
        self.by_type = {}

    def initialized(self) -> bool:
        return self.devices is not None

    def ensure_initialized(self):
        if self.devices is not None:
            return self.devices
        with self._lock:
            if self.devices is not None:
                return self.devices
            devices, counters = [], {}
            for phys in self.physical:
                if phys not in self.visible and phys.device_type != "CPU":
                    continue
                configs = self.logical_config.get(phys) or [None]
                backend = phys.backend_factory()
                for cfg in configs:
                    idx = counters.get(phys.device_type, 0)
                    counters[phys.device_type] = idx + 1
                    limit = None if cfg is None else cfg.memory_limit
                    devices.append(Device(phys.device_type, idx, backend, phys, limit))
            by_name, by_type = {}, {}
            for d in devices:
                by_name[d.name] = d
                by_type.setdefault(d.device_type, []).append(d)
            self.by_name, self.by_type = by_name, by_type
            self.devices = devices
            return devices

    def check_not_initialized(self, what):
        if self.devices is not None:
            raise RuntimeError(f"{what} cannot be modified after being initialized")

    def reset(self):
        """Test support: forget the logical devices so the configuration can change again."""
        with self._lock:
            self.devices = None
            self.by_name, self.by_type = {}, {}


REGISTRY = Registry()


def cpu0() -> Device:
    REGISTRY.ensure_initialized()
    return REGISTRY.by_type["CPU"][0]


def find(device_type, index) -> Device | None:
    REGISTRY.ensure_initialized()
    devs = REGISTRY.by_type.get(device_type)
    if not devs:
        return None
    if index is None:
        return devs[0]
    return devs[index] if 0 <= index < len(devs) else None


def default_device(dtype) -> Device:
    """The fastest device that supports `dtype`: the first GPU for numbers, else CPU:0."""
    REGISTRY.ensure_initialized()
    gpus = REGISTRY.by_type.get("GPU")
    if gpus and dtype._kind != "O":
        return gpus[0]
    return REGISTRY.by_type["CPU"][0]


def available_names():
    return ", ".join(d.name for d in REGISTRY.ensure_initialized())


def resolve(spec: DeviceSpec, dtype, soft: bool):
    """The device an op with output `dtype` runs on under `spec`, and why, for placement logs.

    Returns (device, reason); reason is None when the request was met exactly.
    """
    if spec.job not in (None, "localhost") or spec.replica not in (None, 0) or \
            spec.task not in (None, 0):
        if not soft:
            raise errors.InvalidArgumentError(
                None, None, f"Could not satisfy device specification '{spec.to_string()}': this "
                f"process is /job:localhost/replica:0/task:0. Available devices: "
                f"{available_names()}")
    if spec.device_type is None:
        dev = default_device(dtype)
        return dev, None
    dev = find(spec.device_type, spec.device_index)
    if dev is not None and dev.supports(dtype):
        return dev, None
    if dev is None:
        reason = (f"no device matches '{spec.to_string()}' "
                  f"(available: {available_names()})")
    else:
        reason = f"{dev.name} does not hold {dtype.name} values"
    if not soft:
        raise errors.InvalidArgumentError(
            None, None, f"Could not satisfy explicit device specification "
            f"'{spec.to_string()}' because {reason}. Soft placement is disabled "
            "(tf.config.set_soft_device_placement(False)).")
    fallback = find(spec.device_type, 0) if dev is None else None
    if fallback is None or not fallback.supports(dtype):
        fallback = cpu0() if dtype._kind == "O" else default_device(dtype)
    return fallback, reason
