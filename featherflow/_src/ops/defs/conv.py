"""Convolution primitives: Conv2D, its two backprops, and the depthwise family.

All kernels compute in NHWC (an NCHW input is transposed in and out). The forward pass is im2col:
a strided window view of the padded input (no copy), one reshape (the copy) and one matmul; a
grouped or depthwise convolution is the same with the groups as the matmul's batch dimension. The
input backprop is one matmul into columns, then col2im as KH*KW strided slice additions (a loop
over filter taps, never over pixels). Every op's gradient is written with the others, so second
order gradients work, as in TensorFlow.

NOTE: TF's Conv2DBackpropInput/Conv2DBackpropFilter take the input/filter sizes as an int32 tensor
input; here they are the attrs `input_sizes`/`filter_sizes` (static tuples), so a gradient never
reads a shape back from device memory.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.dispatch import execute
from featherflow._src.ops.registry import primitive, register_gradient

CONV_TYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32)
DEPTHWISE_TYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
PADDINGS = ("SAME", "VALID", "EXPLICIT")
_HALF = (np.dtype(np.float16), _dt.bfloat16._np)


# ---------------------------------------------------------------------------------------------
# Geometry shared with pooling
# ---------------------------------------------------------------------------------------------
def out_size(n, k, stride, dilation, padding, before=0, after=0, allow_empty=False):
    """(output size, pad before, pad after) along one spatial axis, with TF's rules; pooling
    (`allow_empty`) gives an empty output where a convolution raises."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-n // stride)
        total = max((out - 1) * stride + eff - n, 0)
        return out, total // 2, total - total // 2
    if padding == "VALID":
        before = after = 0
    out = (n + before + after - eff) // stride + 1
    if allow_empty:
        return max(out, 0), before, after
    if out < 0 or n + before + after - eff < 0:
        raise ValueError(f"Computed output size would be negative: {out if out < 0 else -1} "
                         f"[input_size: {n}, effective_filter_size: {eff}, stride: {stride}]")
    return out, before, after


def spatial(data_format):
    """Indices of (H, W) and the channel axis in a 4-D shape."""
    return ((2, 3), 1) if data_format == "NCHW" else ((1, 2), 3)


def to_nhwc(xp, x, data_format):
    return x.transpose(0, 2, 3, 1) if data_format == "NCHW" else x


def from_nhwc(xp, x, data_format):
    return x.transpose(0, 3, 1, 2) if data_format == "NCHW" else x


def pad_hw(xp, x, pads, value=0):
    """Pads an NHWC array's H and W by pads = (top, bottom, left, right)."""
    if not any(pads):
        return x
    t, b, left, r = pads
    return xp.pad(x, ((0, 0), (t, b), (left, r), (0, 0)), constant_values=value)


def windows(xp, x, oh, ow, kh, kw, sh, sw, dh=1, dw=1):
    """A (N, OH, OW, KH, KW, C) strided view of a padded NHWC array (no copy)."""
    x = xp.asarray(x)
    n, _, _, c = x.shape
    s0, s1, s2, s3 = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3))


def tap(x, i, j, oh, ow, sh, sw, dh=1, dw=1):
    """The (N, OH, OW, C) slice that filter tap (i, j) sees, as a strided view."""
    return x[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw, :]


def _compute_dtype(dtype):
    # NOTE: NumPy's matmul on float16/bfloat16 is slow and accumulates in the half type; TF's
    # kernels accumulate in float32 as well.
    return np.float32 if dtype in _HALF else dtype


# ---------------------------------------------------------------------------------------------
# The three convolution kernels, generic over groups (depthwise = groups of one channel)
# ---------------------------------------------------------------------------------------------
def _geometry(in_shape, k_shape, attrs_hw):
    """(oh, ow, (pt, pb, pl, pr)) for an NHWC input shape and an HWIO filter shape."""
    strides, dilations, padding, explicit = attrs_hw
    oh, pt, pb = out_size(in_shape[1], k_shape[0], strides[0], dilations[0], padding,
                          explicit[0], explicit[1])
    ow, pl, pr = out_size(in_shape[2], k_shape[1], strides[1], dilations[1], padding,
                          explicit[2], explicit[3])
    return oh, ow, (pt, pb, pl, pr)


