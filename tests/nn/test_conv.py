"""tf.nn convolutions and pooling: forward against direct NumPy loops, dtypes, TF's errors,
gradients through the checker (second order for conv2d), and TF-recorded fixtures."""
import itertools
import os

import ml_dtypes
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.testing.gradient_check import check_grads

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "conv_linalg.npz"))


# -- independent references (direct loops; small sizes only) ----------------------------------
def _pads(n, k, s, d, padding, explicit):
    eff = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        total = max((out - 1) * s + eff - n, 0)
        return total // 2, total - total // 2
    if padding == "VALID":
        return 0, 0
    return explicit


def ref_conv(x, w, s, d, padding, explicit=((0, 0), (0, 0)), depthwise=False):
    """NHWC cross-correlation by loops; grouped when w's in-depth divides x's depth."""
    n, h, wd, c = x.shape
    kh, kw, ci, o = w.shape
    ph = _pads(h, kh, s[0], d[0], padding, explicit[0])
    pw = _pads(wd, kw, s[1], d[1], padding, explicit[1])
    xp = np.pad(x.astype(np.float64), ((0, 0), ph, pw, (0, 0)))
    oh = (xp.shape[1] - (kh - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[2] - (kw - 1) * d[1] - 1) // s[1] + 1
    if depthwise:
        out = np.zeros((n, oh, ow, c * o))
        for i, j, ch, m in itertools.product(range(oh), range(ow), range(c), range(o)):
            for a, b in itertools.product(range(kh), range(kw)):
                out[:, i, j, ch * o + m] += xp[:, i * s[0] + a * d[0], j * s[1] + b * d[1], ch] \
                    * w[a, b, ch, m]
        return out
    groups = c // ci
    og = o // groups
    out = np.zeros((n, oh, ow, o))
    for i, j, oc in itertools.product(range(oh), range(ow), range(o)):
        g = oc // og
        for a, b in itertools.product(range(kh), range(kw)):
            patch = xp[:, i * s[0] + a * d[0], j * s[1] + b * d[1], g * ci:(g + 1) * ci]
            out[:, i, j, oc] += patch @ w[a, b, :, oc]
    return out


def ref_pool(x, k, s, padding, kind):
    n, h, wd, c = x.shape
    ph = _pads(h, k[0], s[0], 1, padding, None)
    pw = _pads(wd, k[1], s[1], 1, padding, None)
    oh = (h + sum(ph) - k[0]) // s[0] + 1
    ow = (wd + sum(pw) - k[1]) // s[1] + 1
    out = np.zeros((n, oh, ow, c))
    for i, j in itertools.product(range(oh), range(ow)):
        r0, c0 = i * s[0] - ph[0], j * s[1] - pw[0]
        win = x[:, max(r0, 0):min(r0 + k[0], h), max(c0, 0):min(c0 + k[1], wd), :]
        out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


def rand(*shape):
    return np.random.standard_normal(shape)


def nchw(a):
    return np.transpose(a, (0, 3, 1, 2))


def nhwc(a):
    return np.transpose(a, (0, 2, 3, 1))


# -- conv2d forward: every padding/stride/dilation/data_format combination --------------------
CONV_TABLE = list(itertools.product(
    [(1, 1), (2, 2), (2, 3)],           # strides
    [(1, 1), (2, 1)],                   # dilations
    ["SAME", "VALID", "EXPLICIT"],      # padding
    ["NHWC", "NCHW"],                   # data_format
))


@pytest.mark.parametrize("strides,dilations,padding,data_format", CONV_TABLE)
def test_conv2d_matches_loops(strides, dilations, padding, data_format):
    x, w = rand(2, 7, 6, 3), rand(3, 2, 3, 4)
    explicit = ((1, 2), (0, 1))
    want = ref_conv(x, w, strides, dilations, padding, explicit)
    pad = [[0, 0], list(explicit[0]), list(explicit[1]), [0, 0]] if padding == "EXPLICIT" \
        else padding
    if data_format == "NCHW" and padding == "EXPLICIT":
        pad = [[0, 0], [0, 0], list(explicit[0]), list(explicit[1])]
    xin = nchw(x) if data_format == "NCHW" else x
    got = tf.nn.conv2d(tf.constant(xin, tf.float32), tf.constant(w, tf.float32), list(strides),
                       pad, data_format=data_format, dilations=list(dilations))
    assert got.dtype == tf.float32
    got = got.numpy()
    np.testing.assert_allclose(nhwc(got) if data_format == "NCHW" else got, want, rtol=1e-4,
                               atol=1e-4)


def test_conv2d_grouped_and_batch_dims():
    x, w = rand(1, 5, 5, 4), rand(3, 3, 2, 6)
    got = tf.nn.conv2d(tf.constant(x), tf.constant(w), 1, "SAME").numpy()
    np.testing.assert_allclose(got, ref_conv(x, w, (1, 1), (1, 1), "SAME"), rtol=1e-10)
    x5 = rand(2, 3, 5, 5, 4)
    got5 = tf.nn.conv2d(tf.constant(x5), tf.constant(w), 1, "VALID").numpy()
    assert got5.shape == (2, 3, 3, 3, 6)
    np.testing.assert_allclose(got5.reshape(6, 3, 3, 6),
                               ref_conv(x5.reshape(6, 5, 5, 4), w, (1, 1), (1, 1), "VALID"),
                               rtol=1e-10)


@pytest.mark.parametrize("dtype,tol", [(tf.float16, 2e-2), (tf.bfloat16, 1e-1),
                                       (tf.float32, 1e-5), (tf.float64, 1e-12),
                                       (tf.int32, 0)])
def test_conv2d_dtypes(dtype, tol):
    x = np.random.randint(-3, 4, (1, 5, 5, 2)).astype(np.float64)
    w = np.random.randint(-3, 4, (3, 3, 2, 2)).astype(np.float64)
    y = tf.nn.conv2d(tf.constant(x, dtype), tf.constant(w, dtype), 1, "SAME")
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy().astype(np.float64),
                               ref_conv(x, w, (1, 1), (1, 1), "SAME"), rtol=tol, atol=tol)


