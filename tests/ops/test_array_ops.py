"""Array and creation ops against NumPy: values, dtypes, shapes; one table row per op case."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.framework import context

A = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
I = np.arange(12, dtype=np.int32).reshape(3, 4)
C = (np.arange(6) + 1j * np.arange(6)).astype(np.complex64).reshape(2, 3)
B = np.array([[True, False, True], [False, False, True]])
S = np.array([b"a", b"b", b"c"], dtype=object)


def _pad_np(x, p, mode, c=0):
    if mode == "CONSTANT":
        return np.pad(x, p, constant_values=c)
    return np.pad(x, p, mode="reflect" if mode == "REFLECT" else "symmetric")


def _one_hot(ix, depth, on=1.0, off=0.0, dtype=np.float32, axis=-1):
    ix = np.asarray(ix)
    out = np.where(ix[..., None] == np.arange(depth), on, off).astype(dtype)
    return np.moveaxis(out, -1, axis)


def _unique(x):
    vals, first, inv, cnt = np.unique(x, return_index=True, return_inverse=True,
                                      return_counts=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return vals[order], rank[inv].astype(np.int32), cnt[order].astype(np.int32)


def _scatter(base, idx, upd, ufunc):
    out = np.array(base, copy=True)
    idx = np.asarray(idx)
    key = tuple(idx[..., j].reshape(-1) for j in range(idx.shape[-1]))
    upd = np.asarray(upd).reshape((-1,) + out.shape[idx.shape[-1]:])
    if ufunc is None:
        out[key] = upd
    else:
        ufunc.at(out, key, upd)
    return out


# (id, featherflow call, NumPy reference) -- values, dtype and shape are compared.
ROWS = [
    ("reshape", lambda: tf.reshape(A, [4, -1]), lambda: A.reshape(4, -1)),
    ("reshape_tensor_shape", lambda: tf.reshape(A, tf.constant([6, 4])), lambda: A.reshape(6, 4)),
    ("reshape_scalar", lambda: tf.reshape(np.float32(3), [1, 1]), lambda: np.full((1, 1), 3, np.float32)),
    ("expand_dims", lambda: tf.expand_dims(A, 1), lambda: np.expand_dims(A, 1)),
    ("expand_dims_neg", lambda: tf.expand_dims(A, -1), lambda: np.expand_dims(A, -1)),
    ("squeeze_all", lambda: tf.squeeze(A.reshape(1, 2, 1, 12)), lambda: A.reshape(2, 12)),
    ("squeeze_axis", lambda: tf.squeeze(A.reshape(1, 2, 1, 12), [2]), lambda: A.reshape(1, 2, 12)),
    ("broadcast_to", lambda: tf.broadcast_to(I[0], [2, 3, 4]), lambda: np.broadcast_to(I[0], (2, 3, 4))),
    ("transpose", lambda: tf.transpose(A), lambda: A.T),
    ("transpose_perm", lambda: tf.transpose(A, [1, 0, 2]), lambda: A.transpose(1, 0, 2)),
    ("transpose_conj", lambda: tf.transpose(C, conjugate=True), lambda: C.conj().T),
    ("shape", lambda: tf.shape(A), lambda: np.array([2, 3, 4], np.int32)),
    ("shape64", lambda: tf.shape(A, out_type=tf.int64), lambda: np.array([2, 3, 4], np.int64)),
    ("size", lambda: tf.size(A), lambda: np.int32(24)),
    ("rank", lambda: tf.rank(A), lambda: np.int32(3)),
    ("zeros", lambda: tf.zeros([2, 3]), lambda: np.zeros((2, 3), np.float32)),
    ("zeros_float_dims", lambda: tf.zeros([1., 2., 3.]), lambda: np.zeros((1, 2, 3), np.float32)),
    ("zeros_tensorshape", lambda: tf.zeros(tf.TensorShape([2])), lambda: np.zeros(2, np.float32)),
    ("zeros_tensor", lambda: tf.zeros(tf.constant([2, 1]), tf.int64), lambda: np.zeros((2, 1), np.int64)),
    ("zeros_int_shape", lambda: tf.zeros(3, tf.bool), lambda: np.zeros(3, bool)),
    ("zeros_scalar", lambda: tf.zeros([]), lambda: np.float32(0)),
    ("ones", lambda: tf.ones((2,), tf.int32), lambda: np.ones(2, np.int32)),
    ("ones_f16", lambda: tf.ones([2], tf.float16), lambda: np.ones(2, np.float16)),
    ("fill", lambda: tf.fill([2, 2], 7), lambda: np.full((2, 2), 7, np.int32)),
    ("fill_float", lambda: tf.fill((3,), 1.5), lambda: np.full(3, 1.5, np.float32)),
    ("zeros_like", lambda: tf.zeros_like(I), lambda: np.zeros_like(I)),
    ("zeros_like_dtype", lambda: tf.zeros_like(I, tf.float64), lambda: np.zeros(I.shape, np.float64)),
    ("ones_like", lambda: tf.ones_like(A), lambda: np.ones_like(A)),
    ("ones_like_bool", lambda: tf.ones_like(B), lambda: np.ones_like(B)),
    ("identity", lambda: tf.identity(A), lambda: A),
    ("eye", lambda: tf.eye(3), lambda: np.eye(3, dtype=np.float32)),
    ("eye_rect_batch", lambda: tf.eye(2, 3, [2], tf.int32), lambda: np.broadcast_to(np.eye(2, 3, dtype=np.int32), (2, 2, 3))),
    ("range", lambda: tf.range(5), lambda: np.arange(5, dtype=np.int32)),
    ("range_start", lambda: tf.range(2, 9, 3), lambda: np.arange(2, 9, 3, dtype=np.int32)),
    ("range_neg", lambda: tf.range(10, 0, -3), lambda: np.arange(10, 0, -3, dtype=np.int32)),
    ("range_float", lambda: tf.range(0, 1, 0.25), lambda: np.arange(0, 1, 0.25, dtype=np.float32)),
    ("range_dtype", lambda: tf.range(4, dtype=tf.float64), lambda: np.arange(4, dtype=np.float64)),
    ("range_int64", lambda: tf.range(tf.constant(4, tf.int64)), lambda: np.arange(4, dtype=np.int64)),
    ("range_empty", lambda: tf.range(0), lambda: np.arange(0, dtype=np.int32)),
    ("linspace", lambda: tf.linspace(0.0, 1.0, 5), lambda: np.linspace(0, 1, 5, dtype=np.float32)),
    ("lin_space", lambda: tf.lin_space(1.0, 2.0, 3), lambda: np.linspace(1, 2, 3, dtype=np.float32)),
    ("linspace_int", lambda: tf.linspace(0, 10, 3), lambda: np.linspace(0, 10, 3)),
    ("linspace_batch", lambda: tf.linspace(np.float32([0, 1]), np.float32([1, 3]), 3, axis=1),
     lambda: np.linspace(np.float32([0, 1]), np.float32([1, 3]), 3, axis=1).astype(np.float32)),
    ("concat", lambda: tf.concat([A, A], 1), lambda: np.concatenate([A, A], 1)),
    ("concat_neg_axis", lambda: tf.concat([I, I[:, :1]], -1), lambda: np.concatenate([I, I[:, :1]], -1)),
    ("concat_python", lambda: tf.concat([I[0], [7, 8]], 0), lambda: np.concatenate([I[0], [7, 8]]).astype(np.int32)),
    ("stack", lambda: tf.stack([I, I]), lambda: np.stack([I, I])),
    ("stack_axis", lambda: tf.stack([I, I], axis=-1), lambda: np.stack([I, I], -1)),
    ("unstack", lambda: tf.unstack(I)[1], lambda: I[1]),
    ("unstack_axis", lambda: tf.unstack(I, num=4, axis=1)[2], lambda: I[:, 2]),
    ("split_even", lambda: tf.split(I, 2, axis=1)[1], lambda: np.split(I, 2, 1)[1]),
    ("split_sizes", lambda: tf.split(I, [1, -1], 1)[1], lambda: I[:, 1:]),
    ("tile", lambda: tf.tile(I, [2, 3]), lambda: np.tile(I, (2, 3))),
    ("pad", lambda: tf.pad(I, [[1, 0], [2, 1]]), lambda: _pad_np(I, [[1, 0], [2, 1]], "CONSTANT")),
    ("pad_value", lambda: tf.pad(A, [[0, 0], [1, 1], [0, 2]], constant_values=-1.0),
     lambda: _pad_np(A, [[0, 0], [1, 1], [0, 2]], "CONSTANT", -1)),
    ("pad_reflect", lambda: tf.pad(I, [[2, 1], [1, 3]], "REFLECT"), lambda: _pad_np(I, [[2, 1], [1, 3]], "REFLECT")),
    ("pad_symmetric", lambda: tf.pad(I, [[3, 1], [4, 0]], "symmetric"), lambda: _pad_np(I, [[3, 1], [4, 0]], "SYMMETRIC")),
    ("reverse", lambda: tf.reverse(A, [0, -1]), lambda: A[::-1, :, ::-1]),
    ("gather", lambda: tf.gather(I, [2, 0, 2]), lambda: I[[2, 0, 2]]),
    ("gather_axis", lambda: tf.gather(A, [[1, 0], [3, 3]], axis=2), lambda: np.take(A, [[1, 0], [3, 3]], 2)),
    ("gather_batch", lambda: tf.gather(A, [[0, 2], [1, 1]], axis=1, batch_dims=1),
     lambda: np.stack([np.take(A[b], [[0, 2], [1, 1]][b], 0) for b in range(2)])),
    ("gather_int64", lambda: tf.gather(I, np.int64([1])), lambda: I[[1]]),
    ("gather_nd", lambda: tf.gather_nd(A, [[0, 1], [1, 2]]), lambda: A[[0, 1], [1, 2]]),
    ("gather_nd_full", lambda: tf.gather_nd(I, [[2, 3], [0, 0]]), lambda: I[[2, 0], [3, 0]]),
    ("gather_nd_batch", lambda: tf.gather_nd(A, [[[2]], [[1]]], batch_dims=1),
     lambda: np.stack([A[0][[2]], A[1][[1]]])),
    ("boolean_mask", lambda: tf.boolean_mask(I, [True, False, True]), lambda: I[[True, False, True]]),
    ("boolean_mask_2d", lambda: tf.boolean_mask(A[0].T.copy()[:3], B.T.copy()[:3, :2][:, 0]) if False else tf.boolean_mask(A[:, :3, 0], B),
     lambda: A[:, :3, 0][B]),
    ("boolean_mask_axis", lambda: tf.boolean_mask(A, [True, False, True], axis=1), lambda: A[:, [0, 2]]),
    ("one_hot", lambda: tf.one_hot([0, 2, -1, 5], 3), lambda: _one_hot([0, 2, -1, 5], 3)),
    ("one_hot_values", lambda: tf.one_hot([[1], [0]], 2, on_value=5, off_value=-1),
     lambda: _one_hot([[1], [0]], 2, 5, -1, np.int32)),
    ("one_hot_axis", lambda: tf.one_hot([1, 0], 3, axis=0, dtype=tf.float64),
     lambda: _one_hot([1, 0], 3, dtype=np.float64, axis=0)),
    ("slice", lambda: tf.slice(A, [1, 0, 1], [1, -1, 2]), lambda: A[1:2, :, 1:3]),
    ("strided_slice", lambda: tf.strided_slice(I, [0, 3], [3, 0], [2, -1]), lambda: I[0:3:2, 3:0:-1]),
    ("strided_slice_masks", lambda: tf.strided_slice(A, [1, 0, 0], [0, 2, 0], [1, 1, 1], begin_mask=1,
                                                     end_mask=5, shrink_axis_mask=0), lambda: A[:, 0:2, :]),
    ("strided_slice_shrink", lambda: tf.strided_slice(A, [1, -1], [2, 0], shrink_axis_mask=3), lambda: A[1, -1]),
    ("strided_slice_ellipsis", lambda: tf.strided_slice(A, [0, 1], [0, 3], ellipsis_mask=1), lambda: A[..., 1:3]),
    ("strided_slice_newaxis", lambda: tf.strided_slice(A, [0, 1], [0, 2], new_axis_mask=1), lambda: A[None, 1:2]),
    ("scatter_nd", lambda: tf.scatter_nd([[1], [3], [1]], [1.0, 2.0, 3.0], [5]),
     lambda: _scatter(np.zeros(5, np.float32), [[1], [3], [1]], np.float32([1, 2, 3]), np.add)),
    ("scatter_nd_slices", lambda: tf.scatter_nd([[0], [2]], I[:2], [4, 4]),
     lambda: _scatter(np.zeros((4, 4), np.int32), [[0], [2]], I[:2], np.add)),
    ("tensor_scatter_update", lambda: tf.tensor_scatter_nd_update(I, [[0, 1], [2, 2]], [-1, -2]),
     lambda: _scatter(I, [[0, 1], [2, 2]], np.int32([-1, -2]), None)),
    ("tensor_scatter_add", lambda: tf.tensor_scatter_nd_add(I, [[1], [1]], I[:2]),
     lambda: _scatter(I, [[1], [1]], I[:2], np.add)),
    ("tensor_scatter_sub", lambda: tf.tensor_scatter_nd_sub(A, [[0, 1]], A[0, :1]),
     lambda: _scatter(A, [[0, 1]], A[0, :1], np.subtract)),
    ("tensor_scatter_min", lambda: tf.tensor_scatter_nd_min(I, [[0, 3], [0, 3]], [1, 2]),
     lambda: _scatter(I, [[0, 3], [0, 3]], np.int32([1, 2]), np.minimum)),
    ("tensor_scatter_max", lambda: tf.tensor_scatter_nd_max(I, [[0, 0], [0, 0]], [5, 9]),
     lambda: _scatter(I, [[0, 0], [0, 0]], np.int32([5, 9]), np.maximum)),
    ("unique_y", lambda: tf.unique([4, 1, 4, 2, 1]).y, lambda: _unique([4, 1, 4, 2, 1])[0].astype(np.int32)),
    ("unique_idx", lambda: tf.unique([4, 1, 4, 2, 1])[1], lambda: _unique([4, 1, 4, 2, 1])[1]),
    ("unique_idx64", lambda: tf.unique([4.0, 1.0, 4.0], out_idx=tf.int64).idx, lambda: np.int64([0, 1, 0])),
    ("unique_counts", lambda: tf.unique_with_counts([4, 1, 4, 2, 1]).count, lambda: _unique([4, 1, 4, 2, 1])[2]),
    ("sequence_mask", lambda: tf.sequence_mask([1, 3, 0], 4), lambda: np.arange(4) < np.array([[1], [3], [0]])),
    ("sequence_mask_default", lambda: tf.sequence_mask([2, 1]), lambda: np.arange(2) < np.array([[2], [1]])),
    ("sequence_mask_dtype", lambda: tf.sequence_mask([2], 3, tf.float32),
     lambda: (np.arange(3) < np.array([[2]])).astype(np.float32)),
    ("string_zeros", lambda: tf.zeros([2], tf.string), lambda: np.array([b"", b""], dtype=object)),
    ("string_fill", lambda: tf.fill([2], "a"), lambda: np.array([b"a", b"a"], dtype=object)),
    ("string_concat", lambda: tf.concat([S, S[:1]], 0), lambda: np.concatenate([S, S[:1]])),
    ("string_gather", lambda: tf.gather(S, [2, 0]), lambda: S[[2, 0]]),
    ("string_getitem", lambda: tf.constant(S)[::-1], lambda: S[::-1]),
]


def _check(got, want):
    want = np.asarray(want)
    assert isinstance(got, tf.Tensor)
    assert got.dtype.as_numpy_dtype == want.dtype or (
        want.dtype == object and got.dtype == tf.string), (got.dtype, want.dtype)
    assert tuple(got.shape) == want.shape
    value = got.numpy()
    if want.dtype == object:
        assert np.asarray(value).tolist() == want.tolist()
    else:
        np.testing.assert_array_equal(value, want)


@pytest.mark.parametrize("fn,ref", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_forward_matches_numpy(fn, ref):
    _check(fn(), ref())


@pytest.mark.parametrize("fn,ref", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_forward_on_cpu(fn, ref):
    # The direct (NumPy) fast path, beside the simulated-GPU default above.
    with _device("/CPU:0"):
        got = fn()
    _check(got, ref())


def _device(name):
    if hasattr(tf, "device"):
        return tf.device(name)
    return _Scope(name)


class _Scope:
    """A minimal tf.device stand-in while the runtime helper's tf.device is absent."""

    def __init__(self, name):
        from featherflow._src.framework.device import DeviceSpec

        self.spec = DeviceSpec.from_string(name)

    def __enter__(self):
        self.old = context.THREAD.device_spec
        context.THREAD.device_spec = self.spec
        context.refresh()

    def __exit__(self, *exc):
        context.THREAD.device_spec = self.old
        context.refresh()


