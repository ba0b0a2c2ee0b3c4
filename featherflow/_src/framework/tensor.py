"""tf.Tensor: an immutable eager value on one device.

A tensor holds a backend array (`_value`), its DType and its Device. Operators are attached by
`featherflow._src.api.operators`, which routes them through the public ops, so this file knows no
math.
"""
from __future__ import annotations

import operator
import os

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.shapes import TensorShape

# The optional C storage of EagerTensor (_ctensor.c): its five fields, and the device byte
# counter's update on free without a Python __del__. Without it (no compiler at install time,
# or FEATHERFLOW_NATIVE=0) the same fields are __slots__ and __del__ does the update.
_ctensor = None
if os.environ.get("FEATHERFLOW_NATIVE", "1") != "0":
    try:
        from featherflow._src.framework import _ctensor
    except ImportError:  # pragma: no cover - built wherever a C compiler exists
        _ctensor = None
NATIVE = _ctensor is not None
_Storage = _ctensor.TensorBase if NATIVE else object


class Tensor:
    """The abstract tf.Tensor type: `isinstance(x, tf.Tensor)` holds for every eager tensor."""

    __slots__ = ()
    # Makes NumPy hand `ndarray <op> tensor` to the tensor's reflected operator.
    __array_priority__ = 100
    OVERLOADABLE_OPERATORS = frozenset()


class EagerTensor(Tensor, _Storage):
    """An eager tensor. Create one with `tf.constant` or `tf.convert_to_tensor`."""

    __slots__ = () if NATIVE else ("_value", "_dtype", "_device", "_nbytes", "_shape",
                                   "__weakref__")

    def __new__(cls, *args, **kwargs):
        # Refused in __new__, not __init__: a half-built tensor would reach __del__ without
        # its slots set. Ops build tensors with `new_tensor` (see make()).
        raise TypeError("tf.Tensor objects are created by ops: use tf.constant(value) or "
                        "tf.convert_to_tensor(value).")

    if not NATIVE:
        def __del__(self):
            n = self._nbytes
            if n:
                self._device.bytes_in_use -= n

    # -- metadata ---------------------------------------------------------------------------
    dtype = property(operator.attrgetter("_dtype"), doc="The DType of this tensor.")

    @property
    def shape(self) -> TensorShape:
        s = self._shape
        if s is None:
            s = self._shape = TensorShape(self._value.shape)
        return s

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape):
        if not self.shape.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self.shape} is not compatible with supplied shape "
                             f"{TensorShape(shape)}.")

    @property
    def ndim(self) -> int:
        return len(self._value.shape)

    @property
    def device(self) -> str:
        return self._device.name

    @property
    def backing_device(self) -> str:
        return self._device.name

    @property
    def name(self):
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    @property
    def op(self):
        raise AttributeError("Tensor.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    @property
    def value_index(self):
        return 0

    def _shape_tuple(self):
        return self._value.shape

    def _rank(self):
        return len(self._value.shape)

    def _num_elements(self):
        return int(np.prod(self._value.shape, dtype=np.int64))

    # -- host access ------------------------------------------------------------------------
    def _host(self) -> np.ndarray:
        """A host NumPy array with this tensor's contents (an explicit, counted copy off-host)."""
        dev = self._device
        if dev.direct and dev.backend.name == "numpy":
            return self._value
        return dev.backend.to_host(self._value)

    def numpy(self):
        """A NumPy copy of the value (a NumPy scalar for a 0-d tensor)."""
        if not self._dtype.is_numpy_compatible:
            raise ValueError(f"Cannot convert a Tensor of dtype {self._dtype.name} to a NumPy "
                             "array.")
        a = self._host()
        if a.ndim == 0:
            return a[()]
        return np.array(a, copy=True)

    def __array__(self, dtype=None, copy=None):
        a = self._host()
        if copy is False:
            if a is not self._value or (dtype is not None and np.dtype(dtype) != a.dtype):
                raise ValueError("Unable to avoid copy while creating an array as requested.")
            view = a.view() if isinstance(a, np.ndarray) else np.asarray(a)
            view.flags.writeable = False
            return view
        out = np.array(a, dtype=dtype, copy=True)
        return out

    def __dlpack__(self, stream=None, **kwargs):
        dev = self._device
        if dev.direct and dev.backend.name != "numpy":
            return self._value.__dlpack__(stream=stream)
        return np.array(self._host(), copy=True).__dlpack__(**kwargs)

    def __dlpack_device__(self):
        dev = self._device
        if dev.direct and dev.backend.name != "numpy":
            return self._value.__dlpack_device__()
        return (1, 0)

    def cpu(self):
        from featherflow._src.api.array_ops import _copy_to  # noqa: PLC0415

        return _copy_to(self, "/device:CPU:0")

    def gpu(self, gpu_index=0):
        from featherflow._src.api.array_ops import _copy_to  # noqa: PLC0415

        return _copy_to(self, f"/device:GPU:{gpu_index}")

    # -- Python protocol --------------------------------------------------------------------
    def __bool__(self):
        return bool(self._host())

    def __int__(self):
        return int(self._scalar_host())

    def __float__(self):
        return float(self._scalar_host())

    def __complex__(self):
        return complex(self._scalar_host())

    def _scalar_host(self):
        # TensorFlow passes on the message of the NumPy it runs with; older NumPy words it
        # differently, so the message is fixed here (size-1 arrays still convert, as in NumPy).
        if self._value.shape != () and int(np.prod(self._value.shape)) != 1:
            raise TypeError("only 0-dimensional arrays can be converted to Python scalars")
        return self._host()

    def __index__(self):
        if not self._dtype.is_integer or self._value.shape != ():
            raise TypeError("Only integer scalar tensors can be converted to an index. "
                            f"Received: a {self._dtype.name} tensor of shape {self.shape}")
        return int(self._host())

    def __len__(self):
        shape = self._value.shape
        if not shape:
            raise TypeError("Scalar tensor has no `len()`")
        return shape[0]

    def __iter__(self):
        # Not a generator function: the scalar check must fire at iter(), as in TensorFlow.
        shape = self._value.shape
        if not shape:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(shape[0]))

    def __hash__(self):
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def ref(self):
        """A hashable reference to this tensor (tensors compare elementwise, so are unhashable)."""
        return Reference(self)

    def experimental_ref(self):
        return self.ref()

    def __copy__(self):
        return self  # immutable

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        from featherflow._src.framework.convert import convert_to_tensor  # noqa: PLC0415

        return convert_to_tensor, (self.numpy(),)

    def __repr__(self):
        return (f"<tf.Tensor: shape={self.shape}, dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self, True)}>")

    def __str__(self):
        return f"tf.Tensor({_numpy_text(self, False)}, shape={self.shape}, " \
               f"dtype={self._dtype.name})"