def test_conv2d_on_cpu():
    x, w = rand(1, 4, 4, 2), rand(2, 2, 2, 3)
    with tf.device("/CPU:0"):
        y = tf.nn.conv2d(tf.constant(x), tf.constant(w), 1, "VALID")
    assert "CPU" in y.device
    np.testing.assert_allclose(y.numpy(), ref_conv(x, w, (1, 1), (1, 1), "VALID"), rtol=1e-10)


CONV_ERRORS = [
    (lambda x, w: tf.nn.conv2d(x, w, 1, "same"), tf.errors.InvalidArgumentError,
     "Value for attr 'padding' of \"same\""),
    (lambda x, w: tf.nn.conv2d(x, tf.ones([3, 3, 4, 2]), 1, "SAME"),
     tf.errors.InvalidArgumentError, "input depth must be evenly divisible by filter depth: 3 vs 4"),
    (lambda x, w: tf.nn.conv2d(x, tf.ones([3, 3, 1, 2]), 1, "SAME"),
     tf.errors.InvalidArgumentError, "output depth must be evenly divisible by number of groups"),
    (lambda x, w: tf.nn.conv2d(x, tf.ones([7, 7, 3, 2]), 1, "VALID"),
     tf.errors.InvalidArgumentError, "Computed output size would be negative: -1 [input_size: 5, "
     "effective_filter_size: 7, stride: 1]"),
    (lambda x, w: tf.nn.conv2d(tf.ones([5, 5, 3]), w, 1, "VALID"),
     tf.errors.InvalidArgumentError, "convolution input must be 4-dimensional: [5, 5, 3]"),
    (lambda x, w: tf.nn.conv2d(x, tf.ones([3, 3, 3]), 1, "VALID"),
     tf.errors.InvalidArgumentError, "convolution filter must be 4-dimensional"),
    (lambda x, w: tf.nn.conv2d(x, w, [2, 2, 2, 1], "VALID"), tf.errors.UnimplementedError,
     "strides in the batch and depth dimensions"),
    (lambda x, w: tf.nn.conv2d(x, w, [1, 2, 3], "VALID"), ValueError,
     "strides should be of length 1, 2 or 4. Received: strides=[1, 2, 3] of length 3"),
    (lambda x, w: tf.nn.conv2d(x, w, 0, "SAME"), tf.errors.InvalidArgumentError,
     "Row and column strides should be larger than 0."),
    (lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=0), tf.errors.InvalidArgumentError,
     "Dilated rates should be larger than 0."),
    (lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=[1, 2, 2, 2]),
     tf.errors.UnimplementedError, "dilations in the batch and depth dimensions"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, [[1, 1], [2, 2]]), ValueError,
     "When padding is a list, it must be of size 4."),
    (lambda x, w: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 1], [2, 2], [1, 0]]),
     tf.errors.InvalidArgumentError, "Nonzero explicit padding in the batch or depth"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, [[0, 0], [-1, 1], [2, 2], [0, 0]]),
     tf.errors.InvalidArgumentError, "All elements of explicit_paddings must be nonnegative"),
    (lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", data_format="NCWH"),
     tf.errors.InvalidArgumentError, "Value for attr 'data_format' of \"NCWH\""),
    (lambda x, w: tf.nn.conv2d(tf.ones([1, 5, 5, 3], tf.int64), tf.ones([3, 3, 3, 2], tf.int64),
                               1, "SAME"), tf.errors.InvalidArgumentError, "attr 'T' of int64"),
    (lambda x, w: tf.nn.conv2d(tf.ones([1, 5, 5, 3], tf.float64), w, 1, "SAME"),
     tf.errors.InvalidArgumentError, "cannot compute Conv2D as input #1"),
    (lambda x, w: tf.nn.conv1d(tf.ones([2, 7, 3]), tf.ones([3, 3, 4]), 1, [[0, 0], [1, 1], [0, 0]]),
     TypeError, "Expected string for argument 'padding'"),
    (lambda x, w: tf.nn.depthwise_conv2d(x, tf.ones([3, 3, 3, 2]), 1, "VALID"), TypeError,
     "Expected list for 'strides'"),
    (lambda x, w: tf.nn.depthwise_conv2d(x, tf.ones([3, 3, 3, 2]), [1, 1], "VALID"),
     tf.errors.InvalidArgumentError, "strides field must specify 4 dimensions"),
    (lambda x, w: tf.nn.depthwise_conv2d(x, tf.ones([3, 3, 4, 2]), [1, 1, 1, 1], "VALID"),
     tf.errors.InvalidArgumentError, "input and filter must have the same depth: 3 vs 4"),
    (lambda x, w: tf.nn.depthwise_conv2d(tf.ones([1, 5, 5, 3], tf.int32),
                                         tf.ones([3, 3, 3, 2], tf.int32), [1, 1, 1, 1], "SAME"),
     tf.errors.InvalidArgumentError, "attr 'T' of int32"),
    (lambda x, w: tf.nn.conv2d_transpose(tf.ones([1, 3, 3, 2]), w, [1, 7, 7, 3], 2, "SAME"),
     tf.errors.InvalidArgumentError, "Size of out_backprop doesn't match computed"),
    (lambda x, w: tf.nn.conv2d_transpose(tf.ones([1, 3, 3, 3]), w, [1, 5, 5, 3], 1, "VALID"),
     tf.errors.InvalidArgumentError, "filter and out_backprop must have the same out_depth"),
    (lambda x, w: tf.nn.conv2d_transpose(tf.ones([1, 3, 3, 2]), w, [5, 5, 3], 1, "VALID"),
     tf.errors.InvalidArgumentError, "input_sizes to contain 4 values or 2 values, but got: 3"),
]


