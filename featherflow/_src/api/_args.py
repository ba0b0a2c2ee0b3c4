"""Argument conversion shared by the public ops (TensorFlow's `args_to_matching_eager`)."""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.convert import convert_to_tensor, scalar_like
from featherflow._src.framework.tensor import EagerTensor, is_tensor


# type -> read(x): a direct read for tensor-like types (exact type match), skipping the
# conversion registry; tf.Variable registers its `value` here.
READERS: dict = {}


def register_reader(cls, read):
    READERS[cls] = read


def tensor(x, dtype=None) -> EagerTensor:
    """convert_to_tensor with a fast exit for tensors (and variables)."""
    if dtype is None:
        if type(x) is EagerTensor:
            return x
        read = READERS.get(type(x))
        if read is not None:
            return read(x)
    return convert_to_tensor(x, dtype=dtype)


def like(value, ref: EagerTensor) -> EagerTensor:
    """`value` as a tensor of `ref`'s dtype: Python/NumPy values are converted onto ref's device,
    tensors and variables are taken as they are (a dtype mismatch is the op's error)."""
    if type(value) is EagerTensor:
        return value
    read = READERS.get(type(value))
    if read is not None:
        return read(value)
    if is_tensor(value):
        return convert_to_tensor(value)
    return scalar_like(value, ref)


def pair(x, y):
    """Two operands of one dtype attr: the first tensor's dtype wins; Python values follow it."""
    if type(x) is EagerTensor:
        return x, (y if type(y) is EagerTensor else like(y, x))
    if is_tensor(x):
        x = convert_to_tensor(x)
        return x, like(y, x)
    if is_tensor(y):
        y = convert_to_tensor(y)
        return like(x, y), y
    x = convert_to_tensor(x)
    return x, like(y, x)


def matching(values, dtype=None):
    """A list of operands that share one dtype attr (add_n, concat, stack)."""
    values = list(values)
    ref = None
    if dtype is not None:
        return [convert_to_tensor(v, dtype=dtype) for v in values]
    for v in values:
        if is_tensor(v):
            ref = convert_to_tensor(v)
            break
    out = []
    for v in values:
        if ref is None:
            ref = convert_to_tensor(v)
            out.append(ref)
        else:
            out.append(like(v, ref))
    return out


def as_dtype(dtype):
    return None if dtype is None else _dt.as_dtype(dtype)
