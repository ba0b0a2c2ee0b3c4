"""The demo trains to a useful accuracy and, run again, resumes from its checkpoint."""
import os
import pathlib
import re
import subprocess
import sys

import featherflow as tf

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "train_digits.py"


def _run(ckpt_dir, *args):
    env = dict(os.environ, FEATHERFLOW_DEMO_CHECKPOINTS=str(ckpt_dir))
    env.pop("FEATHERFLOW_SIMULATED_GPUS", None)  # the demo runs as a user would, on the CPU
    out = subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_demo_trains_then_resumes(tmp_path):
    first = _run(tmp_path)
    assert "resuming" not in first
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", first).group(1))
    assert accuracy >= 0.9
    steps_per_epoch = int(re.search(r"(\d+)/\1 ", first).group(1))
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 10
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == \
        10 * steps_per_epoch

    second = _run(tmp_path)
    assert "(epoch 10)" in second and "Epoch 11/20" in second
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 20
    # The optimizer's step counter carried over: it was restored, not started again.
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == \
        20 * steps_per_epoch

    fresh = _run(tmp_path, "--fresh")
    assert "resuming" not in fresh and "Epoch 1/10" in fresh
