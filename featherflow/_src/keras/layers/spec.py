"""What a Layer is made of besides itself: KerasVariable (tf.Variable with Keras' path/name),
DTypePolicy, InputSpec and the input compatibility check (TF's ValueError texts)."""
from __future__ import annotations

from featherflow._src.api._args import register_reader as _register_reader
from featherflow._src.framework.tensor import EagerTensor as _ET
from featherflow._src.module import walk as _walk
from featherflow._src.variables.variable import Variable, VariableAggregation
from featherflow._src.framework.public import tf as _tf


# ---------------------------------------------------------------------------------------------
# Variables, dtype policies, input specs
# ---------------------------------------------------------------------------------------------
_AGGREGATIONS = {"none": VariableAggregation.NONE, "mean": VariableAggregation.MEAN,
                 "sum": VariableAggregation.SUM,
                 "only_first_replica": VariableAggregation.ONLY_FIRST_REPLICA}


class KerasVariable(Variable):
    """A tf.Variable created by `Layer.add_weight`: Keras 3's `name` ("kernel") and `path`
    ("dense/kernel"), a settable `trainable`, and the regularizer it was made with."""

    def _keras_init(self, keras_name, path, regularizer):
        self._keras_name = keras_name
        self._path = path
        self.regularizer = regularizer
        self.overwrite_with_gradient = False
        return self

    name = property(lambda self: self._keras_name)
    path = property(lambda self: self._path)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)


_walk.register_leaf_type(KerasVariable)
# Reads of a KerasVariable are a Variable's (it overrides no read path): operators and op
# arguments take the direct read instead of the conversion registry.
_register_reader(KerasVariable, Variable.value)


class DTypePolicy:
    """Keras' dtype policy (only plain policies: compute dtype == variable dtype)."""

    def __init__(self, name="float32"):
        self._name = _tf().as_dtype(name).name
        self.name = self._name

    compute_dtype = property(lambda self: self._name)
    variable_dtype = property(lambda self: self._name)

    def get_config(self):
        return {"name": self._name}

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


def _policy(dtype):
    if dtype is None:
        return DTypePolicy("float32")
    if isinstance(dtype, DTypePolicy):
        return dtype
    if isinstance(dtype, dict):
        return DTypePolicy(dtype.get("config", {}).get("name", "float32"))
    return DTypePolicy(getattr(dtype, "name", dtype))


class InputSpec:
    """What a layer accepts: `ndim`, `min_ndim`, `max_ndim`, `axes` ({axis: size}), `shape`.

    >>> import featherflow as tf
    >>> tf.keras.layers.InputSpec(ndim=2, axes={1: 3})
    InputSpec(ndim=2, axes={1: 3})
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = None if dtype is None else _tf().as_dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name, self.optional = name, optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            self.axes = {int(k): v for k, v in (axes or {}).items()}
        except (ValueError, TypeError) as e:
            raise TypeError("Argument `axes` must be a dict with integer keys. "
                            f"Received: axes={axes}") from e
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            top = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > top:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {top}")

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                                         ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                         ("min_ndim", self.min_ndim), ("axes", self.axes or None))
                 if v is not None]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}


def _shape_of(x):
    if type(x) is _ET:  # an eager tensor's shape is known: the array's own tuple
        return x._value.shape
    shape = getattr(x, "shape", None)
    if shape is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


def assert_input_compatibility(specs, inputs, layer_name):
    if not specs:
        return
    specs = specs if isinstance(specs, (list, tuple)) else [specs]
    if type(inputs) in (list, tuple, dict) or not hasattr(inputs, "shape"):
        flat = [v for _, v in _walk.flatten_with_paths(inputs)]
    else:  # one tensor (the common case): no walk
        flat = [inputs]
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(flat)} input tensors. Inputs received: {inputs}")
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None:
            continue
        shape = _shape_of(x)
        if shape is None:
            continue
        head = (f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible "
                "with the layer: ")
        ndim = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{head}expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                             f"received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{head}expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{head}expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                             f"Full shape received: {shape}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if axis >= ndim or axis < -ndim or shape[axis] not in (value, None):
                raise ValueError(f"{head}expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            for want, got in zip(spec.shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(f"{head}expected shape={spec.shape}, found shape={shape}")


