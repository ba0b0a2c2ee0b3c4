"""One row per public math op: forward value against NumPy, output dtype, shape, and a
disallowed dtype raising TensorFlow's exception class."""
import ml_dtypes
import numpy as np
import pytest

import featherflow as tf

F = ["float16", "bfloat16", "float32", "float64"]
I = ["int32", "int64"]
IA = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
TOL = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-5, "float64": 1e-12}
ERR = tf.errors.InvalidArgumentError


def np_dtype(name):
    return ml_dtypes.bfloat16 if name == "bfloat16" else np.dtype(name)


def data(dtype, lo, hi, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(lo, hi, shape).astype(dtype)
    return rng.uniform(lo, hi, shape).astype(np_dtype(dtype))


# name, featherflow fn, numpy fn, dtypes, (lo, hi), bad dtype, out-dtype rule (None: same)
U = [
    ("negative", tf.negative, np.negative, F + I, (-3, 3), "bool", None),
    ("abs", tf.abs, np.abs, F + I, (-3, 3), "uint8", None),
    ("sign", tf.sign, np.sign, F + I, (-3, 3), "bool", None),
    ("square", tf.square, np.square, F + I, (-3, 3), "bool", None),
    ("sqrt", tf.sqrt, np.sqrt, F, (0.1, 3), "int32", None),
    ("rsqrt", tf.math.rsqrt, lambda x: 1 / np.sqrt(x), F, (0.1, 3), "int32", None),
    ("exp", tf.exp, np.exp, F, (-2, 2), "int32", None),
    ("expm1", tf.math.expm1, np.expm1, F, (-2, 2), "int32", None),
    ("log", tf.math.log, np.log, F, (0.1, 3), "int32", None),
    ("log1p", tf.math.log1p, np.log1p, F, (0.1, 3), "int32", None),
    ("sin", tf.sin, np.sin, F, (-2, 2), "int32", None),
    ("cos", tf.cos, np.cos, F, (-2, 2), "int32", None),
    ("tan", tf.tan, np.tan, F, (-1, 1), "int32", None),
    ("asin", tf.asin, np.arcsin, F, (-0.9, 0.9), "int32", None),
    ("acos", tf.acos, np.arccos, F, (-0.9, 0.9), "int32", None),
    ("atan", tf.atan, np.arctan, F, (-2, 2), "int32", None),
    ("sinh", tf.sinh, np.sinh, F, (-2, 2), "int32", None),
    ("cosh", tf.cosh, np.cosh, F, (-2, 2), "int32", None),
    ("tanh", tf.tanh, np.tanh, F, (-2, 2), "int32", None),
    ("asinh", tf.asinh, np.arcsinh, F, (-2, 2), "int32", None),
    ("acosh", tf.acosh, np.arccosh, F, (1.1, 3), "int32", None),
    ("atanh", tf.atanh, np.arctanh, F, (-0.9, 0.9), "int32", None),
    ("sigmoid", tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), F, (-5, 5), "int32", None),
    ("reciprocal", tf.math.reciprocal, lambda x: 1 / x, F, (0.5, 3), "bool", None),
    ("floor", tf.floor, np.floor, F, (-3, 3), "int32", None),
    ("ceil", tf.ceil, np.ceil, F, (-3, 3), "int32", None),
    ("round", tf.round, np.round, F, (-3, 3), "bool", None),
    ("rint", tf.math.rint, np.rint, ["float32", "float64"], (-3, 3), "int32", None),
    ("is_nan", tf.math.is_nan, np.isnan, F, (-3, 3), "int32", "bool"),
    ("is_inf", tf.math.is_inf, np.isinf, F, (-3, 3), "int32", "bool"),
    ("is_finite", tf.math.is_finite, np.isfinite, F, (-3, 3), "int32", "bool"),
    ("logical_not", tf.logical_not, np.logical_not, ["bool"], (0, 2), "int32", None),
    ("invert", tf.bitwise.invert, np.invert, IA, (0, 9), "float32", None),
    ("reduce_sum", tf.reduce_sum, np.sum, F + IA, (-3, 9), "bool", None),
    ("reduce_mean", tf.reduce_mean, np.mean, F, (-3, 3), "bool", None),
    ("reduce_max", tf.reduce_max, np.max, F + IA, (0, 9), "bool", None),
    ("reduce_min", tf.reduce_min, np.min, F + IA, (0, 9), "complex64", None),
    ("reduce_prod", tf.reduce_prod, np.prod, F + I, (1, 3), "bool", None),
    ("reduce_all", tf.reduce_all, np.all, ["bool"], (0, 2), "int32", None),
    ("reduce_any", tf.reduce_any, np.any, ["bool"], (0, 2), "float32", None),
    ("reduce_logsumexp", tf.reduce_logsumexp, lambda x: np.log(np.sum(np.exp(x))), F,
     (-3, 3), "int32", None),
    ("reduce_variance", tf.math.reduce_variance, np.var, F, (-3, 3), "bool", None),
    ("reduce_std", tf.math.reduce_std, np.std, F, (-3, 3), "bool", None),
    ("reduce_euclidean_norm", tf.math.reduce_euclidean_norm,
     lambda x: np.sqrt(np.sum(np.square(x))), F, (-3, 3), "bool", None),
    ("count_nonzero", tf.math.count_nonzero, np.count_nonzero, F + I + ["bool"], (-1, 2),
     None, "int64"),
    ("argmax", tf.argmax, lambda x: np.argmax(x, axis=0), F + I, (-9, 9), "complex64",
     "int64"),
    ("argmin", tf.argmin, lambda x: np.argmin(x, axis=0), F + I, (-9, 9), "complex64",
     "int64"),
    ("cumsum", tf.cumsum, lambda x: np.cumsum(x, axis=0), F + I, (-3, 3), "bool", None),
    ("cumprod", tf.math.cumprod, lambda x: np.cumprod(x, axis=0), F + I, (1, 3), "bool",
     None),
    ("sort", tf.sort, lambda x: np.sort(x, axis=-1), F + IA, (-9, 9), "bool", None),
    ("argsort", tf.argsort, lambda x: np.argsort(x, axis=-1, kind="stable"), F + I, (-9, 9),
     "bool", "int32"),
    ("top_k", lambda x: tf.math.top_k(x, 2).values, lambda x: -np.sort(-x, axis=-1)[..., :2],
     ["float32", "float64"] + I, (-9, 9), "bool", None),
    ("where", tf.where, np.argwhere, ["float32", "int32", "bool"], (-1, 2), "string",
     "int64"),
]

