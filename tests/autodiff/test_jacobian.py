"""jacobian / batch_jacobian (vectorized and per-row paths) and tf.test.compute_gradient."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.autodiff import backprop
from featherflow._src.ops.defs import grad_util


def _numeric_jacobian(f, x, eps=1e-6):
    y0 = f(x)
    out = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        out[(...,) + idx] = (f(x + d) - f(x - d)) / (2 * eps)
    return out


CASES = [
    (lambda t: tf.sin(t) * t, lambda a: np.sin(a) * a, (2, 3)),
    (lambda t: tf.reduce_sum(tf.exp(t), 1), lambda a: np.exp(a).sum(1), (3, 2)),
    (lambda t: tf.matmul(t, tf.transpose(t)), lambda a: a @ a.T, (2, 3)),   # not batchable
    (lambda t: tf.reduce_prod(t, 0), lambda a: a.prod(0), (3, 2)),         # not batchable
]


@pytest.mark.parametrize("vectorize", [True, False])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_jacobian_against_finite_differences(case, vectorize):
    f, fn, shape = CASES[case]
    x0 = np.random.default_rng(case).uniform(0.5, 1.5, shape)
    x = tf.constant(x0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    j = t.jacobian(y, x, experimental_use_pfor=vectorize)
    np.testing.assert_allclose(j.numpy(), _numeric_jacobian(fn, x0), rtol=1e-6, atol=1e-8)


def test_vectorized_path_is_taken_only_when_batchable(monkeypatch):
    calls = []
    real = backprop.backward
    monkeypatch.setattr(backprop, "backward", lambda *a, **k: calls.append(k.get("batch"))
                        or real(*a, **k))
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = tf.sin(x)
        z = tf.matmul(tf.reshape(x, (1, 3)), tf.reshape(x, (3, 1)))
    t.jacobian(y, x)
    assert calls == [3]
    calls.clear()
    assert "MatMul" not in grad_util.BATCHABLE
    t.jacobian(z, x)
    assert calls == [None]


def test_jacobian_structure_unconnected_and_int():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    assert t.jacobian(y, x).shape == (2, 2, 2, 2)
    assert isinstance(t.jacobian(y, {"k": x}), dict)
    c = tf.constant([1.0, 2.0])
    assert t.jacobian(c, x) is None
    assert t.jacobian(c, x, unconnected_gradients="zero").shape == (2, 2, 2)


@pytest.mark.parametrize("vectorize", [True, False])
def test_batch_jacobian(vectorize):
    x0 = np.random.default_rng(1).standard_normal((4, 3))
    w0 = np.random.default_rng(2).standard_normal((3, 2))
    x, w = tf.constant(x0), tf.constant(w0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.tanh(tf.matmul(x, w))
    bj = t.batch_jacobian(y, x, experimental_use_pfor=vectorize).numpy()
    assert bj.shape == (4, 2, 3)
    expected = (1 - np.tanh(x0 @ w0) ** 2)[:, :, None] * w0.T[None]
    np.testing.assert_allclose(bj, expected, rtol=1e-10)


def test_batch_jacobian_errors():
    z = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch(z)
        y = z * 2.0
    with pytest.raises(ValueError, match="must have rank at least 2"):
        t.batch_jacobian(y, z)


def test_compute_gradient_shapes_and_values():
    th, nu = tf.test.compute_gradient(lambda a, b: a * b, [
        tf.constant([[1.0, 2.0]], tf.float64), tf.constant(3.0, tf.float64)])
    assert isinstance(th, tuple) and [a.shape for a in th] == [(2, 2), (2, 1)]  # (y, x) as TF
    assert all(a.dtype == np.float64 for a in th + nu)
    for a, b in zip(th, nu):
        np.testing.assert_allclose(a, b, rtol=1e-7)
    np.testing.assert_allclose(th[1], [[1.0], [2.0]])
    th, nu = tf.test.compute_gradient(lambda a: tf.reduce_sum(a), [np.array([1.0, 2.0, 3.0])])
    np.testing.assert_allclose(th[0], np.ones((1, 3)))
    th, nu = tf.test.compute_gradient(lambda a: a ** 3, [np.array(1.0)])
    # TF's default step is 2**-10: the central difference of x^3 is 3 + delta^2.
    np.testing.assert_allclose(nu[0], [[3 + 2.0 ** -20]], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="must be a list or tuple"):
        tf.test.compute_gradient(lambda a: a, tf.constant([1.0]))
