"""tf.nn (part 1): activations, cross-entropies, dropout, bias_add, moments, batch norm, lookup.

Fused primitives (ops/defs/nn_activations.py, nn_losses.py) run where they are faster or more
stable; everything else composes public ops, so its gradient comes for free.
"""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.api._args import like, tensor
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import EagerTensor, is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import nn_activations as act
from featherflow._src.ops.defs import nn_losses as losses
from featherflow._src.framework.public import tf as _tf

_execute = dispatch.execute
_ET = EagerTensor


def _dims(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _np_name(dtype) -> str:
    return f"<dtype: '{dtype.name}'>"


# -- activations --------------------------------------------------------------------------------
def _activation(op, doc):
    def fn(features, name=None):
        if type(features) is not _ET:
            features = tensor(features)
        return _execute(op, (features,))

    fn.__doc__ = doc
    return fn


relu = _activation(act.Relu, """Rectified linear unit: max(features, 0).

    >>> import featherflow as tf
    >>> tf.nn.relu(tf.constant([-1.0, 2.0])).numpy()
    array([0., 2.], dtype=float32)
    """)
relu6 = _activation(act.Relu6, "Rectified linear 6: min(max(features, 0), 6).")
elu = _activation(act.Elu, "Exponential linear unit: x if x > 0 else exp(x) - 1.")
selu = _activation(act.Selu, "Scaled exponential linear unit (Klambauer et al., 2017).")
softplus = _activation(act.Softplus, """log(exp(features) + 1), computed without overflow.

    >>> import featherflow as tf
    >>> tf.nn.softplus(tf.constant([0.0, 1000.0])).numpy()
    array([6.931472e-01, 1.000000e+03], dtype=float32)
    """)
softsign = _activation(act.Softsign, "features / (abs(features) + 1).")


def gelu(features, approximate: bool = False, name=None):
    """Gaussian error linear unit: x * P(X <= x) for X ~ N(0, 1), or its tanh approximation.

    >>> import featherflow as tf
    >>> tf.nn.gelu(tf.constant([0.0, 1.0])).numpy()
    array([0.       , 0.8413448], dtype=float32)
    """
    features = tensor(features)
    if not features._dtype.is_floating:
        raise ValueError("`features.dtype` must be a floating point tensor.Received:"
                         f"features.dtype={_np_name(features._dtype)}")
    return _execute(act.Gelu, (features,), {"approximate": bool(approximate)})


def leaky_relu(features, alpha: float = 0.2, name=None):
    """x if x > 0 else alpha * x. Integer features are cast to float32 first, as in TF.

    >>> import featherflow as tf
    >>> tf.nn.leaky_relu(tf.constant([-1.0, 2.0])).numpy()
    array([-0.2,  2. ], dtype=float32)
    """
    features = tensor(features)
    if features._dtype.is_integer:
        features = _tf().cast(features, _dt.float32)
    if is_tensor(alpha):
        alpha = tensor(alpha).numpy()
    # NOTE: TF's LeakyRelu attr `alpha` is a 32-bit float, also for float64 features.
    return _execute(act.LeakyRelu, (features,), {"alpha": float(np.float32(alpha))})


def silu(features, beta: float = 1.0):
    """Sigmoid linear unit (swish): features * sigmoid(beta * features).

    >>> import featherflow as tf
    >>> tf.nn.silu(tf.constant([0.0])).numpy()
    array([0.], dtype=float32)
    """
    tf = _tf()
    features = tensor(features)
    if not is_tensor(beta) and beta == 1.0 or not features._dtype.is_floating:
        # (non-float features raise sigmoid's InvalidArgumentError, as in TF)
        return features * tf.sigmoid(features)
    return features * tf.sigmoid(like(beta, features) * features)


swish = silu


def sigmoid(x, name=None):
    """tf.nn.sigmoid: 1 / (1 + exp(-x)) elementwise (tf.math.sigmoid)."""
    return _tf().math.sigmoid(x)


def tanh(x, name=None):
    """tf.nn.tanh: hyperbolic tangent elementwise (tf.math.tanh)."""
    return _tf().math.tanh(x)


def _softmax_axis(logits: EagerTensor, axis, op_name: str) -> int:
    ndim = logits.ndim
    if ndim == 0:
        raise errors.InvalidArgumentError(
            None, None, f"logits must have >= 1 dimension, got [] [Op:{op_name}]")
    # NOTE: negative on purpose: gradients may carry a leading batch axis (vectorized
    # Jacobians), and a negative axis still names the same dimension there.
    if axis is None:
        return -1
    if is_tensor(axis):
        axis = tensor(axis).numpy()
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise errors.InvalidArgumentError(
            None, None, f"`dim` must be in the range [{-ndim}, {ndim}) where {ndim} is the number "
            f"of dimensions in the input. Received: dim={axis}")
    return axis % ndim - ndim


def softmax(logits, axis=None, name=None):
    """exp(logits) / reduce_sum(exp(logits), axis), stable for large logits; axis=None is -1.

    >>> import featherflow as tf
    >>> tf.nn.softmax(tf.constant([0.0, 0.0])).numpy()
    array([0.5, 0.5], dtype=float32)
    """
    logits = tensor(logits)
    axis = _softmax_axis(logits, axis, "Softmax")
    return _execute(act.Softmax, (logits,), {"axis": axis})


def log_softmax(logits, axis=None, name=None):
    """logits - log(reduce_sum(exp(logits), axis)), stable for large logits; axis=None is -1.

    >>> import featherflow as tf
    >>> tf.nn.log_softmax(tf.constant([1e4, 0.0])).numpy()
    array([     0., -10000.], dtype=float32)
    """
    logits = tensor(logits)
    axis = _softmax_axis(logits, axis, "LogSoftmax")
    return _execute(act.LogSoftmax, (logits,), {"axis": axis})


# -- losses -------------------------------------------------------------------------------------
def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise logistic loss: max(x, 0) - x * z + log(1 + exp(-abs(x))), x=logits, z=labels.

    >>> import featherflow as tf
    >>> tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0], logits=[0.0]).numpy()
    array([0.6931472], dtype=float32)
    """
    if labels is None or logits is None:
        raise ValueError("Both labels and logits must be provided. Received: "
                         f"labels={labels!r}, logits={logits!r}")
    logits = tensor(logits)
    labels = like(labels, logits)
    if logits.shape != labels.shape:
        raise ValueError("`logits` and `labels` must have the same shape, received "
                         f"({logits.shape} vs {labels.shape}).")
    return _execute(losses.SigmoidCrossEntropyWithLogits, (labels, logits))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Cross-entropy between `labels` (a distribution per row) and softmax(logits) along `axis`.

    Gradients flow into both logits and labels, as in TF 2.

    >>> import featherflow as tf
    >>> loss = tf.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[0.0, 0.0]])
    >>> loss.numpy()
    array([0.6931472], dtype=float32)
    """
    logits = tensor(logits)
    labels = like(labels, logits)
    op = "SoftmaxCrossEntropyWithLogits"
    ndim = logits.ndim
    if ndim == 0:
        raise errors.InvalidArgumentError(
            None, None, f"logits must have >= 1 dimension, got [] [Op:{op}]")
    axis = _softmax_axis(logits, axis, op)
    if labels.shape != logits.shape:
        try:
            labels = _tf().broadcast_to(labels, logits.shape)
        except (ValueError, errors.InvalidArgumentError):
            raise errors.InvalidArgumentError(
                None, None, f"logits and labels must be broadcastable: logits_size="
                f"{_dims(logits.shape)} labels_size={_dims(labels.shape)} [Op:{op}]") from None
    return _execute(losses.SoftmaxCrossEntropyWithLogits, (logits, labels), {"axis": axis})


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Cross-entropy between integer class `labels` and softmax(logits) over the last axis.

    A label outside [0, num_classes) raises InvalidArgumentError.

    >>> import featherflow as tf
    >>> tf.nn.sparse_softmax_cross_entropy_with_logits([1], [[0.0, 0.0]]).numpy()
    array([0.6931472], dtype=float32)
    """
    logits = tensor(logits)
    labels = tensor(labels)
    ls, gs = labels._value.shape, logits._value.shape
    lr, gr = len(ls), len(gs)
    if gr == 0:
        raise ValueError(f"`logits` cannot be a scalar. Received logits={logits.numpy()}`")
    if lr != gr - 1:
        raise ValueError("`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                         f"labels.shape={labels.shape} of rank {lr} and "
                         f"logits.shape={logits.shape} of rank {gr}")
    if ls != gs[:-1]:
        raise ValueError("`labels.shape` must equal `logits.shape` except for the last "
                         f"dimension. Received: labels.shape={labels.shape} and "
                         f"logits.shape={logits.shape}")
    return _execute(losses.SparseSoftmaxCrossEntropyWithLogits, (logits, labels))[0]


def _check_float(t: EagerTensor, op: str):
    if t._dtype not in _dt.FLOATS:
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'T' of {t._dtype.name} is not in the list of allowed "
            f"values: bfloat16, float16, float32, float64 [Op:{op}]")


def l2_loss(t, name=None):
    """sum(t ** 2) / 2, without the square root.

    >>> import featherflow as tf
    >>> tf.nn.l2_loss(tf.constant([1.0, 2.0])).numpy()
    np.float32(2.5)
    """
    t = tensor(t)
    _check_float(t, "L2Loss")
    return _tf().reduce_sum(t * t) * 0.5


def l2_normalize(x, axis=None, epsilon: float = 1e-12, name=None, dim=None):
    """x / sqrt(max(sum(x ** 2, axis), epsilon)).

    >>> import featherflow as tf
    >>> tf.nn.l2_normalize(tf.constant([3.0, 4.0])).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    tf = _tf()
    if dim is not None:
        if axis is not None:
            raise ValueError("Cannot specify both 'axis' and 'dim'. Received: "
                             f"axis={axis}, dim={dim}")
        axis = dim
    x = tensor(x)
    if x._dtype.is_complex:
        sq = tf.math.real(x * tf.math.conj(x))
        inv = tf.math.rsqrt(tf.maximum(tf.reduce_sum(sq, axis, keepdims=True),
                                       like(epsilon, sq)))
        return x * tf.cast(inv, x._dtype)
    square_sum = tf.reduce_sum(tf.square(x), axis, keepdims=True)
    return x * tf.math.rsqrt(tf.maximum(square_sum, like(epsilon, square_sum)))