def _hw_attrs(strides, padding, explicit_paddings, data_format, dilations):
    (h, w), _ = spatial(data_format)
    ex = tuple(explicit_paddings) if padding == "EXPLICIT" else (0,) * 8
    return ((strides[h], strides[w]), (dilations[h], dilations[w]), padding,
            (ex[2 * h], ex[2 * h + 1], ex[2 * w], ex[2 * w + 1]))


def _cols(xp, x, w_shape, hw):
    kh, kw = w_shape[0], w_shape[1]
    oh, ow, pads = _geometry(x.shape, w_shape, hw)
    (sh, sw), (dh, dw) = hw[0], hw[1]
    win = windows(xp, pad_hw(xp, x, pads), oh, ow, kh, kw, sh, sw, dh, dw)
    return win, oh, ow


def _grouped(win, groups):
    """(N,OH,OW,KH,KW,C) windows as (G, P, KH*KW*Cg) columns (the im2col copy)."""
    n, oh, ow, kh, kw, c = win.shape
    cg = c // groups
    if groups == 1:
        return win.reshape(1, n * oh * ow, kh * kw * c)
    return win.reshape(n, oh, ow, kh, kw, groups, cg).transpose(5, 0, 1, 2, 3, 4, 6).reshape(
        groups, n * oh * ow, kh * kw * cg)


def _grouped_filter(w, groups):
    kh, kw, cg, o = w.shape
    og = o // groups
    return w.reshape(kh, kw, cg, groups, og).transpose(3, 0, 1, 2, 4).reshape(
        groups, kh * kw * cg, og)


def _conv_fwd(xp, x, w, groups, hw):
    dtype = x.dtype
    ct = _compute_dtype(dtype)
    x, w = x.astype(ct, copy=False), w.astype(ct, copy=False)
    win, oh, ow = _cols(xp, x, w.shape, hw)
    out = xp.matmul(_grouped(win, groups), _grouped_filter(w, groups))  # (G, P, Og)
    out = out[0] if groups == 1 else out.transpose(1, 0, 2)
    return out.reshape(x.shape[0], oh, ow, w.shape[3]).astype(dtype, copy=False)


