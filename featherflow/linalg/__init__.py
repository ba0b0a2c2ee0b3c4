"""tf.linalg."""
# ruff: noqa: F401
# -- products ---------------------------------------------------------------------
from featherflow._src.api.linalg_ops import (
    einsum as einsum, matmul as matmul, tensordot as tensordot)
# -- decompositions, inverses, ... ----------------------------------------------
from featherflow._src.api.linalg_extra import (
    cholesky as cholesky, det as det, diag as diag, diag_part as diag_part, inv as inv,
    norm as norm, solve as solve, tensor_diag as tensor_diag,
    tensor_diag_part as tensor_diag_part, trace as trace, triangular_solve as triangular_solve)