@pytest.mark.parametrize("fn,cls,msg", CONV_ERRORS)
def test_conv_errors(fn, cls, msg):
    x, w = tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 3, 2])
    with pytest.raises(cls) as e:
        fn(x, w)
    assert msg in str(e.value)


# -- conv1d, depthwise, transpose ----------------------------------------------------------------
@pytest.mark.parametrize("stride,padding,fmt", list(itertools.product([1, 2], ["SAME", "VALID"],
                                                                      ["NWC", "NCW"])))
def test_conv1d(stride, padding, fmt):
    x, w = rand(2, 7, 3), rand(3, 3, 4)
    want = ref_conv(x[:, None], w[None], (1, stride), (1, 1), padding)[:, 0]
    xin = np.transpose(x, (0, 2, 1)) if fmt == "NCW" else x
    got = tf.nn.conv1d(tf.constant(xin), tf.constant(w), stride, padding, data_format=fmt).numpy()
    np.testing.assert_allclose(np.transpose(got, (0, 2, 1)) if fmt == "NCW" else got, want,
                               rtol=1e-10)


@pytest.mark.parametrize("strides,dilations,padding,fmt", [
    ([1, 1, 1, 1], None, "SAME", "NHWC"), ([1, 2, 2, 1], None, "VALID", "NHWC"),
    ([1, 1, 1, 1], [2, 2], "VALID", "NHWC"), ([1, 1, 2, 2], None, "SAME", "NCHW"),
    ([1, 1, 1, 1], None, [[0, 0], [1, 1], [0, 2], [0, 0]], "NHWC")])
