"""tf.math: elementwise arithmetic, comparisons, logical ops and casts."""
from __future__ import annotations

from featherflow._src.api._args import matching, pair, tensor
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.tensor import EagerTensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import elementwise as ew

_execute = dispatch.execute
_ET = EagerTensor


# -- unary ------------------------------------------------------------------------------------
def _unary(op, doc):
    def fn(x, name=None):
        if type(x) is not _ET:
            x = tensor(x)
        return _execute(op, (x,))

    fn.__doc__ = doc
    return fn


negative = _unary(ew.Neg, "Computes -x elementwise.")
sign = _unary(ew.Sign, "Elementwise sign: -1, 0 or 1.")
square = _unary(ew.Square, "Computes x*x elementwise.")
sqrt = _unary(ew.Sqrt, "Computes the square root elementwise.")
rsqrt = _unary(ew.Rsqrt, "Computes 1/sqrt(x) elementwise.")
exp = _unary(ew.Exp, "Computes e**x elementwise.")
expm1 = _unary(ew.Expm1, "Computes e**x - 1 elementwise, accurately near 0.")
log = _unary(ew.Log, "Natural logarithm, elementwise.")
log1p = _unary(ew.Log1p, "Computes log(1 + x) elementwise, accurately near 0.")
sin = _unary(ew.Sin, "Sine, elementwise.")
cos = _unary(ew.Cos, "Cosine, elementwise.")
tan = _unary(ew.Tan, "Tangent, elementwise.")
asin = _unary(ew.Asin, "Inverse sine, elementwise.")
acos = _unary(ew.Acos, "Inverse cosine, elementwise.")
atan = _unary(ew.Atan, "Inverse tangent, elementwise.")
sinh = _unary(ew.Sinh, "Hyperbolic sine, elementwise.")
cosh = _unary(ew.Cosh, "Hyperbolic cosine, elementwise.")
tanh = _unary(ew.Tanh, "Hyperbolic tangent, elementwise.")
asinh = _unary(ew.Asinh, "Inverse hyperbolic sine, elementwise.")
acosh = _unary(ew.Acosh, "Inverse hyperbolic cosine, elementwise.")
atanh = _unary(ew.Atanh, "Inverse hyperbolic tangent, elementwise.")
sigmoid = _unary(ew.Sigmoid, "Computes 1 / (1 + exp(-x)) elementwise, stably.")
reciprocal = _unary(ew.Reciprocal, "Computes 1/x elementwise.")
floor = _unary(ew.Floor, "Largest integer not greater than x, elementwise.")
ceil = _unary(ew.Ceil, "Smallest integer not less than x, elementwise.")
round = _unary(ew.Round, "Rounds half to even, elementwise.")  # noqa: A001 - TF's name
rint = _unary(ew.Rint, "Rounds half to even, elementwise.")
erf = _unary(ew.Erf, "The Gauss error function, elementwise.")
is_nan = _unary(ew.IsNan, "True where x is NaN.")
is_inf = _unary(ew.IsInf, "True where x is +-inf.")
is_finite = _unary(ew.IsFinite, "True where x is finite.")
logical_not = _unary(ew.LogicalNot, "Logical NOT, elementwise.")
invert = _unary(ew.Invert, "Bitwise NOT, elementwise (tf.bitwise.invert).")
angle = _unary(ew.Angle, "The argument of a complex tensor.")


def abs(x, name=None):  # noqa: A001 - TF's name
    """Absolute value, elementwise; the magnitude (a real tensor) for complex input.

    >>> import featherflow as tf
    >>> tf.abs(tf.constant([-1, 2])).numpy()
    array([1, 2], dtype=int32)
    """
    x = tensor(x)
    return _execute(ew.ComplexAbs if x._dtype.is_complex else ew.Abs, (x,))