def _conv_filter_grad(xp, x, dy, w_shape, groups, hw):
    dtype = x.dtype
    ct = _compute_dtype(dtype)
    x, dy = x.astype(ct, copy=False), dy.astype(ct, copy=False)
    kh, kw, cg, o = w_shape
    win, oh, ow = _cols(xp, x, w_shape, hw)
    _check_out(dy.shape, (x.shape[0], oh, ow, o), "Conv2DBackpropFilter")
    cols = _grouped(win, groups)
    dyg = dy.reshape(-1, groups, o // groups).transpose(1, 0, 2)
    dw = xp.matmul(cols.transpose(0, 2, 1), dyg)  # (G, KH*KW*Cg, Og)
    dw = dw.reshape(groups, kh, kw, cg, o // groups).transpose(1, 2, 3, 0, 4)
    return dw.reshape(w_shape).astype(dtype, copy=False)


def _conv_input_grad(xp, w, dy, x_shape, groups, hw):
    dtype = w.dtype
    ct = _compute_dtype(dtype)
    w, dy = w.astype(ct, copy=False), dy.astype(ct, copy=False)
    kh, kw, cg, o = w.shape
    n, h, wd, c = x_shape
    oh, ow, (pt, pb, pl, pr) = _geometry(x_shape, w.shape, hw)
    _check_out(dy.shape, (n, oh, ow, o), "Conv2DBackpropInput")
    (sh, sw), (dh, dw) = hw[0], hw[1]
    dyg = dy.reshape(-1, groups, o // groups).transpose(1, 0, 2)
    dcols = xp.matmul(dyg, _grouped_filter(w, groups).transpose(0, 2, 1))  # (G, P, K*Cg)
    dcols = dcols.reshape(groups, n, oh, ow, kh, kw, cg).transpose(1, 2, 3, 4, 5, 0, 6)
    dcols = dcols.reshape(n, oh, ow, kh, kw, c)
    dx = xp.zeros((n, h + pt + pb, wd + pl + pr, c), dtype=ct)
    for i in range(kh):
        for j in range(kw):
            tap(dx, i, j, oh, ow, sh, sw, dh, dw)[...] += dcols[:, :, :, i, j, :]
    return dx[:, pt: pt + h, pl: pl + wd, :].astype(dtype)


def _check_out(actual, expected, op):
    if tuple(actual) != tuple(expected):
        raise ValueError(f"{op}: Size of out_backprop doesn't match computed: actual = "
                         f"{list(actual)}, computed = {list(expected)}")


# ---------------------------------------------------------------------------------------------
# Attr validation (TF's messages), shared by all six ops
# ---------------------------------------------------------------------------------------------
def _check_attrs(op_name, padding, explicit_paddings, data_format, strides, dilations):
    if padding not in PADDINGS:
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'padding' of \"{padding}\" is not in the list of "
            f"allowed values: \"SAME\", \"VALID\", \"EXPLICIT\" [Op:{op_name}]")
    if data_format not in ("NHWC", "NCHW"):
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'data_format' of \"{data_format}\" is not in the list "
            f"of allowed values: \"NHWC\", \"NCHW\" [Op:{op_name}]")
    if len(strides) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"Sliding window strides field must specify 4 dimensions [Op:{op_name}]")
    if len(dilations) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"Sliding window dilations field must specify 4 dimensions "
            f"[Op:{op_name}]")
    (h, w), c = spatial(data_format)
    if strides[0] != 1 or strides[c] != 1:
        raise errors.UnimplementedError(
            None, None, "Current implementation does not yet support strides in the batch and "
            f"depth dimensions. [Op:{op_name}]")
    if strides[h] <= 0 or strides[w] <= 0:
        raise errors.InvalidArgumentError(
            None, None, f"Row and column strides should be larger than 0. [Op:{op_name}]")
    if dilations[0] != 1 or dilations[c] != 1:
        raise errors.UnimplementedError(
            None, None, "Current implementation does not yet support dilations in the batch "
            f"and depth dimensions. [Op:{op_name}]")
    if dilations[h] <= 0 or dilations[w] <= 0:
        raise errors.InvalidArgumentError(
            None, None, f"Dilated rates should be larger than 0. [Op:{op_name}]")
    if padding == "EXPLICIT":
        ex = list(explicit_paddings)
        if len(ex) != 8:
            raise errors.InvalidArgumentError(
                None, None, f"explicit_paddings attribute must contain 8 values, but got: "
                f"{len(ex)} [Op:{op_name}]")
        if any(p < 0 for p in ex):
            raise errors.InvalidArgumentError(
                None, None, f"All elements of explicit_paddings must be nonnegative "
                f"[Op:{op_name}]")
        if ex[0] or ex[1] or ex[2 * c] or ex[2 * c + 1]:
            raise errors.InvalidArgumentError(
                None, None, "Nonzero explicit padding in the batch or depth dimensions is not "
                f"supported [Op:{op_name}]")


def _rank4(shape, what, op_name):
    if len(shape) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"{what} must be 4-dimensional: {list(shape)} [Op:{op_name}]")