def test_depthwise_conv2d(strides, dilations, padding, fmt):
    x, w = rand(2, 6, 7, 3), rand(3, 2, 3, 2)
    hw = (strides[2], strides[3]) if fmt == "NCHW" else (strides[1], strides[2])
    d = tuple(dilations or (1, 1))
    pad, ex = (padding, ((0, 0), (0, 0))) if isinstance(padding, str) \
        else ("EXPLICIT", ((1, 1), (0, 2)))
    want = ref_conv(x, w, hw, d, pad, ex, depthwise=True)
    xin = nchw(x) if fmt == "NCHW" else x
    got = tf.nn.depthwise_conv2d(tf.constant(xin), tf.constant(w), strides, padding,
                                 data_format=fmt, dilations=dilations).numpy()
    np.testing.assert_allclose(nhwc(got) if fmt == "NCHW" else got, want, rtol=1e-10)


def ref_conv_transpose(dy, w, out_shape, s, padding):
    """Scatters each output-gradient pixel through the filter (independent of conv2d)."""
    n, h, wd, c = out_shape
    kh, kw, _, o = w.shape
    ph = _pads(h, kh, s, 1, padding, None)
    pw = _pads(wd, kw, s, 1, padding, None)
    big = np.zeros((n, h + sum(ph), wd + sum(pw), c))
    for i, j in itertools.product(range(dy.shape[1]), range(dy.shape[2])):
        big[:, i * s:i * s + kh, j * s:j * s + kw, :] += np.einsum("no,abco->nabc", dy[:, i, j], w)
    return big[:, ph[0]:ph[0] + h, pw[0]:pw[0] + wd]


@pytest.mark.parametrize("s,padding,out", [(1, "VALID", 5), (2, "SAME", 6), (2, "SAME", 5),
                                           (2, "VALID", 7)])
def test_conv2d_transpose(s, padding, out):
    dy, w = rand(2, 3, 3, 2), rand(3, 3, 4, 2)
    got = tf.nn.conv2d_transpose(tf.constant(dy), tf.constant(w), [2, out, out, 4], s,
                                 padding).numpy()
    np.testing.assert_allclose(got, ref_conv_transpose(dy, w, (2, out, out, 4), s, padding),
                               rtol=1e-10)


# -- pooling ----------------------------------------------------------------------------------
POOL_TABLE = list(itertools.product(["max", "avg"], [(2, 2), (3, 2)], [(1, 1), (2, 2), (2, 1)],
                                    ["SAME", "VALID"], ["NHWC", "NCHW"]))


@pytest.mark.parametrize("kind,ksize,strides,padding,fmt", POOL_TABLE)
def test_pool2d(kind, ksize, strides, padding, fmt):
    x = rand(2, 5, 6, 3)
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    xin = nchw(x) if fmt == "NCHW" else x
    got = fn(tf.constant(xin, tf.float32), list(ksize), list(strides), padding,
             data_format=fmt)
    assert got.dtype == tf.float32
    got = got.numpy()
    np.testing.assert_allclose(nhwc(got) if fmt == "NCHW" else got,
                               ref_pool(x, ksize, strides, padding, kind), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64, tf.int32, tf.int64,
                                   tf.uint8])
def test_max_pool_dtypes(dtype):
    x = np.random.randint(0, 50, (1, 4, 5, 2)).astype(np.float64)
    y = tf.nn.max_pool2d(tf.constant(x, dtype), 2, 1, "SAME")
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.numpy().astype(np.float64),
                                  ref_pool(x, (2, 2), (1, 1), "SAME", "max"))


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64])
def test_avg_pool_dtypes(dtype):
    x = np.random.randint(0, 8, (1, 4, 5, 2)).astype(np.float64)
    y = tf.nn.avg_pool2d(tf.constant(x, dtype), 3, 2, "SAME")
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy().astype(np.float64),
                               ref_pool(x, (3, 3), (2, 2), "SAME", "avg"), rtol=1e-2)


def test_pool_generic_and_1d():
    x = rand(2, 7, 3)
    want = ref_pool(x[:, None], (1, 2), (1, 2), "SAME", "max")[:, 0]
    np.testing.assert_allclose(tf.nn.max_pool(tf.constant(x), 2, 2, "SAME").numpy(), want)
    np.testing.assert_allclose(tf.nn.max_pool1d(tf.constant(x), 2, 2, "SAME").numpy(), want)
    want = ref_pool(x[:, None], (1, 3), (1, 1), "VALID", "avg")[:, 0]
    np.testing.assert_allclose(tf.nn.avg_pool1d(tf.constant(x), 3, 1, "VALID").numpy(), want)
    x4 = rand(1, 4, 4, 2)
    np.testing.assert_allclose(tf.nn.avg_pool(tf.constant(x4), [2, 2], 1, "VALID").numpy(),
                               ref_pool(x4, (2, 2), (1, 1), "VALID", "avg"))
    with pytest.raises(ValueError, match="must be 3, 4 or 5"):
        tf.nn.max_pool(tf.ones([5, 3]), 2, 1, "VALID")


