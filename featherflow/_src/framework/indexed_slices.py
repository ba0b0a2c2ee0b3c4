"""tf.IndexedSlices: a sparse slice representation (values at row indices of a dense shape).

Gradients of gathers are IndexedSlices. `tf.convert_to_tensor` densifies one, summing the rows of
duplicate indices, through the registered conversion function below.
"""
from __future__ import annotations

from featherflow._src.framework.convert import (convert_to_tensor,
                                                register_tensor_conversion_function)
from featherflow._src.framework.shapes import TensorShape


class IndexedSlices:
    """Rows `values[i]` at `indices[i]` of a tensor of shape `dense_shape`.

    >>> import featherflow as tf
    >>> s = tf.IndexedSlices(tf.constant([[1.0], [2.0]]), tf.constant([0, 0]), tf.constant([3, 1]))
    >>> tf.convert_to_tensor(s).numpy().ravel().tolist()
    [3.0, 0.0, 0.0]
    """

    _is_indexed_slices = True
    _is_tensor_like = True

    def __init__(self, values, indices, dense_shape=None):
        self._values = convert_to_tensor(values)
        self._indices = convert_to_tensor(indices)
        self._dense_shape = None if dense_shape is None else convert_to_tensor(dense_shape)

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def device(self) -> str:
        return self._values.device

    @property
    def name(self):
        raise AttributeError("IndexedSlices.name is undefined when eager execution is enabled.")

    @property
    def shape(self) -> TensorShape:
        if self._dense_shape is None:
            return TensorShape(None)
        return TensorShape([int(d) for d in self._dense_shape.numpy().tolist()])

    def __neg__(self):
        from featherflow._src.api.math_ops import negative  # noqa: PLC0415

        return IndexedSlices(negative(self._values), self._indices, self._dense_shape)

    # tf.nest with expand_composites=True
    def _nest_components(self):
        parts = [self._values, self._indices]
        if self._dense_shape is not None:
            parts.append(self._dense_shape)
        return parts

    def _nest_from_components(self, parts):
        return IndexedSlices(*parts)

    def __str__(self):
        shape = "" if self._dense_shape is None else f", dense_shape={self._dense_shape}"
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"


def _densify(value, dtype=None, name=None, as_ref=False):
    if dtype is not None and dtype is not value.dtype:
        raise ValueError(f"Incompatible tensor conversion requested to `dtype` {dtype.name} for "
                         f"IndexedSlices ({value}) with dtype {value.dtype.name}")
    if value.dense_shape is None:
        raise ValueError("Tensor conversion requested for IndexedSlices for argument `value` "
                         f"without dense_shape: {value}")
    from featherflow._src.ops import dispatch  # noqa: PLC0415
    from featherflow._src.ops.defs import segment  # noqa: F401, PLC0415 - registers the op

    rows = int(value.dense_shape.numpy().reshape(-1)[0])
    return dispatch.execute("UnsortedSegmentSum", (value.values, value.indices),
                            {"num_segments": rows})


register_tensor_conversion_function(IndexedSlices, _densify)
