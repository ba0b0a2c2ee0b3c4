"""Merging layers: Add and Concatenate."""
from __future__ import annotations

from featherflow._src.keras.layers.base import Layer
from featherflow._src.framework.public import tf as _tf


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape} (not a list of shapes)")

    def compute_mask(self, inputs, mask=None):
        return None


class Add(_Merge):
    """Sums a list of tensors of the same shape (broadcasting as the op does).

    >>> import featherflow as tf
    >>> tf.keras.layers.Add()([tf.ones((1, 2)), tf.ones((1, 2))]).numpy()
    array([[2., 2.]], dtype=float32)
    """

    def call(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


class Concatenate(_Merge):
    """Concatenates a list of tensors along `axis`."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return _tf().concat(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape[0])
        axis = self.axis % len(shape)
        sizes = [s[axis] for s in input_shape]
        shape[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