def test_max_pool_ignores_nan_and_explicit_padding():
    x = np.array([[np.nan, 3.0, 3.0], [3.0, 0.0, 1.0], [2.0, 3.0, 3.0]])[None, ..., None]
    np.testing.assert_array_equal(tf.nn.max_pool2d(tf.constant(x), 2, 1, "VALID").numpy(),
                                  np.full((1, 2, 2, 1), 3.0))
    y = tf.nn.max_pool2d(tf.ones([1, 5, 5, 3]), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    assert y.shape == (1, 6, 6, 3)
    assert tf.nn.max_pool2d(tf.ones([1, 5, 5, 3]), 6, 1, "VALID").shape == (1, 0, 0, 3)


POOL_ERRORS = [
    (lambda x: tf.nn.max_pool2d(x, [2, 2, 2], [1, 2, 2, 1], "SAME"), ValueError,
     "ksize should be of length 1, 2 or 4. Received: ksize=[2, 2, 2] of length 3"),
    (lambda x: tf.nn.max_pool2d(x, [2, 2, 2, 1], [1, 2, 2, 1], "SAME"),
     tf.errors.UnimplementedError, "Pooling is not yet supported on the batch dimension."),
    (lambda x: tf.nn.max_pool2d(x, 0, 1, "VALID"), tf.errors.InvalidArgumentError,
     "Sliding window ksize must be positive. The specified or inferred ksize is: 1,0,0,1"),
    (lambda x: tf.nn.max_pool2d(x, 2, 0, "VALID"), tf.errors.InvalidArgumentError,
     "Stride must be > 0, but got 0"),
    (lambda x: tf.nn.max_pool2d(x, 2, 1, "same"), tf.errors.InvalidArgumentError,
     "Value for attr 'padding' of \"same\""),
    (lambda x: tf.nn.avg_pool2d(x, 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), TypeError,
     "Expected string for argument 'padding'"),
    (lambda x: tf.nn.avg_pool2d(tf.ones([1, 5, 5, 3], tf.int32), 2, 1, "VALID"),
     tf.errors.InvalidArgumentError, "attr 'T' of int32"),
]


@pytest.mark.parametrize("fn,cls,msg", POOL_ERRORS)
def test_pool_errors(fn, cls, msg):
    with pytest.raises(cls) as e:
        fn(tf.ones([1, 5, 5, 3]))
    assert msg in str(e.value)


# -- gradients (float64, through the one checker) -------------------------------------------
GRAD_CASES = [
    ("conv2d_same_s2", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"), (1, 5, 4, 2), (3, 2, 2, 3)),
    ("conv2d_valid_dil", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID", dilations=2),
     (1, 6, 6, 2), (2, 2, 2, 2)),
    ("conv2d_explicit_nchw", lambda x, w: tf.nn.conv2d(
        x, w, [1, 2], [[0, 0], [0, 0], [1, 0], [2, 1]], data_format="NCHW"),
     (1, 2, 5, 4), (2, 3, 2, 2)),
    ("conv2d_grouped", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), (1, 4, 4, 4), (2, 2, 2, 4)),
    ("depthwise", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 1, 1], "SAME"),
     (1, 5, 4, 2), (3, 2, 2, 2)),
    ("depthwise_dil", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID",
                                                          dilations=[2, 1]),
     (1, 6, 4, 2), (2, 2, 2, 3)),
    ("conv1d", lambda x, w: tf.nn.conv1d(x, w, 2, "SAME"), (2, 6, 2), (3, 2, 3)),
    ("transpose", lambda x, w: tf.nn.conv2d_transpose(x, w, [1, 6, 6, 2], 2, "SAME"),
     (1, 3, 3, 3), (3, 3, 2, 3)),
]


