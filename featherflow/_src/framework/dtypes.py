"""tf.DType: the dtypes TensorFlow has for numbers, booleans and strings, and their rules."""
from __future__ import annotations

import builtins

import ml_dtypes
import numpy as np

# TensorFlow's DataType enum values (types.proto); checkpoints store these numbers.
_ENUMS = {
    "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7,
    "complex64": 8, "int64": 9, "bool": 10, "qint8": 11, "quint8": 12, "qint32": 13,
    "bfloat16": 14, "qint16": 15, "quint16": 16, "uint16": 17, "complex128": 18, "float16": 19,
    "resource": 20, "variant": 21, "uint32": 22, "uint64": 23,
}

_NUMPY = {
    "float16": np.float16, "bfloat16": ml_dtypes.bfloat16, "float32": np.float32,
    "float64": np.float64, "int8": np.int8, "int16": np.int16, "int32": np.int32,
    "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
    "uint64": np.uint64, "bool": np.bool_, "complex64": np.complex64,
    "complex128": np.complex128, "string": object, "resource": object, "variant": object,
    "qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16,
    "qint32": np.int32,
}


class DType:
    """A TensorFlow dtype: `tf.float32`, `tf.int64`, `tf.string`, ...

    >>> import featherflow as tf
    >>> tf.float32.name, tf.float32.size, tf.int8.max
    ('float32', 4, 127)
    """

    __slots__ = ("_name", "_enum", "_np", "_np_type", "_kind", "_bit", "__weakref__")

    def __init__(self, name: str):
        self._name = name
        self._enum = _ENUMS[name]
        self._bit = 1 << self._enum  # dispatch checks allowed dtypes with one AND
        self._np_type = _NUMPY[name]
        self._np = np.dtype(self._np_type)
        if name == "bfloat16":
            self._kind = "f"
        elif name in ("string", "resource", "variant"):
            self._kind = "O"
        elif name.startswith("q"):
            self._kind = "q"
        else:
            self._kind = self._np.kind

    # -- identity ---------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def as_numpy_dtype(self):
        return self._np_type

    @property
    def base_dtype(self) -> "DType":
        return self

    @property
    def real_dtype(self) -> "DType":
        if self._name == "complex64":
            return float32
        if self._name == "complex128":
            return float64
        return self

    # -- classification ---------------------------------------------------------------------
    @property
    def is_floating(self) -> bool:
        return self._kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._kind in "iu" and self._kind != "O"

    @property
    def is_unsigned(self) -> bool:
        return self._kind == "u"

    @property
    def is_complex(self) -> bool:
        return self._kind == "c"

    @property
    def is_bool(self) -> bool:
        return self._kind == "b"

    @property
    def is_quantized(self) -> bool:
        return self._kind == "q"

    @property
    def is_numeric(self) -> bool:
        return self._kind in ("f", "i", "u", "c", "q")

    @property
    def is_numpy_compatible(self) -> bool:
        return self._name not in ("resource", "variant") and self._kind != "q"

    # -- limits -----------------------------------------------------------------------------
    def _limits(self):
        if self._kind == "f":
            info = ml_dtypes.finfo(self._np) if self._name == "bfloat16" else np.finfo(self._np)
            return info.min, info.max
        if self._kind in ("i", "u"):
            info = np.iinfo(self._np)
            return info.min, info.max
        raise TypeError(f"Cannot find minimum value of {self!r}.")

    @property
    def min(self):
        if self._kind in ("b", "c", "O", "q"):
            raise TypeError(f"Cannot find minimum value of {self} with type {self}.")
        return self._limits()[0]

    @property
    def max(self):
        if self._kind in ("b", "c", "O", "q"):
            raise TypeError(f"Cannot find maximum value of {self} with type {self}.")
        return self._limits()[1]

    @property
    def limits(self):
        return (self.min, self.max)

    @property
    def size(self) -> int:
        if self._name == "resource":
            return 1
        if self._name == "string":
            return 0
        return self._np.itemsize

    def is_compatible_with(self, other) -> bool:
        return self is as_dtype(other)

    # -- protocol ---------------------------------------------------------------------------
    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return f"tf.{self._name}"

    def __str__(self):
        return f"<dtype: {self._name!r}>"

    def __reduce__(self):
        return as_dtype, (self._name,)


float16 = DType("float16")
half = float16
bfloat16 = DType("bfloat16")
float32 = DType("float32")
float64 = DType("float64")
double = float64
int8 = DType("int8")
int16 = DType("int16")
int32 = DType("int32")
int64 = DType("int64")
uint8 = DType("uint8")
uint16 = DType("uint16")
uint32 = DType("uint32")
uint64 = DType("uint64")
bool = DType("bool")  # noqa: A001 - TensorFlow's public name
complex64 = DType("complex64")
complex128 = DType("complex128")
string = DType("string")
resource = DType("resource")
variant = DType("variant")
qint8 = DType("qint8")
quint8 = DType("quint8")
qint16 = DType("qint16")
quint16 = DType("quint16")
qint32 = DType("qint32")

ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32,
       uint64, bool, complex64, complex128, string, resource, variant, qint8, quint8, qint16,
       quint16, qint32)
NUMBER_DTYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16,
                 uint32, uint64, complex64, complex128)
FLOATS = (float16, bfloat16, float32, float64)
COMPLEX = (complex64, complex128)
INTS = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)
FLOAT_COMPLEX = FLOATS + COMPLEX
REAL_NUMBERS = FLOATS + INTS

_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"half": float16, "float": float32, "double": float64, "int": int32, "long": int64})
_BY_ENUM = {d.as_datatype_enum: d for d in ALL}
# Ordered so that the numeric dtypes win over the quantized ones that share their NumPy dtype.
_BY_NP = {}
for _d in reversed(ALL):
    if _d._kind not in ("O", "q"):
        _BY_NP[_d._np] = _d
_BY_NP[np.dtype(object)] = string
_BY_NP[np.dtype(np.longlong)] = int64
_BY_NP[np.dtype(np.ulonglong)] = uint64
# TensorFlow maps only these Python types (`int` and `str` are TypeErrors there too).
_BY_PY = {builtins.float: float32, builtins.bool: bool, builtins.object: string}


def from_numpy(np_dtype) -> DType:
    """The DType for a NumPy dtype object (fast path used by dispatch)."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        if np_dtype.kind in "SU":
            return string
        raise TypeError(f"Cannot convert value {np_dtype!r} to a TensorFlow DType.") from None


def as_dtype(type_value) -> DType:
    """Converts `type_value` (a DType, NumPy dtype or type, name, enum or Python type) to a DType.

    >>> import featherflow as tf
    >>> tf.as_dtype("float32") is tf.float32, tf.as_dtype(float)
    (True, tf.float32)
    """
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, np.dtype):
        return from_numpy(type_value)
    if isinstance(type_value, str):
        try:
            return _BY_NAME[type_value]
        except KeyError:
            pass
    elif isinstance(type_value, builtins.int) and not isinstance(type_value, builtins.bool):
        try:
            return _BY_ENUM[type_value]
        except KeyError:
            pass
    elif isinstance(type_value, type):
        if type_value in _BY_PY:
            return _BY_PY[type_value]
        if type_value.__module__ == "builtins":
            raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a "
                            "TensorFlow DType.")
        try:
            return from_numpy(np.dtype(type_value))
        except TypeError:
            pass
    else:
        inner = getattr(type_value, "dtype", None)
        if isinstance(inner, (DType, np.dtype)):
            return as_dtype(inner)
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow "
                    "DType.")
