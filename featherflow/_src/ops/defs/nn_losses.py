"""Cross-entropy primitives: kernel and gradient together.

Fused because one pass over the logits (max, exp, sum, log) is both faster and stable for
logits of any size; tests/nn/test_fused_vs_composite.py shows each equals its composite of public
ops. Gradients are written with public ops (higher-order gradients work).
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors
from featherflow._src.ops.defs.grad_util import NONE_OK, batchable
from featherflow._src.ops.registry import FLOATS, primitive, register_gradient
from featherflow._src.framework.public import tf as _tf


def _up(xp, x):
    x = xp.asarray(x)
    return xp.asarray(x, dtype=xp.float32) if x.dtype.itemsize <= 2 else x


def _down(out, like):
    out = out if hasattr(out, "dtype") else like.dtype.type(out)
    return out if out.dtype == like.dtype else out.astype(like.dtype)


def _log_softmax(xp, x, axis):
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


# -- sigmoid cross-entropy ------------------------------------------------------------------------
@primitive("SigmoidCrossEntropyWithLogits", dtypes=FLOATS, out_dtype="same")
def SigmoidCrossEntropyWithLogits(xp, labels, logits):
    """max(x, 0) - x*z + log1p(exp(-|x|)): TF's formula, finite for any logits.

    NOTE: not a TensorFlow raw op (TF composes it from five ops); fused here for one pass and
    an exact gradient at x == 0.
    """
    x, z = _up(xp, logits), _up(xp, labels)
    out = xp.maximum(x, x.dtype.type(0)) - x * z + xp.log1p(xp.exp(-xp.abs(x)))
    return _down(out, xp.asarray(logits))


@register_gradient("SigmoidCrossEntropyWithLogits")
def _sigmoid_ce_grad(op, grad):
    tf = _tf()
    labels, logits = op.inputs
    return [-grad * logits, grad * (tf.sigmoid(logits) - labels)]


# -- softmax cross-entropy ------------------------------------------------------------------------
@primitive("SoftmaxCrossEntropyWithLogits", dtypes=FLOATS, out_dtype="same")
def SoftmaxCrossEntropyWithLogits(xp, features, labels, axis=-1):
    """sum(-labels * log_softmax(features), axis). TF's op has a second output (the backprop);
    here the gradient recomputes softmax with public ops so that it is itself differentiable."""
    x, z = _up(xp, features), _up(xp, labels)
    if x.shape[axis] == 0:
        return _down(xp.zeros(x.sum(axis=axis).shape, x.dtype), xp.asarray(features))
    return _down(-xp.sum(z * _log_softmax(xp, x, axis), axis=axis), xp.asarray(features))


@register_gradient("SoftmaxCrossEntropyWithLogits")
def _softmax_ce_grad(op, grad):
    tf = _tf()
    logits, labels = op.inputs
    axis = op.attrs.get("axis", -1)
    g = tf.expand_dims(grad, axis)
    # TF v2: the labels get a gradient too (-log_softmax), so soft labels can be learned.
    return [g * (tf.nn.softmax(logits, axis=axis) - labels),
            g * -tf.nn.log_softmax(logits, axis=axis)]


# -- sparse softmax cross-entropy -----------------------------------------------------------------
def _check_sparse(inputs, attrs):
    d = inputs[1]._dtype
    if d not in (_dt.int32, _dt.int64):
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'Tlabels' of {d.name} is not in the list of allowed "
            "values: int32, int64 [Op:SparseSoftmaxCrossEntropyWithLogits]")


_UNSIGNED = {4: "uint32", 8: "uint64"}


def _check_labels(xp, labels, classes):
    """TensorFlow's error for labels outside [0, classes)."""
    bad = (labels < 0) | (labels >= classes)
    if labels.size and bool(bad.any()):
        first = int(labels.reshape(-1)[int(xp.argmax(bad.reshape(-1)))])
        values = " ".join(str(int(v)) for v in labels.reshape(-1).tolist())
        raise ValueError(f"Received a label value of {first} which is outside the valid range "
                         f"of [0, {classes}).  Label values: {values}")


# quiet=False: C-level NumPy calls only (array methods, ufuncs), whose warnings the ops.defs
# filter catches.
@primitive("SparseSoftmaxCrossEntropyWithLogits", dtypes=FLOATS, same_dtype=1,
           check=_check_sparse, num_outputs=2, quiet=False)
