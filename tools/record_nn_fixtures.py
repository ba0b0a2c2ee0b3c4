"""Records TensorFlow's outputs and gradients for tests/nn/_cases.py into
tests/fixtures/nn_ops.npz (needs TensorFlow: /work/tfenv/bin/python tools/record_nn_fixtures.py)."""
import os
import sys

import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.nn._cases import CASES, run  # noqa: E402


def main():
    out = {}
    for name in CASES:
        for dtype in (tf.float32, tf.float64):
            y, grads = run(tf, name, dtype)
            key = f"{name}/{dtype.name}"
            out[f"{key}/y"] = y
            for i, g in enumerate(grads):
                out[f"{key}/g{i}"] = g
    path = os.path.join(ROOT, "tests", "fixtures", "nn_ops.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {len(out)} arrays to {path} (TensorFlow {tf.__version__})")


if __name__ == "__main__":
    main()