# -- dropout ------------------------------------------------------------------------------------
def _noise_shape(x: EagerTensor, noise_shape):
    if noise_shape is None:
        return tuple(x.shape)
    if is_tensor(noise_shape):
        return tuple(int(d) for d in tensor(noise_shape).numpy().tolist())
    dims = list(noise_shape)
    if len(dims) == x.ndim:
        dims = [x.shape[i] if d is None else d for i, d in enumerate(dims)]
    return tuple(int(d) for d in dims)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes elements with probability `rate` and scales the rest by 1 / (1 - rate).

    >>> import featherflow as tf
    >>> tf.nn.dropout(tf.ones([2]), rate=0.0).numpy()
    array([1., 1.], dtype=float32)
    """
    tf = _tf()
    x = tensor(x)
    if not x._dtype.is_floating:
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                         f"Received: x_dtype={_np_name(x._dtype)}")
    if isinstance(rate, numbers.Real) and not isinstance(rate, bool):
        if not 0 <= rate < 1:
            raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                             f"Received: rate={rate}")
        if rate == 0:
            return tf.identity(x)
        scale = like(1.0 / (1.0 - float(rate)), x)
        rate_t = like(float(rate), x)
    elif is_tensor(rate):
        rate_t = tf.cast(tensor(rate), x._dtype)
        if rate_t.ndim != 0:
            raise ValueError(f"`rate` must be a scalar or scalar tensor. Received: rate={rate}")
        scale = 1.0 / (1.0 - rate_t)
    else:
        raise ValueError(f"`rate` must be a scalar or scalar tensor. Received: rate={rate}")
    shape = _noise_shape(x, noise_shape)
    noise = tf.random.uniform(shape, dtype=x._dtype, seed=seed)
    keep = tf.greater_equal(noise, rate_t)
    scaled = x * scale
    try:
        return tf.where(keep, scaled, tf.zeros_like(scaled))
    except (ValueError, errors.InvalidArgumentError):
        raise errors.InvalidArgumentError(
            None, None, f"condition {_dims(shape)}, then {_dims(x.shape)}, and else [] must be "
            "broadcastable [Op:SelectV2]") from None


# -- bias, normalization --------------------------------------------------------------------------
def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D `bias` along the channel axis: the last ("N...C") or the second ("NC...").

    >>> import featherflow as tf
    >>> tf.nn.bias_add(tf.zeros([1, 2]), tf.constant([1.0, 2.0])).numpy()
    array([[1., 2.]], dtype=float32)
    """
    tf = _tf()
    channels_first = False
    if data_format is not None:
        if data_format.startswith("NC"):
            channels_first = True
        elif not (data_format.startswith("N") and data_format.endswith("C")):
            raise ValueError("`data_format` must be of the form `N...C` or `NC...`. "
                             f"Received: data_format={data_format}")
    value = tensor(value)
    bias = like(bias, value)
    if bias._dtype is not value._dtype:
        raise errors.InvalidArgumentError(
            None, None, f"cannot compute BiasAdd as input #1(zero-based) was expected to be a "
            f"{value._dtype.name} tensor but is a {bias._dtype.name} tensor [Op:BiasAdd]")
    if value.ndim < 2:
        raise errors.InvalidArgumentError(
            None, None, f"Input tensor must be at least 2D: {_dims(value.shape)} [Op:BiasAdd]")
    if bias.ndim != 1:
        raise errors.InvalidArgumentError(
            None, None, f"Biases must be 1D: {_dims(bias.shape)} [Op:BiasAdd]")
    axis = 1 if channels_first else value.ndim - 1
    if bias.shape[0] != value.shape[axis]:
        raise errors.InvalidArgumentError(
            None, None, "Must provide as many biases as the last dimension of the input tensor: "
            f"{_dims(bias.shape)} vs. {_dims(value.shape)} [Op:BiasAdd]")
    if channels_first and value.ndim > 2:
        bias = tf.reshape(bias, [-1] + [1] * (value.ndim - 2))
    return value + bias


