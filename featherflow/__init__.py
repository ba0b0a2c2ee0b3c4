"""featherflow: TensorFlow 2's variable system and core, on NumPy (CPU) and CuPy (GPU).

    import featherflow as tf

This module only re-exports; the implementation lives in featherflow._src.
"""
# ruff: noqa: F401
from featherflow._src.api import operators as _operators  # attaches Tensor operators

# -- framework: dtypes, shapes, tensors, errors, devices ---------------------------------------
from featherflow._src.framework.dtypes import DType as DType
from featherflow._src.framework.dtypes import as_dtype as as_dtype
from featherflow._src.framework.dtypes import (
    bfloat16 as bfloat16, bool as bool, complex64 as complex64, complex128 as complex128,
    double as double, float16 as float16, float32 as float32, float64 as float64, half as half,
    int8 as int8, int16 as int16, int32 as int32, int64 as int64, qint8 as qint8,
    qint16 as qint16, qint32 as qint32, quint8 as quint8, quint16 as quint16,
    resource as resource, string as string, uint8 as uint8, uint16 as uint16, uint32 as uint32,
    uint64 as uint64, variant as variant)
from featherflow._src.framework.shapes import TensorShape as TensorShape
from featherflow._src.framework.tensor import Tensor as Tensor
from featherflow._src.framework.tensor import is_tensor as is_tensor
from featherflow._src.framework.convert import constant as constant
from featherflow._src.framework.convert import convert_to_tensor as convert_to_tensor
from featherflow._src.framework.convert import (
    register_tensor_conversion_function as register_tensor_conversion_function)
from featherflow._src.framework.context import executing_eagerly as executing_eagerly
from featherflow._src.framework.device import DeviceSpec as DeviceSpec
from featherflow import errors as errors
from featherflow import dtypes as dtypes
from featherflow import math as math
from featherflow import raw_ops as raw_ops

# -- math (elementwise) -------------------------------------------------------------------------
from featherflow._src.api.math_ops import (
    abs as abs, acos as acos, acosh as acosh, add as add, add_n as add_n, asin as asin,
    asinh as asinh, atan as atan, atan2 as atan2, atanh as atanh, cast as cast, ceil as ceil,
    cos as cos, cosh as cosh, divide as divide, equal as equal, exp as exp, floor as floor,
    floordiv as floordiv, greater as greater, greater_equal as greater_equal, less as less,
    less_equal as less_equal, logical_and as logical_and, logical_not as logical_not,
    logical_or as logical_or, maximum as maximum, minimum as minimum, multiply as multiply,
    negative as negative, not_equal as not_equal, pow as pow, realdiv as realdiv,
    round as round, rsqrt as rsqrt, sigmoid as sigmoid, sign as sign, sin as sin, sinh as sinh,
    sqrt as sqrt, square as square, subtract as subtract, tan as tan, tanh as tanh,
    truediv as truediv, truncatediv as truncatediv, truncatemod as truncatemod)

# -- math (reductions, matmul, ...) ------------------------------------------------
from featherflow._src.api.reduce_ops import (
    reduce_all as reduce_all, reduce_any as reduce_any, reduce_max as reduce_max,
    reduce_mean as reduce_mean, reduce_min as reduce_min, reduce_prod as reduce_prod,
    reduce_sum as reduce_sum)
from featherflow._src.api.reduce_ops import (
    argmax as argmax, argmin as argmin, clip_by_value as clip_by_value, cumsum as cumsum,
    cumprod as cumprod, reduce_logsumexp as reduce_logsumexp)
from featherflow._src.api.sort_ops import argsort as argsort, sort as sort, where as where
from featherflow._src.api.linalg_ops import (
    einsum as einsum, matmul as matmul, tensordot as tensordot)
from featherflow import linalg as linalg
from featherflow import bitwise as bitwise

# -- array ops and creation ------------------------------------------------------
from featherflow._src.api.array_ops import (
    broadcast_to as broadcast_to, expand_dims as expand_dims, fill as fill, identity as identity,
    ones as ones, ones_like as ones_like, rank as rank, reshape as reshape, shape as shape,
    size as size, squeeze as squeeze, transpose as transpose, zeros as zeros,
    zeros_like as zeros_like)
from featherflow._src.api.manip_ops import (
    concat as concat, eye as eye, linspace as linspace, one_hot as one_hot, pad as pad,
    range as range, reverse as reverse, sequence_mask as sequence_mask, split as split,
    stack as stack, tile as tile, unstack as unstack)
from featherflow._src.api.manip_ops import linspace as lin_space
from featherflow._src.api.indexing_ops import (
    boolean_mask as boolean_mask, gather as gather, gather_nd as gather_nd,
    scatter_nd as scatter_nd, slice as slice, strided_slice as strided_slice,
    tensor_scatter_nd_add as tensor_scatter_nd_add, tensor_scatter_nd_max as tensor_scatter_nd_max,
    tensor_scatter_nd_min as tensor_scatter_nd_min, tensor_scatter_nd_sub as tensor_scatter_nd_sub,
    tensor_scatter_nd_update as tensor_scatter_nd_update, unique as unique,
    unique_with_counts as unique_with_counts)
newaxis = None

# -- random, nest, name scopes, IndexedSlices, config, device -----------------
from featherflow._src.framework.device_scope import device as device
from featherflow._src.framework.device_scope import name_scope as name_scope
from featherflow import config as config
from featherflow import debugging as debugging
from featherflow import random as random
from featherflow import nest as nest
from featherflow._src.framework.indexed_slices import IndexedSlices as IndexedSlices

# -- nn ---------------------------------------------------------------------------
from featherflow import nn as nn

# -- variables ----------------------------------------------------------------
from featherflow._src.variables.variable import Variable as Variable
from featherflow._src.variables.variable import VariableAggregation as VariableAggregation
from featherflow._src.variables.variable import (
    VariableSynchronization as VariableSynchronization)

# -- autodiff ---------------------------------------------------------------------
from featherflow._src.autodiff.tape import GradientTape as GradientTape
from featherflow._src.autodiff.backprop import UnconnectedGradients as UnconnectedGradients
from featherflow._src.autodiff.custom_gradient import (
    RegisterGradient as RegisterGradient, custom_gradient as custom_gradient,
    no_gradient as no_gradient, stop_gradient as stop_gradient)
from featherflow import test as test

# -- conv, pooling, linalg ---------------------------------------------------------
from featherflow._src.api.linalg_extra import norm as norm

# -- modules --------------------------------------------------------------------
from featherflow._src.module.module import Module as Module

# -- data -------------------------------------------------------------------------
from featherflow import data as data
from featherflow._src.framework.tensor_spec import TensorSpec as TensorSpec

# -- train: checkpoint files ----------------------------------------------------
from featherflow import train as train

# -- keras optimizers --------------------------------------------------------
from featherflow import keras as keras
from featherflow.keras import optimizers as optimizers

__version__ = "0.1.0"
