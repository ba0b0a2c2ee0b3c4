"""tf.linalg."""
# ruff: noqa: F401
# -- products [math helper] ---------------------------------------------------------------------
from featherflow._src.api.linalg_ops import (
    einsum as einsum, matmul as matmul, tensordot as tensordot)
# -- decompositions, inverses, ... [linalg helper] ----------------------------------------------
