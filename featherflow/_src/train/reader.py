"""tf.train.load_checkpoint / list_variables: reading a checkpoint's tensors by key."""
from __future__ import annotations

import os

from featherflow._src.framework import errors
from featherflow._src.train import state as _state
from featherflow._src.train.bundle_reader import BundleReader


def _prefix(ckpt_dir_or_file) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = _state.latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                             f"{path}")
        return latest
    return path


class CheckpointReader:
    """The tensors of one checkpoint (what `tf.train.load_checkpoint` returns)."""

    def __init__(self, prefix: str):
        try:
            self._reader = BundleReader(prefix)
        except errors.NotFoundError:
            raise errors.NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: "
                                                   "Failed to find any matching files for "
                                                   f"{prefix}") from None
        self._prefix = prefix

    def has_tensor(self, key) -> bool:
        return key in self._reader

    def get_tensor(self, key):
        """The value under `key` as NumPy (a NumPy scalar for a 0-d tensor, bytes for a string
        scalar)."""
        if key not in self._reader:
            raise errors.NotFoundError(None, None, f"Key {key} not found in checkpoint")
        value = self._reader.read(key)
        return value[()] if value.ndim == 0 else value

    def get_variable_to_shape_map(self) -> dict:
        return {k: list(self._reader.dtype_and_shape(k)[1]) for k in self._reader.keys()}

    def get_variable_to_dtype_map(self) -> dict:
        return {k: self._reader.dtype_and_shape(k)[0] for k in self._reader.keys()}

    def debug_string(self) -> bytes:
        lines = []
        for k in self._reader.keys():
            dtype, shape = self._reader.dtype_and_shape(k)
            lines.append(f"{k} ({dtype.name}) {list(shape)}\n")
        return "".join(lines).encode("utf-8")


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A reader for a checkpoint prefix, or for the newest checkpoint of a directory.

    >>> import featherflow as tf, tempfile, os
    >>> path = tf.train.Checkpoint(v=tf.Variable(3.0)).write(os.path.join(tempfile.mkdtemp(), "c"))
    >>> float(tf.train.load_checkpoint(path).get_tensor("v/.ATTRIBUTES/VARIABLE_VALUE"))
    3.0
    """
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file) -> list:
    """[(key, shape list), ...] of a checkpoint, sorted by key.

    >>> import featherflow as tf, tempfile, os
    >>> path = tf.train.Checkpoint(v=tf.Variable([1, 2])).write(os.path.join(tempfile.mkdtemp(), "c"))
    >>> tf.train.list_variables(path)
    [('_CHECKPOINTABLE_OBJECT_GRAPH', []), ('v/.ATTRIBUTES/VARIABLE_VALUE', [2])]
    """
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(k, shapes[k]) for k in sorted(shapes)]
