"""tf.linalg inv/det/cholesky/solve/triangular_solve/norm/trace/diag: NumPy references, dtypes,
TF's errors, gradients through the checker, TF-recorded fixtures."""
import os

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.testing.gradient_check import check_grads

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "conv_linalg.npz"))


def rand(*shape):
    return np.random.standard_normal(shape)


def spd(*batch, n=3):
    a = rand(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def np_trisolve(a, b, lower=True, adjoint=False):
    a = np.tril(a) if lower else np.triu(a)
    if adjoint:
        a = np.conj(np.swapaxes(a, -1, -2))
    return np.linalg.solve(a, np.broadcast_to(b, np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
                                              + b.shape[-2:]))


# One row per op: (name, featherflow fn, NumPy reference, inputs maker)
FORWARD = [
    ("inv", lambda a: tf.linalg.inv(a), np.linalg.inv, lambda: [rand(2, 3, 3)]),
    ("inv_adjoint", lambda a: tf.linalg.inv(a, adjoint=True),
     lambda a: np.linalg.inv(np.swapaxes(a, -1, -2)), lambda: [rand(3, 3)]),
    ("det", tf.linalg.det, np.linalg.det, lambda: [rand(2, 4, 3, 3)]),
    ("cholesky", tf.linalg.cholesky, np.linalg.cholesky, lambda: [spd(2)]),
    ("solve", tf.linalg.solve, np.linalg.solve, lambda: [rand(2, 3, 3), rand(2, 3, 2)]),
    ("solve_adjoint", lambda a, b: tf.linalg.solve(a, b, adjoint=True),
     lambda a, b: np.linalg.solve(np.swapaxes(a, -1, -2), b), lambda: [rand(3, 3), rand(3, 1)]),
    ("trisolve", tf.linalg.triangular_solve, np_trisolve, lambda: [spd(2), rand(2, 3, 2)]),
    ("trisolve_upper_adj", lambda a, b: tf.linalg.triangular_solve(a, b, False, True),
     lambda a, b: np_trisolve(a, b, False, True), lambda: [spd(), rand(3, 2)]),
    ("trisolve_broadcast", tf.linalg.triangular_solve, np_trisolve,
     lambda: [spd(2, 1), rand(3, 3, 2)]),
    ("trace", tf.linalg.trace, lambda a: np.trace(a, axis1=-2, axis2=-1), lambda: [rand(2, 3, 4)]),
    ("diag", tf.linalg.diag, lambda d: d[..., None] * np.eye(d.shape[-1]), lambda: [rand(2, 3)]),
    ("diag_k1", lambda d: tf.linalg.diag(d, k=1), lambda d: np.diag(d, 1), lambda: [rand(3)]),
    ("diag_part", tf.linalg.diag_part, lambda a: np.diagonal(a, axis1=-2, axis2=-1),
     lambda: [rand(2, 3, 4)]),
    ("diag_part_km1", lambda a: tf.linalg.diag_part(a, k=-1), lambda a: np.diagonal(a, -1),
     lambda: [rand(4, 3)]),
    ("tensor_diag", tf.linalg.tensor_diag,
     lambda d: np.diag(d.reshape(-1)).reshape(d.shape + d.shape), lambda: [rand(2, 3)]),
    ("tensor_diag_part", tf.linalg.tensor_diag_part,
     lambda a: np.diag(a.reshape(6, 6)).reshape(2, 3), lambda: [rand(2, 3, 2, 3)]),
    ("norm_euclidean", tf.norm, np.linalg.norm, lambda: [rand(3, 4)]),
    ("norm_fro", lambda a: tf.norm(a, "fro", axis=[0, 1]), lambda a: np.linalg.norm(a, "fro"),
     lambda: [rand(3, 4)]),
    ("norm_1_matrix", lambda a: tf.norm(a, 1, axis=[-2, -1]),
     lambda a: np.linalg.norm(a, 1, axis=(-2, -1)), lambda: [rand(2, 3, 4)]),
    ("norm_inf_matrix", lambda a: tf.norm(a, np.inf, axis=[1, 2], keepdims=True),
     lambda a: np.linalg.norm(a, np.inf, axis=(1, 2), keepdims=True), lambda: [rand(2, 3, 4)]),
    ("norm_2_matrix", lambda a: tf.norm(a, 2, axis=[0, 2]),
     lambda a: np.linalg.norm(np.moveaxis(a, 1, 0), 2, axis=(1, 2)), lambda: [rand(3, 2, 4)]),
    ("norm_vec_1", lambda a: tf.norm(a, 1, axis=0), lambda a: np.linalg.norm(a, 1, axis=0),
     lambda: [rand(3, 4)]),
    ("norm_vec_inf", lambda a: tf.norm(a, np.inf, axis=-1),
     lambda a: np.linalg.norm(a, np.inf, axis=-1), lambda: [rand(3, 4)]),
    ("norm_vec_3", lambda a: tf.norm(a, 3, axis=1, keepdims=True),
     lambda a: np.linalg.norm(a, 3, axis=1, keepdims=True), lambda: [rand(3, 4)]),
]


@pytest.mark.parametrize("name,fn,ref,make", FORWARD, ids=[r[0] for r in FORWARD])
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_forward(name, fn, ref, make, dtype):
    args = make()
    got = fn(*[tf.constant(a, dtype) for a in args])
    assert got.dtype == dtype
    want = ref(*args)
    assert got.shape == want.shape
    tol = 1e-4 if dtype == tf.float32 else 1e-10
    np.testing.assert_allclose(got.numpy(), want, rtol=tol, atol=tol)


def test_on_cpu_and_complex():
    a = rand(3, 3) + 1j * rand(3, 3)
    with tf.device("/CPU:0"):
        got = tf.linalg.inv(tf.constant(a))
    assert got.dtype == tf.complex128 and "CPU" in got.device
    np.testing.assert_allclose(got.numpy(), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.det(tf.constant(a)).numpy(), np.linalg.det(a))
    n = tf.norm(tf.constant([1 + 1j, 2]))
    assert n.dtype == tf.complex128
    np.testing.assert_allclose(n.numpy(), np.sqrt(6))


def test_special_values():
    assert float(tf.linalg.det(tf.ones([0, 0]))) == 1.0
    assert tf.linalg.inv(tf.ones([2, 0, 0])).shape == (2, 0, 0)
    # TF 2.21 returns NaN (no error) for a matrix that is not positive definite.
    np.testing.assert_array_equal(np.isnan(tf.linalg.cholesky(-tf.ones([2, 2])).numpy()),
                                  [[True, False], [True, True]])
    # A zero on the diagonal: inf/nan, as TF's substitution.
    y = tf.linalg.triangular_solve(tf.zeros([2, 2]), tf.ones([2, 1])).numpy()
    assert np.isinf(y[0, 0]) and np.isnan(y[1, 0])
    # The lower triangle only is read.
    np.testing.assert_allclose(tf.linalg.cholesky(tf.constant([[4.0, 100.0], [1.0, 3.0]])).numpy(),
                               np.linalg.cholesky(np.array([[4.0, 1.0], [1.0, 3.0]])), rtol=1e-6)


ERRORS = [
    (lambda: tf.linalg.inv(tf.ones([2, 3])), tf.errors.InvalidArgumentError,
     "Input matrix must be square."),
    (lambda: tf.linalg.inv(tf.ones([3])), tf.errors.InvalidArgumentError,
     "Input tensor 0 must have rank >= 2, got 1"),
    (lambda: tf.linalg.inv(tf.ones([2, 2])), tf.errors.InvalidArgumentError,
     "Input is not invertible."),
    (lambda: tf.linalg.inv(tf.ones([2, 2], tf.int32)), tf.errors.InvalidArgumentError,
     "attr 'T' of int32"),
    (lambda: tf.linalg.det(tf.ones([2, 3])), tf.errors.InvalidArgumentError,
     "Input matrix must be square."),
    (lambda: tf.linalg.cholesky(tf.ones([2, 3])), tf.errors.InvalidArgumentError,
     "Input matrix must be square."),
    (lambda: tf.linalg.solve(tf.eye(2), tf.ones([3, 3])), tf.errors.InvalidArgumentError,
     "Input matrix and rhs are incompatible."),
    (lambda: tf.linalg.solve(tf.eye(2), tf.ones([2])), tf.errors.InvalidArgumentError,
     "All input tensors must have the same rank."),
    (lambda: tf.linalg.solve(tf.ones([2, 2]), tf.ones([2, 1])), tf.errors.InvalidArgumentError,
     "Input matrix is not invertible."),
    (lambda: tf.linalg.solve(tf.ones([2, 2, 2]), tf.ones([3, 2, 1])),
     tf.errors.InvalidArgumentError, "All input tensors must have the same outer dimensions."),
    (lambda: tf.linalg.solve(tf.ones([2, 3]), tf.ones([2, 1])), tf.errors.InvalidArgumentError,
     "First input (lhs) must be a square matrix."),
    (lambda: tf.linalg.triangular_solve(tf.ones([2, 2, 2]), tf.ones([3, 2, 1])),
     tf.errors.InvalidArgumentError, "must have compatible batch dimensions"),
    (lambda: tf.linalg.triangular_solve(tf.ones([2, 2]), tf.ones([3, 1])),
     tf.errors.InvalidArgumentError, "In[0] mismatch In[1] shape: 2 vs. 3"),
    (lambda: tf.linalg.triangular_solve(tf.ones([2, 3]), tf.ones([2, 1])),
     tf.errors.InvalidArgumentError, "In[0] matrices in the last dimensions must be square"),
    (lambda: tf.linalg.diag_part(tf.ones([3])), tf.errors.InvalidArgumentError,
     "input must be at least 2-dim, received shape: [3]"),
    (lambda: tf.linalg.diag(tf.constant(1)), tf.errors.InvalidArgumentError,
     "diagonal must be at least 1-dim"),
    (lambda: tf.linalg.tensor_diag_part(tf.ones([2, 3])), tf.errors.InvalidArgumentError,
     "dimensions 0 and 1 do not match"),
    (lambda: tf.norm(tf.ones([2, 3]), "fro"), ValueError,
     "'ord' must be a supported vector norm, got fro"),
    (lambda: tf.norm(tf.ones([2, 3]), "nuc", axis=[0, 1]), ValueError,
     "'ord' must be a supported matrix norm in ['euclidean', 'fro', 1, 2, inf], got nuc"),
    (lambda: tf.norm(tf.ones([2, 3]), 0), ValueError, "'ord' must be a supported vector norm"),
    (lambda: tf.norm(tf.ones([2, 3]), axis=[0, 0]), ValueError,
     "'axis' must be None, an integer, or a tuple of 2 unique integers, got (0, 0)"),
    (lambda: tf.norm(tf.ones([2, 3]), axis=[0, 1, 1]), ValueError,
     "'axis' must be None, an integer, or a tuple of 2 unique integers"),
    (lambda: tf.norm(tf.constant([1, 2])), tf.errors.InvalidArgumentError, "attr 'T' of int32"),
]


@pytest.mark.parametrize("fn,cls,msg", ERRORS)
def test_errors(fn, cls, msg):
    with pytest.raises(cls) as e:
        fn()
    assert msg in str(e.value)


GRADS = [
    ("inv", lambda a: tf.linalg.inv(a), lambda: [rand(2, 3, 3) + 3 * np.eye(3)], 2),
    ("inv_adjoint", lambda a: tf.linalg.inv(a, adjoint=True), lambda: [rand(3, 3) + 3 * np.eye(3)],
     2),
    ("det", tf.linalg.det, lambda: [rand(2, 3, 3)], 2),
    ("cholesky", lambda a: tf.linalg.cholesky(a + tf.linalg.adjoint(a)) if hasattr(
        tf.linalg, "adjoint") else tf.linalg.cholesky(a + tf.transpose(a, [0, 2, 1])),
     lambda: [spd(2) / 2], 1),
    ("solve", tf.linalg.solve, lambda: [rand(2, 3, 3) + 3 * np.eye(3), rand(2, 3, 2)], 2),
    ("solve_adjoint", lambda a, b: tf.linalg.solve(a, b, adjoint=True),
     lambda: [rand(3, 3) + 3 * np.eye(3), rand(3, 2)], 1),
    ("trisolve", tf.linalg.triangular_solve, lambda: [spd(2), rand(2, 3, 2)], 2),
    ("trisolve_upper_adj", lambda a, b: tf.linalg.triangular_solve(a, b, False, True),
     lambda: [spd(), rand(3, 2)], 1),
    ("trisolve_broadcast", tf.linalg.triangular_solve, lambda: [spd(1), rand(2, 3, 2)], 1),
    ("trace", tf.linalg.trace, lambda: [rand(2, 3, 4)], 2),
    ("diag", lambda d: tf.linalg.diag(d, k=-1), lambda: [rand(2, 3)], 2),
    ("diag_part", lambda a: tf.linalg.diag_part(a, k=1), lambda: [rand(2, 3, 4)], 2),
    ("tensor_diag", tf.linalg.tensor_diag, lambda: [rand(2, 2)], 2),
    ("tensor_diag_part", tf.linalg.tensor_diag_part, lambda: [rand(2, 2, 2, 2)], 2),
    ("norm_euclidean", lambda a: tf.norm(a, axis=1), lambda: [rand(3, 4)], 2),
    ("norm_1", lambda a: tf.norm(a, 1, axis=[0, 1]), lambda: [rand(3, 4)], 1),
    ("norm_inf", lambda a: tf.norm(a, np.inf, axis=[0, 1]), lambda: [rand(3, 4)], 1),
    ("norm_2", lambda a: tf.norm(a, 2, axis=[-2, -1]), lambda: [rand(2, 3, 4)], 1),
    ("norm_p3", lambda a: tf.norm(a, 3), lambda: [rand(3, 4)], 2),
]


@pytest.mark.parametrize("name,fn,make,order", GRADS, ids=[g[0] for g in GRADS])
def test_gradients(name, fn, make, order):
    check_grads(fn, make(), order=order)


def test_compute_gradient_public_api():
    a = tf.constant(rand(3, 3) + 3 * np.eye(3))
    theoretical, numerical = tf.test.compute_gradient(tf.linalg.inv, [a])
    np.testing.assert_allclose(theoretical[0], numerical[0], rtol=1e-5, atol=1e-6)


FIXTURE_CASES = {
    "inv": (lambda a, s, b: tf.linalg.inv(a), "a"),
    "inv_adj": (lambda a, s, b: tf.linalg.inv(a, adjoint=True), "a"),
    "det": (lambda a, s, b: tf.linalg.det(a), "a"),
    "cholesky": (lambda a, s, b: tf.linalg.cholesky(s), "s"),
    "solve": (lambda a, s, b: tf.linalg.solve(a, b), "ab"),
    "solve_adj": (lambda a, s, b: tf.linalg.solve(a, b, adjoint=True), "ab"),
    "trisolve": (lambda a, s, b: tf.linalg.triangular_solve(s, b), "sb"),
    "trisolve_upper_adj": (lambda a, s, b: tf.linalg.triangular_solve(s, b, lower=False,
                                                                      adjoint=True), "sb"),
    "norm_fro": (lambda a, s, b: tf.norm(a, ord="fro", axis=[-2, -1]), "a"),
    "norm_2": (lambda a, s, b: tf.norm(a, ord=2, axis=[-2, -1]), "a"),
    "norm_1": (lambda a, s, b: tf.norm(a, ord=1, axis=[-2, -1]), "a"),
    "norm_inf": (lambda a, s, b: tf.norm(a, ord=np.inf, axis=[1, 2]), "a"),
    "norm_vec3": (lambda a, s, b: tf.norm(a, ord=3, axis=-1), "a"),
    "trace": (lambda a, s, b: tf.linalg.trace(a), "a"),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_tf_fixtures(name):
    f = FIXTURES
    fn, srcs = FIXTURE_CASES[name]
    ts = {k: tf.constant(f[f"linalg/{v}"]) for k, v in zip("asb", ("a", "spd", "b"))}
    with tf.GradientTape() as tape:
        tape.watch(list(ts.values()))
        y = fn(ts["a"], ts["s"], ts["b"])
    np.testing.assert_allclose(y.numpy(), f[f"linalg/{name}/y"], rtol=1e-9, atol=1e-12)
    grads = tape.gradient(y, [ts[k] for k in srcs],
                          output_gradients=tf.constant(f[f"linalg/{name}/u"]))
    for k, g in zip(srcs, grads):
        np.testing.assert_allclose(g.numpy(), f[f"linalg/{name}/g{k}"], rtol=1e-8, atol=1e-10)