@pytest.mark.parametrize("name,fn,xs,ws", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_conv_gradients(name, fn, xs, ws):
    check_grads(fn, [rand(*xs), rand(*ws)], order=1)


@pytest.mark.parametrize("name,fn,xs,ws", [GRAD_CASES[0], GRAD_CASES[2], GRAD_CASES[4]],
                         ids=["conv2d", "conv2d_nchw", "depthwise"])
def test_conv_second_order(name, fn, xs, ws):
    check_grads(fn, [rand(*xs), rand(*ws)], order=2)


def _distinct(*shape):
    # Distinct values keep max pooling differentiable at the test point.
    return np.random.permutation(np.prod(shape)).reshape(shape) * 0.1 + rand(*shape) * 1e-3


@pytest.mark.parametrize("k,s,padding,fmt", [(2, 2, "VALID", "NHWC"), (3, 2, "SAME", "NHWC"),
                                             (2, 1, "SAME", "NCHW")])
def test_pool_gradients(k, s, padding, fmt):
    x = _distinct(1, 5, 6, 2)
    check_grads(lambda t: tf.nn.max_pool2d(t, k, s, padding, data_format=fmt), [x], order=2)
    check_grads(lambda t: tf.nn.avg_pool2d(t, k, s, padding, data_format=fmt), [x], order=2)


def test_max_pool_gradient_goes_to_first_max():
    x = tf.constant(FIXTURES["ties/x"])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 1, "VALID")
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), FIXTURES["ties/gx"])


# -- TensorFlow-recorded fixtures -----------------------------------------------------------
FIXTURE_CONV = [("conv_same_s1", 1, "SAME", 1), ("conv_valid_s2", 2, "VALID", 1),
                ("conv_same_s2_d1", [2, 3], "SAME", 1), ("conv_valid_dil2", 1, "VALID", 2),
                ("conv_explicit", 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
                ("conv_groups2", 1, "SAME", 1)]


@pytest.mark.parametrize("name,s,p,d", FIXTURE_CONV, ids=[c[0] for c in FIXTURE_CONV])
def test_conv_fixtures(name, s, p, d):
    f = FIXTURES
    x, w = tf.constant(f[f"{name}/x"]), tf.constant(f[f"{name}/w"])
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = tf.nn.conv2d(x, w, s, p, dilations=d)
    np.testing.assert_allclose(y.numpy(), f[f"{name}/y"], rtol=1e-10, atol=1e-12)
    gx, gw = tape.gradient(y, [x, w], output_gradients=tf.constant(f[f"{name}/u"]))
    if f"{name}/gx" in f:
        np.testing.assert_allclose(gx.numpy(), f[f"{name}/gx"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gw.numpy(), f[f"{name}/gw"], rtol=1e-10, atol=1e-12)


def test_other_conv_fixtures():
    f = FIXTURES
    x, w = f["depthwise/x"], f["depthwise/w"]
    np.testing.assert_allclose(tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME").numpy(),
                               f["depthwise/y"], rtol=1e-10)
    np.testing.assert_allclose(tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID",
                                                      dilations=[2, 2]).numpy(),
                               f["depthwise_dil/y"], rtol=1e-10)
    np.testing.assert_allclose(tf.nn.conv2d_transpose(f["transpose/dy"], f["transpose/w"],
                                                      [1, 6, 6, 3], 2, "SAME").numpy(),
                               f["transpose/y"], rtol=1e-10)
    np.testing.assert_allclose(tf.nn.conv1d(f["conv1d/x"], f["conv1d/w"], 2, "SAME").numpy(),
                               f["conv1d/y"], rtol=1e-10)


@pytest.mark.parametrize("name,k,s,p", [("pool_valid_k2s2", 2, 2, "VALID"),
                                        ("pool_same_k3s2", 3, 2, "SAME"),
                                        ("pool_same_k2s1", [2, 3], 1, "SAME")])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_fixtures(name, k, s, p, kind):
    f = FIXTURES
    fn = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    x = tf.constant(f[f"{name}/x"])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x, k, s, p)
    np.testing.assert_allclose(y.numpy(), f[f"{name}/{kind}/y"], rtol=1e-12)
    g = tape.gradient(y, x, output_gradients=tf.constant(f[f"{name}/{kind}/u"]))
    np.testing.assert_allclose(g.numpy(), f[f"{name}/{kind}/gx"], rtol=1e-12, atol=1e-14)


def test_bfloat16_is_ml_dtypes():
    # The half types are computed in float32 and cast back: the output keeps the input's dtype.
    y = tf.nn.conv2d(tf.ones([1, 3, 3, 1], tf.bfloat16), tf.ones([2, 2, 1, 1], tf.bfloat16), 1,
                     "VALID")
    assert y.numpy().dtype == ml_dtypes.bfloat16