def _numpy_text(t, is_repr):
    if not t._dtype.is_numpy_compatible:
        return "<unprintable>"
    a = t._host()
    if a.ndim == 0:
        x = a[()]
        text = repr(x) if isinstance(x, (bytes, str)) else str(x)
    else:
        text = repr(a) if is_repr else str(a)
    if "\n" in text:
        text = "\n" + text
    return text


class Reference:
    """A hashable reference to a tensor or variable, compared by identity (`x.ref()`)."""

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped):
        self._wrapped = wrapped

    def deref(self):
        return self._wrapped

    def __hash__(self):
        return id(self._wrapped)

    def __eq__(self, other):
        return isinstance(other, Reference) and self._wrapped is other._wrapped

    def __repr__(self):
        return f"<Reference wrapping {self._wrapped!r}>"


# new_tensor(EagerTensor): an EagerTensor with no fields set, for code that sets them itself.
new_tensor = _Storage.__new__


def make(value, dtype, device, nbytes=0) -> EagerTensor:
    """Wraps a backend array that is already on `device` (no copy); `nbytes` (what the value
    owns) is added to the device's counter until the tensor is freed."""
    t = new_tensor(EagerTensor)
    t._value = value
    t._dtype = dtype
    t._device = device
    t._shape = None
    t._nbytes = nbytes
    if nbytes:
        device.allocated(nbytes)
    return t


make_py = make  # the specification of the C make (and what runs without it)
if NATIVE:
    _ctensor.configure_class(EagerTensor, make_py)
    make = _ctensor.make  # noqa: F811 - the same function in C


def is_tensor(x) -> bool:
    """True for tf.Tensor values and tensor-like objects (Variables, IndexedSlices)."""
    return isinstance(x, Tensor) or getattr(x, "_is_tensor_like", False)