def moments(x, axes, shift=None, keepdims: bool = False, name=None):
    """Mean and variance of `x` over `axes` (half precision is accumulated in float32).

    >>> import featherflow as tf
    >>> mean, var = tf.nn.moments(tf.constant([1.0, 3.0]), axes=[0])
    >>> float(mean), float(var)
    (2.0, 1.0)
    """
    tf = _tf()
    x = tensor(x)
    y = tf.cast(x, _dt.float32) if x._dtype in (_dt.float16, _dt.bfloat16) else x
    mean = tf.reduce_mean(y, axes, keepdims=True)
    # NOTE: TF stops the gradient through `mean` here. That leaves first-order gradients
    # unchanged (the term sums to zero) but makes second-order ones wrong; we keep the
    # exact derivative (docs/compat.md).
    variance = tf.reduce_mean(tf.math.squared_difference(y, mean), axes, keepdims=True)
    if not keepdims:
        squeeze_axes = axes if isinstance(axes, (list, tuple)) else [axes]
        mean = tf.squeeze(mean, squeeze_axes)
        variance = tf.squeeze(variance, squeeze_axes)
    if y is not x:
        mean, variance = tf.cast(mean, x._dtype), tf.cast(variance, x._dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + variance_epsilon) + offset.

    >>> import featherflow as tf
    >>> tf.nn.batch_normalization(tf.constant([3.0]), 1.0, 4.0, None, None, 0.0).numpy()
    array([1.], dtype=float32)
    """
    tf = _tf()
    x = tensor(x)
    mean, variance = like(mean, x), like(variance, x)
    inv = tf.math.rsqrt(variance + like(variance_epsilon, variance))
    if scale is not None:
        inv = inv * like(scale, inv)
    shift = -mean * inv if offset is None else like(offset, inv) - mean * inv
    return x * tf.cast(inv, x._dtype) + tf.cast(shift, x._dtype)


# -- embedding lookup -----------------------------------------------------------------------------
def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of `params` picked by `ids` (gather on axis 0); the gradient is IndexedSlices.

    `params` may be a list of shards split in TF's "div" layout. With `max_norm`, each looked-up
    embedding whose L2 norm exceeds it is scaled down to that norm.

    >>> import featherflow as tf
    >>> tf.nn.embedding_lookup(tf.constant([[1.0], [2.0]]), [1, 1]).numpy()
    array([[2.],
           [2.]], dtype=float32)
    """
    tf = _tf()
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("Length of params is currently 0. Need at least one param.")
        params = params[0] if len(params) == 1 else tf.concat(list(params), 0)
    if not is_tensor(params):
        params = tensor(params)
    ids = tensor(ids)
    out = tf.gather(params, ids)
    if max_norm is None:
        return out
    axes = list(range(ids.ndim, out.ndim))
    if not axes:
        return out
    max_norm = like(max_norm, out)
    l2sum = tf.reduce_sum(out * out, axes, keepdims=True)
    # NOTE: sqrt is only taken of positive sums, so a zero row has a finite (zero) gradient.
    positive = tf.greater(l2sum, 0)
    l2norm = tf.where(positive, tf.sqrt(tf.where(positive, l2sum, tf.ones_like(l2sum))), l2sum)
    return out * max_norm / tf.maximum(l2norm, max_norm)
