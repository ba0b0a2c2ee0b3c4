"""Elementwise primitives: unary math, binary arithmetic, comparisons, logical and bitwise ops.

Each row names the TensorFlow op, its allowed dtypes and its `xp` kernel. Gradients live in
`ops/defs/elementwise_grad.py`, registered against the same names.
"""
from __future__ import annotations

import operator

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import (FLOAT_COMPLEX, FLOATS, INTS, NUMBERS, REAL, SIGNED_INTS,
                                           primitive)

BOOL = (_dt.bool,)
SIGNED = FLOATS + SIGNED_INTS + _dt.COMPLEX
ALL_TYPES = NUMBERS + BOOL + (_dt.string,)


def _same(xp, out, x):
    """Keeps the input's dtype where NumPy would promote (e.g. bfloat16 through float32)."""
    return out if out.dtype == x.dtype else out.astype(x.dtype)


# ---------------------------------------------------------------------------------------------
# Unary ops: (TF name, dtypes, kernel)
# ---------------------------------------------------------------------------------------------
def _unary(name, dtypes, fn, differentiable=True):
    def kernel(xp, x):
        return _same(xp, fn(xp, x), x)

    kernel.__name__ = name
    return primitive(name, dtypes=dtypes, differentiable=differentiable, out_dtype="same",
                     quiet=False)(kernel)


def _sigmoid(xp, x):
    # Stable for large |x|: exp only of non-positive numbers.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _rint(xp, x):
    return xp.rint(x)


def _erf(xp, x):
    from math import erf  # noqa: PLC0415 - scalar fallback keeps NumPy the only dependency

    host = xp.asarray(x, dtype=xp.float64)
    v = xp.vectorize(erf, otypes=[xp.float64])(host) if host.size else host
    return v.astype(x.dtype)


Abs = _unary("Abs", FLOATS + SIGNED_INTS, lambda xp, x: xp.abs(x))
ComplexAbs = primitive("ComplexAbs", dtypes=_dt.COMPLEX)(lambda xp, x: xp.abs(x))
Neg = _unary("Neg", SIGNED, lambda xp, x: -x)
Sign = _unary("Sign", SIGNED, lambda xp, x: xp.sign(x))
Square = _unary("Square", NUMBERS, lambda xp, x: xp.square(x))
Sqrt = _unary("Sqrt", FLOAT_COMPLEX, lambda xp, x: xp.sqrt(x))
Rsqrt = _unary("Rsqrt", FLOAT_COMPLEX, lambda xp, x: 1 / xp.sqrt(x))
Exp = _unary("Exp", FLOAT_COMPLEX, lambda xp, x: xp.exp(x))
Expm1 = _unary("Expm1", FLOAT_COMPLEX, lambda xp, x: xp.expm1(x))
Log = _unary("Log", FLOAT_COMPLEX, lambda xp, x: xp.log(x))
Log1p = _unary("Log1p", FLOAT_COMPLEX, lambda xp, x: xp.log1p(x))
Sin = _unary("Sin", FLOAT_COMPLEX, lambda xp, x: xp.sin(x))
Cos = _unary("Cos", FLOAT_COMPLEX, lambda xp, x: xp.cos(x))
Tan = _unary("Tan", FLOAT_COMPLEX, lambda xp, x: xp.tan(x))
Asin = _unary("Asin", FLOAT_COMPLEX, lambda xp, x: xp.arcsin(x))
Acos = _unary("Acos", FLOAT_COMPLEX, lambda xp, x: xp.arccos(x))
Atan = _unary("Atan", FLOAT_COMPLEX, lambda xp, x: xp.arctan(x))
Sinh = _unary("Sinh", FLOAT_COMPLEX, lambda xp, x: xp.sinh(x))
Cosh = _unary("Cosh", FLOAT_COMPLEX, lambda xp, x: xp.cosh(x))
Tanh = _unary("Tanh", FLOAT_COMPLEX, lambda xp, x: xp.tanh(x))
Asinh = _unary("Asinh", FLOAT_COMPLEX, lambda xp, x: xp.arcsinh(x))
Acosh = _unary("Acosh", FLOAT_COMPLEX, lambda xp, x: xp.arccosh(x))
Atanh = _unary("Atanh", FLOAT_COMPLEX, lambda xp, x: xp.arctanh(x))
Sigmoid = _unary("Sigmoid", FLOAT_COMPLEX, _sigmoid)
# NOTE: test for integers with kind "iu": ml_dtypes' bfloat16 has kind "V", not "f".
Reciprocal = _unary("Reciprocal", FLOAT_COMPLEX + SIGNED_INTS, lambda xp, x:
                    xp.floor_divide(1, x) if x.dtype.kind in "iu" else 1 / x)