def _checker(op_name, x_index, w_index, depthwise=False):
    """A `check` for the registry: attrs and static shapes, before the kernel runs."""

    def check(inputs, attrs):
        _check_attrs(op_name, attrs["padding"], attrs.get("explicit_paddings", ()),
                     attrs.get("data_format", "NHWC"), attrs["strides"],
                     attrs.get("dilations", (1, 1, 1, 1)))
        x_shape = attrs["input_sizes"] if x_index is None else inputs[x_index]._value.shape
        w_shape = attrs["filter_sizes"] if w_index is None else inputs[w_index]._value.shape
        what = "input" if depthwise else "convolution input"
        _rank4(x_shape, what, op_name)
        _rank4(w_shape, "filter" if depthwise else "convolution filter", op_name)
        c = x_shape[spatial(attrs.get("data_format", "NHWC"))[1]]
        if depthwise:
            if c != w_shape[2]:
                raise errors.InvalidArgumentError(
                    None, None, f"input and filter must have the same depth: {c} vs "
                    f"{w_shape[2]} [Op:{op_name}]")
            return
        if w_shape[2] == 0 or c % w_shape[2]:
            raise errors.InvalidArgumentError(
                None, None, f"input depth must be evenly divisible by filter depth: {c} vs "
                f"{w_shape[2]} [Op:{op_name}]")
        groups = c // w_shape[2]
        if w_shape[3] % groups:
            raise errors.InvalidArgumentError(
                None, None, f"output depth must be evenly divisible by number of groups: "
                f"{w_shape[3]} vs {groups} [Op:{op_name}]")

    return check


# ---------------------------------------------------------------------------------------------
# Conv2D and its backprops
# ---------------------------------------------------------------------------------------------
def _groups(c, w_shape):
    return c // w_shape[2] if w_shape[2] else 1


@primitive("Conv2D", dtypes=CONV_TYPES, out_dtype="same",
           check=_checker("Conv2D", 0, 1))
def conv2d_kernel(xp, x, w, strides, padding, explicit_paddings=(), data_format="NHWC",
                  dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x = to_nhwc(xp, x, data_format)
    out = _conv_fwd(xp, x, w, _groups(x.shape[3], w.shape), hw)
    return from_nhwc(xp, out, data_format)


@primitive("Conv2DBackpropInput", dtypes=CONV_TYPES, out_dtype="same",
           check=_checker("Conv2DBackpropInput", None, 0))
def conv2d_backprop_input_kernel(xp, w, dy, input_sizes, strides, padding, explicit_paddings=(),
                                 data_format="NHWC", dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x_shape = tuple(input_sizes[i] for i in (0, 2, 3, 1)) if data_format == "NCHW" \
        else tuple(input_sizes)
    if dy.shape[spatial(data_format)[1]] != w.shape[3]:
        raise ValueError("Conv2DCustomBackpropInput: filter and out_backprop must have the "
                         "same out_depth")
    dx = _conv_input_grad(xp, w, to_nhwc(xp, dy, data_format), x_shape,
                          _groups(x_shape[3], w.shape), hw)
    return from_nhwc(xp, dx, data_format)


@primitive("Conv2DBackpropFilter", dtypes=CONV_TYPES, out_dtype="same",
           check=_checker("Conv2DBackpropFilter", 0, None))
def conv2d_backprop_filter_kernel(xp, x, dy, filter_sizes, strides, padding,
                                  explicit_paddings=(), data_format="NHWC",
                                  dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x = to_nhwc(xp, x, data_format)
    return _conv_filter_grad(xp, x, to_nhwc(xp, dy, data_format), tuple(filter_sizes),
                             _groups(x.shape[3], filter_sizes), hw)


def _shape(t):
    return tuple(int(d) for d in t._value.shape)


def _conv_attrs(attrs):
    return {k: v for k, v in attrs.items() if k not in ("input_sizes", "filter_sizes")}


def _grads(op, first, second):
    """(first(), second()): the gradients of an op's two inputs, each left out (None, the
    convolution not run) when the walk does not need it (op.skip_input_indices)."""
    skip = op.skip_input_indices
    return (None if 0 in skip else first(), None if 1 in skip else second())


@register_gradient("Conv2D")
def _conv2d_grad(op, grad):
    x, w = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(Conv2DBackpropInput, (w, grad), dict(a, input_sizes=_shape(x))),
        lambda: execute(Conv2DBackpropFilter, (x, grad), dict(a, filter_sizes=_shape(w))))


@register_gradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, grad):
    w, dy = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(Conv2DBackpropFilter, (grad, dy), dict(a, filter_sizes=_shape(w))),
        lambda: execute(Conv2D, (grad, w), a))