# -- placement of creation ops ---------------------------------------------------------------
CREATION = [
    ("zeros", lambda: tf.zeros([2])),
    ("ones", lambda: tf.ones([2], tf.int64)),
    ("fill", lambda: tf.fill([2], 3.0)),
    ("eye", lambda: tf.eye(2)),
    ("range", lambda: tf.range(3)),
    ("linspace", lambda: tf.linspace(0.0, 1.0, 3)),
    ("one_hot", lambda: tf.one_hot([1], 2)),
]


@pytest.mark.parametrize("fn", [r[1] for r in CREATION], ids=[r[0] for r in CREATION])
def test_creation_default_device_is_gpu0(fn):
    assert fn().device.endswith("/device:GPU:0")


@pytest.mark.parametrize("fn", [r[1] for r in CREATION], ids=[r[0] for r in CREATION])
@pytest.mark.parametrize("where", ["/CPU:0", "/GPU:1"])
def test_creation_follows_device_scope(fn, where):
    with _device(where):
        t = fn()
    assert t.device.endswith("/device:" + where[1:])


def test_strings_are_created_on_cpu():
    assert tf.zeros([2], tf.string).device.endswith("/device:CPU:0")
    with _device("/GPU:0"):
        assert tf.zeros([2], tf.string).device.endswith("/device:CPU:0")


