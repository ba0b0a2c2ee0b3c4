"""`v[key]` for a Variable: a read of the slice that can also write back (`v[1:3].assign(x)`).

The result is an EagerTensor (it behaves as the sliced value everywhere) whose `assign`,
`assign_add` and `assign_sub` write through to the variable with ResourceStridedSliceAssign.
"""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.framework import context, errors
from featherflow._src.framework.convert import register_tensor_conversion_function
from featherflow._src.framework.tensor import EagerTensor, is_tensor, make, new_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import elementwise as ew
from featherflow._src.ops.defs import resource as R
from featherflow._src.ops.defs.array import Identity as _IDENTITY

_new = new_tensor
_THREAD = context.THREAD


def _index(k, key):
    if k is None or isinstance(k, (bool, np.bool_)):
        pass
    elif isinstance(k, numbers.Integral):
        return int(k)
    elif is_tensor(k) and k.dtype.is_integer and tuple(k.shape) == ():
        return int(k)
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    f"scalar tf.int32/tf.int64 tensors are valid indices, got {key!r}")


def _bound(x, key):
    return None if x is None else _index(x, key)


def normalize_key(key):
    """A tuple of ints, slices, Ellipsis and None: what ResourceStridedSliceAssign takes."""
    items = key if isinstance(key, (tuple, list)) else (key,)
    out = []
    for k in items:
        if k is None or k is Ellipsis:
            out.append(k)
        elif isinstance(k, slice):
            out.append(slice(_bound(k.start, key), _bound(k.stop, key), _bound(k.step, key)))
        else:
            out.append(_index(k, key))
    return tuple(out)


class SlicedVariableRead(EagerTensor):
    """The value of `variable[key]`, with write-through `assign`/`assign_add`/`assign_sub`."""

    __slots__ = ("_variable", "_key")

    def assign(self, value, use_locking=None, name=None, read_value=True):
        return _write(self, value, None, read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return _write(self, delta, ew.AddV2, read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return _write(self, delta, ew.Sub, read_value)


def _write(sliced, value, combine, read_value):
    var = sliced._variable
    key = sliced._key
    t = var._operand(value)
    if combine is not None and var.dtype.is_bool:
        raise errors.InvalidArgumentError(None, None, f"Value for attr 'T' of bool is not in the "
                                          f"list of allowed values [Op:{combine.name}]")
    with var._lock:
        if combine is not None:
            t = dispatch.execute(combine, (_slice_of(var._read_unlocked(), key), t))
        var._write_unlocked(R.resource_strided_slice_assign, (var.handle, t), {"key": key})
    return var if read_value else None


def _slice_of(value, key):
    from featherflow._src.api.slicing import getitem  # noqa: PLC0415 - array helper's module

    return getitem(value, key)


def sliced_read(var, key):
    """`var[key]`: the slice's value, able to assign back into `var`."""
    nkey = normalize_key(key)
    plain = _slice_of(var.value(), key)
    out = _new(SlicedVariableRead)
    out._value = plain._value
    out._dtype = plain._dtype
    out._device = plain._device
    out._shape = None
    out._nbytes, plain._nbytes = plain._nbytes, 0
    out._variable = var
    out._key = nkey
    _link(plain, out)
    return out


def _link(src, dst):
    """Records `dst = Identity(src)` on the active tapes: `dst` is a new object holding `src`'s
    value, and the tape follows objects, so without this the gradient would stop at `src`."""
    if _THREAD.tapes:
        from featherflow._src.autodiff.tape import _record  # noqa: PLC0415

        _record(_IDENTITY, (src,), {}, (dst,))


def _convert(value, dtype=None, name=None, as_ref=False):
    out = make(value._value, value._dtype, value._device, 0)
    _link(value, out)
    return out


register_tensor_conversion_function(SlicedVariableRead, _convert)
