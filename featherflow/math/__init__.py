"""tf.math."""
# ruff: noqa: F401
from featherflow._src.api.math_ops import (
    abs as abs, acos as acos, acosh as acosh, add as add, add_n as add_n, angle as angle,
    asin as asin, asinh as asinh, atan as atan, atan2 as atan2, atanh as atanh, ceil as ceil,
    conj as conj, cos as cos, cosh as cosh, divide as divide, divide_no_nan as divide_no_nan,
    equal as equal, erf as erf, exp as exp, expm1 as expm1, floor as floor,
    floordiv as floordiv, floormod as floormod, greater as greater,
    greater_equal as greater_equal, imag as imag, invert as invert, is_finite as is_finite,
    is_inf as is_inf, is_nan as is_nan, less as less, less_equal as less_equal, log as log,
    log1p as log1p, logical_and as logical_and, logical_not as logical_not,
    logical_or as logical_or, logical_xor as logical_xor, maximum as maximum,
    minimum as minimum, mod as mod, multiply as multiply, negative as negative,
    not_equal as not_equal, pow as pow, real as real, realdiv as realdiv,
    reciprocal as reciprocal, rint as rint, round as round, rsqrt as rsqrt,
    scalar_mul as scalar_mul, sigmoid as sigmoid, sign as sign, sin as sin, sinh as sinh,
    sqrt as sqrt, square as square, squared_difference as squared_difference,
    subtract as subtract, tan as tan, tanh as tanh, truediv as truediv,
    truncatediv as truncatediv, truncatemod as truncatemod, xdivy as xdivy, xlogy as xlogy)
# -- reductions, matmul, cumsum, ... ----------------------------------------------
from featherflow._src.api.reduce_ops import (
    reduce_all as reduce_all, reduce_any as reduce_any, reduce_max as reduce_max,
    reduce_mean as reduce_mean, reduce_min as reduce_min, reduce_prod as reduce_prod,
    reduce_sum as reduce_sum)
from featherflow._src.api.reduce_ops import (
    argmax as argmax, argmin as argmin, count_nonzero as count_nonzero, cumprod as cumprod,
    cumsum as cumsum, reduce_euclidean_norm as reduce_euclidean_norm,
    reduce_logsumexp as reduce_logsumexp, reduce_std as reduce_std,
    reduce_variance as reduce_variance)
from featherflow._src.api.sort_ops import top_k as top_k
# -- segment reductions, softmax aliases --------------------------------------------
from featherflow._src.api.nn_ops import (
    l2_normalize as l2_normalize, log_softmax as log_softmax, softmax as softmax,
    softplus as softplus, softsign as softsign)
from featherflow._src.api.segment_ops import (
    segment_max as segment_max, segment_mean as segment_mean, segment_sum as segment_sum,
    unsorted_segment_max as unsorted_segment_max,
    unsorted_segment_mean as unsorted_segment_mean,
    unsorted_segment_sum as unsorted_segment_sum)
