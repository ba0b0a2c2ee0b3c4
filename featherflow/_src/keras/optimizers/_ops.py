"""The public featherflow ops that optimizers compose, in one place, plus Keras 3's rules for
IndexedSlices gradients.

Keras 3 (TF backend) applies a zero-preserving elementwise op (square, abs) to an IndexedSlices
gradient slice by slice, and densifies (summing duplicate rows) as soon as a dense operand joins
in. So with duplicate indices, `square(g)` is the sum of the squared slices, not the square of
their sum; `sparse_square` and `sparse_abs` reproduce that.
"""
from __future__ import annotations

from featherflow._src.api.array_ops import (expand_dims, fill, ones_like, zeros,  # noqa: F401
                                            zeros_like)
from featherflow._src.api.manip_ops import stack  # noqa: F401
from featherflow._src.api.math_ops import (abs, add, cast, divide, equal, floordiv,  # noqa: F401
                                           is_finite,
                                           maximum, minimum, multiply, pow, sign, sqrt,
                                           square, subtract)
from featherflow._src.api.reduce_ops import (clip_by_value, reduce_all, reduce_mean,  # noqa: F401
                                             reduce_sum)
from featherflow._src.api.sort_ops import where  # noqa: F401
from featherflow._src.framework.convert import convert_to_tensor
from featherflow._src.framework.indexed_slices import IndexedSlices


def is_sparse(g) -> bool:
    return type(g) is IndexedSlices


def dense(g):
    """`g` as a dense tensor (IndexedSlices rows summed per index)."""
    return convert_to_tensor(g) if type(g) is IndexedSlices else g


def map_values(g, fn):
    """IndexedSlices with `fn` applied to each slice (zero-preserving `fn` only)."""
    return IndexedSlices(fn(g.values), g.indices, g.dense_shape)


def sparse_square(g):
    """square(g) with Keras 3's per-slice rule for IndexedSlices (see the module docstring)."""
    if type(g) is IndexedSlices:
        return convert_to_tensor(map_values(g, square))
    return square(g)


def sparse_abs(g):
    if type(g) is IndexedSlices:
        return convert_to_tensor(map_values(g, abs))
    return abs(g)
