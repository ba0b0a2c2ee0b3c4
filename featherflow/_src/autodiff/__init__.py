"""Automatic differentiation. Importing the package registers the gradient functions of the
primitives (the `ops/defs/*_grad.py` modules)."""
# ruff: noqa: F401
from featherflow._src.ops.defs import array_grad as _array_grad
from featherflow._src.ops.defs import einsum_grad as _einsum_grad
from featherflow._src.ops.defs import elementwise_grad as _elementwise_grad
from featherflow._src.ops.defs import indexing_grad as _indexing_grad
from featherflow._src.ops.defs import linalg_grad as _linalg_grad
from featherflow._src.ops.defs import reduction_grad as _reduction_grad
from featherflow._src.ops.defs import sorting_grad as _sorting_grad
