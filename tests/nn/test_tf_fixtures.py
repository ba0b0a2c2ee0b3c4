"""featherflow's outputs and gradients against TensorFlow 2.21's, recorded by
tools/record_nn_fixtures.py into tests/fixtures/nn_ops.npz (no TensorFlow needed here)."""
import os

import numpy as np
import pytest

import featherflow as tf
from tests.nn._cases import CASES, run

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "nn_ops.npz"))
TOL = {"float32": 2e-5, "float64": 1e-10}


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64], ids=lambda d: d.name)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name, dtype):
    y, grads = run(tf, name, dtype)
    key = f"{name}/{dtype.name}"
    expected = FIXTURES[f"{key}/y"]
    assert y.dtype == expected.dtype and y.shape == expected.shape
    tol = TOL[dtype.name]
    if name == "gelu" and dtype == tf.float64:
        tol = 1e-7  # TF's float64 erfc is a polynomial good to ~1e-7; ours is math.erfc
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol * 10)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, FIXTURES[f"{key}/g{i}"], rtol=tol, atol=tol * 10,
                                   err_msg=f"gradient of input {i}")