Erf = _unary("Erf", FLOATS, _erf)
Floor = _unary("Floor", FLOATS, lambda xp, x: xp.floor(x))
Ceil = _unary("Ceil", FLOATS, lambda xp, x: xp.ceil(x))
# Round half to even, as TensorFlow's Round.
Round = _unary("Round", NUMBERS, lambda xp, x: x if x.dtype.kind in "iu" else xp.rint(x))
Rint = _unary("Rint", FLOATS, _rint)
IsNan = primitive("IsNan", dtypes=FLOATS, differentiable=False)(lambda xp, x: xp.isnan(x))
IsInf = primitive("IsInf", dtypes=FLOATS, differentiable=False)(lambda xp, x: xp.isinf(x))
IsFinite = primitive("IsFinite", dtypes=FLOATS, differentiable=False)(
    lambda xp, x: xp.isfinite(x))
LogicalNot = primitive("LogicalNot", dtypes=BOOL, differentiable=False)(
    lambda xp, x: xp.logical_not(x))
Invert = primitive("Invert", dtypes=INTS, differentiable=False)(lambda xp, x: xp.invert(x))
Real = primitive("Real", dtypes=_dt.COMPLEX)(lambda xp, x: xp.real(x).copy())
Imag = primitive("Imag", dtypes=_dt.COMPLEX)(lambda xp, x: xp.imag(x).copy())
Conj = primitive("Conj", dtypes=_dt.COMPLEX + (_dt.variant,))(lambda xp, x: xp.conj(x))
Angle = primitive("Angle", dtypes=_dt.COMPLEX)(lambda xp, x: xp.angle(x))


# ---------------------------------------------------------------------------------------------
# Binary ops
# ---------------------------------------------------------------------------------------------
def _binary(name, dtypes, fn, differentiable=True):
    # NumPy (with ml_dtypes for bfloat16) keeps the dtype of two same-dtype operands, so the
    # kernel is the function itself; tests/ops check output dtypes for every row.
    fn.__name__ = name
    return primitive(name, dtypes=dtypes, differentiable=differentiable, out_dtype="same",
                     quiet=False)(fn)


def _check_int_div(xp, x, y):
    if x.dtype.kind in "iu" and bool(xp.any(y == 0)):
        raise ValueError("Integer division by zero")


def _floordiv(xp, x, y):
    _check_int_div(xp, x, y)
    return xp.floor_divide(x, y)


def _floormod(xp, x, y):
    _check_int_div(xp, x, y)
    return xp.mod(x, y)  # the result takes the divisor's sign, as Python's % and TF's FloorMod


def _truncatediv(xp, x, y):
    _check_int_div(xp, x, y)
    if x.dtype.kind in "iu":
        q = xp.abs(x) // xp.abs(y)
        return xp.where((x < 0) != (y < 0), -q, q).astype(x.dtype)
    return xp.trunc(x / y)


def _truncatemod(xp, x, y):
    _check_int_div(xp, x, y)
    return xp.fmod(x, y)


def _pow(xp, x, y):
    if x.dtype.kind in "iu" and bool(xp.any(y < 0)):
        raise ValueError("Integers to negative integer powers are not allowed")
    return xp.power(x, y)


def _div(xp, x, y):
    # TF's Div: C-style (truncating) for integers, true division for floats.
    if x.dtype.kind in "iu":
        return _truncatediv(xp, x, y)
    return x / y


def _div_no_nan(xp, x, y):
    zero = y == 0
    if not zero.any():  # (the usual case) no division by zero: plain division
        return x / y
    safe = xp.where(zero, xp.ones_like(y), y)
    return xp.where(zero, xp.zeros_like(x), x / safe)


def _xlogy(xp, x, y):
    return xp.where(x == 0, xp.zeros_like(x), x * xp.log(y))


def _xdivy(xp, x, y):
    return xp.where(x == 0, xp.zeros_like(x), x / y)


# NOTE: Python operators, not xp.add & co: on NumPy scalars (how 0-d values are held) the
# operator takes NumPy's scalar fast path, ~10x quicker than a ufunc call.
def _add(xp, x, y):
    return x + y


def _sub(xp, x, y):
    return x - y


def _mul(xp, x, y):
    return x * y


def _realdiv(xp, x, y):
    out = x / y
    return out if out.dtype == x.dtype else out.astype(x.dtype)


