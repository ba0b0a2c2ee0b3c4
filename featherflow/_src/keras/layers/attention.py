"""MultiHeadAttention (Keras 3) and the EinsumDense projections it is built from.

Weights, in order: query/kernel (dim, heads, key_dim), query/bias (heads, key_dim), the same for
key and value (value_dim), attention_output/kernel (heads, value_dim, out), its bias (out,), so
TensorFlow's `get_weights()` can be loaded with `set_weights`.
"""
from __future__ import annotations

import math

import numpy as np

from featherflow._src.keras import constraints as _con
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras.layers.base import Layer
from featherflow._src.keras.layers.core import SeedGenerator, dropout_mask_apply, ser
from featherflow._src.framework.public import tf as _tf


def contract(equation, x, kernel):
    """`einsum(equation, x, kernel)` for a dense contraction (no letter shared by both inputs
    survives), written as transpose + reshape + matmul so the tape differentiates it."""
    tf = _tf()
    lhs, out = equation.split("->")
    xi, ki = lhs.split(",")
    summed = [c for c in xi if c in ki and c not in out]
    x_free = [c for c in xi if c not in summed]
    k_free = [c for c in ki if c not in summed]
    xs, ks = list(x.shape), list(kernel.shape)
    size = dict(zip(xi, xs)) | dict(zip(ki, ks))
    xt = tf.transpose(x, [xi.index(c) for c in x_free + summed])
    kt = tf.transpose(kernel, [ki.index(c) for c in summed + k_free])
    k_sum = math.prod(size[c] for c in summed)
    y = tf.matmul(tf.reshape(xt, [-1, k_sum]), tf.reshape(kt, [k_sum, -1]))
    y = tf.reshape(y, [size[c] for c in x_free + k_free])
    order = x_free + k_free
    perm = [order.index(c) for c in out]
    return y if perm == list(range(len(perm))) else tf.transpose(y, perm)


