"""The backend protocol: what a device needs from the array library behind it.

Kernels are written once against an `xp` module (NumPy's API). A backend says which `xp` its
kernels get and how values cross the host boundary; dispatch does the rest.
"""
from __future__ import annotations

import numpy as np


class Backend:
    """One array library behind one or more devices.

    `direct` backends hand their arrays to kernels as they are (NumPy, CuPy). Others (the simulated
    GPU) keep arrays in a box that dispatch opens with `unwrap` and closes with `wrap`.
    """

    name = "base"
    direct = True
    xp = np

    def from_host(self, array: np.ndarray):
        """Moves a host (NumPy) array onto this backend. Counted as a copy when it crosses."""
        raise NotImplementedError

    def to_host(self, array) -> np.ndarray:
        """Copies a backend array to a host NumPy array."""
        raise NotImplementedError

    def unwrap(self, array):
        return array

    def wrap(self, array):
        return array

    def nbytes(self, array) -> int:
        """Bytes this array owns (0 for a view of another array's buffer)."""
        return array.nbytes if array.base is None else 0

    def copy(self, array):
        """A new array with the same contents, on the same backend."""
        return self.wrap(self.xp.array(self.unwrap(array), copy=True))
