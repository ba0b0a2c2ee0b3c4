"""tf.* array ops: shapes (reshape, expand_dims, squeeze, transpose, broadcast_to), creation
(zeros, ones, fill, *_like, identity), and explicit device copies.

Shape-like arguments (lists, tuples, TensorShape, int tensors) are read on the host here and
passed to kernels as attrs; the checks TensorFlow makes on them happen here, with its messages.
"""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.api._args import tensor as _tensor
from featherflow._src.framework import context, device as _device, dtypes as _dt, errors
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import array as A
from featherflow._src.ops.defs import creation as C

_execute = dispatch.execute
_ET = EagerTensor
_INDEX_TYPES = (_dt.int32, _dt.int64)


def _invalid(msg, op):
    return errors.InvalidArgumentError(None, None, f"{msg} [Op:{op}]")


# -- shape-like arguments -------------------------------------------------------------------
def _dim_value(d, whole):
    """One dimension as a Python int: ints, integral floats and int scalar tensors."""
    if isinstance(d, bool):  # TF reads True as 1
        return int(d)
    if isinstance(d, numbers.Integral):
        return int(d)
    if isinstance(d, numbers.Real):
        # NOTE: TF 2.21 rejects floats here; featherflow accepts integral ones (docs/compat.md)
        # so that the TF guide's tf.zeros([1., 2., 3.]) works.
        f = float(d)
        if f.is_integer():
            return int(f)
        raise TypeError(f"Cannot convert {whole!r} to EagerTensor of dtype int32")
    if is_tensor(d):
        t = _tensor(d)
        if t._dtype.is_integer and t.ndim == 0:
            return int(t)
        raise TypeError(f"Expected an int32 or int64 scalar for a dimension. Received: {d!r}")
    if d is None:
        raise ValueError(f"Cannot create a tensor with an unknown dimension (None). "
                         f"Received: shape={whole!r}")
    raise TypeError(f"Cannot convert {whole!r} to EagerTensor of dtype int32")


def shape_arg(shape) -> tuple:
    """A shape-like argument as a tuple of Python ints (may contain negatives; callers check)."""
    t = type(shape)
    if (t is tuple or t is list) and all(type(d) is int for d in shape):
        return tuple(shape)
    if isinstance(shape, TensorShape):
        if shape.rank is None:
            raise ValueError(f"Cannot create a tensor of unknown rank. Received: shape={shape}")
        return tuple(_dim_value(d, shape) for d in shape.as_list())
    if is_tensor(shape):
        t = _tensor(shape)
        if t._dtype not in _INDEX_TYPES and not t._dtype.is_integer:
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'index_type' of {t._dtype.name} is not in the list "
                f"of allowed values: int32, int64. Received: a {t._dtype.name} shape tensor")
        if t.ndim > 1:
            raise errors.InvalidArgumentError(
                None, None, f"shape must be a vector of int32 or int64. Received: a tensor of "
                f"shape {t.shape}")
        return tuple(int(v) for v in np.asarray(t.numpy()).reshape(-1))
    if isinstance(shape, (list, tuple)):
        return tuple(_dim_value(d, shape) for d in shape)
    if isinstance(shape, np.ndarray):
        return tuple(_dim_value(d, shape) for d in shape.reshape(-1).tolist())
    return (_dim_value(shape, shape),)


def _creation_shape(shape, op) -> tuple:
    dims = shape_arg(shape)
    for d in dims:
        if d < 0:
            raise _invalid(f"Dimension {d} must be >= 0", op)
    return dims


def _axis_arg(axis, what="axis") -> int:
    if is_tensor(axis):
        t = _tensor(axis)
        if not t._dtype.is_integer or t.shape.num_elements() != 1:
            raise TypeError(f"`{what}` must be an int scalar. Received: {axis!r}")
        return int(np.asarray(t.numpy()).reshape(()))
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"Cannot convert {axis!r} to EagerTensor of dtype int32")
    return int(axis)