AddV2 = _binary("AddV2", NUMBERS + (_dt.string,), _add)
Sub = _binary("Sub", NUMBERS, _sub)
Mul = _binary("Mul", NUMBERS, _mul)
AddV2.operator, Sub.operator, Mul.operator = operator.add, operator.sub, operator.mul
RealDiv = _binary("RealDiv", NUMBERS, _realdiv)
Div = _binary("Div", NUMBERS, _div)
FloorDiv = _binary("FloorDiv", REAL, _floordiv)
FloorMod = _binary("FloorMod", REAL, _floormod)
TruncateDiv = _binary("TruncateDiv", REAL, _truncatediv, differentiable=False)
TruncateMod = _binary("TruncateMod", (_dt.int32, _dt.int64, _dt.float32, _dt.float64),
                      _truncatemod, differentiable=False)
Pow = _binary("Pow", FLOAT_COMPLEX + SIGNED_INTS, _pow)
Maximum = _binary("Maximum", REAL, lambda xp, x, y: xp.maximum(x, y))
Minimum = _binary("Minimum", REAL, lambda xp, x, y: xp.minimum(x, y))
SquaredDifference = _binary("SquaredDifference", FLOAT_COMPLEX + (_dt.int32, _dt.int64),
                            lambda xp, x, y: xp.square(xp.subtract(x, y)))
DivNoNan = _binary("DivNoNan", FLOAT_COMPLEX, _div_no_nan)
Xlogy = _binary("Xlogy", FLOAT_COMPLEX, _xlogy)
Xdivy = _binary("Xdivy", FLOAT_COMPLEX, _xdivy)
Atan2 = _binary("Atan2", FLOATS, lambda xp, x, y: xp.arctan2(x, y))
BitwiseAnd = _binary("BitwiseAnd", INTS, lambda xp, x, y: xp.bitwise_and(x, y), False)
BitwiseOr = _binary("BitwiseOr", INTS, lambda xp, x, y: xp.bitwise_or(x, y), False)
BitwiseXor = _binary("BitwiseXor", INTS, lambda xp, x, y: xp.bitwise_xor(x, y), False)
LeftShift = _binary("LeftShift", INTS, lambda xp, x, y: xp.left_shift(x, y), False)
RightShift = _binary("RightShift", INTS, lambda xp, x, y: xp.right_shift(x, y), False)
LogicalAnd = primitive("LogicalAnd", dtypes=BOOL, differentiable=False)(
    lambda xp, x, y: xp.logical_and(x, y))
LogicalOr = primitive("LogicalOr", dtypes=BOOL, differentiable=False)(
    lambda xp, x, y: xp.logical_or(x, y))


# ---------------------------------------------------------------------------------------------
# Comparisons (bool outputs, never differentiable)
# ---------------------------------------------------------------------------------------------
def _compare(name, dtypes, fn):
    return primitive(name, dtypes=dtypes, differentiable=False, out_dtype=_dt.bool,
                     quiet=False)(fn)


Less = _compare("Less", REAL, lambda xp, x, y: x < y)
LessEqual = _compare("LessEqual", REAL, lambda xp, x, y: x <= y)
Greater = _compare("Greater", REAL, lambda xp, x, y: x > y)
GreaterEqual = _compare("GreaterEqual", REAL, lambda xp, x, y: x >= y)
Equal = _compare("Equal", ALL_TYPES, lambda xp, x, y: xp.equal(x, y))
NotEqual = _compare("NotEqual", ALL_TYPES, lambda xp, x, y: xp.not_equal(x, y))
ApproximateEqual = _compare("ApproximateEqual", NUMBERS, None)


def _approx(xp, x, y, tolerance=1e-5):
    return xp.abs(x - y) < tolerance


ApproximateEqual.kernel = _approx



# ---------------------------------------------------------------------------------------------
# Cast
# ---------------------------------------------------------------------------------------------
def _cast(xp, x, dtype, Truncate=False):  # noqa: N803 - TF's attr name
    if x.dtype == dtype:
        return x.copy() if hasattr(x, "copy") else x
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = xp.real(x)
    if x.dtype == object or dtype == object:
        raise TypeError(f"Cast between {x.dtype} and {dtype} is not supported: use tf.strings "
                        "ops for text")
    return x.astype(dtype)


Cast = primitive("Cast", dtypes=None, same_dtype=0)(_cast)


def _add_n(xp, *inputs):
    if len(inputs) == 1:
        return inputs[0].copy() if hasattr(inputs[0], "copy") else inputs[0]
    # A new value (the inputs are never written), of the inputs' dtype: AddN's inputs share one
    # dtype (checked by dispatch), and `+` of two operands of one dtype keeps it.
    out = inputs[0] + inputs[1]
    for x in inputs[2:]:
        out = out + x
    return out


# quiet=False: `+` warns from this module (silenced by the ops.defs filter); gradients sum here.
AddN = primitive("AddN", dtypes=NUMBERS, quiet=False, out_dtype="same")(_add_n)
