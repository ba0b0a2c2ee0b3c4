"""The README's tour runs as written (with its error line checked separately)."""
import pathlib
import re

import pytest

import featherflow as tf

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
ERROR_LINE = "tf.constant(1) + tf.constant(1.0)"


def test_readme_tour_runs(tmp_path, capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert ERROR_LINE in code
    code = code.replace(ERROR_LINE, "pass").replace("/tmp/ff_ckpt/ckpt", str(tmp_path / "ckpt"))
    ns = {}
    exec(compile(code, str(README), "exec"), ns)  # noqa: S102 - the project's own README
    assert float(ns["dy"]) == 27.0 and float(ns["d2y"]) == 18.0
    assert float(ns["before"]) == 0.0 and float(ns["v"].numpy()) == 1.0
    assert [v.name for v in ns["Dense"](2, 3).variables] == ["b:0", "w:0"]
    assert "Epoch 2/2" in capsys.readouterr().out
    with pytest.raises(tf.errors.InvalidArgumentError):
        eval(ERROR_LINE, {"tf": tf})  # noqa: S307
