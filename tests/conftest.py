"""Test configuration: strict warnings (pyproject.toml), two simulated GPUs, fixed seeds."""
import os

os.environ.setdefault("FEATHERFLOW_SIMULATED_GPUS", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import featherflow as tf  # noqa: E402


def pytest_configure(config):
    n = int(os.environ["FEATHERFLOW_SIMULATED_GPUS"])
    if n < 2:
        raise pytest.UsageError("the suite needs FEATHERFLOW_SIMULATED_GPUS >= 2")


@pytest.fixture(autouse=True)
def _seeds():
    np.random.seed(0)
    if hasattr(tf, "random") and hasattr(tf.random, "set_seed"):
        tf.random.set_seed(0)
    yield
