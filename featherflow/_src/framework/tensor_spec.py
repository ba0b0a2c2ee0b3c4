"""tf.TensorSpec: the shape, dtype and optional name that describe a tensor (no value).

tf.data uses specs for `element_spec` and `from_generator(output_signature=...)`.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.shapes import TensorShape


class TensorSpec:
    """Describes a tensor: `TensorSpec(shape, dtype=tf.float32, name=None)`.

    >>> import featherflow as tf
    >>> tf.TensorSpec([2, None], tf.int32)
    TensorSpec(shape=(2, None), dtype=tf.int32, name=None)
    >>> tf.TensorSpec([None]).is_compatible_with(tf.constant([1.0, 2.0]))
    True
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=_dt.float32, name=None):
        self._shape = TensorShape(shape)
        self._dtype = _dt.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name=None) -> "TensorSpec":
        """The spec of an existing tensor (or NumPy array)."""
        from featherflow._src.framework.convert import convert_to_tensor  # noqa: PLC0415

        t = convert_to_tensor(tensor)
        return cls(t.shape, t.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None) -> "TensorSpec":
        return cls(spec.shape, spec.dtype, spec.name if name is None else name)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def name(self):
        return self._name

    @property
    def value_type(self):
        from featherflow._src.framework.tensor import Tensor  # noqa: PLC0415

        return Tensor

    def is_compatible_with(self, spec_or_tensor) -> bool:
        """True when `spec_or_tensor` has this dtype and a compatible shape."""
        other = spec_or_tensor
        if not isinstance(other, TensorSpec):
            if not hasattr(other, "dtype") or not hasattr(other, "shape"):
                return False
            other = TensorSpec(other.shape, other.dtype)
        return self._dtype == other._dtype and self._shape.is_compatible_with(other._shape)

    def most_specific_common_supertype(self, others):
        """The most specific spec compatible with this one and all `others` (None if none)."""
        shape = self._shape
        for o in others:
            if not isinstance(o, TensorSpec) or o._dtype != self._dtype:
                return None
            shape = shape.most_specific_compatible_shape(o._shape)
        return TensorSpec(shape, self._dtype, self._name)

    def __eq__(self, other):
        return (type(other) is type(self) and self._shape == other._shape and
                self._dtype == other._dtype and self._name == other._name)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        dims = None if self._shape.rank is None else tuple(self._shape.as_list())
        return hash((dims, self._dtype, self._name))

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"

    def __reduce__(self):
        return TensorSpec, (self._shape, self._dtype, self._name)