B = [
    ("add", tf.add, np.add, F + IA + ["complex64"], (-3, 3), "bool", None),
    ("subtract", tf.subtract, np.subtract, F + IA, (0, 3), "bool", None),
    ("multiply", tf.multiply, np.multiply, F + IA, (0, 3), "bool", None),
    ("truediv", tf.math.truediv, np.true_divide, F, (1, 3), "bool", None),
    ("floordiv", tf.math.floordiv, np.floor_divide, F + I, (1, 5), "bool", None),
    ("floormod", tf.math.floormod, np.mod, F + I, (1, 5), "bool", None),
    ("maximum", tf.maximum, np.maximum, F + IA, (0, 9), "bool", None),
    ("minimum", tf.minimum, np.minimum, F + IA, (0, 9), "bool", None),
    ("squared_difference", tf.math.squared_difference, lambda x, y: (x - y) ** 2, F + I,
     (-3, 3), "uint8", None),
    ("pow", tf.pow, np.power, F + I, (1, 3), "uint8", None),
    ("atan2", tf.atan2, np.arctan2, F, (-3, 3), "int32", None),
    ("xlogy", tf.math.xlogy, lambda x, y: x * np.log(y), F, (0.5, 3), "int32", None),
    ("xdivy", tf.math.xdivy, lambda x, y: x / y, F, (0.5, 3), "int32", None),
    ("less", tf.less, np.less, F + IA, (0, 3), "bool", "bool"),
    ("less_equal", tf.less_equal, np.less_equal, F + IA, (0, 3), "bool", "bool"),
    ("greater", tf.greater, np.greater, F + IA, (0, 3), "bool", "bool"),
    ("greater_equal", tf.greater_equal, np.greater_equal, F + IA, (0, 3), "bool", "bool"),
    ("equal", tf.equal, np.equal, F + IA + ["bool"], (0, 3), None, "bool"),
    ("not_equal", tf.not_equal, np.not_equal, F + IA + ["bool"], (0, 3), None, "bool"),
    ("logical_and", tf.logical_and, np.logical_and, ["bool"], (0, 2), "int32", None),
    ("logical_or", tf.logical_or, np.logical_or, ["bool"], (0, 2), "int32", None),
    ("logical_xor", tf.math.logical_xor, np.logical_xor, ["bool"], (0, 2), "int32", None),
    ("bitwise_and", tf.bitwise.bitwise_and, np.bitwise_and, IA, (0, 9), "float32", None),
    ("bitwise_or", tf.bitwise.bitwise_or, np.bitwise_or, IA, (0, 9), "float32", None),
    ("bitwise_xor", tf.bitwise.bitwise_xor, np.bitwise_xor, IA, (0, 9), "float32", None),
    ("left_shift", tf.bitwise.left_shift, np.left_shift, IA, (0, 5), "float32", None),
    ("right_shift", tf.bitwise.right_shift, np.right_shift, IA, (0, 5), "float32", None),
    ("matmul", lambda a, b: tf.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T,
     F + I + ["complex64"], (-3, 3), "int8", None),
    ("einsum", lambda a, b: tf.einsum("ij,kj->ik", a, b), lambda a, b: a @ b.T, F + I,
     (-3, 3), "int8", None),
    ("tensordot", lambda a, b: tf.tensordot(a, b, [[1], [1]]), lambda a, b: a @ b.T, F + I,
     (-3, 3), "int8", None),
]


