"""convert_to_tensor and tf.constant: Python and NumPy values to tensors, with TF's dtype inference.

TensorFlow's rules: Python ints are int32 (int64 when they do not fit), Python floats are float32,
complex numbers complex128, text is `string`, NumPy values keep their dtype. A requested dtype
converts a Python value only when it is exactly representable (TypeError otherwise).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from featherflow._src.framework import context, device as _device, dtypes as _dt
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor import EagerTensor, make


_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1

_conversion_registry = []  # (base_type, priority, func), sorted by priority


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """tf.register_tensor_conversion_function: teach convert_to_tensor a new type."""
    if isinstance(base_type, tuple):
        if any(not isinstance(t, type) for t in base_type):
            raise TypeError(f"base_type must be a type or a tuple of types. Received: {base_type!r}")
    elif not isinstance(base_type, type):
        raise TypeError(f"base_type must be a type or a tuple of types. Received: {base_type!r}")
    if not callable(conversion_func):
        raise TypeError("conversion_func must be callable.")
    _conversion_registry.append((base_type, priority, conversion_func))
    _conversion_registry.sort(key=lambda row: row[1])


# ---------------------------------------------------------------------------------------------
# Python / NumPy values -> host arrays
# ---------------------------------------------------------------------------------------------
def _to_bytes_array(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    flat_in, flat_out = a.reshape(-1), out.reshape(-1)
    for i, s in enumerate(flat_in):
        flat_out[i] = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return out


def _is_python_value(value) -> bool:
    return not isinstance(value, (np.ndarray, np.generic))


def _infer_host(value):
    """A host array for a value with no requested dtype, inferred as TensorFlow does."""
    if isinstance(value, np.generic):  # before float: np.float64 subclasses float, keeps float64
        a = np.asarray(value)
        return _to_bytes_array(a) if a.dtype.kind in "SU" else a
    if isinstance(value, float):
        return np.asarray(value, np.float32)
    if isinstance(value, bool):
        return np.asarray(value, np.bool_)
    if isinstance(value, int):
        if _INT32_MIN <= value <= _INT32_MAX:
            return np.asarray(value, np.int32)
        if _INT64_MIN <= value <= _INT64_MAX:
            return np.asarray(value, np.int64)
        raise ValueError(f"Can't convert Python int {value} to a tensor: it does not fit in int64.")
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.kind in "SU":
            return _to_bytes_array(a)
        if a.dtype.kind == "O":
            return _object_array(a)
        return a
    if isinstance(value, (str, bytes)):
        return _to_bytes_array(np.asarray(value))
    if isinstance(value, complex):
        return np.asarray(value, np.complex128)
    a = _sequence_array(value)
    kinds = _python_kinds(value)
    if len(kinds) > 1 and not kinds <= {"int", "float", "complex"}:
        raise ValueError("Can't convert Python sequence with mixed types to Tensor.")
    if a.dtype.kind == "f" and a.dtype.itemsize == 8 and "np64" not in kinds:
        return a.astype(np.float32)
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8 and kinds == {"int"}:
        if a.size == 0 or (a.min() >= _INT32_MIN and a.max() <= _INT32_MAX):
            return a.astype(np.int32)
        return a
    if a.dtype.kind in "SU":
        return _to_bytes_array(a)
    if a.dtype.kind == "O":
        return _object_array(a)
    return a


def _python_kinds(value) -> set:
    """The kinds of leaf in a nested Python sequence: int, float, bool, text, complex, or
    'np'/'np64' for NumPy and tensor leaves (which keep their own dtype)."""
    kinds = set()
    for x in _flat_items(value):
        if isinstance(x, bool):
            kinds.add("bool")
        elif isinstance(x, (np.ndarray, np.generic, EagerTensor)) or \
                getattr(x, "_is_tensor_like", False):
            kinds.add("np64" if x.dtype in (np.float64, _dt.float64) else "np")
        elif isinstance(x, int):
            kinds.add("int")
        elif isinstance(x, float):
            kinds.add("float")
        elif isinstance(x, complex):
            kinds.add("complex")
        elif isinstance(x, (str, bytes)):
            kinds.add("text")
        else:
            kinds.add(type(x).__name__)
    kinds.discard("np")
    if "np64" in kinds and kinds <= {"np64", "float", "int"}:
        return {"np64"}
    return kinds


def _sequence_array(value):
    if isinstance(value, (list, tuple)) and len(value) == 0:
        return np.zeros((0,), np.float32)
    try:
        a = np.array(value)
    except ValueError as e:
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from e
    except OverflowError:
        raise ValueError(f"Can't convert Python sequence with out-of-range integer to int64: "
                         f"{value!r}") from None
    if a.dtype.kind == "O" and a.ndim and any(isinstance(x, (list, tuple)) for x in a.flat):
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.")
    return a


def _flat_items(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flat_items(v)
    else:
        yield value


def _object_array(a):
    flat = list(a.flat)
    if flat and all(isinstance(x, (str, bytes, np.str_, np.bytes_)) for x in flat):
        return _to_bytes_array(a)
    if flat and all(isinstance(x, int) and not isinstance(x, bool) for x in flat):
        raise ValueError("Can't convert Python int to a tensor: a value does not fit in int64.")
    raise TypeError(f"Failed to convert elements of {a.tolist()!r} to Tensor: expected numbers, "
                    "booleans or strings of one kind.")


def _cannot(value, dtype):
    text = repr(value)
    if len(text) > 200:
        text = text[:200] + "..."
    return TypeError(f"Cannot convert {text} to EagerTensor of dtype {dtype.name}")


def _host_with_dtype(value, dtype: _dt.DType, allow_cast_numpy: bool):
    """A host array of `dtype` for `value`, TypeError when a Python value does not fit exactly."""
    np_dtype = dtype._np
    if dtype._kind == "O":
        a = _infer_host(value)
        if a.dtype != object:
            raise _cannot(value, dtype)
        return a
    if isinstance(value, (np.ndarray, np.generic)) and not _is_python_value(value):
        a = np.asarray(value)
        if a.dtype == np_dtype:
            return a
        if a.dtype.kind in "OSU":
            raise _cannot(value, dtype)
        if allow_cast_numpy:
            return a.astype(np_dtype)
        raise _cannot(value, dtype)
    # Python values: exact conversion only (TypeError otherwise).
    if isinstance(value, float) and dtype._kind in "fc":
        return np.asarray(value, np_dtype)
    a = _infer_host(value)
    if a.dtype == np_dtype:
        return a
    src, dst = a.dtype.kind, dtype._kind
    if src == "O" or dst == "b" or (src == "c" and dst != "c") or (src == "f" and dst in "iu"):
        raise _cannot(value, dtype)
    if dst in "iu" and src in "iu" and a.size:
        # NOTE: TensorFlow wraps out-of-range Python ints silently (300 -> uint8 44); featherflow
        # refuses them (docs/compat.md).
        info = np.iinfo(np_dtype)
        if int(a.min()) < info.min or int(a.max()) > info.max:
            raise _cannot(value, dtype)
    if src == "f" and a.dtype != np.float64:
        a = np.asarray(value, dtype=np.float64)  # inferred float32 may have lost precision
    return a.astype(np_dtype)


def host_array(value, dtype=None, allow_cast_numpy=True) -> np.ndarray:
    if dtype is None:
        return _infer_host(value)
    return _host_with_dtype(value, _dt.as_dtype(dtype), allow_cast_numpy)


# ---------------------------------------------------------------------------------------------
# Placement of new constants
# ---------------------------------------------------------------------------------------------
def place_host(a: np.ndarray, dtype: _dt.DType, dev=None) -> EagerTensor:
    """A tensor holding host array `a` on `dev` (default: the scope's or the default device)."""
    if dev is None:
        dev = current_device(dtype)
    backend = dev.backend
    if backend.direct and backend.name == "numpy":
        # NOTE: a 0-d numeric value is held as a NumPy scalar, not a 0-d array: NumPy's scalar
        # arithmetic is ~8x faster, and kernels accept both. Strings stay 0-d object arrays.
        value = a[()] if a.ndim == 0 and a.dtype.kind != "O" else a
        nbytes = a.nbytes if a.base is None else 0
    else:
        value = backend.from_host(a)
        nbytes = backend.nbytes(value)
    return make(value, dtype, dev, nbytes)


def current_device(dtype):
    spec = context.THREAD.device_spec
    if spec is None:
        return _device.default_device(dtype)
    dev, _ = _device.resolve(spec, dtype, context.GLOBAL.soft_placement)
    return dev


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------
def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> EagerTensor:
    """Converts a Python, NumPy or tensor-like value to a tf.Tensor.

    >>> import featherflow as tf
    >>> tf.convert_to_tensor([1, 2]).dtype, tf.convert_to_tensor(1.5).dtype
    (tf.int32, tf.float32)
    """
    if type(value) is EagerTensor:
        if dtype is not None and value._dtype is not _dt.as_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for "
                             f"Tensor with dtype {value._dtype.name}: {value!r}")
        return value
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    tensor = _convert_registered(value, dtype, name)
    if tensor is not None:
        return tensor
    if dtype is None and dtype_hint is not None and _is_python_value(value):
        try:
            return constant(value, dtype=dtype_hint)
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, allow_cast_numpy=True)


