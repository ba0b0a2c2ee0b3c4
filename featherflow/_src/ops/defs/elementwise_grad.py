"""Gradients of the elementwise primitives (ops/defs/elementwise.py), Cast and AddN.

Written with public ops, so they record on an outer tape (higher-order gradients). For complex
inputs the convention is TensorFlow's: the gradient of a holomorphic f is grad * conj(f'(x)).
Every gradient here is elementwise plus `unbroadcast`, so all of them accept a leading batch
axis on `grad` (see grad_util.BATCHABLE).
"""
from __future__ import annotations

import math

from featherflow._src.api import math_ops as m
from featherflow._src.ops.defs.grad_util import batchable, unbroadcast
from featherflow._src.framework.tensor import EagerTensor as _ET
from featherflow._src.ops.defs.elementwise import Mul as _MUL
from featherflow._src.ops.dispatch import binary as _run2, execute as _execute
from featherflow._src.ops.registry import get, register_gradient

_TRAINABLE_KINDS = "fc"


def _unary(name):
    """Registers fn(x, y, grad) -> dx as the gradient of unary op `name`."""

    def wrap(fn):
        @register_gradient(name)
        def grad_fn(op, grad):
            return fn(op.inputs[0], op.outputs[0], grad)

        batchable(name)
        return fn

    return wrap


def _binary(name, wants=False):
    """Registers fn(x, y, z, grad) -> (dx, dy) as the gradient of binary op `name`; both are
    reduced to their input's shape. Inputs the walk does not need (op.skip_input_indices) are
    neither reduced nor returned; with `wants`, fn is called as fn(x, y, z, grad, want_x,
    want_y) and computes only the wanted ones. The same computation is the op's `vjp2`, which
    the reverse walk calls without building an op view."""

    def wrap(fn):
        def vjp2(x, y, z, grad, skip):
            want_x = want_y = True
            if skip:
                want_x, want_y = 0 not in skip, 1 not in skip
            if wants:
                gx, gy = fn(x, y, z, grad, want_x, want_y)
            else:
                gx, gy = fn(x, y, z, grad)
            # Same shapes (no broadcasting, the usual case) skip the unbroadcast call.
            if want_x and gx is not None:
                if gx._value.shape != x._value.shape:
                    gx = unbroadcast(gx, x, z)
            else:
                gx = None
            if want_y and gy is not None:
                if gy._value.shape != y._value.shape:
                    gy = unbroadcast(gy, y, z)
            else:
                gy = None
            return gx, gy

        @register_gradient(name)
        def grad_fn(op, grad):
            x, y = op.inputs
            return vjp2(x, y, op.outputs[0], grad, op.skip_input_indices)

        get(name).vjp2 = vjp2
        batchable(name)
        return fn

    return wrap


def c(x):
    """conj(x); real tensors are returned as they are without a call into the public op."""
    return m.conj(x) if x._dtype._kind == "c" else x


def _mask(cond, like):
    """A 0/1 tensor of `like`'s dtype from a bool tensor."""
    return m.cast(cond, like.dtype)


# -- unary ------------------------------------------------------------------------------------
@_unary("Neg")
def _neg(x, y, g):
    return -g


@_unary("Abs")
def _abs(x, y, g):
    return g * m.sign(x)


@_unary("ComplexAbs")
def _complex_abs(x, y, g):
    # d|z| pulls back to g * z / |z| (0 at z = 0).
    return m.divide_no_nan(m.cast(g, x.dtype) * x, m.cast(y, x.dtype))


@_unary("Sign")
def _sign(x, y, g):
    return g * 0


for _name in ("Floor", "Ceil", "Round", "Rint"):
    # Piecewise constant: TensorFlow returns no gradient at all.
    register_gradient(_name)(lambda op, grad: None)
    batchable(_name)


@_unary("Square")
def _square(x, y, g):
    return g * (c(x) * 2)


@_unary("Sqrt")
def _sqrt(x, y, g):
    return g * 0.5 / c(y)


@_unary("Rsqrt")
def _rsqrt(x, y, g):
    return g * (c(y) * c(y) * c(y)) * -0.5


@_unary("Exp")
def _exp(x, y, g):
    return g * c(y)


@_unary("Expm1")
def _expm1(x, y, g):
    return g * c(m.exp(x))


