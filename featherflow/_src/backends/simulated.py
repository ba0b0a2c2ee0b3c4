"""Simulated GPUs: device memory that the host cannot touch without an explicit, counted copy.

`FEATHERFLOW_SIMULATED_GPUS=N` registers N GPU devices backed by this store. Values live in a
`DeviceArray` box. Anything that tries to use one as a host array (NumPy conversion, a kernel that
was handed the box by mistake) raises, so a missing copy shows up in CPU-only CI as it would on a real
GPU. Dispatch opens boxes for kernels with `unwrap` and closes the results with `wrap`.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.backends.base import Backend

LEAK_MESSAGE = ("A value on a simulated GPU was used as a host array without an explicit copy. "
                "Copy it with tensor.numpy() or tf.identity under tf.device('/CPU:0').")


class HostLeakError(RuntimeError):
    """A simulated-GPU value reached host code without an explicit copy."""


class DeviceArray:
    """An array in simulated device memory: opaque to the host."""

    __slots__ = ("_a", "__weakref__")

    def __init__(self, array):
        self._a = array

    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    def __array__(self, dtype=None, copy=None):
        raise HostLeakError(LEAK_MESSAGE)

    def __array_ufunc__(self, *args, **kwargs):
        raise HostLeakError(LEAK_MESSAGE)

    def __array_function__(self, *args, **kwargs):
        raise HostLeakError(LEAK_MESSAGE)

    def __float__(self):
        raise HostLeakError(LEAK_MESSAGE)

    def __int__(self):
        raise HostLeakError(LEAK_MESSAGE)

    def __bool__(self):
        raise HostLeakError(LEAK_MESSAGE)

    def __iter__(self):
        raise HostLeakError(LEAK_MESSAGE)

    def __getitem__(self, key):
        raise HostLeakError(LEAK_MESSAGE)

    def __repr__(self):
        return f"<simulated device array shape={self._a.shape} dtype={self._a.dtype}>"


class SimulatedBackend(Backend):
    name = "simulated"
    direct = False
    xp = np

    def __init__(self):
        self.host_to_device = 0
        self.device_to_host = 0

    def from_host(self, array):
        self.host_to_device += 1
        return DeviceArray(np.array(array, copy=True))

    def to_host(self, array):
        self.device_to_host += 1
        return np.array(array._a, copy=True)

    def unwrap(self, array):
        if type(array) is not DeviceArray:
            raise HostLeakError("A host array was handed to a simulated GPU kernel without a copy.")
        return array._a

    def wrap(self, array):
        if isinstance(array, DeviceArray):
            return array
        return DeviceArray(np.asarray(array))

    def nbytes(self, array) -> int:
        inner = array._a
        return inner.nbytes if inner.base is None else 0

    def copy(self, array):
        return DeviceArray(np.array(array._a, copy=True))


SIMULATED = SimulatedBackend()
