"""Checkpoint save and restore: 100 float32 variables, 200 MB in all, on the CPU device.

- `checkpoint_save`: `tf.train.Checkpoint.write` (data streamed from the variables' buffers,
  CRC32C, index, fsync, atomic renames) against NumPy writing the same bytes to one file and
  fsyncing it (what any durable save must do); "NumPy alt." is the same write without fsync
  (page cache only).
- `checkpoint_restore`: `Checkpoint.read` (index and graph parsing, matching, validation, reads
  into fresh arrays with CRC32C checks in worker threads, then the buffer swap) against NumPy
  `readinto` of the same bytes into preallocated arrays, unchecked (the file is in the page
  cache after the first run).

Both featherflow and the baselines' save overwrite the previous files each run (featherflow by
an atomic rename, NumPy by truncation), so both pay for freeing the old file's blocks.
CRC32C runs at hardware speed with the `crc32c` package (extra `featherflow[checkpoint]`), in
worker threads that overlap the file I/O; the NumPy fallback is several times slower than the
I/O. `python -m benchmarks -k checkpoint`, or `python -m benchmarks.cases_checkpoint`.
"""
import os
import tempfile

from benchmarks.harness import Case

N_VARS = 100
SIZE = 200 * 1000 * 1000 // 4 // N_VARS   # float32 elements per variable
_DIR = tempfile.mkdtemp(prefix="ff_bench_ckpt_")


def _arrays(np_):
    rng = np_.random.default_rng(0)
    return [rng.standard_normal(SIZE, dtype=np_.float32) for _ in range(N_VARS)]


def _ff_objects(tf):
    import numpy as np  # noqa: PLC0415

    m = tf.Module()
    with tf.device("/CPU:0"):
        m.vars = [tf.Variable(a) for a in _arrays(np)]
    return tf.train.Checkpoint(model=m)


def _ff_save(tf):
    ckpt = _ff_objects(tf)
    prefix = os.path.join(_DIR, "ff_save")
    return lambda: ckpt.write(prefix)


def _np_write(np_, sync=True):
    arrays = _arrays(np_)
    path = os.path.join(_DIR, "np_save.bin" if sync else "np_save_cached.bin")

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
    Case("checkpoint", "checkpoint_save (100 vars, 200 MB)", _ff_save, _np_write,
         numpy_alt=_np_write_cached, numpy_alt_label="write without fsync (page cache)",
         target=1.2),
    Case("checkpoint", "checkpoint_restore (100 vars, 200 MB)", _ff_restore, _np_readinto,
         target=1.5),
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