def real(input, name=None):  # noqa: A002 - TF's name
    """The real part of a complex tensor; a real numeric tensor is returned as it is."""
    x = tensor(input)
    if x._dtype.is_complex:
        return _execute(ew.Real, (x,))
    if x._dtype.is_numeric and not x._dtype.is_bool:
        return x
    raise TypeError(f"input must be a numeric tensor. Received: dtype {x._dtype!r}")


def imag(input, name=None):  # noqa: A002 - TF's name
    """The imaginary part of a complex tensor; zeros of the input's dtype for real input."""
    x = tensor(input)
    if x._dtype.is_complex:
        return _execute(ew.Imag, (x,))
    from featherflow._src.api.array_ops import zeros_like  # noqa: PLC0415

    return zeros_like(x)


def conj(x, name=None):
    x = tensor(x)
    if x._dtype.is_complex:
        return _execute(ew.Conj, (x,))
    if x._dtype.is_numeric:
        return x
    raise TypeError(f"Expected numeric or variant tensor, got dtype {x._dtype!r}")


# -- binary -----------------------------------------------------------------------------------
def _binary(op, doc):
    def fn(x, y, name=None):
        if type(x) is not _ET or type(y) is not _ET:
            x, y = pair(x, y)
        return _execute(op, (x, y))

    fn.__doc__ = doc
    return fn


add = _binary(ew.AddV2, """Returns x + y elementwise, with broadcasting.

    >>> import featherflow as tf
    >>> tf.add(tf.constant([1, 2]), 1).numpy()
    array([2, 3], dtype=int32)
    """)
subtract = _binary(ew.Sub, "Returns x - y elementwise.")
multiply = _binary(ew.Mul, "Returns x * y elementwise.")
floordiv = _binary(ew.FloorDiv, "Returns floor(x / y) elementwise (integer division for ints).")
floormod = _binary(ew.FloorMod, "Returns x - floor(x / y) * y elementwise (Python's %).")
mod = floormod
truncatediv = _binary(ew.TruncateDiv, "Division rounding toward zero.")
truncatemod = _binary(ew.TruncateMod, "Remainder of division rounding toward zero (C's fmod).")
maximum = _binary(ew.Maximum, "Elementwise max(x, y), with broadcasting.")
minimum = _binary(ew.Minimum, "Elementwise min(x, y), with broadcasting.")
squared_difference = _binary(ew.SquaredDifference, "Returns (x - y)**2 elementwise.")
xlogy = _binary(ew.Xlogy, "x * log(y), with 0 where x is 0.")
xdivy = _binary(ew.Xdivy, "x / y, with 0 where x is 0.")
less = _binary(ew.Less, "x < y elementwise.")
less_equal = _binary(ew.LessEqual, "x <= y elementwise.")
greater = _binary(ew.Greater, "x > y elementwise.")
greater_equal = _binary(ew.GreaterEqual, "x >= y elementwise.")
equal = _binary(ew.Equal, "x == y elementwise.")
not_equal = _binary(ew.NotEqual, "x != y elementwise.")
logical_and = _binary(ew.LogicalAnd, "Logical AND, elementwise.")
logical_or = _binary(ew.LogicalOr, "Logical OR, elementwise.")
bitwise_and = _binary(ew.BitwiseAnd, "Bitwise AND, elementwise.")
bitwise_or = _binary(ew.BitwiseOr, "Bitwise OR, elementwise.")
bitwise_xor = _binary(ew.BitwiseXor, "Bitwise XOR, elementwise.")
left_shift = _binary(ew.LeftShift, "Bitwise left shift, elementwise.")
right_shift = _binary(ew.RightShift, "Bitwise right shift, elementwise.")


def atan2(y, x, name=None):
    """Elementwise arctangent of y/x, using the signs of both to pick the quadrant."""
    y, x = pair(y, x)
    return _execute(ew.Atan2, (y, x))


def pow(x, y, name=None):  # noqa: A001 - TF's name
    """x ** y elementwise. Integers to negative integer powers raise InvalidArgumentError."""
    x, y = pair(x, y)
    return _execute(ew.Pow, (x, y))


