"""Checkpoint save and restore: 100 float32 variables, 200 MB in all, on the CPU device.

- `checkpoint_save`: `tf.train.CheckpointManager(max_to_keep=1).save()`, what a training loop
  does (a new numbered checkpoint: data streamed from the variables' buffers, CRC32C, index,
  atomic renames, the `checkpoint` state file twice, the previous checkpoint deleted; no fsync,
  as TensorFlow) against NumPy writing the same bytes to one file in the page cache and removing
  it (the baseline the issue names; neither leaves writeback behind for later runs).
- `checkpoint_save durable`: the same save with `CheckpointOptions(experimental_fsync=True)`
  (data, index, state file and directory fsynced: the checkpoint survives a power loss) against
  NumPy writing and fsyncing one file. No target: it shows what durability costs.
- Not timed here: `Checkpoint.write` over the *same* prefix again and again. On ext4 a rename
  over an existing file makes the kernel allocate and start writing back the new file at once
  (`auto_da_alloc`), and the next overwrite then frees those blocks (with online discard): about
  200 ms against 70 ms on this machine's disk. Numbered checkpoints do not rename over data.
- `checkpoint_restore`: `Checkpoint.read` (index and graph parsing, matching, validation, reads
  into fresh arrays with CRC32C checks in worker threads, then the buffer swap) against NumPy
  `readinto` of the same bytes into preallocated arrays, unchecked (the file is in the page
  cache after the first run). Setup syncs the disk first, so no earlier writeback overlaps.

TensorFlow runs its own `tf.train.Checkpoint.write`/`read` of the same variables.
CRC32C runs at hardware speed with the `crc32c` package (extra `featherflow[checkpoint]`), in
worker threads that overlap the file I/O; the NumPy fallback is several times slower than the
I/O. `python -m benchmarks -k checkpoint`, or `python -m benchmarks.cases_checkpoint`.
"""
import atexit
import os
import shutil
import tempfile

from benchmarks.harness import Case

N_VARS = 100
SIZE = 200 * 1000 * 1000 // 4 // N_VARS   # float32 elements per variable
_DIR = tempfile.mkdtemp(prefix="ff_bench_ckpt_")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)  # 0.4-0.8 GB of files per run


def _arrays(np_):
    rng = np_.random.default_rng(0)
    return [rng.standard_normal(SIZE, dtype=np_.float32) for _ in range(N_VARS)]


def _ff_objects(tf):
    import numpy as np  # noqa: PLC0415

    m = tf.Module()
    with tf.device("/CPU:0"):
        m.vars = [tf.Variable(a) for a in _arrays(np)]
    return tf.train.Checkpoint(model=m)


def _ff_save(tf, durable=False):
    ckpt = _ff_objects(tf)
    directory = os.path.join(_DIR, "ff_save_durable" if durable else "ff_save")
    manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=1)
    options = tf.train.CheckpointOptions(experimental_fsync=durable)
    os.sync()  # setup: what earlier runs left dirty is written back before the timing starts
    return lambda: manager.save(options=options)


def _ff_save_durable(tf):
    return _ff_save(tf, durable=True)


def _tf_objects(tf):
    import numpy as np  # noqa: PLC0415

    m = tf.Module()
    m.vars = [tf.Variable(a) for a in _arrays(np)]
    return tf.train.Checkpoint(model=m)


def _tf_save(tf):
    ckpt = _tf_objects(tf)
    manager = tf.train.CheckpointManager(ckpt, os.path.join(_DIR, "tf_save"), max_to_keep=1)
    return manager.save


def _tf_restore(tf):
    ckpt = _tf_objects(tf)
    prefix = os.path.join(_DIR, "tf_restore")
    ckpt.write(prefix)
    os.sync()
    return lambda: ckpt.read(prefix)


def _np_write(np_, sync=True):
    arrays = _arrays(np_)
    path = os.path.join(_DIR, "np_save.bin" if sync else "np_save_cached.bin")
    os.sync()  # setup, as featherflow's

    def step():
        with open(path, "wb") as f:
            for a in arrays:
                f.write(memoryview(a).cast("B"))
            if sync:
                f.flush()
                os.fsync(f.fileno())
        if not sync:
            # NOTE: without this the 200 MB left dirty in the page cache are written back
            # while the next case runs (featherflow's save, 1.4x slower for it); a file removed
            # before writeback costs no disk I/O at all.
            os.remove(path)
    return step


def _np_write_cached(np_):
    return _np_write(np_, sync=False)


def _ff_restore(tf):
    ckpt = _ff_objects(tf)
    prefix = os.path.join(_DIR, "ff_restore")
    ckpt.write(prefix)
    os.sync()  # setup: no writeback (of this file or an earlier case's) during the timed reads
    return lambda: ckpt.read(prefix)


def _np_readinto(np_):
    arrays = _arrays(np_)
    path = os.path.join(_DIR, "np_restore.bin")
    with open(path, "wb") as f:
        for a in arrays:
            f.write(memoryview(a).cast("B"))
        f.flush()
        os.fsync(f.fileno())  # setup: no writeback left to run during the timed reads
    out = [np_.empty_like(a) for a in arrays]

    def step():
        with open(path, "rb", buffering=0) as f:
            for a in out:
                f.readinto(memoryview(a).cast("B"))
    return step


CASES = [
    Case("checkpoint", "checkpoint_save (100 vars, 200 MB)", _ff_save, _np_write_cached,
         tensorflow=_tf_save, target=1.2),
    Case("checkpoint", "checkpoint_save durable (fsync; vs write + fsync)", _ff_save_durable,
         _np_write),
    Case("checkpoint", "checkpoint_restore (100 vars, 200 MB)", _ff_restore, _np_readinto,
         tensorflow=_tf_restore, target=1.5),
]


def main():
    from benchmarks.harness import run  # noqa: PLC0415

    results = run(CASES, ("featherflow", "numpy", "numpy_alt"), repeat=5, min_time=0.5)
    for name, row in results.items():
        print(name)
        for fw, sec in row.items():
            if isinstance(sec, float):
                print(f"  {fw:<12} {sec * 1e3:8.1f} ms  {200 / sec / 1e3:5.2f} GB/s  "
                      f"({sec / row['numpy']:.2f}x NumPy)")


if __name__ == "__main__":
    main()
