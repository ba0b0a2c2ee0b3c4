"""tf.* joining, splitting and sequence ops: concat, stack, unstack, split, tile, pad, reverse,
and the creation ops eye, range, linspace, one_hot, sequence_mask.

Axes, sizes and paddings are read on the host and checked here with TensorFlow's messages.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from featherflow._src.api._args import matching
from featherflow._src.api._args import tensor as _tensor
from featherflow._src.api.array_ops import _axis_arg, _invalid, shape_arg
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import array as A
from featherflow._src.ops.defs import creation as C

_execute = dispatch.execute


def _dims(shape):
    return f"[{','.join(map(str, shape))}]"


# -- joining and splitting ------------------------------------------------------------------
def concat(values, axis, name="concat"):
    """Concatenates tensors along `axis`.

    >>> import featherflow as tf
    >>> tf.concat([tf.constant([1]), tf.constant([2, 3])], 0).numpy()
    array([1, 2, 3], dtype=int32)
    """
    if is_tensor(values):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"tf.concat needs at least one tensor to concatenate. Received: "
                         f"values={values!r}")
    tensors = matching(values)
    if len(tensors) == 1:
        from featherflow._src.api.array_ops import identity  # noqa: PLC0415

        return identity(tensors[0])
    axis = _axis_arg(axis)
    s0 = tensors[0]._value.shape
    r = len(s0)
    for i, t in enumerate(tensors[1:], 1):
        s = t._value.shape
        if len(s) != r:
            raise _invalid(f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                           f"{_dims(s0)} vs. shape[{i}] = {_dims(s)}", "ConcatV2")
    if not -r <= axis < r:
        raise _invalid(f"ConcatOp : Expected concatenating dimensions in the range [{-r}, {r}), "
                       f"but got {axis}", "ConcatV2")
    axis %= r
    for i, t in enumerate(tensors[1:], 1):
        s = t._value.shape
        for j in builtins.range(r):
            if j != axis and s[j] != s0[j]:
                raise _invalid(f"ConcatOp : Dimension {j} in both shapes must be equal: "
                               f"shape[0] = {_dims(s0)} vs. shape[{i}] = {_dims(s)}", "ConcatV2")
    return _execute(A.ConcatV2, tuple(tensors), {"axis": axis})


def stack(values, axis=0, name="stack"):
    """Stacks rank-R tensors of one shape into a rank-(R+1) tensor.

    >>> import featherflow as tf
    >>> tf.stack([tf.constant([1, 2]), tf.constant([3, 4])], axis=1).numpy().tolist()
    [[1, 3], [2, 4]]
    """
    tensors = matching(values)
    if not tensors:
        raise ValueError("tf.stack needs at least one tensor. Received: values=[]")
    s0 = tensors[0]._value.shape
    r = len(s0) + 1
    axis = _axis_arg(axis)
    if not -r <= axis < r:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-r}, {r})")
    for i, t in enumerate(tensors[1:], 1):
        if t._value.shape != s0:
            raise _invalid(f"Shapes of all inputs must match: values[0].shape = {_dims(s0)} != "
                           f"values[{i}].shape = {_dims(t._value.shape)}", "Pack")
    return _execute(A.Pack, tuple(tensors), {"axis": axis % r})


def unstack(value, num=None, axis=0, name="unstack"):
    """Unpacks a tensor along `axis` into a list of tensors.

    >>> import featherflow as tf
    >>> [t.numpy().tolist() for t in tf.unstack(tf.constant([[1, 2], [3, 4]]))]
    [[1, 2], [3, 4]]
    """
    x = _tensor(value)
    shape = x._value.shape
    r = len(shape)
    axis = _axis_arg(axis)
    if not -r <= axis < r:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-r}, {r})")
    axis %= r
    if num is None:
        num = shape[axis]
    elif num != shape[axis]:
        raise _invalid(f"Input shape axis {axis} must equal {num}, got shape {_dims(shape)}",
                       "Unpack")
    if num == 0:
        return []
    return list(_execute(A.Unpack, (x,), {"num": num, "axis": axis}))


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits a tensor into `num_or_size_splits` equal parts, or parts of the given sizes (one
    size may be -1).

    >>> import featherflow as tf
    >>> [t.shape[0] for t in tf.split(tf.zeros([5]), [1, -1])]
    [1, 4]
    """
    x = _tensor(value)
    shape = x._value.shape
    r = len(shape)
    axis = _axis_arg(axis)
    even = isinstance(num_or_size_splits, numbers.Integral) or (
        is_tensor(num_or_size_splits) and _tensor(num_or_size_splits).ndim == 0)
    op = "Split" if even else "SplitV"
    if not -r <= axis < r:
        raise _invalid(f"-input rank(-{r}) <= split_dim < input rank ({r}), but got {axis}", op)
    axis %= r
    d = shape[axis]
    if even:
        n = int(num_or_size_splits)
        if n <= 0 or d % n:
            raise _invalid(f"Number of ways to split should evenly divide the split dimension, "
                           f"but got split_dim {axis} (size = {d}) and num_split {n}", op)
        sizes = (d // n,) * n
    else:
        sizes = shape_arg(num_or_size_splits)
        if sizes.count(-1) > 1:
            raise _invalid("There can only be one -1 in the input.", op)
        known = sum(s for s in sizes if s != -1)
        if (-1 in sizes and known > d) or (-1 not in sizes and known != d):
            raise _invalid(f"Determined shape must either match input shape along split_dim "
                           f"exactly if fully specified, or be less than the size of the input "
                           f"along split_dim if not fully specified.  Got: {known}", op)
        sizes = tuple(d - known if s == -1 else s for s in sizes)
        if num is not None and num != len(sizes):
            raise ValueError(f"`num` ({num}) does not match the number of splits "
                             f"({len(sizes)}). Received: num={num}")
    return list(_execute(A.SplitV, (x,), {"size_splits": sizes, "axis": axis}))


def tile(input, multiples, name=None):  # noqa: A002 - TF's name
    """Repeats a tensor `multiples[i]` times along dimension i.

    >>> import featherflow as tf
    >>> tf.tile(tf.constant([1, 2]), [2]).numpy()
    array([1, 2, 1, 2], dtype=int32)
    """
    x = _tensor(input)
    m = shape_arg(multiples)
    r = x.ndim
    if len(m) != r:
        raise _invalid(f"Expected multiples argument to be a vector of length {r} but got "
                       f"length {len(m)}", "Tile")
    for i, v in enumerate(m):
        if v < 0:
            raise _invalid(f"Expected multiples[{i}] >= 0, but got {v}", "Tile")
    return _execute(A.Tile, (x,), {"multiples": m})


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads a tensor: CONSTANT (with `constant_values`), REFLECT or SYMMETRIC.

    >>> import featherflow as tf
    >>> tf.pad(tf.constant([1, 2]), [[1, 1]]).numpy()
    array([0, 1, 2, 0], dtype=int32)
    """
    x = _tensor(tensor)
    mode_u = str(mode).upper()
    if mode_u not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError('Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", '
                         f'or "SYMMETRIC". Received `mode` = {mode_u}')
    p = np.asarray(_tensor(paddings).numpy() if is_tensor(paddings) else paddings)
    shape = x._value.shape
    op = "Pad" if mode_u == "CONSTANT" else "MirrorPad"
    if p.ndim != 2 or p.shape[0] != len(shape) or p.shape[1] != 2:
        raise _invalid(f"The first dimension of paddings must be the rank of inputs"
                       f"{_dims(p.shape)} {_dims(shape)}", op)
    pairs = tuple((int(a), int(b)) for a, b in p.tolist())
    for (a, b), d in zip(pairs, shape):
        if a < 0 or b < 0:
            raise _invalid(f"Paddings must be non-negative: {a} {b}", op)
        if mode_u == "REFLECT" and (a >= d or b >= d):
            raise _invalid(f"paddings must be less than the dimension size: {a}, {b} not less "
                           f"than {d}", op)
        if mode_u == "SYMMETRIC" and (a > d or b > d):
            raise _invalid(f"paddings must be no greater than the dimension size: {a}, {b} "
                           f"greater than {d}", op)
    if mode_u == "CONSTANT":
        from featherflow._src.api._args import like  # noqa: PLC0415

        return _execute(A.PadV2, (x, like(constant_values, x)), {"paddings": pairs})
    return _execute(A.MirrorPad, (x,), {"paddings": pairs, "mode": mode_u})


def reverse(tensor, axis, name=None):
    """Reverses the given dimensions.

    >>> import featherflow as tf
    >>> tf.reverse(tf.constant([[1, 2], [3, 4]]), [1]).numpy().tolist()
    [[2, 1], [4, 3]]
    """
    x = _tensor(tensor)
    r = x.ndim
    axes = shape_arg(axis)
    seen = []
    for i, a in enumerate(axes):
        if not -r <= a < r:
            raise _invalid(f"'axis'[{i}] = {a} is out of valid range [0, {r - 1}", "ReverseV2")
        a %= r
        if a in seen:
            raise _invalid(f"axis {a} specified more than once.", "ReverseV2")
        seen.append(a)
    return _execute(A.ReverseV2, (x,), {"axis": tuple(seen)})


# -- creation -------------------------------------------------------------------------------
def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name=None):
    """An identity matrix (or a batch of them).

    >>> import featherflow as tf
    >>> tf.eye(2).numpy().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    rows = _axis_arg(num_rows, "num_rows")
    cols = rows if num_columns is None else _axis_arg(num_columns, "num_columns")
    batch = () if batch_shape is None else shape_arg(batch_shape)
    for d in (rows, cols) + batch:
        if d < 0:
            raise _invalid(f"Dimension {d} must be >= 0", "Fill")
    dtype = _dt.as_dtype(dtype)
    return _execute(C.Eye, (), {"num_rows": rows, "num_columns": cols, "batch_shape": batch,
                                "dtype": dtype._np})


_RANGE_ORDER = (_dt.int32, _dt.int64, _dt.float32, _dt.float64)


def _range_value(v):
    """(Python number, inferred DType) of one tf.range argument."""
    if is_tensor(v):
        t = _tensor(v)
        if t.ndim != 0:
            raise _invalid(f"start must be a scalar, not shape {_dims(t.shape)}", "Range")
        x = t.numpy().item()
        return x, t._dtype
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"tf.range arguments must be numbers. Received: {v!r}")
    if isinstance(v, np.generic):
        return v.item(), _dt.as_dtype(v.dtype)
    if isinstance(v, numbers.Integral):
        return int(v), _dt.int32 if -2**31 <= v < 2**31 else _dt.int64
    if isinstance(v, numbers.Real):
        return float(v), _dt.float32
    raise TypeError(f"tf.range arguments must be numbers or scalar tensors. Received: {v!r}")


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TF's name
    """A 1-D sequence from `start` up to (not including) `limit` in steps of `delta`.

    >>> import featherflow as tf
    >>> tf.range(5).numpy(), tf.range(0, 1, 0.5).dtype
    (array([0, 1, 2, 3, 4], dtype=int32), tf.float32)
    """
    if limit is None:
        start, limit = 0, start
    vals = [_range_value(v) for v in (start, limit, delta)]
    if dtype is None:
        dtype = max((d for _, d in vals), key=lambda d: _RANGE_ORDER.index(d)
                    if d in _RANGE_ORDER else len(_RANGE_ORDER))
    else:
        dtype = _dt.as_dtype(dtype)
    if dtype._kind not in "iuf":
        raise TypeError(f"tf.range needs an integer or floating dtype. Received: dtype={dtype!r}")
    cast = float if dtype._kind == "f" else int
    s, lim, d = (cast(v) for v, _ in vals)
    if d == 0:
        raise _invalid(f"Requires delta != 0: {d}", "Range")
    if d > 0 and s > lim:
        raise _invalid(f"Requires start <= limit when delta > 0: {s}/{lim}", "Range")
    if d < 0 and s < lim:
        raise _invalid(f"Requires start >= limit when delta < 0: {s}/{lim}", "Range")
    return _execute(C.Range, (), {"start": s, "limit": lim, "delta": d, "dtype": dtype._np})


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive (integers give float64).

    >>> import featherflow as tf
    >>> tf.linspace(0.0, 1.0, 3).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    from featherflow._src.api.math_ops import cast  # noqa: PLC0415

    a = _tensor(start)
    if a._dtype.is_integer:
        a = cast(a, _dt.float64)
    b = _tensor(stop) if is_tensor(stop) else _tensor(stop, dtype=None)
    if b._dtype is not a._dtype:
        b = cast(b, a._dtype)
    n = _axis_arg(num, "num")
    if n < 0:
        raise _invalid(f"Requires num >= 0: {n}", "LinSpace")
    r = max(a.ndim, b.ndim) + 1
    axis = _axis_arg(axis)
    if not -r <= axis < r:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-r}, {r})")
    return _execute(C.LinSpace, (a, b), {"num": n, "axis": axis % r})


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors: `on_value` at each index, `off_value` elsewhere (indices outside
    [0, depth), such as -1, give an all-off vector).

    >>> import featherflow as tf
    >>> tf.one_hot([0, 2], 3).numpy().tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    idx = _tensor(indices)
    if idx._dtype not in (_dt.uint8, _dt.int8, _dt.int32, _dt.int64):
        raise _invalid(f"Value for attr 'TI' of {idx._dtype.name} is not in the list of allowed "
                       "values: uint8, int8, int32, int64", "OneHot")
    if dtype is None:
        given = [_tensor(v) for v in (on_value, off_value) if v is not None]
        if len(given) == 2 and given[0]._dtype is not given[1]._dtype:
            raise TypeError(f"dtype <dtype: '{given[0]._dtype.name}'> of on_value does not "
                            f"match dtype <dtype: '{given[1]._dtype.name}'> of off_value")
        dtype = given[0]._dtype if given else _dt.float32
    dtype = _dt.as_dtype(dtype)
    on = _tensor(1 if on_value is None else on_value, dtype=dtype)
    off = _tensor(0 if off_value is None else off_value, dtype=dtype)
    d = _axis_arg(depth, "depth")
    if d < 0:
        raise _invalid(f"depth must be non-negative, got: {d}", "OneHot")
    r = idx.ndim + 1
    axis = -1 if axis is None else _axis_arg(axis)
    if not -1 <= axis < r:
        raise _invalid(f"Expected axis to be -1 or between [0, {r}).  But received: {axis}",
                       "OneHot")
    return _execute(C.OneHot, (idx, on, off), {"depth": d, "axis": axis})


def sequence_mask(lengths, maxlen=None, dtype=_dt.bool, name=None):
    """mask[i, j] = j < lengths[i]; `maxlen` defaults to max(lengths).

    >>> import featherflow as tf
    >>> tf.sequence_mask([1, 3], 4).numpy().astype(int).tolist()
    [[1, 0, 0, 0], [1, 1, 1, 0]]
    """
    from featherflow._src.api.array_ops import expand_dims  # noqa: PLC0415
    from featherflow._src.api.math_ops import cast, less  # noqa: PLC0415

    lens = _tensor(lengths)
    if not lens._dtype.is_integer:
        raise TypeError(f"lengths must be an integer tensor. Received: dtype={lens._dtype!r}")
    if maxlen is None:
        host = np.asarray(lens.numpy())
        maxlen = int(host.max()) if host.size else 0
    else:
        maxlen = _axis_arg(maxlen, "maxlen")
        if maxlen < 0:
            raise _invalid(f"Requires start <= limit when delta > 0: 0/{maxlen}", "Range")
    row = range(0, maxlen, 1, dtype=lens._dtype)
    mask = less(row, expand_dims(lens, -1))
    dtype = _dt.as_dtype(dtype)
    return mask if dtype is _dt.bool else cast(mask, dtype)