@_unary("Log")
def _log(x, y, g):
    return g * m.reciprocal(c(x))


@_unary("Log1p")
def _log1p(x, y, g):
    return g * m.reciprocal(c(x) + 1)


@_unary("Sin")
def _sin(x, y, g):
    return g * c(m.cos(x))


@_unary("Cos")
def _cos(x, y, g):
    return -g * c(m.sin(x))


@_unary("Tan")
def _tan(x, y, g):
    sec = m.reciprocal(m.cos(c(x)))
    return g * (sec * sec)


@_unary("Asin")
def _asin(x, y, g):
    return g * m.rsqrt(1 - c(x) * c(x))


@_unary("Acos")
def _acos(x, y, g):
    return -g * m.rsqrt(1 - c(x) * c(x))


@_unary("Atan")
def _atan(x, y, g):
    return g * m.reciprocal(1 + c(x) * c(x))


@_unary("Sinh")
def _sinh(x, y, g):
    return g * c(m.cosh(x))


@_unary("Cosh")
def _cosh(x, y, g):
    return g * c(m.sinh(x))


@_unary("Tanh")
def _tanh(x, y, g):
    yc = c(y)
    return g * (1 - yc * yc)


@_unary("Asinh")
def _asinh(x, y, g):
    return g / m.cosh(c(y))


@_unary("Acosh")
def _acosh(x, y, g):
    return g / m.sinh(c(y))


@_unary("Atanh")
def _atanh(x, y, g):
    return g * m.reciprocal(1 - c(x) * c(x))


@_unary("Sigmoid")
def _sigmoid(x, y, g):
    yc = c(y)
    return g * (yc * (1 - yc))


@_unary("Reciprocal")
def _reciprocal(x, y, g):
    yc = c(y)
    return -g * (yc * yc)


@_unary("Erf")
def _erf(x, y, g):
    return g * (m.exp(-(x * x)) * (2 / math.sqrt(math.pi)))


@_unary("Real")
def _real(x, y, g):
    return m.cast(g, x.dtype)


@_unary("Imag")
def _imag(x, y, g):
    return m.cast(g, x.dtype) * 1j


@_unary("Conj")
def _conj(x, y, g):
    return m.conj(g)


@_unary("Angle")
def _angle(x, y, g):
    # d angle(z) pulls back to -g / (i * conj(z)) (TensorFlow's convention).
    return -m.cast(g, x.dtype) / (m.conj(x) * 1j)


# -- binary -----------------------------------------------------------------------------------
@_binary("AddV2")
def _add(x, y, z, g):
    return g, g


@_binary("Sub", wants=True)
def _sub(x, y, z, g, want_x=True, want_y=True):
    return g, (-g if want_y else None)


@_binary("Mul", wants=True)
def _mul(x, y, z, g, want_x=True, want_y=True):
    if x._dtype._kind == "c":
        x, y = m.conj(x), m.conj(y)
    if type(g) is _ET and g._dtype is x._dtype:  # the operator's work, minus its conversions
        return (_run2(_MUL, g, y) if want_x else None), \
            (_run2(_MUL, x, g) if want_y else None)
    return (g * y if want_x else None), (x * g if want_y else None)


# NOTE: Mul and AddV2 are the reverse walk's most frequent binary nodes. For dense real
# tensors of one dtype their vjp2 is the registered gradient's computation above without its
# wrapper frames; anything else (complex, IndexedSlices, other tensor types) takes the generic
# vjp2. tests/autodiff hold the two equal.
_mul_vjp2_generic = get("Mul").vjp2
_add_vjp2_generic = get("AddV2").vjp2


def _mul_vjp2(x, y, z, g, skip):
    d = x._dtype
    if type(g) is not _ET or g._dtype is not d or d._kind == "c":
        return _mul_vjp2_generic(x, y, z, g, skip)
    gx = gy = None
    if 0 not in skip:
        gx = _run2(_MUL, g, y)
        if gx._value.shape != x._value.shape:
            gx = unbroadcast(gx, x, z)
    if 1 not in skip:
        gy = _run2(_MUL, x, g)
        if gy._value.shape != y._value.shape:
            gy = unbroadcast(gy, y, z)
    return gx, gy


