"""The public featherflow ops that Keras losses and metrics compose, in one place, plus Keras 3's
small tensor helpers (conversion to the loss dtype, rank alignment of y_true/y_pred/weights)."""
from __future__ import annotations

# ruff: noqa: F401
from featherflow._src.api.array_ops import (broadcast_to, expand_dims, fill, ones_like, rank,
                                            reshape, shape, squeeze, zeros, zeros_like)
from featherflow._src.api.indexing_ops import gather
from featherflow._src.api.manip_ops import one_hot, reverse, stack
from featherflow._src.api.math_ops import (abs, add, cast, divide, divide_no_nan, equal, exp,
                                           greater, less_equal, log, logical_and, logical_not,
                                           logical_or, maximum, minimum, multiply, not_equal,
                                           pow, rsqrt, square, subtract)
from featherflow._src.api.math_ops import ceil
from featherflow._src.api.nn_ops import (sigmoid, sigmoid_cross_entropy_with_logits, softmax,
                                         softmax_cross_entropy_with_logits, softplus,
                                         sparse_softmax_cross_entropy_with_logits)
from featherflow._src.api.nn_ops import relu
from featherflow._src.api.reduce_ops import argmax
from featherflow._src.api.reduce_ops import (clip_by_value, cumsum, reduce_all, reduce_max,
                                             reduce_mean, reduce_prod, reduce_sum)
from featherflow._src.api.segment_ops import unsorted_segment_sum
from featherflow._src.api.sort_ops import top_k, where
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.convert import convert_to_tensor as _convert
from featherflow._src.framework.tensor import EagerTensor as _ET
from featherflow._src.framework.tensor import is_tensor

EPSILON = 1e-7  # keras.backend.epsilon()
FLOATX = "float32"  # keras.backend.floatx()


def dtype_name(dtype) -> str:
    return _dt.as_dtype(dtype).name


def to_tensor(x, dtype=None):
    """Keras' `ops.convert_to_tensor(x, dtype)`: tensors (and variables) of another dtype are
    cast; Python and NumPy values are converted, then cast."""
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    if type(x) is _ET:  # the usual operand: at most a cast
        return x if dtype is None or x._dtype is dtype else cast(x, dtype)
    if not is_tensor(x):
        try:
            x = _convert(x, dtype=dtype)
        except (TypeError, ValueError):
            x = _convert(x)
    elif not hasattr(x, "_value"):  # a Variable: read it
        x = _convert(x)
    if dtype is not None and x.dtype != dtype:
        x = cast(x, dtype)
    return x


def dims(x) -> tuple:
    """x's shape as a tuple (None for unknown dims), straight from an eager tensor's array."""
    return x._value.shape if type(x) is _ET else tuple(x.shape)


def ndim(x) -> int:
    return len(dims(x))


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras 3's rank alignment: when the ranks differ by exactly one and the longer one ends in
    1, squeeze that axis (or expand a rank-1 partner)."""
    r1, r2 = ndim(x1), ndim(x2)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = expand_dims(x2, -1)
        else:
            x1 = squeeze(x1, axis=[-1])
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = expand_dims(x1, -1)
        else:
            x2 = squeeze(x2, axis=[-1])
    return x1, x2


def check_same_shape(target, output):
    if ndim(target) != ndim(output):
        raise ValueError("Arguments `target` and `output` must have the same rank (ndim). "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    for a, b in zip(target.shape, output.shape):
        if a is not None and b is not None and a != b:
            raise ValueError("Arguments `target` and `output` must have the same shape. "
                             f"Received: target.shape={target.shape}, "
                             f"output.shape={output.shape}")
