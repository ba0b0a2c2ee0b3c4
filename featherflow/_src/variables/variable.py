"""tf.Variable: a named, mutable tensor that owns one buffer on its device.

A Variable holds a handle (an EagerTensor of dtype `tf.resource` whose backend value is the buffer)
and updates the buffer IN PLACE through the resource primitives of `ops/defs/resource.py`, always
via `dispatch.execute`. Reads return tensors that alias the buffer; see `_copy_on_write`.
"""
from __future__ import annotations

import contextlib
import enum
import itertools
import operator
import sys
import threading
import weakref

import numpy as np

from featherflow._src.framework import context, device as _device, dtypes as _dt, errors
from featherflow._src.framework.convert import (_host_with_dtype, convert_to_tensor, place_host,
                                                register_tensor_conversion_function)
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor import (EagerTensor, Reference, _numpy_text, is_tensor, make,
                                               new_tensor)
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import resource as R

_execute = dispatch.execute
_THREAD = context.THREAD
_attr = operator.attrgetter
_READ = R.read_variable


def _watch_read(variable, read=None, tapes=None):
    """Tells active GradientTapes that `variable` is being read (they may auto-watch it, and
    record `read`, the tensor of an inlined host read).

    Replaces itself by autodiff.tape.variable_accessed on first use (an import cycle keeps
    it from being imported above): a read under a tape then costs one call, not two."""
    global _watch_read
    from featherflow._src.autodiff.tape import variable_accessed  # noqa: PLC0415

    _watch_read = variable_accessed
    variable_accessed(variable, read, tapes)


_GLOBAL = context.GLOBAL
_ET = EagerTensor
_new = object.__new__
_getrefcount = sys.getrefcount
_uid = itertools.count(1)


class VariableSynchronization(enum.Enum):
    """When a distributed variable is synchronized (tf.VariableSynchronization)."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregationV2(enum.Enum):
    """How a distributed variable aggregates updates (tf.VariableAggregation)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


VariableAggregation = VariableAggregationV2


class _Holder:
    __slots__ = ("a", "b")


def _baseline_refcount() -> int:
    """What sys.getrefcount reports for a buffer held by exactly two owners (the handle or the
    simulated-GPU box, and the Variable's `_buf`), measured the same way as in `_update_guard`."""
    h1, h2 = _Holder(), _Holder()
    h1.a = h2.b = np.zeros(1)
    return _getrefcount(h2.b)


_BASE = _baseline_refcount()


def _release(dev, nbytes):
    dev.bytes_in_use -= nbytes


_NUMERIC = frozenset(d for d in _dt.NUMBER_DTYPES)
_REAL = frozenset(_dt.REAL_NUMBERS)
_INDEX = (_dt.int32, _dt.int64)
_INPLACE_MESSAGES = {
    "iadd": "`variable += value` with `tf.Variable`s is not supported. Use "
            "`variable.assign_add(value)` to modify the variable, or `out = variable + value` if "
            "you need to get a new output Tensor.",
    "isub": "`variable -= value` with `tf.Variable`s is not supported. Use "
            "`variable.assign_sub(value)` to modify the variable, or `out = variable * value` if "
            "you need to get a new output Tensor.",
}
for _sym, _name in (("*", "imul"), ("/", "itruediv"), ("**", "ipow")):
    _INPLACE_MESSAGES[_name] = (f"`var {_sym}= value` with `tf.Variable`s is not supported. Use "
                                f"`var.assign(var {_sym} value)` to modify the variable, or "
                                f"`out = var {_sym} value` if you need to get a new output Tensor.")


# TensorFlow's DataTypeString names, used in its kernel-registry messages.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _type_string(dtype) -> str:
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def _no_kernel(op, dtype):
    return errors.InvalidArgumentError(
        None, None, f"No OpKernel was registered to support Op '{op}' used by {{{{node {op}}}}} "
        f"with these attrs: [dtype=DT_{_type_string(dtype).upper()}] [Op:{op}]")


# The scatter family lives in scatter.py, which imports the dtype sets and `_no_kernel` above.
from featherflow._src.variables.scatter import ScatterMixin  # noqa: E402