def _cases(rows):
    return [pytest.param(r, d, id=f"{r[0]}-{d}") for r in rows for d in r[3]]


def _check(out, want, dtype, rule):
    want_dtype = rule or dtype
    assert out.dtype == tf.as_dtype(want_dtype)
    assert tuple(out.shape) == np.shape(want)
    got = np.asarray(out.numpy())
    got = got.astype(np.float64) if want_dtype in F else got
    want = np.asarray(want)
    if want_dtype in TOL:
        np.testing.assert_allclose(got, want.astype(np.float64), rtol=TOL[want_dtype] * 4,
                                   atol=TOL[want_dtype] * 4)
    else:
        np.testing.assert_array_equal(got, want.astype(got.dtype))


@pytest.mark.parametrize("row,dtype", _cases(U))
def test_unary_forward(row, dtype):
    name, fn, ref, _, (lo, hi), _, rule = row
    x = data(dtype, lo, hi)
    wide = x.astype(np.float64) if dtype in ("float16", "bfloat16") else x
    want = ref(wide)
    if (rule or dtype) in F:
        want = np.asarray(want).astype(np_dtype(rule or dtype))
    elif np.asarray(want).dtype != np.bool_ and name not in ("where",):
        want = np.asarray(want).astype(rule or dtype)
    _check(fn(tf.constant(x)), want, dtype, rule)


@pytest.mark.parametrize("row,dtype", _cases(B))
def test_binary_forward(row, dtype):
    name, fn, ref, _, (lo, hi), _, rule = row
    x, y = data(dtype, lo, hi, seed=1), data(dtype, lo, hi, seed=2)
    half = dtype in ("float16", "bfloat16")
    want = ref(x.astype(np.float64), y.astype(np.float64)) if half else ref(x, y)
    want = np.asarray(want)
    if want.dtype != np.bool_:
        want = want.astype(np_dtype(rule or dtype))
    _check(fn(tf.constant(x), tf.constant(y)), want, dtype, rule)


