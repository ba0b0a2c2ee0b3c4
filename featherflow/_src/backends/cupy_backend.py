"""The NVIDIA GPU backend: CuPy arrays, used by kernels as they are. Imported only when a real GPU
is first used, so CPU-only installs never import CuPy."""
from __future__ import annotations

import numpy as np

from featherflow._src.backends.base import Backend


class CupyBackend(Backend):
    name = "cupy"
    direct = True

    def __init__(self, device_index: int = 0):
        import cupy  # noqa: PLC0415 - lazy on purpose

        self.xp = cupy
        self.device_index = device_index
        self.host_to_device = 0
        self.device_to_host = 0

    def from_host(self, array):
        self.host_to_device += 1
        if array.dtype == object:
            raise TypeError("CuPy devices hold numeric and boolean dtypes only. "
                            f"Received: an array of dtype {array.dtype}")
        with self.xp.cuda.Device(self.device_index):
            return self.xp.asarray(array)

    def to_host(self, array) -> np.ndarray:
        self.device_to_host += 1
        return self.xp.asnumpy(array)

    def copy(self, array):
        with self.xp.cuda.Device(self.device_index):
            return array.copy()


def cuda_device_count() -> int:
    """Number of CUDA devices CuPy sees, 0 when CuPy or a driver is missing."""
    try:
        import cupy  # noqa: PLC0415

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 - no CuPy, no driver, no device: all mean "no GPU"
        return 0