def test_identity_copies_under_device_scope():
    x = tf.constant([1.0, 2.0])
    assert x.device.endswith("GPU:0")
    with _device("/GPU:1"):
        y = tf.identity(x)
    assert y.device.endswith("GPU:1")
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0])
    with _device("/CPU:0"):
        z = tf.identity(y)
    assert z.device.endswith("CPU:0")


def test_cpu_and_gpu_copy():
    x = tf.constant([1, 2])
    c = x.cpu()
    assert c.device.endswith("CPU:0")
    g = c.gpu(1)
    assert g.device.endswith("GPU:1")
    np.testing.assert_array_equal(g.numpy(), [1, 2])
    assert g.dtype == tf.int32


def test_newaxis():
    assert tf.newaxis is None


# -- bad inputs: exception classes ----------------------------------------------------------
BAD = [
    ("zeros_none_dim", lambda: tf.zeros([2, None]), ValueError),
    ("reshape_float_dim", lambda: tf.reshape(A, [2.5, 4]), TypeError),
    ("concat_empty", lambda: tf.concat([], 0), ValueError),
    ("gather_batch_gt_axis", lambda: tf.gather(A, [[0]], axis=0, batch_dims=1), tf.errors.InvalidArgumentError),
    ("one_hot_bad_indices", lambda: tf.one_hot([0.5], 2), tf.errors.InvalidArgumentError),
    ("scatter_update_dtype", lambda: tf.tensor_scatter_nd_update(A, [[0]], tf.zeros([1, 3, 4], tf.float64)),
     tf.errors.InvalidArgumentError),
    ("unique_out_idx", lambda: tf.unique([1], out_idx=tf.float32), tf.errors.InvalidArgumentError),
    ("range_string", lambda: tf.range(3, dtype=tf.string), TypeError),
    ("split_num", lambda: tf.split(I, [1, 3], axis=1, num=3), ValueError),
    ("gather_nd_oob_negative", lambda: tf.gather_nd(I, [[-1, 0]]), tf.errors.InvalidArgumentError),
    ("scatter_add_oob", lambda: tf.tensor_scatter_nd_add(I, [[3, 0]], [1]), tf.errors.InvalidArgumentError),
]


@pytest.mark.parametrize("fn,exc", [r[1:] for r in BAD], ids=[r[0] for r in BAD])
def test_bad_inputs_raise_tf_classes(fn, exc):
    with pytest.raises(exc):
        fn()
