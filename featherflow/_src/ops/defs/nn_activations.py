"""Activation primitives (Relu, Elu, Gelu, Softplus, Softmax, ...): kernel and gradient together.

These are primitives rather than compositions because the fused kernel is faster (one pass, no
intermediate tensors) or more stable (softplus, softmax, log_softmax for large logits). Each has a
test in tests/nn/test_fused_vs_composite.py showing it equals the composite of public ops.
Gradients are written with public ops so that nested tapes give higher-order gradients.
"""
from __future__ import annotations

import math

from featherflow._src.ops.defs.grad_util import batchable
from featherflow._src.ops.registry import FLOATS, REAL, primitive, register_gradient
from featherflow._src.framework.public import tf as _tf

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


def _up(xp, x):
    """Half-precision inputs computed in float32 (as TF's CPU kernels do for accuracy)."""
    if x.dtype.itemsize <= 2 and x.dtype.kind not in "iub":
        return xp.asarray(x, dtype=xp.float32)
    return x


def _down(out, x):
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def _mask(cond, dtype):
    """A 0/1 tensor of `dtype` where `cond` holds (gradients gate with it)."""
    return _tf().cast(cond, dtype)


# -- Relu family --------------------------------------------------------------------------------
# quiet=False (here and in ReluGrad): C ufuncs only, whose warnings the ops.defs filter catches.
@primitive("Relu", dtypes=REAL, out_dtype="same", quiet=False)
def Relu(xp, x):
    return xp.maximum(x, x.dtype.type(0))


@register_gradient("Relu")
def _relu_grad(op, grad):
    from featherflow._src.ops.dispatch import execute  # noqa: PLC0415

    # One fused op (TF's ReluGrad) instead of greater + cast + multiply: one pass, no temporaries
    # as tensors. y > 0 exactly where x > 0.
    return [execute(ReluGrad, (grad, op.outputs[0]), {})]


@primitive("ReluGrad", dtypes=REAL, out_dtype="same", quiet=False)
def ReluGrad(xp, gradients, features):
    """gradients * (features > 0), as TF's kernel (a NaN gradient stays NaN where features <= 0).
    The features broadcast from the right, so a leading (Jacobian batch) axis on `gradients`
    works."""
    return xp.multiply(gradients, features > 0)


@register_gradient("ReluGrad")
def _relu_grad_grad(op, grad):
    from featherflow._src.ops.dispatch import execute  # noqa: PLC0415

    features = op.inputs[1]
    return [execute(ReluGrad, (grad, features), {}), _tf().zeros_like(features)]


@primitive("Relu6", dtypes=REAL, out_dtype="same")
def Relu6(xp, x):
    return xp.minimum(xp.maximum(x, x.dtype.type(0)), x.dtype.type(6))


@register_gradient("Relu6")
def _relu6_grad(op, grad):
    tf = _tf()
    x = op.inputs[0]
    inside = tf.logical_and(tf.greater(x, 0), tf.less(x, 6))
    return [grad * _mask(inside, grad.dtype)]


@primitive("LeakyRelu", dtypes=FLOATS, out_dtype="same")
def LeakyRelu(xp, x, alpha=0.2):
    return xp.where(x > 0, x, x * x.dtype.type(alpha))


@register_gradient("LeakyRelu")
def _leaky_relu_grad(op, grad):
    alpha = op.attrs.get("alpha", 0.2)
    pos = _mask(_tf().greater(op.inputs[0], 0), grad.dtype)
    return [grad * (alpha + (1.0 - alpha) * pos)]


@primitive("Elu", dtypes=FLOATS, out_dtype="same")
def Elu(xp, x):
    return xp.where(x < 0, xp.expm1(xp.minimum(x, x.dtype.type(0))), x)


@register_gradient("Elu")
def _elu_grad(op, grad):
    y = op.outputs[0]
    neg = _mask(_tf().less(y, 0), grad.dtype)
    # d/dx expm1(x) = y + 1 where x < 0, and 1 elsewhere.
    return [grad * (1.0 + neg * y)]


@primitive("Selu", dtypes=FLOATS, out_dtype="same")
def Selu(xp, x):
    neg = xp.expm1(xp.minimum(x, x.dtype.type(0))) * x.dtype.type(SELU_SCALE * SELU_ALPHA)
    return xp.where(x < 0, neg, x * x.dtype.type(SELU_SCALE))


@register_gradient("Selu")
def _selu_grad(op, grad):
    y = op.outputs[0]
    neg = _mask(_tf().less(y, 0), grad.dtype)
    # y + scale*alpha = scale*alpha*exp(x) on the negative side.
    return [grad * (SELU_SCALE + neg * (y + (SELU_SCALE * SELU_ALPHA - SELU_SCALE)))]


