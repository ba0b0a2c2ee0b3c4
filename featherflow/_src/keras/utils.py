"""tf.keras.utils (minimal): `to_categorical`, `set_random_seed`."""
from __future__ import annotations

import random

import numpy as np


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class labels (last axis of size 1 is dropped, as Keras does).

    >>> import featherflow as tf
    >>> tf.keras.utils.to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], num_classes))
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(shape + (num_classes,))


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy and featherflow's global generator."""
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. "
                         f"Received: seed={seed} (of type {type(seed)})")
    import featherflow as tf  # noqa: PLC0415
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
