"""op.skip_input_indices: the reverse walk tells gradient functions which inputs need no gradient
(off every path to a source, or not differentiable), and the costly gradients (MatMul,
BatchMatMulV2, Conv2D, binary elementwise ops) do not compute them. Higher-order gradients still
see everything they need."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops import registry


@pytest.fixture
def spy():
    """Wraps the gradient of the given op types: records each call's skip_input_indices and
    returned gradients; restores the registry afterwards."""
    saved = {}
    calls = []

    def install(*names):
        for name in names:
            op = registry.get(name)
            saved[name] = (op.grad, op.vjp2)  # setting op.grad clears the direct vjp2
            inner = op.grad

            def wrapped(view, *grads, _inner=inner, _name=name):
                out = _inner(view, *grads)
                calls.append((_name, view.skip_input_indices, out))
                return out

            op.grad = wrapped
        return calls

    yield install
    for name, (fn, vjp2) in saved.items():
        op = registry.get(name)
        op.grad = fn
        op.vjp2 = vjp2  # later tests run the walk's direct path again


def _count(name, fn):
    """How many times kernel `name` runs inside fn()."""
    op = registry.get(name)
    kernel = op.kernel
    n = [0]

    def counting(*args, **kwargs):
        n[0] += 1
        return kernel(*args, **kwargs)

    op.kernel = counting
    try:
        fn()
    finally:
        op.kernel = kernel
    return n[0]


def test_matmul_input_not_a_source_is_skipped(spy):
    calls = spy("MatMul")
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((4, 3)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 2)).astype(np.float32))
    with tf.GradientTape() as t:
        y = tf.matmul(x, w)
    g = t.gradient(y, w)
    (name, skip, out), = calls
    assert skip == (0,) and out[0] is None
    np.testing.assert_allclose(g.numpy(), x.numpy().T @ np.ones((4, 2), np.float32), rtol=1e-6)


def test_matmul_skipped_product_is_not_run():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((5, 3)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 2)).astype(np.float32))

    def grad_w_only():
        with tf.GradientTape() as t:
            y = tf.matmul(x, w)
        t.gradient(y, w)

    def grad_both():
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.matmul(x, w)
        t.gradient(y, [x, w])

    # forward + one product, against forward + two.
    assert _count("MatMul", grad_w_only) == 2
    assert _count("MatMul", grad_both) == 3


def test_batch_matmul_and_transposes_skip_each_side(spy):
    calls = spy("BatchMatMulV2", "MatMul")
    rng = np.random.default_rng(2)
    a = tf.constant(rng.standard_normal((2, 3, 4)).astype(np.float32))
    b = tf.constant(rng.standard_normal((4, 5)).astype(np.float32))
    with tf.GradientTape() as t:
        t.watch(a)
        y = tf.matmul(a, b)
    ga = t.gradient(y, a)
    assert calls[-1][1] == (1,) and calls[-1][2][1] is None
    np.testing.assert_allclose(ga.numpy(), np.ones((2, 3, 5), np.float32) @ b.numpy().T,
                               rtol=1e-5)
    for ta, tb in [(True, False), (False, True), (True, True)]:
        x = tf.constant(rng.standard_normal((3, 3)).astype(np.float32))
        z = tf.constant(rng.standard_normal((3, 3)).astype(np.float32))
        with tf.GradientTape(persistent=True) as t:
            t.watch([x, z])
            y = tf.matmul(x, z, transpose_a=ta, transpose_b=tb)
        gx_only = t.gradient(y, x)
        gx, gz = t.gradient(y, [x, z])
        assert calls[-2][1] == (1,) and calls[-1][1] == ()
        np.testing.assert_allclose(gx_only.numpy(), gx.numpy(), rtol=1e-6)


def test_integer_and_constant_inputs_are_skipped(spy):
    calls = spy("Mul", "AddV2")
    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = v * v + 3.0 * v
    np.testing.assert_allclose(t.gradient(y, v).numpy(), 7.0)
    skips = {(name, skip) for name, skip, _ in calls}
    # 3.0 * v: the constant 3.0 (input 0) is skipped; v * v needs both; the add needs both.
    assert ("Mul", (0,)) in skips and ("Mul", ()) in skips and ("AddV2", ()) in skips
    for name, skip, out in calls:
        for i in skip:
            assert out[i] is None


def test_conv2d_filter_only():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32))

    def run(watch_x):
        with tf.GradientTape() as t:
            if watch_x:
                t.watch(x)
            y = tf.nn.conv2d(x, w, strides=1, padding="SAME")
        return t.gradient(y, [x, w])

    n = _count("Conv2DBackpropInput", lambda: run(False))
    assert n == 0
    gx, gw = run(True)
    gx2, gw2 = run(False)
    assert gx2 is None and gx is not None  # unwatched: None, as in TensorFlow
    np.testing.assert_allclose(gw.numpy(), gw2.numpy(), rtol=1e-6)


def test_second_order_through_skipped_inputs():
    # d/dx of (d/dw of sum(x @ w * w)): the inner walk skips x, the outer needs x's path.
    rng = np.random.default_rng(4)
    xv = rng.standard_normal((2, 3)).astype(np.float32)
    wv = rng.standard_normal((3, 3)).astype(np.float32)
    x = tf.constant(xv)
    w = tf.constant(wv)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(w)
            y = tf.reduce_sum(tf.matmul(x, w) * w[:2, :])
        gw = inner.gradient(y, w)
        s = tf.reduce_sum(gw * gw)
    gx = outer.gradient(s, x)
    # Numerically, with a central difference on s(x).

    def s_of(xa):
        x2 = tf.constant(xa)
        with tf.GradientTape() as t:
            t.watch(w)
            yy = tf.reduce_sum(tf.matmul(x2, w) * w[:2, :])
        g = t.gradient(yy, w).numpy().astype(np.float64)
        return float((g * g).sum())

    eps = 1e-2
    num = np.zeros_like(xv, dtype=np.float64)
    for idx in np.ndindex(*xv.shape):
        xp, xm = xv.astype(np.float64).copy(), xv.astype(np.float64).copy()
        xp[idx] += eps
        xm[idx] -= eps
        num[idx] = (s_of(xp.astype(np.float32)) - s_of(xm.astype(np.float32))) / (2 * eps)
    np.testing.assert_allclose(gx.numpy(), num, rtol=2e-2, atol=2e-2)



def test_unwatched_tensor_source_gets_none_like_tf():
    x = tf.constant(3.0)
    w = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = x * w
    gx, gw = t.gradient(y, [x, w])
    assert gx is None
    np.testing.assert_allclose(gw.numpy(), 3.0)
    with tf.GradientTape() as t:
        y = x * w
    gx = t.gradient(y, x, unconnected_gradients="zero")
    np.testing.assert_allclose(gx.numpy(), 0.0)


# Binary gradients that compute only the wanted side: for each, the gradient w.r.t. one input
# alone equals that input's part of the gradient w.r.t. both, and the other side's ops don't run.
_ONE_SIDED = [
    ("DivNoNan", tf.math.divide_no_nan, "Neg"),
    ("Maximum", tf.maximum, "Sub"),
    ("Minimum", tf.minimum, "Sub"),
    ("SquaredDifference", tf.math.squared_difference, "Neg"),
    ("Xlogy", tf.math.xlogy, "Xdivy"),
    ("Xdivy", tf.math.xdivy, "Neg"),
]


@pytest.mark.parametrize("name,fn,other_side_op", _ONE_SIDED, ids=[r[0] for r in _ONE_SIDED])
def test_binary_gradient_computes_only_the_wanted_side(spy, name, fn, other_side_op):
    calls = spy(name)
    rng = np.random.default_rng(5)
    xv = (rng.random((3, 4)) + 0.5).astype(np.float32)
    yv = (rng.random((3, 4)) + 0.5).astype(np.float32)
    x, y = tf.constant(xv), tf.constant(yv)

    def grads(watch):
        with tf.GradientTape() as t:
            for s in watch:
                t.watch(s)
            out = fn(x, y)
        return t.gradient(out, list(watch))

    gx_both, gy_both = grads((x, y))
    n_x = _count(other_side_op, lambda: grads((x,)))
    (gx,) = grads((x,))
    (gy,) = grads((y,))
    np.testing.assert_array_equal(gx.numpy(), gx_both.numpy())
    np.testing.assert_array_equal(gy.numpy(), gy_both.numpy())
    assert ({skip for _, skip, _ in calls} >= {(), (0,), (1,)})
    for _, skip, out in calls:
        for i in skip:
            assert out[i] is None
    # With only x watched, the op that only y's gradient uses (Neg, Sub or Xdivy; x's side uses
    # none of them) never ran.
    assert n_x == 0


def test_spy_restores_the_direct_vjp2(spy):
    before = registry.get("Mul").vjp2
    assert before is not None
    spy("Mul")
    assert registry.get("Mul").vjp2 is None  # the spied gradient runs through op.grad


def test_direct_vjp2_is_back_after_a_spy():
    # runs after test_spy_restores_the_direct_vjp2 (file order): the fixture put it back
    assert registry.get("Mul").vjp2 is not None