# -- shapes ---------------------------------------------------------------------------------
def reshape(tensor, shape, name=None):
    """Reshapes a tensor; one dimension may be -1 (inferred).

    >>> import featherflow as tf
    >>> tf.reshape(tf.range(6), [-1, 3]).shape
    TensorShape([2, 3])
    """
    x = tensor if type(tensor) is _ET else _tensor(tensor)
    dims = shape_arg(shape)
    n = x._value.size
    known, unknown = 1, -1
    for i, d in enumerate(dims):
        if d == -1:
            if unknown >= 0:
                raise _invalid(f"Only one input size may be -1, not both {unknown} and {i}",
                               "Reshape")
            unknown = i
        elif d < 0:
            raise _invalid(f"Size {i} must be non-negative, not {d}", "Reshape")
        else:
            known *= d
    if unknown >= 0:
        if known == 0 or n % known:
            if not (known == 0 and n == 0):
                raise _invalid(f"Input to reshape is a tensor with {n} values, but the requested "
                               f"shape requires a multiple of {known}", "Reshape")
        dims = dims[:unknown] + (n // known if known else 0,) + dims[unknown + 1:]
    elif known != n:
        raise _invalid(f"Input to reshape is a tensor with {n} values, but the requested shape "
                       f"has {known}", "Reshape")
    return _execute(A.Reshape, (x,), {"shape": dims})


def expand_dims(input, axis, name=None):  # noqa: A002 - TF's name
    """Inserts a dimension of size 1 at `axis`.

    >>> import featherflow as tf
    >>> tf.expand_dims(tf.constant([1, 2]), 0).shape
    TensorShape([1, 2])
    """
    x = _tensor(input)
    axis = _axis_arg(axis)
    shape = x._value.shape
    rank = len(shape)
    if not -rank - 1 <= axis <= rank:
        raise _invalid(f"Tried to expand dim index {axis} for tensor with {rank} dimensions.",
                       "ExpandDims")
    if axis < 0:
        axis += rank + 1
    return _execute(A.Reshape, (x,), {"shape": shape[:axis] + (1,) + shape[axis:]})


def squeeze(input, axis=None, name=None):  # noqa: A002
    """Removes dimensions of size 1 (all of them, or those in `axis`).

    >>> import featherflow as tf
    >>> tf.squeeze(tf.zeros([1, 2, 1])).shape
    TensorShape([2])
    """
    x = _tensor(input)
    shape = x._value.shape
    rank = len(shape)
    if axis is None:
        new = tuple(d for d in shape if d != 1)
    else:
        axes = [axis] if not isinstance(axis, (list, tuple)) else list(axis)
        drop = set()
        for a in axes:
            a = _axis_arg(a)
            if not -rank <= a < rank:
                raise _invalid(f"Tried to squeeze dim index {a} for tensor with {rank} "
                               "dimensions.", "Squeeze")
            a %= rank
            if shape[a] != 1:
                raise _invalid(f"Can not squeeze dim[{a}], expected a dimension of 1, got "
                               f"{shape[a]}", "Squeeze")
            drop.add(a)
        new = tuple(d for i, d in enumerate(shape) if i not in drop)
    return _execute(A.Reshape, (x,), {"shape": new})


def broadcast_to(input, shape, name=None):  # noqa: A002
    """Broadcasts `input` to `shape` with NumPy's rules.

    >>> import featherflow as tf
    >>> tf.broadcast_to(tf.constant([1, 2]), [2, 2]).numpy().tolist()
    [[1, 2], [1, 2]]
    """
    x = _tensor(input)
    dims = shape_arg(shape)
    for d in dims:
        if d < 0:
            raise _invalid(f"Dimension {d} must be >= 0", "BroadcastTo")
    src = x._value.shape
    if len(src) > len(dims):
        raise _invalid(f"Rank of input ({len(src)}) must be no greater than rank of output "
                       f"shape ({len(dims)}).", "BroadcastTo")
    for a, b in zip(reversed(src), reversed(dims)):
        if a != b and a != 1:
            raise _invalid(f"Incompatible shapes: [{','.join(map(str, src))}] vs. "
                           f"[{','.join(map(str, dims))}]", "BroadcastTo")
    return _execute(A.BroadcastTo, (x,), {"shape": dims})


def _out_type(out_type, op):
    out_type = _dt.int32 if out_type is None else _dt.as_dtype(out_type)
    if out_type not in _INDEX_TYPES:
        raise _invalid(f"Value for attr 'out_type' of {out_type.name} is not in the list of "
                       "allowed values: int32, int64", op)
    return out_type


def shape(input, out_type=None, name=None):  # noqa: A002
    """The shape of a tensor, as an int32 (or `out_type`) vector.

    >>> import featherflow as tf
    >>> tf.shape(tf.zeros([2, 3])).numpy()
    array([2, 3], dtype=int32)
    """
    x = _tensor(input)
    out_type = _out_type(out_type, "Shape")
    return _execute(A.Shape, (x,), {"out_type": out_type._np})


def size(input, out_type=None, name=None):  # noqa: A002
    """The number of elements of a tensor, as an int32 (or `out_type`) scalar.

    >>> import featherflow as tf
    >>> int(tf.size(tf.zeros([2, 3])))
    6
    """
    x = _tensor(input)
    out_type = _out_type(out_type, "Size")
    return _execute(A.Size, (x,), {"out_type": out_type._np})


def rank(input, name=None):  # noqa: A002
    """The number of dimensions of a tensor, as an int32 scalar.

    >>> import featherflow as tf
    >>> int(tf.rank(tf.zeros([2, 3])))
    2
    """
    return _execute(A.Rank, (_tensor(input),))


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes dimensions (reverses them by default); `conjugate` also conjugates complex values.

    >>> import featherflow as tf
    >>> tf.transpose(tf.zeros([2, 3])).shape
    TensorShape([3, 2])
    """
    x = _tensor(a)
    n = x.ndim
    if perm is None:
        perm = tuple(range(n - 1, -1, -1))
    else:
        perm = shape_arg(perm)
        if len(perm) != n:
            raise _invalid(f"transpose expects a vector of size {n}. But input(1) is a vector "
                           f"of size {len(perm)}", "Transpose")
        perm = tuple(p + n if p < 0 else p for p in perm)
        for p in perm:
            if not 0 <= p < n:
                raise _invalid(f"{p} is out of range [0 .. {n})", "Transpose")
        for i in range(n):
            if i not in perm:
                raise _invalid(f"{i} is missing from {{{','.join(map(str, perm))}}}.",
                               "Transpose")
    out = _execute(A.Transpose, (x,), {"perm": perm})
    if conjugate and x._dtype.is_complex:
        from featherflow._src.api.math_ops import conj  # noqa: PLC0415

        out = conj(out)
    return out


# -- creation -------------------------------------------------------------------------------
def zeros(shape, dtype=_dt.float32, name=None, layout=None):
    """A tensor of zeros (empty strings for tf.string).

    >>> import featherflow as tf
    >>> tf.zeros([2, 3]).shape, tf.zeros([2], tf.int32).dtype
    (TensorShape([2, 3]), tf.int32)
    """
    dtype = _dt.as_dtype(dtype)
    return _execute(C.Zeros, (), {"shape": _creation_shape(shape, "Fill"), "dtype": dtype._np})


def ones(shape, dtype=_dt.float32, name=None, layout=None):
    """A tensor of ones.

    >>> import featherflow as tf
    >>> tf.ones([2], tf.int32).numpy()
    array([1, 1], dtype=int32)
    """
    dtype = _dt.as_dtype(dtype)
    if dtype._kind == "O":
        raise TypeError(f"Cannot convert 1 to EagerTensor of dtype {dtype.name}")
    return _execute(C.Ones, (), {"shape": _creation_shape(shape, "Fill"), "dtype": dtype._np})


def fill(dims, value, name=None, layout=None):
    """A tensor of shape `dims` filled with the scalar `value`.

    >>> import featherflow as tf
    >>> tf.fill([2], 7).numpy()
    array([7, 7], dtype=int32)
    """
    dims = _creation_shape(dims, "Fill")
    v = _tensor(value)
    vshape = v._value.shape
    if vshape and v._value.size != 1:
        raise _invalid(f"value must represent a scalar, got shape [{','.join(map(str, vshape))}]",
                       "Fill")
    return _execute(C.Fill, (v,), {"dims": dims})


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """Zeros with the shape (and, unless `dtype` is given, the dtype) of `input`.

    >>> import featherflow as tf
    >>> tf.zeros_like(tf.constant([1, 2])).numpy()
    array([0, 0], dtype=int32)
    """
    x = _tensor(input)
    attrs = {} if dtype is None else {"dtype": _dt.as_dtype(dtype)._np}
    return _execute(C.ZerosLike, (x,), attrs)


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """Ones with the shape (and, unless `dtype` is given, the dtype) of `input`.

    >>> import featherflow as tf
    >>> tf.ones_like(tf.constant([1.0, 2.0])).numpy()
    array([1., 1.], dtype=float32)
    """
    x = _tensor(input)
    attrs = {} if dtype is None else {"dtype": _dt.as_dtype(dtype)._np}
    return _execute(C.OnesLike, (x,), attrs)


def identity(input, name=None):  # noqa: A002
    """Returns a tensor with the same value; under tf.device it copies to that device.

    >>> import featherflow as tf
    >>> tf.identity(tf.constant([1, 2])).numpy()
    array([1, 2], dtype=int32)
    """
    x = _tensor(input)
    attrs = None
    if context.THREAD.device_spec is not None:
        dev, _ = dispatch.place(A.Identity, (x,), {})
        if dev is not x._device:
            # The cross-device copy must be the result's own buffer, not a view of a temporary.
            attrs = {"copy": True}
    return _execute(A.Identity, (x,), attrs)


def _copy_to(t, device_string):
    """Explicit copy of `t` onto the device named by `device_string` (Tensor.cpu()/.gpu())."""
    x = _tensor(t)
    spec = _device.as_spec(device_string)
    dev, _ = _device.resolve(spec, x._dtype, context.GLOBAL.soft_placement)
    return dispatch.copy_to_device(x, dev)
