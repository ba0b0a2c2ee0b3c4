"""Pooling primitives: MaxPool, AvgPool and their gradients (MaxPoolGrad, MaxPoolGradGrad,
AvgPoolGrad), each with a gradient so that pooling is twice differentiable, as in TF.

Kernels loop over the KH*KW window taps (strided views, no copies), never over pixels.
NOTE: TF's AvgPoolGrad takes `orig_input_shape` as an int32 tensor input; here it is an attr.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.defs.conv import (from_nhwc, out_size, pad_hw, spatial, tap, to_nhwc)
from featherflow._src.ops.dispatch import execute
from featherflow._src.ops.registry import REAL, primitive, register_gradient

AVG_TYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_HALF = (np.dtype(np.float16), _dt.bfloat16._np)


def _check(op_name, paddings):
    def check(inputs, attrs):
        padding, data_format = attrs["padding"], attrs.get("data_format", "NHWC")
        ksize, strides = attrs["ksize"], attrs["strides"]
        if padding not in paddings:
            allowed = ", ".join(f'"{p}"' for p in paddings)
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'padding' of \"{padding}\" is not in the list of "
                f"allowed values: {allowed} [Op:{op_name}]")
        if data_format not in ("NHWC", "NCHW"):
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'data_format' of \"{data_format}\" is not in the "
                f"list of allowed values: \"NHWC\", \"NCHW\" [Op:{op_name}]")
        if len(ksize) != 4 or len(strides) != 4:
            raise errors.InvalidArgumentError(
                None, None, f"Sliding window ksize and strides fields must specify 4 "
                f"dimensions [Op:{op_name}]")
        if any(k <= 0 for k in ksize):
            raise errors.InvalidArgumentError(
                None, None, "Sliding window ksize must be positive. The specified or inferred "
                f"ksize is: {','.join(map(str, ksize))} [Op:{op_name}]")
        if any(s <= 0 for s in strides):
            raise errors.InvalidArgumentError(
                None, None, f"Stride must be > 0, but got {min(strides)} [Op:{op_name}]")
        _, c = spatial(data_format)
        if ksize[0] != 1 or strides[0] != 1:
            raise errors.UnimplementedError(
                None, None, f"Pooling is not yet supported on the batch dimension. "
                f"[Op:{op_name}]")
        if ksize[c] != 1 or strides[c] != 1:
            raise errors.UnimplementedError(
                None, None, "Depthwise max pooling is not supported on this device. "
                f"[Op:{op_name}]")
        shape = attrs["orig_input_shape"] if "orig_input_shape" in attrs \
            else inputs[0]._value.shape
        if len(shape) != 4:
            raise errors.InvalidArgumentError(
                None, None, f"tensor_in must be 4-dimensional: {list(shape)} [Op:{op_name}]")
        if padding == "EXPLICIT":
            ex = list(attrs.get("explicit_paddings", ()))
            if len(ex) != 8 or any(p < 0 for p in ex) or ex[0] or ex[1] or ex[2 * c] or \
                    ex[2 * c + 1]:
                raise errors.InvalidArgumentError(
                    None, None, "explicit_paddings must be 8 nonnegative values with zero "
                    f"padding in the batch and depth dimensions [Op:{op_name}]")

    return check


def _geometry(shape, ksize, strides, padding, explicit_paddings, data_format):
    """NHWC shape -> (oh, ow, kh, kw, sh, sw, (pt, pb, pl, pr))."""
    (h, w), _ = spatial(data_format)
    ex = tuple(explicit_paddings) if padding == "EXPLICIT" else (0,) * 8
    oh, pt, pb = out_size(shape[1], ksize[h], strides[h], 1, padding, ex[2 * h], ex[2 * h + 1],
                          allow_empty=True)
    ow, pl, pr = out_size(shape[2], ksize[w], strides[w], 1, padding, ex[2 * w], ex[2 * w + 1],
                          allow_empty=True)
    return oh, ow, ksize[h], ksize[w], strides[h], strides[w], (pt, pb, pl, pr)


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" or dtype in _HALF else np.iinfo(dtype).min


def _argmax_taps(xp, x, ksize, strides, padding, explicit_paddings, data_format):
    """(max, index of the first max tap in row-major window order, padded shape, geometry)."""
    x = xp.asarray(to_nhwc(xp, x, data_format))
    geo = _geometry(x.shape, ksize, strides, padding, explicit_paddings, data_format)
    oh, ow, kh, kw, sh, sw, pads = geo
    xp_ = pad_hw(xp, x, pads, _lowest(x.dtype))
    best = tap(xp_, 0, 0, oh, ow, sh, sw)
    idx = xp.zeros(best.shape, dtype=np.int32)
    is_float = x.dtype.kind == "f" or x.dtype in _HALF
    for k in range(1, kh * kw):
        v = tap(xp_, k // kw, k % kw, oh, ow, sh, sw)
        # NOTE: strictly greater keeps the first max (TF routes the gradient there); a NaN is
        # skipped as TF's CPU kernel does, unless the whole window is NaN.
        upd = v > best
        if is_float:
            upd |= (best != best) & (v == v)
        best = xp.where(upd, v, best)
        idx = xp.where(upd, np.int32(k), idx)
    return best, idx, xp_.shape, geo


@primitive("MaxPool", dtypes=REAL, out_dtype="same", check=_check("MaxPool", ("SAME", "VALID",
                                                                              "EXPLICIT")))
def max_pool_kernel(xp, x, ksize, strides, padding, explicit_paddings=(), data_format="NHWC"):
    best, _, _, _ = _argmax_taps(xp, x, ksize, strides, padding, explicit_paddings, data_format)
    return from_nhwc(xp, xp.ascontiguousarray(best), data_format)


def _route(xp, idx, g, padded_shape, geo, x_shape):
    """Adds each output's grad at its argmax position in a zero input (the MaxPool adjoint)."""
    oh, ow, kh, kw, sh, sw, (pt, _, pl, _) = geo
    dx = xp.zeros(padded_shape, dtype=np.float32 if g.dtype in _HALF else g.dtype)
    zero = xp.zeros((), dtype=dx.dtype)
    for k in range(kh * kw):
        tap(dx, k // kw, k % kw, oh, ow, sh, sw)[...] += xp.where(idx == k, g, zero)
    return dx[:, pt: pt + x_shape[1], pl: pl + x_shape[2], :].astype(g.dtype)


@primitive("MaxPoolGrad", dtypes=REAL, out_dtype="same",
           check=_check("MaxPoolGrad", ("SAME", "VALID", "EXPLICIT")))
def max_pool_grad_kernel(xp, x, y, g, ksize, strides, padding, explicit_paddings=(),
                         data_format="NHWC"):
    _, idx, padded, geo = _argmax_taps(xp, x, ksize, strides, padding, explicit_paddings,
                                       data_format)
    g = to_nhwc(xp, g, data_format)
    if g.shape != idx.shape:
        raise ValueError(f"Expected grad shape to be {list(idx.shape)}, but got "
                         f"{list(g.shape)}")
    x_shape = to_nhwc(xp, xp.asarray(x), data_format).shape
    return from_nhwc(xp, _route(xp, idx, g, padded, geo, x_shape), data_format)


@primitive("MaxPoolGradGrad", dtypes=REAL, out_dtype="same",
           check=_check("MaxPoolGradGrad", ("SAME", "VALID", "EXPLICIT")))
def max_pool_grad_grad_kernel(xp, x, y, g, ksize, strides, padding, explicit_paddings=(),
                              data_format="NHWC"):
    """g has x's shape; picks g at each window's argmax (the adjoint of MaxPoolGrad in g)."""
    _, idx, _, geo = _argmax_taps(xp, x, ksize, strides, padding, explicit_paddings, data_format)
    oh, ow, kh, kw, sh, sw, pads = geo
    gp = pad_hw(xp, xp.asarray(to_nhwc(xp, g, data_format)), pads)
    out = xp.zeros(idx.shape, dtype=gp.dtype)
    for k in range(kh * kw):
        out = xp.where(idx == k, tap(gp, k // kw, k % kw, oh, ow, sh, sw), out)
    return from_nhwc(xp, out, data_format)


@register_gradient("MaxPool")
def _max_pool_grad(op, grad):
    return (execute(MaxPoolGrad, (op.inputs[0], op.outputs[0], grad), op.attrs),)


@register_gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    x, y, _ = op.inputs
    return None, None, execute(MaxPoolGradGrad, (x, y, grad), op.attrs)


@register_gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    x, y, _ = op.inputs
    return None, None, execute(MaxPoolGrad, (x, y, grad), op.attrs)


MaxPool = max_pool_kernel
MaxPoolGrad = max_pool_grad_kernel
MaxPoolGradGrad = max_pool_grad_grad_kernel


# ---------------------------------------------------------------------------------------------
# Average pooling: SAME divides by the number of in-bounds elements, as TF
# ---------------------------------------------------------------------------------------------
def _counts(xp, n, k, s, before, out, dtype):
    start = np.arange(out) * s - before
    return xp.asarray((np.minimum(start + k, n) - np.maximum(start, 0)).astype(dtype))


def _divisor(xp, shape, geo, dtype):
    oh, ow, kh, kw, sh, sw, (pt, _, pl, _) = geo
    ch = _counts(xp, shape[1], kh, sh, pt, oh, dtype)
    cw = _counts(xp, shape[2], kw, sw, pl, ow, dtype)
    return (ch[:, None] * cw[None, :])[None, :, :, None]


@primitive("AvgPool", dtypes=AVG_TYPES, out_dtype="same",
           check=_check("AvgPool", ("SAME", "VALID")))
def avg_pool_kernel(xp, x, ksize, strides, padding, data_format="NHWC"):
    dtype = x.dtype
    ct = np.float32 if dtype in _HALF else dtype
    x = xp.asarray(to_nhwc(xp, x, data_format)).astype(ct, copy=False)
    geo = _geometry(x.shape, ksize, strides, padding, (), data_format)
    oh, ow, kh, kw, sh, sw, pads = geo
    xp_ = pad_hw(xp, x, pads)
    total = xp.zeros((x.shape[0], oh, ow, x.shape[3]), dtype=ct)
    for k in range(kh * kw):
        total += tap(xp_, k // kw, k % kw, oh, ow, sh, sw)
    out = total / _divisor(xp, x.shape, geo, ct)
    return from_nhwc(xp, out.astype(dtype, copy=False), data_format)


@primitive("AvgPoolGrad", dtypes=AVG_TYPES, out_dtype="same",
           check=_check("AvgPoolGrad", ("SAME", "VALID")))
def avg_pool_grad_kernel(xp, g, orig_input_shape, ksize, strides, padding, data_format="NHWC"):
    dtype = g.dtype
    ct = np.float32 if dtype in _HALF else dtype
    shape = tuple(orig_input_shape)
    if data_format == "NCHW":
        shape = (shape[0], shape[2], shape[3], shape[1])
    geo = _geometry(shape, ksize, strides, padding, (), data_format)
    oh, ow, kh, kw, sh, sw, (pt, pb, pl, pr) = geo
    g = xp.asarray(to_nhwc(xp, g, data_format)).astype(ct, copy=False)
    if g.shape != (shape[0], oh, ow, shape[3]):
        raise ValueError(f"Expected grad shape to be {[shape[0], oh, ow, shape[3]]}, but got "
                         f"{list(g.shape)}")
    g = g / _divisor(xp, shape, geo, ct)
    dx = xp.zeros((shape[0], shape[1] + pt + pb, shape[2] + pl + pr, shape[3]), dtype=ct)
    for k in range(kh * kw):
        tap(dx, k // kw, k % kw, oh, ow, sh, sw)[...] += g
    dx = dx[:, pt: pt + shape[1], pl: pl + shape[2], :].astype(dtype)
    return from_nhwc(xp, dx, data_format)


AvgPool = avg_pool_kernel
AvgPoolGrad = avg_pool_grad_kernel


@register_gradient("AvgPool")
def _avg_pool_grad(op, grad):
    shape = tuple(int(d) for d in op.inputs[0]._value.shape)
    return (execute(AvgPoolGrad, (grad,), dict(op.attrs, orig_input_shape=shape)),)


@register_gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    attrs = {k: v for k, v in op.attrs.items() if k != "orig_input_shape"}
    return (execute(AvgPool, (grad,), attrs),)