class EinsumDense(Layer):
    """`einsum(equation, inputs, kernel) + bias`, with the kernel/bias shapes given explicitly
    (`output_shape` without the batch axis, `bias_axes` letters of the output)."""

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = tuple(output_shape) if isinstance(
            output_shape, (list, tuple)) else (output_shape,)
        self.bias_axes = bias_axes
        from featherflow._src.keras import activations as _act  # noqa: PLC0415
        self.activation = _act.get(activation)
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel_constraint = _con.get(kernel_constraint)
        self.bias_constraint = _con.get(bias_constraint)

    def build(self, input_shape):
        lhs, out = self.equation.split("->")
        inp, ker = lhs.split(",")
        sizes = dict(zip(inp, input_shape))
        full_out = (None,) * (len(out) - len(self.partial_output_shape)) + \
            self.partial_output_shape
        for letter, size in zip(out, full_out):
            if size is not None:
                sizes[letter] = size
        self.full_output_shape = tuple(sizes.get(c) for c in out)
        self.kernel = self.add_weight(name="kernel", shape=tuple(sizes[c] for c in ker),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.bias_axes:
            first = min(out.index(c) for c in self.bias_axes)
            shape = tuple(sizes[c] if c in self.bias_axes else 1 for c in out[first:])
            self.bias = self.add_weight(name="bias", shape=shape,
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs, training=None):
        y = contract(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.full_output_shape[1:]


class MultiHeadAttention(Layer):
    """Scaled dot-product attention over `num_heads` heads (Keras 3's einsum layout).

    >>> import featherflow as tf
    >>> mha = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    >>> mha(tf.ones((1, 4, 5)), tf.ones((1, 6, 5))).shape
    TensorShape([1, 4, 5])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if attention_axes is not None or sliding_window is not None or use_gate:
            raise ValueError("featherflow's MultiHeadAttention supports attention over axis 1 "
                             "only (attention_axes=None, sliding_window=None, use_gate=False).")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout, self.use_bias, self.seed = float(dropout), use_bias, seed
        self._output_shape = output_shape
        self._proj = {"kernel_initializer": kernel_initializer,
                      "bias_initializer": bias_initializer,
                      "kernel_regularizer": kernel_regularizer,
                      "bias_regularizer": bias_regularizer,
                      "kernel_constraint": kernel_constraint, "bias_constraint": bias_constraint}
        self.seed_generator = SeedGenerator(seed) if self.dropout > 0 else None
        self.supports_masking = True

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list) and \
                isinstance(query_shape[0], (list, tuple)):
            query_shape, value_shape = query_shape[0], query_shape[1]
        value_shape = value_shape or query_shape
        key_shape = key_shape or value_shape
        h = self.num_heads
        bias = "de" if self.use_bias else None
        self._query_dense = EinsumDense("abc,cde->abde", (None, h, self.key_dim),
                                        bias_axes=bias, name="query", **self._proj)
        self._key_dense = EinsumDense("abc,cde->abde", (None, h, self.key_dim),
                                      bias_axes=bias, name="key", **self._proj)
        self._value_dense = EinsumDense("abc,cde->abde", (None, h, self.value_dim),
                                        bias_axes=bias, name="value", **self._proj)
        out = self._output_shape or query_shape[-1]
        out = tuple(out) if isinstance(out, (list, tuple)) else (out,)
        self._output_dense = EinsumDense(
            "abcd,cde->abe" if len(out) == 1 else "abcd,cdef->abef", (None,) + out,
            bias_axes=("e" if len(out) == 1 else "ef") if self.use_bias else None,
            name="attention_output", **self._proj)
        self._query_dense.build(tuple(query_shape))
        self._key_dense.build(tuple(key_shape))
        self._value_dense.build(tuple(value_shape))
        self._output_dense.build((query_shape[0], query_shape[1], h, self.value_dim))

    def _maybe_build(self, first):
        # Built from the query, value (and key) shapes of the first call, not one input;
        # `__call__` has already put this layer on the variable-path scope.
        if not self.built:
            self.build(*self._pending_shapes)
            self.built = True

    def __call__(self, query, value=None, key=None, **kwargs):
        from featherflow._src.keras.layers.base import _shape_of  # noqa: PLC0415
        value = query if value is None else value
        self._pending_shapes = (_shape_of(query), _shape_of(value),
                                None if key is None else _shape_of(key))
        return super().__call__(query, value, key, **kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        tf = _tf()
        key = value if key is None else key
        mask = self._compute_attention_mask(query, value, query_mask, value_mask, key_mask,
                                            attention_mask, use_causal_mask)
        q = self._query_dense(query)
        k = self._key_dense(key)
        v = self._value_dense(value)
        q = q * (1.0 / math.sqrt(float(self.key_dim)))
        # (batch, heads, T_q, T_k) = einsum("aecd,abcd->acbe", k, q), as batched matmuls.
        q = tf.transpose(q, [0, 2, 1, 3])
        scores = tf.matmul(q, tf.transpose(k, [0, 2, 1, 3]), transpose_b=True)
        if mask is not None:
            mask = tf.expand_dims(mask, 1)   # over heads
            scores = scores + (1.0 - tf.cast(mask, scores.dtype)) * -1e9
        scores = tf.nn.softmax(scores, axis=-1)
        dropped = scores
        if training and self.dropout > 0:
            dropped = dropout_mask_apply(scores, self.dropout, self.seed_generator)
        out = tf.transpose(tf.matmul(dropped, tf.transpose(v, [0, 2, 1, 3])), [0, 2, 1, 3])
        out = self._output_dense(out)
        if return_attention_scores:
            return out, scores
        return out

    def _compute_attention_mask(self, query, value, query_mask, value_mask, key_mask,
                                attention_mask, use_causal_mask):
        tf = _tf()
        mask = None
        if query_mask is not None:
            mask = tf.expand_dims(tf.cast(query_mask, tf.bool), -1)
        if value_mask is not None:
            vm = tf.expand_dims(tf.cast(value_mask, tf.bool), -2)
            mask = vm if mask is None else tf.logical_and(mask, vm)
        if key_mask is not None:
            km = tf.expand_dims(tf.cast(key_mask, tf.bool), -2)
            mask = km if mask is None else tf.logical_and(mask, km)
        if use_causal_mask:
            tq, tv = query.shape[1], value.shape[1]
            causal = tf.constant(np.tril(np.ones((tq, tv), bool)))[None]
            mask = causal if mask is None else tf.logical_and(mask, causal)
        if attention_mask is not None:
            am = tf.cast(attention_mask, tf.bool)
            mask = am if mask is None else tf.logical_and(mask, am)
        return mask

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        out = self._output_shape or query_shape[-1]
        out = tuple(out) if isinstance(out, (list, tuple)) else (out,)
        return tuple(query_shape[:-1]) + out

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self._output_shape, "attention_axes": None,
                "kernel_initializer": ser(_init.get(self._proj["kernel_initializer"]), "init"),
                "bias_initializer": ser(_init.get(self._proj["bias_initializer"]), "init"),
                "seed": self.seed}
