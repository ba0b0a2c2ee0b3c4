"""tf.train.CheckpointManager: numbered checkpoints in a directory, the newest `max_to_keep` kept
(plus one every `keep_checkpoint_every_n_hours`), the `checkpoint` state file kept in sync."""
from __future__ import annotations

import collections
import glob
import os
import time

from featherflow._src.train import state as _state
from featherflow._src.train.checkpoint import durable_save


def _delete_checkpoint_files(prefix: str):
    for path in [f"{prefix}.index"] + glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class CheckpointManager:
    """Keeps a directory of numbered checkpoints of `checkpoint`.

    >>> import featherflow as tf, tempfile
    >>> ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    >>> manager = tf.train.CheckpointManager(ckpt, tempfile.mkdtemp(), max_to_keep=2)
    >>> paths = [manager.save() for _ in range(3)]
    >>> [p.rsplit("/", 1)[-1] for p in manager.checkpoints]
    ['ckpt-2', 'ckpt-3']
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None, last_checkpoint_step=None):
        self._checkpoint = checkpoint
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        if not isinstance(directory, str):
            directory = os.fspath(directory)
        self._directory = directory
        self._checkpoint_prefix = os.path.join(directory, checkpoint_name)
        self._init_fn = init_fn
        if checkpoint_interval is not None:
            if step_counter is None:
                raise ValueError("`step_counter` should be passed if `checkpoint_interval` is "
                                 "not None.")
            self._last_checkpoint_step = last_checkpoint_step
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        recovered = _state.get_checkpoint_state(directory)
        current_clock = time.time()
        self._maybe_delete = collections.OrderedDict()
        if recovered is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = current_clock - 1.0
        else:
            self._latest_checkpoint = recovered.model_checkpoint_path
            self._last_preserved_timestamp = recovered.last_preserved_timestamp or current_clock
            if current_clock < self._last_preserved_timestamp:
                # The clock went backwards: keep deleting as if it had not.
                self._last_preserved_timestamp = current_clock
            paths = recovered.all_model_checkpoint_paths
            stamps = list(recovered.all_model_checkpoint_timestamps)
            if len(stamps) != len(paths):
                stamps = [current_clock] * len(paths)
            for path, stamp in zip(paths, stamps):
                self._maybe_delete[path] = min(stamp, current_clock)

    # -- properties ----------------------------------------------------------------------------
    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint (None before the first)."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list:
        """The prefixes of the checkpoints kept, oldest first."""
        return list(self._maybe_delete.keys())

    # -- saving --------------------------------------------------------------------------------
    def _record_state(self, durable=False):
        if self._latest_checkpoint is None:
            return
        _state.update_checkpoint_state(
            self._directory, self._latest_checkpoint,
            all_model_checkpoint_paths=self.checkpoints,
            all_model_checkpoint_timestamps=list(self._maybe_delete.values()),
            last_preserved_timestamp=self._last_preserved_timestamp, save_relative_paths=True,
            durable=durable)

    def _sweep(self):
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            filename, timestamp = self._maybe_delete.popitem(last=False)
            hours = self._keep_checkpoint_every_n_hours
            if hours and timestamp - hours * 3600.0 >= self._last_preserved_timestamp:
                # Kept for good: dropped from the list but not from the disk.
                self._last_preserved_timestamp = timestamp
                continue
            _delete_checkpoint_files(filename)

    def _step(self) -> int:
        value = self._step_counter
        value = value.numpy() if hasattr(value, "numpy") else value
        return int(value)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Saves a checkpoint numbered `checkpoint_number` (the checkpoint's incremented
        `save_counter` when None) and deletes the oldest beyond `max_to_keep`. With
        `checkpoint_interval`, returns None without saving until `step_counter` moved that
        far. Returns the new checkpoint's prefix."""
        if self._checkpoint_interval is not None:
            current_step = self._step()
            if self._last_checkpoint_step is not None and check_interval and \
                    current_step < self._last_checkpoint_step + self._checkpoint_interval:
                return None
            self._last_checkpoint_step = current_step
        if hasattr(self._checkpoint, "save_counter"):
            counter = self._checkpoint.save_counter
            bumped = int(counter.assign_add(1).numpy())
            if checkpoint_number is None:
                checkpoint_number = bumped
        elif checkpoint_number is None:
            raise ValueError("checkpoint_number is required for a checkpoint without a "
                             "save_counter.")
        if hasattr(checkpoint_number, "numpy"):
            checkpoint_number = checkpoint_number.numpy()
        prefix = f"{self._checkpoint_prefix}-{int(checkpoint_number)}"
        save_path = self._checkpoint.write(prefix, options=options)
        timestamp = time.time()
        # An overwritten checkpoint moves to the end of the list.
        self._maybe_delete.pop(save_path, None)
        self._maybe_delete[save_path] = timestamp
        self._latest_checkpoint = save_path
        # The new checkpoint is recorded before anything is deleted, and the list again after.
        durable = durable_save(options)
        self._record_state(durable)
        self._sweep()
        self._record_state(durable)
        return save_path

    def sync(self):
        """Waits for asynchronous saves (featherflow's saves are synchronous)."""
        return None

    def restore_or_initialize(self):
        """Restores the newest checkpoint and returns its path, or runs `init_fn` and returns
        None when the directory has none."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None
