"""The CPU backend: NumPy arrays, used by kernels as they are."""
from __future__ import annotations

import numpy as np

from featherflow._src.backends.base import Backend


class NumpyBackend(Backend):
    name = "numpy"
    direct = True
    xp = np

    def from_host(self, array):
        return array

    def to_host(self, array):
        return np.array(array, copy=True)

    def copy(self, array):
        return np.array(array, copy=True)


NUMPY = NumpyBackend()
