"""Array ops: featherflow against real TensorFlow (skipped where TensorFlow is not installed).

Each case is one expression run with `tf` bound to TensorFlow and to featherflow; values, dtypes
and shapes must agree.
"""
import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")

import featherflow  # noqa: E402

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
I = np.arange(12, dtype=np.int32).reshape(3, 4)

CASES = [
    "tf.reshape(A, [4, -1])", "tf.expand_dims(A, -2)", "tf.squeeze(A[:1])",
    "tf.broadcast_to(I[:1], [2, 3, 4])", "tf.transpose(A, [2, 0, 1])", "tf.shape(A)",
    "tf.size(A)", "tf.rank(A)", "tf.zeros([2, 3], tf.int64)", "tf.ones(3)", "tf.fill([2], 1.5)",
    "tf.zeros_like(I)", "tf.ones_like(A)", "tf.identity(I)", "tf.eye(2, 3, [2])",
    "tf.range(5)", "tf.range(1, 2, 0.1)", "tf.range(10, 1, -4)", "tf.range(0.5, 3)",
    "tf.linspace(0.0, 1.0, 7)", "tf.linspace(0, 5, 4)", "tf.concat([I, I], -1)",
    "tf.stack([I, I], 1)", "tf.unstack(I, axis=1)[3]", "tf.split(I, [1, -1, 1], 1)[1]",
    "tf.tile(I, [1, 2])", "tf.pad(I, [[1, 2], [0, 1]], constant_values=9)",
    "tf.pad(I, [[2, 2], [3, 3]], 'REFLECT')", "tf.pad(I, [[3, 3], [4, 4]], 'SYMMETRIC')",
    "tf.gather(A, [[1, 0]], axis=1)", "tf.gather(A, [[2, 0, 1], [1, 1, 1]], axis=1, batch_dims=1)",
    "tf.gather_nd(A, [[1, 2], [0, 0]])", "tf.gather_nd(A, [[[1]], [[2]]], batch_dims=1)",
    "tf.boolean_mask(A, [[True, False, True], [False, True, True]])",
    "tf.boolean_mask(A, [True, False, True, True], axis=2)",
    "tf.one_hot([[0, 3], [-1, 1]], 3, on_value=2.0, off_value=-1.0, axis=1)",
    "tf.reverse(A, [1, 2])", "tf.slice(A, [0, 1, 1], [-1, 2, 2])",
    "tf.strided_slice(A, [1, 0, 3], [2, 3, 0], [1, 2, -1], shrink_axis_mask=1)",
    "tf.strided_slice(A, [0, 0], [0, 2], ellipsis_mask=1, new_axis_mask=2)",
    "tf.scatter_nd([[0], [2], [0]], [[1, 2], [3, 4], [5, 6]], [3, 2])",
    "tf.tensor_scatter_nd_update(I, [[1, 1]], [-5])", "tf.tensor_scatter_nd_add(I, [[0], [0]], I[:2])",
    "tf.tensor_scatter_nd_min(I, [[2, 3]], [0])", "tf.tensor_scatter_nd_max(I, [[0, 0]], [50])",
    "tf.tensor_scatter_nd_sub(A, [[1, 2, 3]], [1.5])",
    "tf.unique([5, 3, 5, 1, 3]).y", "tf.unique([5, 3, 5, 1, 3], out_idx=tf.int64).idx",
    "tf.unique_with_counts([2.0, 2.0, 1.0]).count", "tf.sequence_mask([0, 2, 5], 4)",
    "tf.sequence_mask([[1, 2]], dtype=tf.int32)",
    "tf.constant(A)[1, ::-2, 1:]", "tf.constant(A)[..., None, -1]",
    "tf.constant(A)[-1, tf.constant(1)]", "tf.constant(A)[:, 5:1:-1]",
    "tf.constant(A)[tf.newaxis, 0, ..., ::3]",
]


def _numpy(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


@pytest.mark.parametrize("expr", CASES)
def test_matches_tensorflow(expr):
    want = eval(expr, {"tf": tensorflow, "A": A, "I": I, "np": np})  # noqa: S307
    got = eval(expr, {"tf": featherflow, "A": A, "I": I, "np": np})  # noqa: S307
    assert got.dtype.name == want.dtype.name
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(_numpy(got), _numpy(want), rtol=1e-6)


def test_tensors_from_numpy_arrays_are_copies_in_both():
    for m in (tensorflow, featherflow):
        a = np.arange(3, dtype=np.float32)
        with m.device("/CPU:0"):
            t, u = m.constant(a), m.convert_to_tensor(a)
        a[:] = -1.0
        np.testing.assert_array_equal(t.numpy(), [0.0, 1.0, 2.0])
        np.testing.assert_array_equal(u.numpy(), [0.0, 1.0, 2.0])
