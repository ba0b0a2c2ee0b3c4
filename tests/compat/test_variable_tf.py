"""tf.Variable against real TensorFlow (skipped where TensorFlow is not installed)."""
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

import featherflow as ff  # noqa: E402


def _both(fn):
    out = []
    for mod in (tf_real, ff):
        try:
            out.append(("ok", fn(mod)))
        except Exception as e:  # noqa: BLE001
            out.append((type(e).__name__, None))
    return out


PROGRAMS = {
    "updates": lambda tf: tf.Variable([1.0, 2.0]).assign_add([1.0, 1.0]).assign_sub([0.5, 0.5])
    .numpy(),
    "scatter": lambda tf: tf.Variable([[1, 2], [3, 4]]).scatter_nd_add([[0, 0], [1, 1]], [5, 6])
    .numpy(),
    "repr": lambda tf: repr(tf.Variable([[1.5, 2.0]], name="r")),
    "bad_assign": lambda tf: tf.Variable(1.0).assign([1.0, 2.0]),
    "bad_add": lambda tf: tf.Variable(1.0).assign_add([1.0, 2.0]),
    "bad_index": lambda tf: tf.Variable([1.0]).sparse_read([3]),
    "names": lambda tf: [tf.Variable(0, name="n").name, tf.Variable(0).name],
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_as_tensorflow(name):
    (k1, a), (k2, b) = _both(PROGRAMS[name])
    assert k1 == k2
    if k1 == "ok":
        np.testing.assert_equal(a, b)