def _add_vjp2(x, y, z, g, skip):
    if type(g) is not _ET:
        return _add_vjp2_generic(x, y, z, g, skip)
    gx = gy = None
    shape = g._value.shape
    if 0 not in skip:
        gx = g if shape == x._value.shape else unbroadcast(g, x, z)
    if 1 not in skip:
        gy = g if shape == y._value.shape else unbroadcast(g, y, z)
    return gx, gy


get("Mul").vjp2 = _mul_vjp2
get("AddV2").vjp2 = _add_vjp2


def _realdiv_grad(x, y, z, g, want_x=True, want_y=True):
    yc = c(y)
    return (g / yc if want_x else None), (g * (-c(x) / yc / yc) if want_y else None)


_binary("RealDiv", wants=True)(_realdiv_grad)
_binary("Div", wants=True)(_realdiv_grad)


@register_gradient("FloorDiv")
def _floordiv(op, grad):
    return None, None


batchable("FloorDiv")


@_binary("FloorMod", wants=True)
def _floormod(x, y, z, g, want_x=True, want_y=True):
    return g, (g * -m.floordiv(x, y) if want_y else None)


@_binary("Pow", wants=True)
def _pow(x, y, z, g, want_x=True, want_y=True):
    xc, yc = c(x), c(y)
    gx = g * (yc * m.pow(xc, yc - 1)) if want_x else None
    if not want_y:
        return gx, None
    # log(x) only where it is defined (x > 0, or x != 0 for complex); 0 elsewhere.
    if x.dtype.is_complex:
        keep = _mask(m.not_equal(x, 0), x)
    else:
        keep = _mask(m.greater(x, 0), x)
    safe = x * keep + (1 - keep)
    gy = g * (c(z) * c(m.log(safe)) * keep)
    return gx, gy


# The gradients below compute only the wanted inputs' parts (`want_x`/`want_y`): a mean's
# DivNoNan by a constant count, or a clip's Maximum against a constant, runs no ops for the
# constant.
@_binary("Maximum", wants=True)
def _maximum(x, y, z, g, want_x=True, want_y=True):
    keep = _mask(m.greater_equal(x, y), g)
    return (g * keep if want_x else None), (g * (1 - keep) if want_y else None)


@_binary("Minimum", wants=True)
def _minimum(x, y, z, g, want_x=True, want_y=True):
    keep = _mask(m.less_equal(x, y), g)
    return (g * keep if want_x else None), (g * (1 - keep) if want_y else None)


@_binary("SquaredDifference", wants=True)
def _squared_difference(x, y, z, g, want_x=True, want_y=True):
    gx = g * (c(x - y) * 2)
    return (gx if want_x else None), (-gx if want_y else None)


@_binary("DivNoNan", wants=True)
def _div_no_nan(x, y, z, g, want_x=True, want_y=True):
    yc = c(y)
    return (m.divide_no_nan(g, yc) if want_x else None), \
        (g * m.divide_no_nan(m.divide_no_nan(-c(x), yc), yc) if want_y else None)


@_binary("Xlogy", wants=True)
def _xlogy(x, y, z, g, want_x=True, want_y=True):
    nonzero = _mask(m.not_equal(x, 0), x)
    return (g * m.xlogy(nonzero, c(y)) if want_x else None), \
        (g * m.xdivy(c(x), c(y)) if want_y else None)


@_binary("Xdivy", wants=True)
def _xdivy(x, y, z, g, want_x=True, want_y=True):
    yc = c(y)
    gx = gy = None
    if want_x:
        gx = g * m.xdivy(_mask(m.not_equal(x, 0), x), yc)
    if want_y:
        gy = g * m.xdivy(-c(x), yc * yc)
    return gx, gy


@_binary("Atan2")
def _atan2(y, x, z, g):
    # Atan2's first input is y: d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2).
    inv = g / (x * x + y * y)
    return x * inv, -y * inv


# -- Cast and AddN ----------------------------------------------------------------------------
@register_gradient("Cast")
def _cast(op, grad):
    src = op.inputs[0].dtype
    if src._kind in _TRAINABLE_KINDS and op.outputs[0].dtype._kind in _TRAINABLE_KINDS:
        return m.cast(grad, src)
    return None


@register_gradient("AddN")
def _add_n(op, grad):
    return [grad] * len(op.inputs)


batchable("Cast", "AddN")
