"""Python operators on tensors and variables, routed through the public ops as TensorFlow does.

`x + y` converts a Python/NumPy `y` to x's dtype (TypeError when it cannot); two tensors of
different dtypes are the op's InvalidArgumentError. `==` is elementwise, except that operands
which cannot be compared (no conversion, incompatible shapes) give False, as in TensorFlow.
"""
from __future__ import annotations

from featherflow._src.api import math_ops as m
from featherflow._src.api._args import READERS, tensor
from featherflow._src.framework import errors
from featherflow._src.framework.convert import scalar_like
from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.ops.defs import elementwise as ew

_execute = m.dispatch.execute
_binary = m.dispatch.binary  # execute(op, (x, y)) for the one-primitive operators
_ET = EagerTensor


def _operand(y, x):
    """The right-hand operand as a tensor of x's dtype (None when it must be NotImplemented)."""
    if type(y) is _ET:
        return y
    if type(y) is float:  # `x * 2.0`: straight to the scalar conversion
        return scalar_like(y, x)
    read = READERS.get(type(y))
    if read is not None:
        return read(y)
    if is_tensor(y):
        return tensor(y)
    return scalar_like(y, x)


def _fast_binary(op):
    def forward(x, y):
        if type(x) is not _ET:
            x = tensor(x)
        if type(y) is not _ET:
            y = _operand(y, x)
        return _binary(op, x, y)

    def reflected(y, x):
        if type(y) is not _ET:
            y = tensor(y)
        return _binary(op, _operand(x, y), y)

    return forward, reflected


def _via(fn):
    def forward(x, y):
        return fn(tensor(x), y)

    def reflected(y, x):
        y = tensor(y)
        return fn(_operand(x, y), y)

    return forward, reflected


def _and(x, y):
    return m.logical_and(x, y) if tensor(x).dtype.is_bool else m.bitwise_and(x, y)


def _or(x, y):
    return m.logical_or(x, y) if tensor(x).dtype.is_bool else m.bitwise_or(x, y)


def _xor(x, y):
    return m.logical_xor(x, y) if tensor(x).dtype.is_bool else m.bitwise_xor(x, y)


def _invert(x):
    x = tensor(x)
    return m.logical_not(x) if x.dtype.is_bool else m.invert(x)


def _matmul(x, y):
    from featherflow._src.api.linalg_ops import matmul  # noqa: PLC0415

    return matmul(x, y)


def _eq(x, y):
    if y is None:
        return False
    try:
        x = tensor(x)
        y = _operand(y, x)
        return _execute(ew.Equal, (x, y))
    except (TypeError, ValueError, errors.InvalidArgumentError):
        return False


def _ne(x, y):
    if y is None:
        return True
    try:
        x = tensor(x)
        y = _operand(y, x)
        return _execute(ew.NotEqual, (x, y))
    except (TypeError, ValueError, errors.InvalidArgumentError):
        return True


def _getitem(x, key):
    from featherflow._src.api.slicing import getitem  # noqa: PLC0415

    return getitem(tensor(x), key)


def _neg(x):
    return _execute(ew.Neg, (tensor(x),))


def _abs(x):
    return m.abs(x)


def _pos(x):
    return tensor(x)


# The operators that are one primitive on two operands of one dtype.
FAST_BINARY = {"add": ew.AddV2, "sub": ew.Sub, "mul": ew.Mul, "floordiv": ew.FloorDiv,
               "mod": ew.FloorMod, "pow": ew.Pow, "lt": ew.Less, "le": ew.LessEqual,
               "gt": ew.Greater, "ge": ew.GreaterEqual}
BINARY = {name: _fast_binary(op) for name, op in FAST_BINARY.items()}
for _name in ("lt", "le", "gt", "ge"):  # no reflected forms: Python swaps the comparison
    BINARY[_name] = (BINARY[_name][0], None)
BINARY.update({
    "truediv": _via(m.truediv),
    "matmul": _via(_matmul),
    "and": _via(_and),
    "or": _via(_or),
    "xor": _via(_xor),
})
UNARY = {"neg": _neg, "abs": _abs, "invert": _invert, "pos": _pos}


def install(cls, convert=None):
    """Adds the operator methods to `cls`; `convert(self)` turns an instance into a tensor
    first (Variables pass their read value)."""
    # One wrapper per arity (no *args packing): these run on every `v * x` of a Variable.
    def bind(fn):
        if convert is None:
            return fn
        return lambda self, other: fn(convert(self), other)

    def bind_fast(op):
        # `v * x` on a Variable: read, convert the operand, execute; one frame for the method.
        def forward(self, other):
            x = convert(self)
            return _binary(op, x, other if type(other) is _ET else _operand(other, x))

        def reflected(self, other):
            y = convert(self)
            return _binary(op, _operand(other, y), y)

        return forward, reflected

    def bind_unary(fn):
        if convert is None:
            return fn
        return lambda self: fn(convert(self))

    for name, (fwd, rev) in BINARY.items():
        if convert is not None and name in FAST_BINARY:
            fast_fwd, fast_rev = bind_fast(FAST_BINARY[name])
            setattr(cls, f"__{name}__", fast_fwd)
            if rev is not None:
                setattr(cls, f"__r{name}__", fast_rev)
            continue
        setattr(cls, f"__{name}__", bind(fwd))
        if rev is not None:
            setattr(cls, f"__r{name}__", bind(rev))
    for name, fn in UNARY.items():
        setattr(cls, f"__{name}__", bind_unary(fn))
    cls.__eq__ = bind(_eq)
    cls.__ne__ = bind(_ne)
    cls.__getitem__ = bind(_getitem)
    # Tensors compare elementwise, so they cannot be hashed; __eq__ must not restore __hash__.
    cls.__hash__ = cls.__dict__.get("__hash__") or EagerTensor.__hash__
    cls.OVERLOADABLE_OPERATORS = frozenset(
        [f"__{n}__" for n in BINARY] + [f"__r{n}__" for n, (_, r) in BINARY.items() if r]
        + [f"__{n}__" for n in UNARY] + ["__eq__", "__ne__", "__getitem__"])


install(EagerTensor)
