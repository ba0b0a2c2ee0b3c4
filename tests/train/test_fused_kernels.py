"""The one-pass C loops (featherflow._src.ops._fused) against the NumPy bodies they replace, to
the bit: float32 and float64, plain and Nesterov, with and without weight decay, on values that
stress rounding (huge, tiny, subnormal, zero, inf, nan). Also: the extension is built wherever a
C compiler is, bad buffers are refused before anything is written, overlapping buffers fall back
to the NumPy body, and the multi ops take the C path when it applies."""
import shutil
import sysconfig

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import training_ops as T
from featherflow._src.ops.defs import training_ops_multi as M
from featherflow._src.train import updates

fused = M._fused
needs_fused = pytest.mark.skipif(fused is None, reason="the C extension is not built here")
DTYPES = [np.float32, np.float64]


def test_extension_is_built_wherever_a_c_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None and shutil.which("cc") is None:
        pytest.skip(f"no C compiler ({compiler}) on this machine: the NumPy bodies run")
    assert fused is not None, "featherflow._src.ops._fused did not build (pip install -e .)"


def _nasty(rng, n, dtype, positive=False):
    """Normal values over many magnitudes, with zeros, subnormals, extremes, inf and nan."""
    info = np.finfo(dtype)
    x = rng.standard_normal(n).astype(dtype) * (dtype(10) ** rng.integers(-30, 30, n)
                                                  .astype(dtype))
    special = np.array([0.0, -0.0, info.tiny, info.tiny / 4, -info.tiny / 8, info.max / 2,
                        -info.max / 3, info.eps, np.inf, -np.inf, np.nan], dtype)
    k = min(n, special.size)
    x[rng.choice(n, k, replace=False)] = special[rng.choice(special.size, k, replace=False)]
    return np.abs(x) if positive else x


def _adam_state(dtype, sizes, seed):
    rng = np.random.default_rng(seed)
    return [[_nasty(rng, k, dtype), _nasty(rng, k, dtype), _nasty(rng, k, dtype, True),
             _nasty(rng, k, dtype)] for k in sizes]


@needs_fused
@pytest.mark.parametrize("decay", [False, True], ids=["adam", "adam_w"])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_loop_equals_numpy_body_to_the_bit(dtype, nesterov, decay):
    sizes = [1, 3, 64, 1001]
    a, b = _adam_state(dtype, sizes, 0), _adam_state(dtype, sizes, 0)
    f = dtype
    alpha = T.adam_alpha(np, f(0.9) ** 3, f(0.999) ** 3, f(0.01))
    base = (alpha, f(0.9), f(0.999), f(1e-7), nesterov)
    with np.errstate(all="ignore"):
        if decay:
            prepared = base + (f(0.01), f(0.004))
            assert M._adamw_fused(a, prepared) is True
            for var, m, v, g in b:
                M._adamw(np, var, m, v, g, *prepared, np.empty_like(var), np.empty_like(var))
        else:
            assert M._adam_fused(a, base) is True
            for var, m, v, g in b:
                T.adam_body(np, var, m, v, g, *base, np.empty_like(var), np.empty_like(var))
    for x, y in zip(a, b):
        for p, q in zip(x, y):
            assert p.dtype == dtype
            assert p.tobytes() == q.tobytes()
    assert np.isnan(a[-1][0]).any() and np.isfinite(a[-1][0]).sum() > 900  # the values moved


@needs_fused
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_momentum_and_gradient_descent_loops_equal_numpy_bodies(dtype, nesterov):
    rng = np.random.default_rng(1)
    var, acc, g = (_nasty(rng, 777, dtype) for _ in range(3))
    lr, mu = dtype(0.05), dtype(0.9)
    a, b = [var.copy(), acc.copy(), g], [var.copy(), acc.copy(), g]
    with np.errstate(all="ignore"):
        assert M._keras_momentum_fused([a], (lr, mu, nesterov)) is True
        T.keras_momentum_body(np, *b, lr, mu, nesterov, np.empty_like(var), np.empty_like(var))
        assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
        c, d = var.copy(), var.copy()
        assert M._gradient_descent_fused([[c, g]], (lr,)) is True
        T.gradient_descent_body(np, d, g, lr, np.empty_like(var))
    assert c.tobytes() == d.tobytes() and not np.array_equal(c, var, equal_nan=True)


