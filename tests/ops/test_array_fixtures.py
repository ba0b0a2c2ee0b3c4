"""Replays the TF-recorded error cases (tests/fixtures/array_ops.json) on featherflow: same
exception class, and the same message where featherflow words it as TensorFlow does."""
import json
import pathlib

import numpy as np
import pytest

import featherflow as tf

FIXTURE = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "array_ops.json"
CASES = json.loads(FIXTURE.read_text())["cases"]

# TF names dtypes by their C++ names in attr messages ("float" for float32) and lists them in its
# registration order; featherflow's registry uses Python names. The class still matches.
MESSAGE_DIFFERS = {"ones_like_string", "shape_out_type", "gather_float_indices", "concat_dtype"}


def _normalize(message):
    return message.strip()


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_matches_tensorflow(name):
    case = CASES[name]
    x = tf.reshape(tf.range(12), [3, 4])
    env = {"tf": tf, "np": np, "x": x}
    if case["error"] is None:
        eval(case["expr"], env)  # noqa: S307 - expressions recorded by tools/
        return
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class is compared below
        eval(case["expr"], env)  # noqa: S307
    assert type(info.value).__name__ == case["error"], str(info.value)
    if name not in MESSAGE_DIFFERS:
        assert _normalize(str(info.value)) == case["message"]
