"""`python -m featherflow.train inspect PATH`."""
import os
import subprocess
import sys

import numpy as np

from featherflow._src.train.bundle import BundleWriter
from featherflow._src.train.inspect import main, resolve_prefix

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_checkpoints")


def test_inspect_tf_checkpoint(capsys):
    assert main(["inspect", os.path.join(FIXTURES, "two_shards.index")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "4 tensors" in lines[0]
    assert [line.split() for line in lines[1:]] == [
        ["a", "float32", "[2]"], ["b", "string", "[2]"], ["c", "int32", "[2,", "2]"],
        ["d", "float64", "[5]"]]


def test_inspect_directory_and_errors(tmp_path, capsys):
    with BundleWriter(str(tmp_path / "ckpt-1")) as w:
        w.add("x", np.zeros((), np.int8))
    assert resolve_prefix(str(tmp_path)) == str(tmp_path / "ckpt-1")
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    assert resolve_prefix(str(tmp_path)) == str(tmp_path / "ckpt-1")
    assert main(["inspect", str(tmp_path / "nothing")]) == 1
    assert "Failed to find any matching files" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "featherflow.train", "inspect",
                          os.path.join(FIXTURES, "many_dtypes")], capture_output=True,
                         text=True, check=True, cwd=os.path.join(os.path.dirname(__file__),
                                                                 "..", ".."))
    rows = [line.split(None, 2) for line in out.stdout.splitlines()[1:]]
    assert ["bfloat16/.ATTRIBUTES/VARIABLE_VALUE", "bfloat16", "[2, 3]"] in rows
    assert ["_CHECKPOINTABLE_OBJECT_GRAPH", "string", "[]"] in rows