@pytest.mark.parametrize("row", [r for r in U + B if r[5]], ids=lambda r: r[0])
def test_disallowed_dtype_raises_tf_class(row):
    name, fn, _, _, _, bad, _ = row
    x = tf.constant(["a", "b"]) if bad == "string" else tf.constant(data(bad, 0, 2))
    args = (x,) if row in U else (x, x)
    with pytest.raises((ERR, TypeError)) as e:
        fn(*args)
    # TF: attr-T failures are InvalidArgumentError; Python-side dtype checks are TypeError.
    assert type(e.value) is ERR or name in ("truediv", "reduce_variance", "reduce_std")


# -- TF's special rules -----------------------------------------------------------------------
def test_truediv_int_to_float_rule():
    for d, want in [("int8", "float32"), ("int16", "float32"), ("int32", "float64"),
                    ("int64", "float64"), ("uint8", "float32")]:
        out = tf.constant(np.array([1, 2], d)) / tf.constant(np.array([2, 4], d))
        assert out.dtype == tf.as_dtype(want)
        np.testing.assert_array_equal(out.numpy(), [0.5, 0.5])


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32"])
def test_floordiv_floormod_sign_rules(dtype):
    x = np.array([7, -7, 7, -7], dtype)
    y = np.array([2, 2, -2, -2], dtype)
    np.testing.assert_array_equal((tf.constant(x) // tf.constant(y)).numpy(), x // y)
    np.testing.assert_array_equal((tf.constant(x) % tf.constant(y)).numpy(), np.mod(x, y))
    np.testing.assert_array_equal(tf.truncatediv(tf.constant(x), tf.constant(y)).numpy(),
                                  np.trunc(x / y).astype(dtype))
    np.testing.assert_array_equal(tf.truncatemod(tf.constant(x), tf.constant(y)).numpy(),
                                  np.fmod(x, y))


@pytest.mark.parametrize("fn", [tf.math.floordiv, tf.math.floormod, tf.truncatediv])
def test_integer_division_by_zero(fn):
    with pytest.raises(ERR, match="Integer division by zero"):
        fn(tf.constant([1, 2]), tf.constant([1, 0]))


def test_int_pow_negative_exponent():
    with pytest.raises(ERR):
        tf.pow(tf.constant([2, 3]), tf.constant([1, -1]))


@pytest.mark.parametrize("d", ["float32", "int32", "bool"])
def test_cast(d):
    x = np.array([-1.7, 0.0, 2.5], np.float32)
    out = tf.cast(tf.constant(x), d)
    assert out.dtype == tf.as_dtype(d)
    np.testing.assert_array_equal(out.numpy(), x.astype(d))


# -- reductions: axis, keepdims, identities ---------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 1], (1,), []])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_axis_forms(axis, keepdims):
    x = data("float32", -3, 3, (2, 3, 4))
    want = np.sum(x, axis=None if axis is None else tuple(np.atleast_1d(axis).tolist()),
                  keepdims=keepdims)
    out = tf.reduce_sum(tf.constant(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5)
    out = tf.reduce_max(tf.constant(x), axis=tf.constant(np.array(axis if axis is not None
                        else [0, 1, 2], np.int32)) if axis != [] else axis, keepdims=keepdims)
    assert out.shape == np.max(x, axis=None if axis is None else tuple(np.atleast_1d(axis)),
                               keepdims=keepdims).shape


def test_reduce_errors():
    x = tf.constant(np.ones((2, 3), np.float32))
    with pytest.raises(ERR, match="Invalid reduction dimension"):
        tf.reduce_sum(x, axis=2)
    with pytest.raises(ERR, match="duplicate"):
        tf.reduce_sum(x, axis=[0, -2])
    with pytest.raises(TypeError):
        tf.reduce_sum(x, axis=1.0)
    with pytest.raises(ERR):
        tf.reduce_sum(tf.constant([True]))
    with pytest.raises(ERR):
        tf.reduce_all(tf.constant([1]))


def test_reduce_empty_identities_and_int_mean():
    e = np.zeros((0,), np.float32)
    assert tf.reduce_max(tf.constant(e)).numpy() == -np.inf
    assert tf.reduce_min(tf.constant(e)).numpy() == np.inf
    assert tf.reduce_sum(tf.constant(e)).numpy() == 0
    assert tf.reduce_prod(tf.constant(e)).numpy() == 1
    assert tf.reduce_max(tf.constant(e.astype(np.int32))).numpy() == np.iinfo(np.int32).min
    assert np.isnan(tf.reduce_mean(tf.constant(e)).numpy())
    assert tf.reduce_logsumexp(tf.constant(e)).numpy() == -np.inf
    assert bool(tf.reduce_all(tf.constant(np.zeros(0, bool)))) is True
    m = tf.reduce_mean(tf.constant([-1, -2]))
    assert m.dtype == tf.int32 and m.numpy() == -1  # truncated toward zero, as C
    with tf.device("/CPU:0"):
        assert tf.reduce_mean(tf.constant([1, 2], tf.uint8)).numpy() == 1


def test_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]], np.float32)
    np.testing.assert_allclose(tf.reduce_logsumexp(tf.constant(x), axis=1).numpy(),
                               [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)


# -- arg, scans, sort, where, clip ------------------------------------------------------------
def test_argmax_rules():
    x = tf.constant([[1.0, 5.0], [7.0, 2.0]])
    assert tf.argmax(x, output_type=tf.int32).dtype == tf.int32
    with pytest.raises(ERR, match="Expected dimension in the range"):
        tf.argmax(x, 2)
    with pytest.raises(ERR):
        tf.argmax(x, 0, output_type=tf.float32)
    assert tf.argmax(tf.constant([1.0, np.nan, 3.0])).numpy() == 2


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_flags(exclusive, reverse):
    x = data("int32", -5, 5, (3, 4))
    v = x[:, ::-1] if reverse else x
    want = np.cumsum(v, axis=1)
    if exclusive:
        want = np.concatenate([np.zeros((3, 1), want.dtype), want[:, :-1]], axis=1)
    want = want[:, ::-1] if reverse else want
    out = tf.cumsum(tf.constant(x), axis=1, exclusive=exclusive, reverse=reverse)
    np.testing.assert_array_equal(out.numpy(), want)
    with pytest.raises(ERR, match="scan axis"):
        tf.cumsum(tf.constant(x), axis=2)


def test_top_k_ties_and_checks():
    r = tf.math.top_k(tf.constant([1, 3, 3, 2]), 2)
    np.testing.assert_array_equal(r.indices.numpy(), [1, 2])
    np.testing.assert_array_equal(r.values.numpy(), [3, 3])
    for k, msg in [(5, "at least k columns"), (-1, "Need k >= 0")]:
        with pytest.raises(ERR, match=msg):
            tf.math.top_k(tf.constant([1, 3, 3, 2]), k)
    with pytest.raises(ERR):
        tf.math.top_k(tf.constant(1.0))


def test_sort_direction_and_stable_argsort():
    x = np.array([3, 1, 3, 2], np.int32)
    np.testing.assert_array_equal(tf.sort(tf.constant(x), direction="DESCENDING").numpy(),
                                  np.sort(x)[::-1])
    np.testing.assert_array_equal(
        tf.argsort(tf.constant(x), direction="DESCENDING", stable=True).numpy(), [0, 2, 3, 1])
    with pytest.raises(ValueError, match="direction"):
        tf.sort(tf.constant(x), direction="down")
    m = data("float32", -3, 3, (3, 4))
    np.testing.assert_array_equal(tf.sort(tf.constant(m), axis=0).numpy(), np.sort(m, axis=0))


def test_where_three_args():
    c = np.array([True, False, True])
    x, y = data("float32", 0, 1, (2, 3)), np.float32(0)
    out = tf.where(tf.constant(c), tf.constant(x), y)
    np.testing.assert_array_equal(out.numpy(), np.where(c, x, y))
    with pytest.raises(ERR, match="broadcastable"):
        tf.where(tf.constant([True, False]), tf.constant(x), y)
    with pytest.raises(ERR):
        tf.where(tf.constant(c), tf.constant([1, 2, 3]), tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError):
        tf.where(tf.constant(c), x=[1, 2, 3])


def test_clip_by_value():
    x = data("float32", -3, 3)
    np.testing.assert_array_equal(tf.clip_by_value(tf.constant(x), -1.0, 1.0).numpy(),
                                  np.clip(x, -1, 1))
    with pytest.raises(TypeError):
        tf.clip_by_value(tf.constant([1, 2]), 1.5, 2)
    with pytest.raises((ERR, ValueError)):
        tf.clip_by_value(tf.constant(x), [1.0, 2.0], 5.0)


# -- matmul -----------------------------------------------------------------------------------
def test_matmul_batch_broadcast_and_errors():
    a, b = data("float32", -1, 1, (5, 1, 2, 3)), data("float32", -1, 1, (4, 3, 2))
    out = tf.matmul(tf.constant(a), tf.constant(b))
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5)
    c = (data("float32", -1, 1, (2, 2)) + 1j * data("float32", -1, 1, (2, 2), 3))
    c = c.astype(np.complex64)
    np.testing.assert_allclose(tf.matmul(tf.constant(c), tf.constant(c), adjoint_a=True).numpy(),
                               c.conj().T @ c, rtol=1e-5)
    with pytest.raises(ERR, match="Matrix size-incompatible"):
        tf.matmul(tf.constant(a[0, 0]), tf.constant(a[0, 0]))
    with pytest.raises(ERR, match="different ndims"):
        tf.matmul(tf.constant([1.0, 2.0, 3.0]), tf.constant(a[0, 0].T))
    with pytest.raises(ERR, match="compatible batch dimensions"):
        tf.matmul(tf.constant(np.ones((5, 2, 3), np.float32)),
                  tf.constant(np.ones((4, 3, 2), np.float32)))
    with pytest.raises(ValueError):
        tf.matmul(tf.constant(a[0, 0]), tf.constant(a[0, 0]), transpose_a=True, adjoint_a=True)
    with tf.device("/CPU:0"):
        m = tf.constant(a[0, 0])
        np.testing.assert_allclose((m @ tf.constant(a[0, 0].T)).numpy(), a[0, 0] @ a[0, 0].T,
                                   rtol=1e-6)


