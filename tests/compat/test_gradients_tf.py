"""Gradients against real TensorFlow (skipped where it is not installed)."""
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

import featherflow as tf  # noqa: E402

rng = np.random.default_rng(0)
X = rng.uniform(0.5, 1.5, (2, 3))
Y = rng.uniform(0.5, 1.5, (3,))

FUNCS = {
    "sin_mul": lambda m, a, b: m.sin(a) * b,
    "pow": lambda m, a, b: m.pow(a, b),
    "max": lambda m, a, b: m.maximum(a, b),
    "div": lambda m, a, b: a / b,
    "sigmoid": lambda m, a, b: m.sigmoid(a - b),
    "reduce": lambda m, a, b: m.reduce_max(a * b, 1),
    "matmul": lambda m, a, b: m.matmul(a, m.reshape(b, (3, 1))),
    "prod": lambda m, a, b: m.reduce_prod(a, 0) * b,
    "where": lambda m, a, b: m.where(a > 1.0, a, b),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_first_and_second_order_match_tf(name):
    f = FUNCS[name]
    out = []
    for m in (tf, tf_real):
        a, b = m.constant(X), m.constant(Y)
        with m.GradientTape() as outer:
            outer.watch([a, b])
            with m.GradientTape() as inner:
                inner.watch([a, b])
                y = f(m, a, b)
            ga, gb = inner.gradient(y, [a, b])
            s = m.reduce_sum(ga * ga) + m.reduce_sum(gb)
        out.append([ga.numpy(), gb.numpy()] + [
            np.zeros(1) if g is None else g.numpy() for g in outer.gradient(s, [a, b])])
    for mine, ref in zip(*out):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


def test_jacobian_and_compute_gradient_match_tf():
    for m in (tf, tf_real):
        x = m.constant(X)
        with m.GradientTape(persistent=True) as t:
            t.watch(x)
            y = m.tanh(x) * 2.0
        if m is tf:
            mine = (t.jacobian(y, x).numpy(), t.batch_jacobian(y, x).numpy())
        else:
            ref = (t.jacobian(y, x).numpy(), t.batch_jacobian(y, x).numpy())
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    th1, nu1 = tf.test.compute_gradient(lambda a: a * a, [np.array([1.0, 2.0])])
    th2, nu2 = tf_real.test.compute_gradient(lambda a: a * a, [np.array([1.0, 2.0])])
    for a, b in zip(th1 + nu1, th2 + nu2):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_custom_gradient_matches_tf():
    res = []
    for m in (tf, tf_real):
        @m.custom_gradient
        def f(x):
            return x * x * x, lambda dy: dy * 3.0 * x * x

        x = m.constant(2.0)
        with m.GradientTape() as t2:
            t2.watch(x)
            with m.GradientTape() as t1:
                t1.watch(x)
                y = f(x)
            g = t1.gradient(y, x)
        res.append((float(g), float(t2.gradient(g, x))))
    assert res[0] == res[1]