def SparseSoftmaxCrossEntropyWithLogits(xp, features, labels):
    """(loss, backprop), as TensorFlow's op: loss = -log_softmax(features)[..., label] over the
    last axis, backprop = softmax(features) - one_hot(labels) (the loss's gradient, kept for
    the backward pass, which then recomputes nothing). Labels out of [0, classes) raise."""
    x = _up(xp, features)
    labels = xp.asarray(labels)
    classes = x.shape[-1]
    like = xp.asarray(features)
    if x.size == 0:
        _check_labels(xp, labels, classes)
        return (_down(xp.zeros(labels.shape, x.dtype), like),
                _down(xp.zeros(x.shape, x.dtype), like))
    flat = labels.reshape(-1)
    # One pass checks the range: seen as unsigned, a negative label is huge.
    if flat.view(_UNSIGNED[flat.dtype.itemsize]).max() >= classes:
        _check_labels(xp, labels, classes)
    # loss = lse - shifted[label]: the same float operations as -(log_softmax[label]) (a - b is
    # exactly -(b - a)), without forming the whole log_softmax; never -0.0. Array methods and
    # flat indices: NumPy's reduction wrappers and tuple indexing cost more than this math.
    s = x - x.max(axis=-1, keepdims=True)
    e = xp.exp(s)
    sums = e.sum(axis=-1, keepdims=True)
    lse = xp.log(sums[..., 0])
    at = xp.arange(0, flat.shape[0] * classes, classes) + flat  # flat index of each label
    loss = lse - s.reshape(-1).take(at).reshape(labels.shape)
    e /= sums  # softmax, then minus the one-hot: SparseSoftmaxCrossEntropyBackprop's bits
    e.reshape(-1)[at] -= 1
    return _down(loss, like), _down(e, like)


@register_gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_softmax_ce_grad(op, grad, grad_backprop):
    tf = _tf()
    logits = op.inputs[0]
    if grad is None:
        out = None
    else:  # expand_dims(grad, -1) * backprop, without the public functions' argument handling
        from featherflow._src.ops.defs.array import Reshape  # noqa: PLC0415
        from featherflow._src.ops.dispatch import execute  # noqa: PLC0415

        shape = grad._value.shape
        out = execute(Reshape, (grad,), {"shape": shape + (1,)}) * op.outputs[1]
    if grad_backprop is not None:
        # backprop = softmax(x) - onehot: its derivative is softmax's, (g - sum(g * s)) * s.
        s = tf.nn.softmax(logits)
        more = (grad_backprop - tf.reduce_sum(grad_backprop * s, axis=-1, keepdims=True)) * s
        out = more if out is None else out + more
    return [out, None]


NONE_OK.add("SparseSoftmaxCrossEntropyWithLogits")


@primitive("SparseSoftmaxCrossEntropyBackprop", dtypes=FLOATS, same_dtype=0, out_dtype="same")
def SparseSoftmaxCrossEntropyBackprop(xp, logits, labels):
    """softmax(logits) - one_hot(labels): d(loss)/d(logits) of the sparse cross-entropy.

    NOTE: not a TensorFlow raw op (TF's SparseSoftmaxCrossEntropyWithLogits returns this as a
    second output); one pass here instead of one_hot + softmax + subtract. The labels were
    checked by the forward op."""
    x = _up(xp, logits)
    labels = xp.asarray(labels)
    if x.size == 0:
        return _down(xp.zeros(x.shape, x.dtype), xp.asarray(logits))
    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
    e /= xp.sum(e, axis=-1, keepdims=True)
    rows = e.reshape(-1, x.shape[-1])
    rows[xp.arange(rows.shape[0]), labels.reshape(-1)] -= 1
    return _down(e, xp.asarray(logits))


@register_gradient("SparseSoftmaxCrossEntropyBackprop")
def _sparse_backprop_grad(op, grad):
    # backprop = softmax(x) - onehot: its derivative is softmax's, (g - sum(g * s)) * s.
    tf = _tf()
    s = tf.nn.softmax(op.inputs[0])
    return [(grad - tf.reduce_sum(grad * s, axis=-1, keepdims=True)) * s, None]


# The gradients broadcast `grad` from the right (the class axis is a negative index), so they
# accept a leading batch axis (vectorized Jacobians).
batchable("SigmoidCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits",
          "SparseSoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyBackprop")