@needs_fused
def test_bad_buffers_are_refused_before_anything_is_written():
    good = [np.ones(4, np.float32) for _ in range(4)]
    before = [x.copy() for x in good]
    cases = [
        ([good, [np.ones(4, np.float32)] * 3 + [np.ones(5, np.float32)]], ValueError,
         "expected 16 bytes of format 'f', got 20 bytes"),
        ([good, [np.ones(4, np.float32)] * 3 + [np.ones(4, np.float64)]], ValueError,
         "format 'f', got 32 bytes of format 'd'"),
        ([good, [np.ones(4, np.int32)] * 4], TypeError, "expected float32 or float64"),
        ([good, [np.ones(4, np.float32)] * 3], ValueError, "piece 1 has 3 buffers, expected 4"),
        ([good, [np.ones(8, np.float32)[::2]] * 4], ValueError, "contiguous"),
    ]
    for pieces, error, message in cases:
        with pytest.raises((error, BufferError), match=message):
            fused.adam(pieces, 0.1, 0.1, 0.001, 1e-7, 0.9, False, None, 0.0)
    readonly = np.ones(4, np.float32)
    readonly.flags.writeable = False
    with pytest.raises((ValueError, BufferError, TypeError), match="writ|read-only"):
        fused.adam([good, [readonly] + good[1:]], 0.1, 0.1, 0.001, 1e-7, 0.9, False, None, 0.0)
    for x, b in zip(good, before):
        np.testing.assert_array_equal(x, b)


@needs_fused
def test_overlapping_buffers_fall_back_to_the_numpy_body(monkeypatch):
    buf = np.arange(1, 9, dtype=np.float32)
    m, v = np.zeros(8, np.float32), np.zeros(8, np.float32)
    # the loops would be wrong on aliased inputs: they decline and write nothing
    assert fused.adam([[buf, m, v, buf]], 0.1, 0.1, 0.001, 1e-7, 0.9, False, None, 0.0) is False
    assert fused.gradient_descent([[buf[:6], buf[2:]]], 0.5) is False
    np.testing.assert_array_equal(buf, np.arange(1, 9))
    assert not m.any() and not v.any()
    # the multi op then runs the NumPy body on that piece, with NumPy's semantics
    calls = []
    monkeypatch.setattr(M, "_run_chunks", lambda plan, *a: calls.append(len(plan)))
    M._run(np, [[buf], [m], [v], [buf]], T.adam_body, 2,
           (np.float32(0.1), np.float32(0.9), np.float32(0.999), np.float32(1e-7), False),
           M._adam_fused)
    assert calls == [1]


@needs_fused
def test_overlap_fallback_cuts_large_pieces_to_the_scratch_size():
    # a piece the C loop takes whole (up to FUSED_PIECE) is larger than the NumPy body's scratch
    n = 2 * M.CHUNK + 3
    assert n <= M.FUSED_PIECE
    f = np.float32
    prep = (f(0.1), f(0.9), f(0.999), f(1e-7), False)

    def state():
        r = np.random.default_rng(3)
        return r.standard_normal(n).astype(f), np.zeros(n, f), np.zeros(n, f)

    a, b = state(), state()
    M._run(np, [[a[0]], [a[1]], [a[2]], [a[0]]], T.adam_body, 2, prep, M._adam_fused)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(M, "USE_FUSED", False)
        M._run(np, [[b[0]], [b[1]], [b[2]], [b[0]]], T.adam_body, 2, prep, M._adam_fused)
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()
    assert a[1].any()  # the update ran


@needs_fused
def test_multi_ops_take_the_c_path_when_it_applies(monkeypatch):
    seen = []
    real = fused.adam
    monkeypatch.setattr(fused, "adam", lambda plan, *a: seen.append(len(plan)) or real(plan, *a))
    xs = [tf.Variable(np.ones(5, np.float32)), tf.Variable(np.ones((2, 3), np.float32))]
    ms = [tf.Variable(tf.zeros_like(x)) for x in xs]
    vs = [tf.Variable(tf.zeros_like(x)) for x in xs]
    grads = [tf.ones_like(x) for x in xs]
    updates.multi_apply_adam(xs, ms, vs, grads, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7)
    assert seen == [2]
    np.testing.assert_allclose(xs[1].numpy(), 0.9, rtol=1e-6)  # first step moves by lr
    monkeypatch.setattr(M, "USE_FUSED", False)  # switched off: the NumPy body runs
    updates.multi_apply_adam(xs, ms, vs, grads, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7)
    assert seen == [2]


@needs_fused
def test_float16_variables_keep_the_numpy_body(monkeypatch):
    seen = []
    monkeypatch.setattr(fused, "adam", lambda *a: seen.append(1) or True)
    x = tf.Variable(np.ones(4, np.float16))
    m, v = tf.Variable(tf.zeros_like(x)), tf.Variable(tf.zeros_like(x))
    updates.multi_apply_adam([x], [m], [v], [tf.ones_like(x)], 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7)
    assert not seen
    np.testing.assert_allclose(x.numpy(), 0.9, rtol=1e-3)