@register_gradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, grad):
    x, dy = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(Conv2DBackpropInput, (grad, dy), dict(a, input_sizes=_shape(x))),
        lambda: execute(Conv2D, (x, grad), a))


Conv2D = conv2d_kernel
Conv2DBackpropInput = conv2d_backprop_input_kernel
Conv2DBackpropFilter = conv2d_backprop_filter_kernel


# ---------------------------------------------------------------------------------------------
# Depthwise: groups of one input channel, filter (KH, KW, C, M) seen as (KH, KW, 1, C*M)
# ---------------------------------------------------------------------------------------------
def _dw_filter(w):
    kh, kw, c, m = w.shape
    return w.reshape(kh, kw, 1, c * m)


@primitive("DepthwiseConv2dNative", dtypes=DEPTHWISE_TYPES, out_dtype="same",
           check=_checker("DepthwiseConv2dNative", 0, 1, depthwise=True))
def depthwise_kernel(xp, x, w, strides, padding, explicit_paddings=(), data_format="NHWC",
                     dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x = to_nhwc(xp, x, data_format)
    return from_nhwc(xp, _conv_fwd(xp, x, _dw_filter(w), x.shape[3], hw), data_format)


@primitive("DepthwiseConv2dNativeBackpropInput", dtypes=DEPTHWISE_TYPES, out_dtype="same",
           check=_checker("DepthwiseConv2dNativeBackpropInput", None, 0, depthwise=True))
def depthwise_backprop_input_kernel(xp, w, dy, input_sizes, strides, padding,
                                    explicit_paddings=(), data_format="NHWC",
                                    dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x_shape = tuple(input_sizes[i] for i in (0, 2, 3, 1)) if data_format == "NCHW" \
        else tuple(input_sizes)
    dx = _conv_input_grad(xp, _dw_filter(w), to_nhwc(xp, dy, data_format), x_shape,
                          x_shape[3], hw)
    return from_nhwc(xp, dx, data_format)


@primitive("DepthwiseConv2dNativeBackpropFilter", dtypes=DEPTHWISE_TYPES, out_dtype="same",
           check=_checker("DepthwiseConv2dNativeBackpropFilter", 0, None, depthwise=True))
def depthwise_backprop_filter_kernel(xp, x, dy, filter_sizes, strides, padding,
                                     explicit_paddings=(), data_format="NHWC",
                                     dilations=(1, 1, 1, 1)):
    hw = _hw_attrs(strides, padding, explicit_paddings, data_format, dilations)
    x = to_nhwc(xp, x, data_format)
    kh, kw, c, m = filter_sizes
    dw = _conv_filter_grad(xp, x, to_nhwc(xp, dy, data_format), (kh, kw, 1, c * m), c, hw)
    return dw.reshape(kh, kw, c, m)


DepthwiseConv2dNative = depthwise_kernel
DepthwiseConv2dNativeBackpropInput = depthwise_backprop_input_kernel
DepthwiseConv2dNativeBackpropFilter = depthwise_backprop_filter_kernel


@register_gradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    x, w = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(DepthwiseConv2dNativeBackpropInput, (w, grad),
                        dict(a, input_sizes=_shape(x))),
        lambda: execute(DepthwiseConv2dNativeBackpropFilter, (x, grad),
                        dict(a, filter_sizes=_shape(w))))


@register_gradient("DepthwiseConv2dNativeBackpropInput")
def _depthwise_backprop_input_grad(op, grad):
    w, dy = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(DepthwiseConv2dNativeBackpropFilter, (grad, dy),
                        dict(a, filter_sizes=_shape(w))),
        lambda: execute(DepthwiseConv2dNative, (grad, w), a))


@register_gradient("DepthwiseConv2dNativeBackpropFilter")
def _depthwise_backprop_filter_grad(op, grad):
    x, dy = op.inputs
    a = _conv_attrs(op.attrs)
    return _grads(
        op,
        lambda: execute(DepthwiseConv2dNativeBackpropInput, (grad, dy),
                        dict(a, input_sizes=_shape(x))),
        lambda: execute(DepthwiseConv2dNative, (x, grad), a))
