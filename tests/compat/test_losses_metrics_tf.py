"""tf.keras.losses / tf.keras.metrics against live TensorFlow (skipped where TF is missing)."""
import importlib.util
import os

import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")
import featherflow as tf  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "record_lm", os.path.join(os.path.dirname(__file__), "..", "..", "tools",
                              "record_losses_metrics_fixtures.py"))
REC = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REC)


def _pairs(data_tf, data_ff, key):
    return list(zip(data_tf[key], data_ff[key]))


@pytest.fixture(scope="module")
def recorded():
    return REC.record(tf_real), REC.record(tf)


def test_losses_agree(recorded):
    for want, got in _pairs(*recorded, "losses"):
        assert ("error" in want) == ("error" in got), want["name"]
        if "expected" in want:
            np.testing.assert_allclose(got["expected"], want["expected"], rtol=2e-5, atol=2e-6)


def test_metrics_agree(recorded):
    for want, got in _pairs(*recorded, "metrics"):
        np.testing.assert_allclose(got["results"], want["results"], rtol=2e-5, atol=2e-6)
        assert got["config"] == want["config"]