class Variable(ScatterMixin):
    """A mutable tensor (tf.Variable).

    >>> import featherflow as tf
    >>> v = tf.Variable(1.0, name="v")
    >>> v.assign_add(2.0).numpy()
    3.0
    >>> v
    <tf.Variable 'v:0' shape=() dtype=float32, numpy=3.0>
    """

    _is_tensor_like = True
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 import_scope=None, constraint=None,
                 synchronization=VariableSynchronization.AUTO,
                 aggregation=VariableAggregation.NONE, shape=None,
                 experimental_enable_variable_lifting=True):
        if initial_value is None:
            raise ValueError("The `initial_value` arg to `tf.Variable` must be specified except "
                             "when you are not providing a `variable_def`. You provided neither.")
        if constraint is not None and not callable(constraint):
            raise ValueError(f"Argument `constraint` must be None or a callable. a callable. Got "
                             f"a {type(constraint)}:  {constraint}")
        if not isinstance(synchronization, VariableSynchronization):
            raise ValueError(f"Invalid variable synchronization mode: {synchronization} for "
                             f"variable: {name}")
        if not isinstance(aggregation, VariableAggregation):
            raise ValueError(f"Invalid variable aggregation mode: {aggregation} for variable: "
                             f"{name}")
        if trainable is None:
            trainable = synchronization is not VariableSynchronization.ON_READ
        if callable(initial_value) and not is_tensor(initial_value):
            initial_value = initial_value()
        try:
            init = convert_to_tensor(initial_value, dtype=dtype)
        except ValueError as e:
            if "Tensor conversion requested" in str(e):
                raise ValueError(f"initial_value: {e}") from None
            raise
        declared = None
        if shape is not None:
            declared = TensorShape(shape)
            if not declared.is_compatible_with(init.shape):
                raise ValueError(f"In this `tf.Variable` creation, the initial value's shape "
                                 f"({init.shape}) is not compatible with the explicitly supplied "
                                 f"`shape` argument ({shape}).")
        spec = context.THREAD.device_spec
        if spec is not None:
            dev = _device.resolve(spec, init._dtype, context.GLOBAL.soft_placement)[0]
        else:
            dev = init._device
        base = (name if name is not None else "Variable")
        self._setup(init, dev, context.THREAD.name_scope + base, declared,
                    not validate_shape, bool(trainable), constraint, synchronization, aggregation)

    def _setup(self, init, dev, shared_name, declared, flexible, trainable, constraint,
               synchronization, aggregation):
        self._dtype = dtype = init._dtype
        self._device = dev
        self._shared_name = shared_name
        self._name = shared_name + ":0"
        self._unique_id = f"{shared_name}_{next(_uid)}"
        self._declared = declared
        self._flexible = flexible
        self._trainable = trainable
        self._constraint = constraint
        self._synchronization = synchronization
        self._aggregation = aggregation
        self._lock = threading.Lock()
        self._np_type = dtype._np_type
        # Python floats skip generic conversion when the buffer is a host NumPy array.
        self._fast_float = dev.direct and dev.backend.name == "numpy" and dtype._kind in "fc"
        # Reads inline ReadVariableOp's kernel for host NumPy buffers of non-object dtypes.
        self._fast_read = dev.direct and dev.backend.name == "numpy" and dtype._kind != "O"
        handle = make(None, _dt.resource, dev)
        handle._shape = TensorShape([])
        self._handle = handle
        _BY_HANDLE[id(handle)] = self
        self._buf = None
        self._install_buffer(dispatch.copy_to_device(init, dev)._value)

    # -- the buffer --------------------------------------------------------------------------
    def _install_buffer(self, source):
        """Makes a fresh buffer on the variable's device holding `source` (a backend value on that
        device) and points the handle at it; the device's byte counter holds the buffer's size
        until the buffer itself is freed."""
        dev = self._device
        tmp = make(source, _dt.resource, dev)
        fresh = _execute(R.deep_copy, (tmp,))
        del tmp
        nbytes, fresh._nbytes = fresh._nbytes, 0
        value = fresh._value
        inner = value if isinstance(value, np.ndarray) or dev.direct else value._a
        try:
            weakref.finalize(inner, _release, dev, nbytes)
        except TypeError:  # an array type without weak references: tie the count to the box
            weakref.finalize(value, _release, dev, nbytes)
        self._handle._value = value
        self._buf = inner

    def _adopt_buffer(self, array):
        """Makes `array` the buffer without copying (checkpoint restore reads into fresh arrays
        and swaps them in once every checksum passed). `array`: a host ndarray of the buffer's
        dtype and shape that nothing else will write; only on a direct NumPy device; the
        caller holds the lock. The old buffer stays with its readers, as after copy-on-write."""
        dev = self._device
        nbytes = array.nbytes
        dev.allocated(nbytes)
        weakref.finalize(array, _release, dev, nbytes)
        self._handle._value = array
        self._buf = array

    # NOTE: copy-on-write. Reads alias the buffer (no copy), and TensorFlow promises that a value
    # once read never changes. The buffer is referenced exactly by the handle (on a simulated GPU,
    # by its DeviceArray box) and by `self._buf`; every view a read produced holds one more
    # reference (`view.base`). So, right before each in-place write (lock held), a count above
    # that baseline means some tensor still aliases the buffer: the variable moves to a fresh
    # copy first and the old buffer belongs to its readers alone (its bytes stay counted until
    # they let go). In a steady loop where reads die before the next update, the count is at the
    # baseline and no allocation happens. The check is inlined in the hot update methods.
    def _write_unlocked(self, op, inputs, attrs=None):
        if _getrefcount(self._buf) > _BASE:
            self._install_buffer(self._handle._value)
        _execute(op, inputs, attrs)

    def _locked_write(self, op, inputs, attrs=None):
        with self._lock:
            self._write_unlocked(op, inputs, attrs)

    def _read_unlocked(self):
        if _THREAD.tapes:
            _watch_read(self)
        t = _execute(R.read_variable, (self._handle,))
        t._dtype = self._dtype
        return t

    # -- conversion of operands ---------------------------------------------------------------
    def _operand(self, value):
        """`value` as a tensor of the variable's dtype (ValueError for a tensor of another dtype,
        TypeError for a Python value that does not convert exactly)."""
        if type(value) is _ET:
            if value._dtype is not self._dtype:
                raise ValueError(f"Tensor conversion requested dtype {self._dtype.name} for Tensor "
                                 f"with dtype {value._dtype.name}: {value!r}")
            return value
        if is_tensor(value):
            return convert_to_tensor(value, dtype=self._dtype)
        dtype = self._dtype
        return place_host(_host_with_dtype(value, dtype, True), dtype, self._device)

    def _indices(self, indices, op):
        t = convert_to_tensor(indices)
        if t._dtype not in _INDEX:
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'Tindices' of {_type_string(t._dtype)} is not in "
                f"the list of allowed values: int32, int64 [Op:{op}]")
        return t

    # -- metadata ----------------------------------------------------------------------------
    # C-level getters (operator.attrgetter): no Python frame per read of a hot property.
    name = property(_attr("_name"))
    dtype = property(_attr("_dtype"))
    device = property(_attr("_device.name"))
    trainable = property(_attr("_trainable"))
    synchronization = property(_attr("_synchronization"))
    aggregation = property(_attr("_aggregation"))
    constraint = property(_attr("_constraint"))
    handle = property(_attr("_handle"))

    @property
    def shape(self) -> TensorShape:
        if self._declared is not None:
            return self._declared
        return TensorShape(self._buf.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    def set_shape(self, shape):
        """Narrows the static shape (ValueError when `shape` is incompatible)."""
        self._declared = self.shape.merge_with(shape)

    @property
    def initial_value(self):
        raise RuntimeError("This property is not supported when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Variable.graph is undefined when eager execution is enabled.")

    @property
    def op(self):
        raise AttributeError("Variable.op is undefined when eager execution is enabled.")

    def is_initialized(self, name=None):
        from featherflow._src.framework.convert import constant  # noqa: PLC0415

        return constant(True)

    def ref(self):
        """A hashable reference to this variable (variables are unhashable)."""
        return Reference(self)

    def experimental_ref(self):
        return self.ref()

    # -- reads -------------------------------------------------------------------------------
    def value(self) -> EagerTensor:
        """The current value, as a tensor that aliases the buffer (it never changes later)."""
        # NOTE: this is the read path of every operator and argument conversion (see _install).
        # On a host NumPy buffer it is ReadVariableOp's kernel inlined (no dispatch): the read
        # is a quarter of a small training step's op count. Tapes get the same node dispatch
        # would record (`tape.variable_accessed` with the read).
        if self._fast_read and not _GLOBAL.log_placement:
            buf = self._buf
            # ReadVariableOp's kernel for a non-object host buffer: a view (owning nothing),
            # or the NumPy scalar of a 0-d buffer (owning its bytes).
            if buf.ndim:
                with self._lock:  # NOTE: an update may be writing the buffer without the GIL
                    t = make(buf.view(), self._dtype, self._device)
            else:
                # NOTE: no lock: one element is copied out under the GIL (NumPy never drops it
                # for a 0-d update), and a buffer swapped meanwhile leaves `buf` whole.
                t = make(buf[()], self._dtype, self._device, buf.itemsize)
            tapes = _THREAD.tapes
            if tapes:
                # One tape that watches this variable already (the usual case after the first
                # read): list the read as its alias there, as variable_accessed would.
                reads = tapes[0]._reads.get(id(self._handle)) if len(tapes) == 1 else None
                if reads is not None:
                    tapes[0]._watched[id(t)] = t
                    reads.append(id(t))
                else:
                    _watch_read(self, t, tapes)
            return t
        if _THREAD.tapes:
            _watch_read(self)
        with self._lock:
            t = _execute(_READ, (self._handle,))
        t._dtype = self._dtype
        return t

    def read_value(self) -> EagerTensor:
        return self.value()

    def numpy(self):
        return self.value().numpy()

    def sparse_read(self, indices, name=None) -> EagerTensor:
        """Rows `indices` of the variable (ResourceGather)."""
        idx = self._indices(indices, "ResourceGather")
        with self._lock:
            if _THREAD.tapes:
                _watch_read(self)
            t = _execute(R.resource_gather, (self._handle, idx))
        t._dtype = self._dtype
        return t

    def gather_nd(self, indices, name=None) -> EagerTensor:
        idx = self._indices(indices, "ResourceGatherNd")
        with self._lock:
            if _THREAD.tapes:
                _watch_read(self)
            t = _execute(R.resource_gather_nd, (self._handle, idx))
        t._dtype = self._dtype
        return t

    # -- whole-value updates -----------------------------------------------------------------
    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Writes `value` into the variable; returns the variable (None with read_value=False)."""
        t = self._operand(value)
        new_shape = t._value.shape
        with self._lock:
            if new_shape != self._buf.shape:
                ok = self._declared.is_compatible_with(new_shape) if self._declared is not None \
                    else self._flexible
                if not ok:
                    raise ValueError(
                        f"Cannot assign value to variable ' {self._name}': Shape mismatch.The "
                        f"variable shape {self.shape}, and the assigned value shape "
                        f"{TensorShape(new_shape)} are incompatible.")
                self._install_buffer(dispatch.copy_to_device(t, self._device)._value)
            else:
                if _getrefcount(self._buf) > _BASE:
                    self._install_buffer(self._handle._value)
                _execute(R.assign_variable, (self._handle, t))
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds `delta` in place; returns the variable (None with read_value=False)."""
        if type(delta) is float and self._fast_float:
            t = new_tensor(_ET)
            t._value = self._np_type(delta)
            t._dtype = self._dtype
            t._device = self._device
            t._shape = None
            t._nbytes = 0
        else:
            if self._dtype not in _NUMERIC:
                raise _no_kernel("AssignAddVariableOp", self._dtype)
            t = self._operand(delta)
        with self._lock:
            if _getrefcount(self._buf) > _BASE:
                self._install_buffer(self._handle._value)
            _execute(R.AssignAddVariableOp, (self._handle, t))
        return self if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts `delta` in place; returns the variable (None with read_value=False)."""
        if self._dtype not in _NUMERIC:
            raise _no_kernel("AssignSubVariableOp", self._dtype)
        t = self._operand(delta)
        with self._lock:
            if _getrefcount(self._buf) > _BASE:
                self._install_buffer(self._handle._value)
            _execute(R.AssignSubVariableOp, (self._handle, t))
        return self if read_value else None

    def count_up_to(self, limit):
        """Increments the (integer, scalar) variable unless it reached `limit`; returns the old
        value (OutOfRangeError at the limit)."""
        if self._dtype not in _INDEX:
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'T' of {_type_string(self._dtype)} is not in the "
                "list of allowed values: int32, int64 [Op:ResourceCountUpTo]")
        with self._lock:
            if _getrefcount(self._buf) > _BASE:
                self._install_buffer(self._handle._value)
            return _execute(R.resource_count_up_to, (self._handle,), {"limit": int(limit)})

    # -- slices ------------------------------------------------------------------------------
    def _getitem(self, key):
        from featherflow._src.variables.sliced import sliced_read  # noqa: PLC0415

        return sliced_read(self, key)

    # -- Python protocol ---------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return np.asarray(self.numpy(), dtype=dtype)

    def __bool__(self):
        return bool(self.value())

    def __int__(self):
        return int(self.value())

    def __float__(self):
        return float(self.value())

    def __complex__(self):
        return complex(self.value())

    def __iter__(self):
        return iter(self.value())

    def __hash__(self):
        raise TypeError(f"Variable is unhashable. Instead, use variable.ref() as the key. "
                        f"(Variable: {self!r})")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        new = _new(type(self))
        memo[id(self)] = new
        new._setup(self.value(), self._device, self._shared_name, self._declared,
                   self._flexible, self._trainable, self._constraint, self._synchronization,
                   self._aggregation)
        return new

    def __repr__(self):
        return (f"<tf.Variable '{self._name}' shape={self.shape} dtype={self._dtype.name}, "
                f"numpy={_numpy_text(self.value(), True)}>")

    __str__ = __repr__


# -- writes through handles (training ops, tf.raw_ops) ---------------------------------------
# id(handle) -> Variable, so an op that receives handles can still copy-on-write and lock.
_BY_HANDLE = weakref.WeakValueDictionary()


def variable_for_handle(handle):
    """The live Variable whose handle is `handle`, or None."""
    v = _BY_HANDLE.get(id(handle))
    return v if v is not None and v._handle is handle else None


@contextlib.contextmanager
def writing(variables):
    """Prepares `variables` for an op that writes their buffers in place (optimizer updates):
    holds their locks (taken in a fixed order, so concurrent updates cannot deadlock) and
    moves each variable whose buffer a live read still aliases to a private copy first (see
    `Variable._write_unlocked`). Duplicates and None entries are ignored."""
    unique = sorted({id(v): v for v in variables if v is not None}.values(), key=id)
    for v in unique:
        v._lock.acquire()
    try:
        for v in unique:
            if _getrefcount(v._buf) > _BASE:
                v._install_buffer(v._handle._value)
        yield
    finally:
        for v in reversed(unique):
            v._lock.release()


def _inplace(kind):
    def method(self, other):
        raise RuntimeError(_INPLACE_MESSAGES[kind])

    method.__name__ = f"__{kind}__"
    return method


def _convert_variable(value, dtype=None, name=None, as_ref=False):
    if dtype is not None and dtype is not value._dtype:
        raise ValueError(f"Incompatible type conversion requested to type {dtype.name} for "
                         f"`tf.Variable of type {value._dtype.name}. (Variable: {value!r})")
    return value.value()


def _install():
    from featherflow._src.api.operators import install  # noqa: PLC0415

    from featherflow._src.api._args import register_reader  # noqa: PLC0415

    install(Variable, Variable.value)
    # Exact Variables skip the conversion registry in operators and op arguments; subclasses
    # (distributed values) keep their own conversion.
    register_reader(Variable, Variable.value)
    Variable.__getitem__ = Variable._getitem
    for kind in _INPLACE_MESSAGES:
        setattr(Variable, f"__{kind}__", _inplace(kind))
    Variable.__idiv__ = Variable.__itruediv__
    register_tensor_conversion_function(Variable, _convert_variable)


_install()
