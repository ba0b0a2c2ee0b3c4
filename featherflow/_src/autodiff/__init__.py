"""Automatic differentiation. Importing the package registers the gradient functions of the
primitives (the `ops/defs/*_grad.py` modules)."""
from featherflow._src.ops.defs import elementwise_grad as _elementwise_grad  # noqa: F401
