"""Convolutions, pooling and tf.linalg: featherflow against real TensorFlow (skipped where
TensorFlow is not installed). Each case is one expression evaluated with `tf` bound to each."""
import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")

import featherflow  # noqa: E402

rng = np.random.default_rng(7)
X = rng.standard_normal((2, 7, 6, 4)).astype(np.float32)
W = rng.standard_normal((3, 2, 4, 5)).astype(np.float32)
WD = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
X1 = rng.standard_normal((2, 9, 3)).astype(np.float32)
W1 = rng.standard_normal((3, 3, 2)).astype(np.float32)
DY = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
A = rng.standard_normal((2, 4, 4))
S = A @ np.swapaxes(A, -1, -2) + 4 * np.eye(4)
B = rng.standard_normal((2, 4, 3))

CASES = [
    'tf.nn.conv2d(X, W, 1, "SAME")', 'tf.nn.conv2d(X, W, 2, "VALID")',
    'tf.nn.conv2d(X, W, [2, 3], "SAME", dilations=1)', 'tf.nn.conv2d(X, W, 1, "VALID", dilations=2)',
    'tf.nn.conv2d(X, W, 1, [[0, 0], [2, 1], [0, 3], [0, 0]])',
    'tf.nn.conv2d(X, W[:, :, :2, :4], 1, "SAME")',
    'tf.nn.conv1d(X1, W1, 2, "SAME")', 'tf.nn.conv1d(X1, W1, 1, "VALID", dilations=2)',
    'tf.nn.depthwise_conv2d(X, WD, [1, 2, 2, 1], "SAME")',
    'tf.nn.depthwise_conv2d(X, WD, [1, 1, 1, 1], "VALID", dilations=[2, 2])',
    'tf.nn.conv2d_transpose(DY, W, [2, 7, 6, 4], 2, "SAME")',
    'tf.nn.conv2d_transpose(DY, W, [2, 6, 4, 4], 1, "VALID")',
    'tf.nn.max_pool2d(X, 2, 2, "VALID")', 'tf.nn.max_pool2d(X, 3, 2, "SAME")',
    'tf.nn.max_pool2d(X, [2, 3], [1, 2], "SAME")', 'tf.nn.avg_pool2d(X, 3, 2, "SAME")',
    'tf.nn.avg_pool2d(X, [3, 2], [2, 1], "VALID")', 'tf.nn.max_pool(X1, 2, 2, "SAME")',
    'tf.nn.avg_pool(X, 2, 1, "SAME")', 'tf.nn.max_pool1d(X1, 3, 1, "VALID")',
    'tf.nn.avg_pool1d(X1, 2, 2, "SAME")',
    "tf.linalg.inv(A)", "tf.linalg.inv(A, adjoint=True)", "tf.linalg.det(A)",
    "tf.linalg.cholesky(S)", "tf.linalg.solve(A, B)", "tf.linalg.solve(A, B, adjoint=True)",
    "tf.linalg.triangular_solve(S, B)", "tf.linalg.triangular_solve(S, B, lower=False)",
    "tf.linalg.triangular_solve(S, B, adjoint=True)", "tf.linalg.trace(A)",
    "tf.linalg.diag(B)", "tf.linalg.diag(B[0, 0], k=2)", "tf.linalg.diag_part(B)",
    "tf.linalg.diag_part(B, k=-1)", "tf.linalg.tensor_diag(B[0])",
    "tf.norm(A)", "tf.norm(A, axis=-1)", "tf.norm(A, 'fro', axis=[1, 2])",
    "tf.norm(A, 1, axis=[1, 2])", "tf.norm(A, np.inf, axis=[2, 1])", "tf.norm(A, 2, axis=[1, 2])",
    "tf.norm(A, 3, axis=0, keepdims=True)", "tf.linalg.norm(A, np.inf)",
]


@pytest.mark.parametrize("expr", CASES)
def test_same_as_tensorflow(expr):
    env = {"X": X, "W": W, "WD": WD, "X1": X1, "W1": W1, "DY": DY, "A": A, "S": S, "B": B,
           "np": np}
    want = eval(expr, dict(env, tf=tensorflow))  # noqa: S307 - test expressions
    got = eval(expr, dict(env, tf=featherflow))  # noqa: S307
    assert got.dtype.name == want.dtype.name
    assert tuple(got.shape) == tuple(want.shape)
    tol = 1e-4 if want.dtype == tensorflow.float32 else 1e-9
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("expr", [
    'tf.nn.conv2d(x, W, 2, "SAME")', 'tf.nn.max_pool2d(x, 3, 2, "SAME")',
    'tf.nn.avg_pool2d(x, 3, 2, "SAME")', 'tf.nn.depthwise_conv2d(x, WD, [1, 1, 1, 1], "SAME")'])
def test_gradients_same_as_tensorflow(expr):
    out = []
    for mod in (tensorflow, featherflow):
        x = mod.constant(X.astype(np.float64))
        env = {"W": W.astype(np.float64), "WD": WD.astype(np.float64), "x": x, "tf": mod}
        with mod.GradientTape() as tape:
            tape.watch(x)
            y = eval(expr, env)  # noqa: S307
        out.append(tape.gradient(y, x, output_gradients=mod.constant(
            np.cos(np.arange(np.prod(y.shape))).reshape(y.shape))).numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-9, atol=1e-12)