def _convert_registered(value, dtype, name):
    for base_type, _, func in _conversion_registry:
        if isinstance(value, base_type):
            out = func(value, dtype=dtype, name=name, as_ref=False)
            if out is NotImplemented:
                continue
            return _check_dtype(out, dtype)
    hook = getattr(type(value), "__tf_tensor__", None)
    if hook is not None:
        return _check_dtype(hook(value, dtype, name), dtype)
    return None


def _check_dtype(out, dtype):
    if dtype is not None and out._dtype is not dtype:
        raise ValueError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                         f"{out._dtype.name}: {out!r}")
    return out


def constant(value, dtype=None, shape=None, name="Const", allow_cast_numpy=True) -> EagerTensor:
    """Creates a constant tensor from a Python or NumPy value.

    >>> import featherflow as tf
    >>> tf.constant([[1, 2], [3, 4]]).shape
    TensorShape([2, 2])
    >>> tf.constant(0.0, shape=[2]).numpy()
    array([0., 0.], dtype=float32)
    """
    if isinstance(value, EagerTensor) or getattr(value, "_is_tensor_like", False):
        t = convert_to_tensor(value)
        if dtype is not None and t._dtype is not _dt.as_dtype(dtype):
            from featherflow._src.api.math_ops import cast  # noqa: PLC0415

            t = cast(t, dtype)
        if shape is not None:
            from featherflow._src.api.array_ops import reshape  # noqa: PLC0415

            t = reshape(t, shape)
        return t
    if dtype is None:
        a = _infer_host(value)
        dtype = _dt.from_numpy(a.dtype)
    else:
        dtype = _dt.as_dtype(dtype)
        a = _host_with_dtype(value, dtype, allow_cast_numpy)
    if shape is not None:
        a = _reshape_constant(a, shape, value)
    return place_host(_unaliased(a, value), dtype)


