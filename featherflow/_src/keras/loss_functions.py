"""Keras 3 loss functions (`tf.keras.losses.mean_squared_error`, ...): per-sample values, reduced
over the last axis, computed exactly as Keras' TensorFlow backend computes them (the fused
`tf.nn` cross-entropy ops for logits, clipping to [1e-7, 1 - 1e-7] for probabilities)."""
from __future__ import annotations

import math
import warnings

from featherflow._src.keras import _lossops as ops
from featherflow._src.keras import activations as _act
from featherflow._src.keras._lossops import EPSILON, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred, align=True):
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    if align:
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return y_true, y_pred


def _const(value, like):
    return ops.to_tensor(value, like.dtype)


def mean_squared_error(y_true, y_pred):
    """Mean of squared errors over the last axis.

    >>> import featherflow as tf
    >>> tf.keras.losses.mean_squared_error([[0., 1.]], [[1., 1.]]).numpy()
    array([0.5], dtype=float32)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.reduce_mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Mean of absolute errors over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.reduce_mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _const(EPSILON, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), eps))
    return _const(100.0, y_pred) * ops.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Mean of squared differences of log(max(y, 1e-7) + 1) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps, one = _const(EPSILON, y_pred), _const(1.0, y_pred)
    first = ops.log(ops.maximum(y_pred, eps) + one)
    second = ops.log(ops.maximum(y_true, eps) + one)
    return ops.reduce_mean(ops.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    # Keras' ops.normalize(order=2): x * min(rsqrt(sum(x^2)), 1/eps).
    inv = ops.rsqrt(ops.reduce_sum(ops.square(x), axis=axis, keepdims=True))
    return x * ops.minimum(inv, _const(1.0 / EPSILON, x))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along `axis` (-1 for identical directions)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_pred = _l2_normalize(y_pred, axis)
    y_true = _l2_normalize(y_true, axis)
    return -ops.reduce_sum(y_true * y_pred, axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: quadratic for |error| <= delta, linear beyond, averaged over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = _const(delta, y_pred)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    half = _const(0.5, y_pred)
    return ops.reduce_mean(ops.where(ops.less_equal(abs_error, delta), half * ops.square(error),
                                     delta * abs_error - half * ops.square(delta)), axis=-1)


def log_cosh(y_true, y_pred):
    """log(cosh(y_pred - y_true)) averaged over the last axis (computed without overflow)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    log2 = _const(math.log(2.0), y_pred)
    return ops.reduce_mean(x + ops.softplus(x * _const(-2.0, x)) - log2, axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [1e-7, 1]."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    y_true = ops.clip_by_value(y_true, _const(EPSILON, y_true), _const(1.0, y_true))
    y_pred = ops.clip_by_value(y_pred, _const(EPSILON, y_pred), _const(1.0, y_pred))
    return ops.reduce_sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    eps = _const(EPSILON, y_pred)
    return ops.reduce_mean(y_pred - y_true * ops.log(y_pred + eps), axis=-1)


def _hinge_labels(y_true):
    # Labels that are all 0/1 become -1/1; anything else is used as given.
    binary = ops.reduce_all(ops.logical_or(ops.equal(y_true, _const(0.0, y_true)),
                                           ops.equal(y_true, _const(1.0, y_true))))
    if bool(binary):
        return _const(2.0, y_true) * y_true - _const(1.0, y_true)
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis (0/1 labels mapped to -1/1)."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    y_true = _hinge_labels(y_true)
    return ops.reduce_mean(ops.maximum(_const(1.0, y_pred) - y_true * y_pred,
                                       _const(0.0, y_pred)), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis (0/1 labels mapped to -1/1)."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    y_true = _hinge_labels(y_true)
    return ops.reduce_mean(ops.square(ops.maximum(_const(1.0, y_pred) - y_true * y_pred,
                                                  _const(0.0, y_pred))), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(y_true*y_pred), neg = max((1-y_true)*y_pred)."""
    y_true, y_pred = _pair(y_true, y_pred, align=False)
    one = _const(1.0, y_pred)
    pos = ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = ops.reduce_max((one - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + one, _const(0.0, y_pred))


def _logits_of(output, from_logits):
    """(output, from_logits), with the logits cached by `activations.softmax`/`sigmoid` taking
    the place of their probabilities (Keras 3's TensorFlow backend does the same)."""
    if not from_logits:
        logits = _act.keras_logits(output)
        if logits is not None:
            return logits, True
    return output, from_logits


def _bce_elementwise(target, output, from_logits):
    ops.check_same_shape(target, output)
    output, from_logits = _logits_of(output, from_logits)
    if from_logits:
        return ops.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    one = _const(1.0, output)
    output = ops.clip_by_value(output, _const(EPSILON, output), _const(1.0 - EPSILON, output))
    bce = target * ops.log(output)
    bce = bce + (one - target) * ops.log(one - output)
    return -bce


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over `axis`.

    >>> import featherflow as tf
    >>> round(float(tf.keras.losses.binary_crossentropy([1.], [0.5])), 4)
    0.6931
    """
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = (y_true * _const(1.0 - label_smoothing, y_pred)
                  + _const(0.5 * label_smoothing, y_pred))
    return ops.reduce_mean(_bce_elementwise(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal cross-entropy (focal factor (1 - p_t)^gamma) averaged over `axis`."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    one = _const(1.0, y_pred)
    if label_smoothing:
        y_true = (y_true * _const(1.0 - label_smoothing, y_pred)
                  + _const(0.5 * label_smoothing, y_pred))
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = _bce_elementwise(y_true, y_pred, False)
    p_t = y_true * y_pred + (one - y_true) * (one - y_pred)
    focal = ops.pow(one - p_t, _const(gamma, y_pred)) * bce
    if apply_class_balancing:
        focal = (y_true * _const(alpha, y_pred) + (one - y_true) * _const(1.0 - alpha, y_pred)) \
            * focal
    return ops.reduce_mean(focal, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy of one-hot (or soft) labels along `axis`.

    >>> import featherflow as tf
    >>> round(float(tf.keras.losses.categorical_crossentropy([0., 1.], [0.5, 0.5])), 4)
    0.6931
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true, y_pred.dtype)
    if ops.ndim(y_pred) and y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be "
                      "(batch_size, num_classes) with num_classes > 1. Received: "
                      f"y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' if "
                      "you only have 2 classes.", SyntaxWarning, stacklevel=2)
    if label_smoothing:
        num_classes = _const(float(y_true.shape[-1]), y_pred)
        y_true = (y_true * _const(1.0 - label_smoothing, y_pred)
                  + _const(label_smoothing, y_pred) / num_classes)
    if ops.ndim(y_true) < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={y_true.shape}, output.shape={y_pred.shape}")
    ops.check_same_shape(y_true, y_pred)
    y_pred, from_logits = _logits_of(y_pred, from_logits)
    if from_logits:
        return ops.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred, axis=axis)
    output = y_pred / ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    output = ops.clip_by_value(output, _const(EPSILON, output), _const(1.0 - EPSILON, output))
    return -ops.reduce_sum(y_true * ops.log(output), axis=axis)


def _sparse_cce(target, output, from_logits, axis):
    if axis != -1 and axis != ops.ndim(output) - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = ops.to_tensor(target, "int64")
    if ops.ndim(target) == ops.ndim(output) and target.shape[-1] == 1:
        target = ops.squeeze(target, axis=[-1])
    if ops.ndim(output) < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: "
                         f"output.shape={output.shape}")
    if ops.ndim(target) != ops.ndim(output) - 1:
        raise ValueError("Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    tshape, oshape = ops.dims(target), ops.dims(output)
    for a, b in zip(tshape, oshape[:-1]):
        if a is not None and b is not None and a != b:
            raise ValueError("Arguments `target` and `output` must have the same shape up until"
                             f" the last dimension: target.shape={target.shape}, "
                             f"output.shape={output.shape}")
    output, from_logits = _logits_of(output, from_logits)
    if not from_logits:
        output = ops.log(ops.clip_by_value(output, _const(EPSILON, output),
                                           _const(1.0 - EPSILON, output)))
    return ops.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


def sparse_categorical_crossentropy_with_mask(y_true, y_pred, from_logits=False,
                                              ignore_class=None, axis=-1):
    """(per-sample loss, validity mask or None); the mask is what Keras attaches to the result
    when `ignore_class` is set, so reductions average over the valid entries only."""
    y_pred = ops.to_tensor(y_pred)
    y_true = ops.to_tensor(y_true)
    if ops.ndim(y_true) == ops.ndim(y_pred) and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=[axis])
    mask = None
    if ignore_class is not None:
        class_axis = axis % ops.ndim(y_pred)
        res_shape = [d for i, d in enumerate(y_pred.shape) if i != class_axis]
        mask = ops.not_equal(y_true, ops.to_tensor(ignore_class, y_true.dtype))
        y_true = ops.where(mask, y_true, ops.zeros_like(y_true))
        y_pred = ops.where(ops.expand_dims(mask, axis), y_pred, ops.zeros_like(y_pred))
    res = _sparse_cce(y_true, y_pred, from_logits, axis)
    if mask is not None:
        mask = ops.reshape(mask, res_shape)
        res = ops.where(mask, res, ops.zeros_like(res))
    return res, mask


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy of integer labels against class scores on the last axis.

    >>> import featherflow as tf
    >>> round(float(tf.keras.losses.sparse_categorical_crossentropy([1], [[0.5, 0.5]])[0]), 4)
    0.6931
    """
    return sparse_categorical_crossentropy_with_mask(y_true, y_pred, from_logits, ignore_class,
                                                     axis)[0]


# Short names that `get` resolves, as Keras does.
ALIASES = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
}

FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
             mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, kl_divergence,
             poisson, hinge, squared_hinge, categorical_hinge, binary_crossentropy,
             binary_focal_crossentropy, categorical_crossentropy,
             sparse_categorical_crossentropy)