def logical_xor(x, y, name="LogicalXor"):
    """Logical XOR, elementwise: (x | y) & ~(x & y)."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


_TRUEDIV = {_dt.uint8: _dt.float32, _dt.int8: _dt.float32, _dt.uint16: _dt.float32,
            _dt.int16: _dt.float32, _dt.uint32: _dt.float64, _dt.int32: _dt.float64,
            _dt.uint64: _dt.float64, _dt.int64: _dt.float64}
_TRUEDIV_OK = set(_TRUEDIV) | set(_dt.FLOAT_COMPLEX)


def truediv(x, y, name=None):
    """x / y, casting integers to float first (int8/int16 to float32, wider ints to float64).

    >>> import featherflow as tf
    >>> (tf.constant(1) / tf.constant(2)).dtype
    tf.float64
    """
    if type(x) is not _ET or type(y) is not _ET:
        x, y = pair(x, y)
    d = x._dtype
    if d not in _TRUEDIV_OK:
        allowed = ", ".join(sorted(repr(t) for t in _TRUEDIV_OK))
        raise TypeError(f"Invalid dtype {d!r} in __truediv__. Expected one of {{{allowed}}}.")
    if y._dtype is not d:
        raise TypeError(f"`x` and `y` must have the same dtype, got {d!r} != {y._dtype!r}.")
    target = _TRUEDIV.get(d)
    if target is not None:
        x, y = cast(x, target), cast(y, target)
    return _execute(ew.RealDiv, (x, y))


divide = truediv


def divide_no_nan(x, y, name=None):
    """x / y, with 0 where y is 0; integers are cast to float first, as in truediv."""
    if type(x) is not _ET or type(y) is not _ET:
        x, y = pair(x, y)
    d = x._dtype
    if d not in _TRUEDIV_OK:
        raise TypeError(f"Invalid dtype {d!r} in divide_no_nan: expected a float, complex or "
                        f"integer tensor. Received: {d!r}")
    target = _TRUEDIV.get(d)
    if target is not None and y._dtype is d:
        x, y = cast(x, target), cast(y, target)
    return _execute(ew.DivNoNan, (x, y))


def div(x, y, name=None):
    """TF 1's division: truncating for integers, true division for floats."""
    x, y = pair(x, y)
    return _execute(ew.Div, (x, y))


def realdiv(x, y, name=None):
    x, y = pair(x, y)
    return _execute(ew.RealDiv, (x, y))


def scalar_mul(scalar, x, name=None):
    """Multiplies tensor `x` by a scalar."""
    x = tensor(x)
    return multiply(tensor(scalar, dtype=x._dtype) if not isinstance(scalar, _ET) else scalar, x)


def add_n(inputs, name=None):
    """Sums a list of tensors of one shape and dtype.

    >>> import featherflow as tf
    >>> tf.add_n([tf.constant(1.0), tf.constant(2.0)]).numpy()
    np.float32(3.0)
    """
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor/IndexedSlices with the "
                         f"same dtype and shape. Received: {inputs!r}")
    tensors = matching(inputs)
    shape = tensors[0].shape
    for t in tensors[1:]:
        if not t.shape.is_compatible_with(shape):
            raise ValueError(f"All inputs to add_n must have the same shape. Received: shapes "
                             f"{[str(u.shape) for u in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    return _execute(ew.AddN, tuple(tensors))


def cast(x, dtype, name=None):
    """Casts `x` to `dtype` (complex to real keeps the real part; floats to ints truncate).

    >>> import featherflow as tf
    >>> tf.cast(tf.constant([1.7, -1.7]), tf.int32).numpy()
    array([ 1, -1], dtype=int32)
    """
    dtype = _dt.as_dtype(dtype)
    if getattr(x, "_is_indexed_slices", False):
        return type(x)(cast(x.values, dtype), x.indices, x.dense_shape)
    x = tensor(x)
    if x._dtype is dtype:
        return x
    return _execute(ew.Cast, (x,), {"dtype": dtype._np})