def test_einsum_and_tensordot_errors():
    x = tf.constant(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="expecting 3"):
        tf.einsum("ij,jk,kl->il", x, x)
    with pytest.raises(ValueError, match="not present"):
        tf.einsum("ij,jk->iz", x, x)
    with pytest.raises(ERR):
        tf.einsum("ij,jk->ik", x, x)
    with pytest.raises(ERR, match="Matrix size-incompatible"):
        tf.tensordot(x, x, 1)
    with pytest.raises(ValueError):
        tf.tensordot(x, x, 3)
    a, b = data("float32", -1, 1, (2, 3, 4)), data("float32", -1, 1, (4, 3, 5))
    np.testing.assert_allclose(tf.tensordot(tf.constant(a), tf.constant(b),
                                            [[1, 2], [1, 0]]).numpy(),
                               np.tensordot(a, b, [[1, 2], [1, 0]]), rtol=1e-5)


def test_divide_no_nan_with_and_without_zero_divisors():
    x = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], np.float32)
    for y in (np.array([2.0, 4.0, 8.0], np.float32), np.array([2.0, 0.0, -0.0], np.float32),
              np.zeros(3, np.float32)):
        got = tf.math.divide_no_nan(tf.constant(x), tf.constant(y)).numpy()
        with np.errstate(all="ignore"):
            want = np.where(y == 0, 0.0, x / np.where(y == 0, 1.0, y)).astype(np.float32)
        np.testing.assert_array_equal(got, want)
        assert not np.signbit(got[:, y == 0]).any()  # 0, never -0.0, where y == 0
    # 0-d operands (held as NumPy scalars) take the same paths.
    assert tf.math.divide_no_nan(tf.constant(3.0), tf.constant(0.0)).numpy() == 0.0
    assert tf.math.divide_no_nan(tf.constant(3.0), tf.constant(2.0)).numpy() == 1.5