# Values whose host array is always built afresh (never memory the caller can write).
_FRESH_TYPES = (list, tuple, int, float, complex, bool, str, bytes, np.generic)


def _unaliased(a, value):
    """`a`, the host array built for `value`, or a copy of it when it shares memory with
    `value` (a NumPy array, a buffer, an object with __array__): a tensor is immutable, so it
    never aliases memory its creator can still write (TensorFlow copies too)."""
    if a is value:
        return a.copy()
    if isinstance(value, _FRESH_TYPES):
        return a
    try:
        shared = np.may_share_memory(a, value)
    except Exception:  # noqa: BLE001 - an exotic array-like: copy to be safe
        shared = True
    return a.copy() if shared else a


def _reshape_constant(a, shape, value):
    shape = TensorShape(shape)
    if not shape.is_fully_defined():
        raise TypeError(f"Eager execution of tf.constant with unsupported shape. Received: "
                        f"shape {shape} with unknown dimensions")
    target = tuple(shape.as_list())
    n = int(np.prod(target, dtype=np.int64))
    if a.size == 1:
        return np.broadcast_to(a.reshape(()), target).copy()
    if a.size != n:
        raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                        f"{value!r} (converted from {value!r}) has {a.size} elements, but got "
                        f"`shape` {shape} with {n} elements).")
    return a.reshape(target)


# Host float operands as NumPy scalars, one dict per dtype enum: `x * 3.0` in a loop would
# otherwise build np.float32(3.0) (~0.2 us, a third of the conversion) every time. Only finite
# results of finite, non-zero Python floats are kept (0.0 == -0.0 as keys; an overflow must warn
# every time, as the uncached cast does); the dicts are cleared when they grow large.
_HOST_FLOATS = [{} for _ in range(32)]
_HOST_FLOATS_MAX = 256


def _host_float(value, dtype):
    """`value` (a float, or a subclass such as np.float64) as dtype's NumPy scalar, kept in
    _HOST_FLOATS when it is a plain float (scalar_like reads the cache inline)."""
    s = dtype._np_type(value)
    if type(value) is float and value and math.isfinite(s):  # (also when the cast overflowed)
        cache = _HOST_FLOATS[dtype._enum]
        if len(cache) >= _HOST_FLOATS_MAX:
            cache.clear()
        cache[value] = s
    return s


def scalar_like(value, ref: EagerTensor) -> EagerTensor:
    """Converts a Python/NumPy operand of a binary op to `ref`'s dtype, on `ref`'s device."""
    dtype = ref._dtype
    if isinstance(value, float) and dtype._kind == "f":
        dev = ref._device
        if dev.xp is np and dev.direct:
            # `x * 2.0` on the host: the NumPy scalar place_host would make, without the 0-d
            # array in between (same rounding, same overflow warning).
            s = _HOST_FLOATS[dtype._enum].get(value) if type(value) is float else None
            if s is None:  # before the tensor exists: the cast may warn (an error under -W error)
                s = _host_float(value, dtype)
            # A NumPy scalar owns its itemsize (its own attributes are slower to read).
            return make(s, dtype, dev, dtype._np.itemsize)
        a = np.asarray(value, dtype._np)
    else:
        a = _host_with_dtype(value, dtype, allow_cast_numpy=True)
    return place_host(a, dtype, ref._device)
