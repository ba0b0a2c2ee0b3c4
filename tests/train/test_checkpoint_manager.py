"""tf.train.CheckpointManager, and atomic saves: a writer killed mid-save leaves the previous
checkpoint and the `checkpoint` state file intact."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import featherflow as tf

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def names(paths):
    return [os.path.basename(p) for p in paths]


def test_keeps_the_newest_and_records_state(tmp_path):
    v = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    for i in range(3):
        v.assign(float(i))
        manager.save()
    assert names(manager.checkpoints) == ["ckpt-2", "ckpt-3"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.data-00000-of-00001",
                                            "ckpt-2.index", "ckpt-3.data-00000-of-00001",
                                            "ckpt-3.index"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "ckpt-3")
    assert names(state.all_model_checkpoint_paths) == ["ckpt-2", "ckpt-3"]
    assert len(state.all_model_checkpoint_timestamps) == 2
    text = (tmp_path / "checkpoint").read_text()
    assert text.startswith('model_checkpoint_path: "ckpt-3"\nall_model_checkpoint_paths: '
                           '"ckpt-2"\nall_model_checkpoint_paths: "ckpt-3"\n')


def test_checkpoint_number_and_counter(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    assert os.path.basename(manager.save(checkpoint_number=10)) == "ckpt-10"
    assert int(ckpt.save_counter.numpy()) == 1   # incremented anyway, as in TF
    assert os.path.basename(manager.save()) == "ckpt-2"
    assert names(manager.checkpoints) == ["ckpt-10", "ckpt-2"]
    assert manager.latest_checkpoint == str(tmp_path / "ckpt-2")


def test_recovers_an_existing_directory_and_restores(tmp_path):
    v = tf.Variable([1.0, 2.0])
    ckpt = tf.train.Checkpoint(v=v)
    first = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    first.save()
    v.assign([3.0, 4.0])
    first.save()
    w = tf.Variable([0.0, 0.0])
    again = tf.train.CheckpointManager(tf.train.Checkpoint(v=w), str(tmp_path), max_to_keep=2)
    assert names(again.checkpoints) == ["ckpt-1", "ckpt-2"]
    assert again.restore_or_initialize() == str(tmp_path / "ckpt-2")
    np.testing.assert_array_equal(w.numpy(), [3.0, 4.0])
    again.save()
    assert names(again.checkpoints) == ["ckpt-2", "ckpt-3"]
    assert not os.path.exists(tmp_path / "ckpt-1.index")


def test_restore_or_initialize_runs_init_fn_without_checkpoints(tmp_path):
    calls = []
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), str(tmp_path),
                                         max_to_keep=None, init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    for _ in range(7):
        manager.save()
    assert len(manager.checkpoints) == 7     # max_to_keep=None keeps everything
    assert manager.sync() is None


def test_arguments_are_checked(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(ValueError, match="Expected a positive integer or `None` for "
                                         "`max_to_keep`, got 0."):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=0)
    with pytest.raises(ValueError, match="`step_counter` should be passed if "
                                         "`checkpoint_interval` is not None."):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2, checkpoint_interval=5)


def test_checkpoint_interval(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2, step_counter=step,
                                         checkpoint_interval=5)
    saved = []
    for i in range(12):
        if manager.save() is not None:
            saved.append(i)
        step.assign_add(1)
    assert saved == [0, 5, 10]
    assert manager.checkpoint_interval == 5
    assert manager.save(check_interval=False) is not None


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1,
                                         keep_checkpoint_every_n_hours=1)
    manager.save()                   # ckpt-1 at t=1000 (last preserved: t=999)
    clock[0] = 5000.0
    manager.save()                   # ckpt-1 is not an hour past t=999: deleted
    clock[0] = 5100.0
    manager.save()                   # ckpt-2 (t=5000) is an hour past t=999: kept for good
    clock[0] = 5200.0
    manager.save()                   # ckpt-3 (t=5100) is not an hour past t=5000: deleted
    assert names(manager.checkpoints) == ["ckpt-4"]
    assert [os.path.exists(tmp_path / f"ckpt-{i}.index") for i in (1, 2, 3, 4)] == [
        False, True, False, True]
    assert tf.train.get_checkpoint_state(str(tmp_path)).last_preserved_timestamp == 5000.0


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import featherflow as tf
    from featherflow._src.train import bundle
    directory = sys.argv[1]
    with tf.device("/CPU:0"):
        v = tf.Variable(np.zeros(4 << 20, np.float32))
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=1)
    manager.save()
    v.assign(np.ones(4 << 20, np.float32))
    original = bundle.BundleWriter._write_all
    def slow(self, raw):
        sys.stdout.write("writing\\n"); sys.stdout.flush()
        time.sleep(60)
        original(self, raw)
    bundle.BundleWriter._write_all = slow
    manager.save()
""")


def test_writer_killed_mid_save_leaves_previous_checkpoint_intact(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline().strip() == b"writing"
        state_before = (tmp_path / "checkpoint").read_text()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert (tmp_path / "checkpoint").read_text() == state_before
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-1")
    assert not os.path.exists(tmp_path / "ckpt-2.index")
    with tf.device("/CPU:0"):
        w = tf.Variable(np.full(4 << 20, 5.0, np.float32))
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=w), str(tmp_path), max_to_keep=1)
    assert manager.restore_or_initialize() == str(tmp_path / "ckpt-1")
    assert not w.numpy().any()
    # The next save goes on normally beside the dead writer's temporary file.
    assert os.path.basename(manager.save()) == "ckpt-2"
    assert names(manager.checkpoints) == ["ckpt-2"]