# -- smooth activations -------------------------------------------------------------------------
def _erfc(xp, x):
    # NOTE: NumPy has no erfc ufunc; math.erfc per element is exact to float64 precision. erfc
    # (not 1 + erf) keeps gelu accurate for large negative inputs, where 1 + erf cancels.
    host = xp.asarray(x, dtype=xp.float64)
    if host.size == 0:
        return host
    try:
        from scipy.special import erfc  # noqa: PLC0415 - optional, fast when installed

        return erfc(host)
    except ImportError:
        return xp.vectorize(math.erfc, otypes=[xp.float64])(host)


@primitive("Gelu", dtypes=FLOATS, out_dtype="same")
def Gelu(xp, x, approximate=False):
    if approximate:
        v = _up(xp, x)
        inner = v.dtype.type(_SQRT_2_OVER_PI) * (v + v.dtype.type(_GELU_CUBIC) * v * v * v)
        return _down(v.dtype.type(0.5) * v * (1 + xp.tanh(inner)), x)
    h = xp.asarray(x, dtype=xp.float64)
    return _down(xp.asarray(0.5 * h * _erfc(xp, h * -(1.0 / math.sqrt(2.0)))), x)


@register_gradient("Gelu")
def _gelu_grad(op, grad):
    tf = _tf()
    x = op.inputs[0]
    if op.attrs.get("approximate", False):
        t = tf.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x))
        dinner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
        return [grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)]
    cdf = 0.5 * (1.0 + tf.math.erf(x * (1.0 / math.sqrt(2.0))))
    pdf = _INV_SQRT_2PI * tf.exp(-0.5 * x * x)
    return [grad * (cdf + x * pdf)]


@primitive("Softplus", dtypes=FLOATS, out_dtype="same")
def Softplus(xp, x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x, exact for small.
    v = _up(xp, x)
    return _down(xp.asarray(xp.logaddexp(v.dtype.type(0), v)), x)


@register_gradient("Softplus")
def _softplus_grad(op, grad):
    return [grad * _tf().sigmoid(op.inputs[0])]


@primitive("Softsign", dtypes=FLOATS, out_dtype="same")
def Softsign(xp, x):
    return x / (1 + xp.abs(x))


@register_gradient("Softsign")
def _softsign_grad(op, grad):
    d = 1.0 + _tf().abs(op.inputs[0])
    return [grad / (d * d)]


# -- softmax ------------------------------------------------------------------------------------
def _shifted(xp, x, axis):
    # Array methods, not xp.max/xp.sum: NumPy's Python-level reduction wrappers cost more than
    # these reductions of a small batch.
    v = _up(xp, xp.asarray(x))
    return v - v.max(axis=axis, keepdims=True)


# quiet=False (Softmax and LogSoftmax): C-level NumPy calls only, caught by the ops.defs filter.
@primitive("Softmax", dtypes=FLOATS, out_dtype="same", quiet=False)
def Softmax(xp, logits, axis=-1):
    """Softmax along `axis` (TF's op works on the last axis; the attr saves two transposes)."""
    if logits.size == 0:
        return xp.asarray(logits).copy()
    e = xp.exp(_shifted(xp, logits, axis))
    e /= e.sum(axis=axis, keepdims=True)
    return _down(e, logits)


@register_gradient("Softmax")
def _softmax_grad(op, grad):
    tf = _tf()
    y = op.outputs[0]
    axis = op.attrs.get("axis", -1)
    return [(grad - tf.reduce_sum(grad * y, axis=axis, keepdims=True)) * y]


@primitive("LogSoftmax", dtypes=FLOATS, out_dtype="same", quiet=False)
def LogSoftmax(xp, logits, axis=-1):
    if logits.size == 0:
        return xp.asarray(logits).copy()
    s = _shifted(xp, logits, axis)
    s -= xp.log(xp.exp(s).sum(axis=axis, keepdims=True))
    return _down(s, logits)


@register_gradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    tf = _tf()
    y = op.outputs[0]
    axis = op.attrs.get("axis", -1)
    return [grad - tf.exp(y) * tf.reduce_sum(grad, axis=axis, keepdims=True)]


# Every gradient above is elementwise in `grad` or reduces over a negative axis, so it accepts
# a leading batch axis (vectorized Jacobians). Public wrappers always pass negative axes.
batchable("Relu", "Relu6", "LeakyRelu", "Elu", "Selu", "Gelu", "Softplus", "Softsign",
          "Softmax", "LogSoftmax")
