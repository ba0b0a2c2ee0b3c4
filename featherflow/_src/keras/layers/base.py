"""tf.keras.layers.Layer (Keras 3 as TensorFlow 2.21 ships it) built on featherflow's tf.Module.

A Layer IS a tf.Module and its weights are tf.Variables (`KerasVariable`, a subclass adding
Keras' `path` and short `name`), so `module.variables` of any mix of Modules, Layers, lists and
dicts comes from the one walker (`featherflow/_src/module/walk.py`). Keras' own views (`weights`,
`trainable_weights`, ...) list Keras' order first (own trainable, own non-trainable, seed states,
then sublayers' in attribute-assignment order) and then anything else the walker finds (a plain
tf.Variable or tf.Module attribute), so nothing is missed.
"""
from __future__ import annotations

import collections
import functools
import inspect
import re
import threading
import weakref

import numpy as np

from featherflow._src.framework.tensor import EagerTensor as _ET
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras import constraints as _con
from featherflow._src.keras.layers import keras_tensor as _kt
from featherflow._src.module import walk as _walk
from featherflow._src.module.module import Module
from featherflow._src.framework.public import tf as _tf


# ---------------------------------------------------------------------------------------------
# Names, call context, masks
# ---------------------------------------------------------------------------------------------
_NAME_COUNTS: collections.Counter = collections.Counter()
_NAME_LOCK = threading.Lock()


def keras_snake(name: str) -> str:
    """Keras' class-name rule: "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """"dense", then "dense_1", "dense_2", ... per process (Keras' auto names)."""
    with _NAME_LOCK:
        n = _NAME_COUNTS[base]
        _NAME_COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


class _CallContext(threading.local):
    def __init__(self):
        self.training = []   # `training` values of the layer calls in progress
        self.scope = []      # layers whose name prefixes variable paths
        self.entry = None    # the outermost layer being called


_CTX = _CallContext()
_MASKS: dict = {}


def set_mask(tensor, mask):
    """Attaches a Keras mask to an eager tensor (Keras sets `tensor._keras_mask`; featherflow
    tensors have slots, so the mask lives here, dropped with the tensor)."""
    if mask is None or tensor is None:
        return
    key = id(tensor)
    try:
        ref = weakref.ref(tensor, lambda _r, k=key: _MASKS.pop(k, None))
    except TypeError:
        return
    _MASKS[key] = (ref, mask)


def get_mask(tensor):
    entry = _MASKS.get(id(tensor))
    if entry is not None and entry[0]() is tensor:
        return entry[1]
    return None


from featherflow._src.keras.layers.spec import (  # noqa: E402,F401 - re-exported here
    _AGGREGATIONS, DTypePolicy, InputSpec, KerasVariable, _policy, _shape_of,
    assert_input_compatibility)
from featherflow._src.keras.layers.layer_losses import LayerLossesMixin, _losses_kept  # noqa: E402
from featherflow._src.keras.layers.structure import (  # noqa: E402
    _first_dim_unknown, _map, _map_shapes, _shapes_to_tensors, _walk_shapes)


# ---------------------------------------------------------------------------------------------
# Layer
# ---------------------------------------------------------------------------------------------
_STATE_LOCKED = ("You cannot add new elements of state (variables or sub-layers) to a layer "
                 "that is already built. All state must be created in the `__init__()` method "
                 "or in the `build()` method.")
_ALLOWED_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size", "weights",
                   "activity_regularizer", "autocast", "implementation"}


def _is_layer(x):
    return isinstance(x, Layer)


def _convert_leaf(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return _tf().convert_to_tensor(x)
    return x


def _numeric_list(x):
    return isinstance(x, (list, tuple)) and x and all(
        isinstance(v, (int, float, bool, np.generic)) or _numeric_list(v) for v in x)


class Layer(LayerLossesMixin, Module):
    """The base class of Keras layers: a tf.Module with build-on-first-call and Keras' weights.

    >>> import featherflow as tf
    >>> class Scale(tf.keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
    ...     def call(self, x):
    ...         return x * self.w
    >>> s = Scale(name="scale")
    >>> s(tf.ones((2, 3))).shape, s.w.path
    (TensorShape([2, 3]), 'scale/w')
    """

    _TF_MODULE_IGNORED_PROPERTIES = Module._TF_MODULE_IGNORED_PROPERTIES.union((
        "_inbound_nodes", "_outbound_nodes", "_build_shapes", "_call_signature",
        "_call_params"))
    # Bookkeeping attributes that are not sublayers/state (skipped when listing sublayers).
    _BOOKKEEPING = frozenset(("_trainable_variables", "_non_trainable_variables", "_losses",
                              "_inbound_nodes", "_outbound_nodes", "_regularized",
                              "_name_scope", "input_spec", "_input_spec"))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_keras_wrapped", False):
            cls.build = _wrap_build(build)

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True,
                 name=None, **kwargs):
        bad = set(kwargs) - _ALLOWED_KWARGS
        if bad:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{kwargs}")
        if name is None:
            name = unique_name(keras_snake(type(self).__name__))
        elif not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`."
                             f" Received: name={name} (of type {type(name)})")
        # Keras names need not be Python identifiers, so Module's check is not run here.
        object.__setattr__(self, "_locked", False)
        self._name = name
        self._name_scope = None
        self._trainable = bool(trainable)
        self._dtype_policy = _policy(dtype)
        self.autocast = autocast
        self.built = False
        self._build_depth = 0
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._regularized = []
        self._losses = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._input_spec = None
        self.supports_masking = False
        self.activity_regularizer = _reg.get(activity_regularizer)
        shape = kwargs.get("batch_input_shape")
        if shape is None and kwargs.get("input_shape") is not None:
            shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        elif shape is None and kwargs.get("input_dim") is not None:
            shape = (kwargs.get("batch_size"), kwargs["input_dim"])
        self._build_shapes = shape
        self._initial_weights = kwargs.get("weights")

    # -- naming ------------------------------------------------------------------------------
    @property
    def name_scope(self):
        if self._name_scope is None:
            from featherflow._src.framework.device_scope import name_scope  # noqa: PLC0415
            self._name_scope = name_scope(self._name)
        return self._name_scope

    @property
    def path(self):
        return self._name

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # -- attribute tracking ------------------------------------------------------------------
    def __setattr__(self, name, value):
        if (getattr(self, "_locked", False) and isinstance(value, Layer)
                and value not in self._layers):
            raise ValueError(_STATE_LOCKED)
        object.__setattr__(self, name, value)
        if _walk.ATTACH_HOOKS:  # deferred checkpoint restoration (featherflow/_src/train)
            _walk.notify_attach(self, name, value)

    @property
    def _layers(self):
        """Direct sublayers in attribute-assignment order (containers flattened)."""
        out, seen = [], set()
        for key, value in list(vars(self).items()):
            if key in self._BOOKKEEPING or key in self._TF_MODULE_IGNORED_PROPERTIES:
                continue
            for _, leaf in _walk.flatten_with_paths(value):
                if isinstance(leaf, Layer) and leaf is not self and id(leaf) not in seen:
                    seen.add(id(leaf))
                    out.append(leaf)
        return out

    def _seed_generators(self):
        from featherflow._src.keras.layers.core import SeedGenerator  # noqa: PLC0415
        return [v for k, v in vars(self).items()
                if k not in self._BOOKKEEPING and isinstance(v, SeedGenerator)]

    def _flatten_layers(self, include_self=True, recursive=True):
        out, seen = ([self] if include_self else []), {id(self)}
        queue = collections.deque(self._layers)
        while queue:
            layer = queue.popleft()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            if recursive:
                queue.extendleft(reversed(layer._layers))
        return out

    # -- weights -----------------------------------------------------------------------------
    def _keras_weights(self, with_seeds):
        out, seen = [], set()

        def add(v):
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for v in self._trainable_variables + self._non_trainable_variables:
            add(v)
        if with_seeds:
            for g in self._seed_generators():
                add(g.state)
        for layer in self._layers:
            for v in layer._keras_weights(with_seeds)[0]:
                add(v)
        return out, seen

    def _all(self, with_seeds):
        out, seen = self._keras_weights(with_seeds)
        seeds = set() if with_seeds else self._seed_states()
        for v in _walk.walk(self, predicate=_walk.is_variable):
            if id(v) not in seen and id(v) not in seeds:
                seen.add(id(v))
                out.append(v)
        return out

    def _seed_states(self):
        return {id(g.state) for layer in self._flatten_layers()
                for g in layer._seed_generators()}

    @property
    def weights(self):
        """Own weights (trainable, then non-trainable, in creation order), then sublayers'."""
        return self._all(with_seeds=False)

    @property
    def variables(self):
        """`weights` plus random seed states (as Keras 3), plus any other tf.Variable found by
        the tf.Module walker."""
        return self._all(with_seeds=True)

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_variables(self):
        if not self.trainable:
            return self.variables
        return [v for v in self.variables if not v.trainable]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._layers:
            layer.trainable = value

    def get_weights(self):
        """The weights' values as NumPy arrays, in `weights` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Assigns NumPy arrays (in `weights` order); ValueError on a count or shape mismatch."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a "
                             f"weight list of length {len(weights)}, but the layer was expecting "
                             f"{len(own)} weights.")
        arrays = []
        for v, w in zip(own, weights):
            w = np.asarray(w.numpy() if hasattr(w, "numpy") else w)
            if tuple(v.shape) != w.shape:
                raise ValueError(f"Layer {self.name} weight shape {tuple(v.shape)} is not "
                                 f"compatible with provided weight shape {w.shape}.")
            arrays.append(w)
        for v, w in zip(own, arrays):
            v.assign(w.astype(v.dtype.as_numpy_dtype))

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Creates a weight (a tf.Variable) tracked by this layer.

        Defaults as Keras 3: shape `()`, `dtype` the layer's variable dtype, initializer
        "glorot_uniform" for floating dtypes and "zeros" otherwise.
        """
        if self._locked:
            raise ValueError(_STATE_LOCKED)
        tf = _tf()
        shape = () if shape is None else tuple(int(s) for s in shape)
        dtype = tf.as_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = _init.get(initializer)
        if name is None:
            name = "variable" if not self._all_own() else f"variable_{len(self._all_own())}"
        if isinstance(aggregation, str):
            if aggregation not in _AGGREGATIONS:
                raise ValueError("Invalid value for argument `aggregation`. Expected one of "
                                 f"{list(_AGGREGATIONS)}. Received: aggregation={aggregation}")
            aggregation = _AGGREGATIONS[aggregation]
        scope = [layer.name for layer in _CTX.scope]
        if not scope or _CTX.scope[-1] is not self:
            scope.append(self.name)
        path = "/".join(scope + [name])
        constraint = _con.get(constraint)
        regularizer = _reg.get(regularizer)
        value = init(shape, dtype=dtype)
        var = KerasVariable(value, trainable=trainable, name=path, dtype=dtype,
                            constraint=constraint, aggregation=aggregation)
        var._keras_init(name, path, regularizer)
        var.overwrite_with_gradient = overwrite_with_gradient
        if trainable and self.trainable:
            self._trainable_variables.append(var)
        else:
            var.trainable = trainable and self.trainable
            (self._trainable_variables if trainable else self._non_trainable_variables
             ).append(var)
        if regularizer is not None:
            self._regularized.append((var, regularizer))
        return var

    def _all_own(self):
        return self._trainable_variables + self._non_trainable_variables

    # -- dtypes ------------------------------------------------------------------------------
    dtype_policy = property(lambda self: self._dtype_policy)
    dtype = property(lambda self: self._dtype_policy.variable_dtype)
    compute_dtype = property(lambda self: self._dtype_policy.compute_dtype)
    variable_dtype = property(lambda self: self._dtype_policy.variable_dtype)

    @property
    def input_spec(self):
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        self._input_spec = value

    # -- build / call ------------------------------------------------------------------------
    def build(self, input_shape=None):
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call` method "
                                  "implemented.")

    @functools.cached_property
    def _call_signature(self):
        return inspect.signature(self.call)

    @functools.cached_property
    def _call_params(self):
        """(parameter names of `call`, whether it takes **kwargs)."""
        params = self._call_signature.parameters
        return (frozenset(params), any(p.kind is p.VAR_KEYWORD for p in params.values()))

    def _accepts(self, arg):
        names, var_kw = self._call_params
        return var_kw or arg in names

    def _maybe_build(self, first):
        if self.built:
            return
        shapes = _walk_shapes(first)
        pushed = not _CTX.scope or _CTX.scope[-1] is not self
        if pushed:
            _CTX.scope.append(self)
        try:
            self.build(shapes)
        finally:
            if pushed:
                _CTX.scope.pop()
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_args(self, args, kwargs):
        tf = _tf()
        if len(args) == 1 and type(args[0]) is _ET:
            # One eager tensor (the usual call): nothing to convert, at most a cast.
            x = args[0]
            if self.autocast and x._dtype.is_floating:
                want = tf.as_dtype(self.compute_dtype)
                if x._dtype is not want:
                    x = tf.cast(x, want)
            return [x], kwargs
        args = list(args)
        if args and _numeric_list(args[0]):
            args[0] = tf.convert_to_tensor(args[0])
        args = [_map(_convert_leaf, a) for a in args]
        if self.autocast:
            want = tf.as_dtype(self.compute_dtype)

            def cast(x):
                if tf.is_tensor(x) and x.dtype.is_floating and x.dtype != want:
                    return tf.cast(x, want)
                return x
            if args:
                args[0] = _map(cast, args[0])
        return args, kwargs

    def __call__(self, *args, **kwargs):
        if _kt.any_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        args, kwargs = self._convert_args(args, kwargs)
        first = args[0] if args else next(iter(kwargs.values()), None)
        # training: explicit argument, else the enclosing call's value, else call's default.
        training = kwargs.get("training")
        if training is None and _CTX.training:
            training = _CTX.training[-1]
        if self._accepts("training"):
            if training is not None:
                kwargs["training"] = training
            elif "training" in kwargs:
                kwargs.pop("training")
        elif "training" in kwargs:
            kwargs.pop("training")
        if self._accepts("mask") and kwargs.get("mask") is None and first is not None:
            masks = [get_mask(first)] if type(first) is _ET else \
                [get_mask(x) for _, x in _walk.flatten_with_paths(first)]
            if any(m is not None for m in masks):
                kwargs["mask"] = masks[0] if len(masks) == 1 else masks
        assert_input_compatibility(self.input_spec, first, self.name)
        entry = _CTX.entry is None
        if entry:
            _CTX.entry = self
            self._clear_losses()
        _CTX.training.append(training)
        _CTX.scope.append(self)
        try:
            self._maybe_build(first)
            outputs = self.call(*args, **kwargs)
        finally:
            _CTX.scope.pop()
            _CTX.training.pop()
            if entry:
                _CTX.entry = None
        if self.activity_regularizer is not None:
            for _, out in _walk.flatten_with_paths(outputs):
                self.add_loss(self.activity_regularizer(out) / _tf().cast(
                    _tf().shape(out)[0], out.dtype))
        if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
            mask = self.compute_mask(first, kwargs.get("mask"))
            if mask is not None and _tf().is_tensor(outputs):
                set_mask(outputs, mask)
        return outputs

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.supports_masking else None

    # -- symbolic calls (functional API) -----------------------------------------------------
    def _symbolic_call(self, args, kwargs):
        tf = _tf()
        first = args[0] if args else next(iter(kwargs.values()))
        assert_input_compatibility(self.input_spec, first, self.name)
        self._maybe_build(first)
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(_walk_shapes(first))
            outputs = _shapes_to_tensors(shapes, self.compute_dtype)
        else:
            def dummy(x):
                if isinstance(x, _kt.KerasTensor):
                    return tf.zeros([1 if d is None else d for d in x.shape], dtype=x.dtype)
                return x
            real_args = [_map(dummy, a) for a in args]
            real_kwargs = {k: _map(dummy, v) for k, v in kwargs.items()}
            with _losses_kept(self):
                out = Layer.__call__(self, *real_args, **real_kwargs)
            batch_unknown = _shape_of(first) is not None and _first_dim_unknown(first)

            def sym(t):
                if not tf.is_tensor(t):
                    return t
                shape = list(t.shape)
                if batch_unknown and shape:
                    shape[0] = None
                return _kt.KerasTensor(shape, dtype=t.dtype)
            outputs = _map(sym, out)
        _kt.Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        """Output shape(s) for `input_shape`; by default found by calling the layer on zeros."""
        tf = _tf()

        def zeros(shape):
            return tf.zeros([1 if d is None else d for d in shape], dtype=self.compute_dtype)
        with _losses_kept(self):
            out = self(_map_shapes(zeros, input_shape))
        return _map(lambda t: tuple(int(d) for d in t.shape) if tf.is_tensor(t) else t, out)

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": {"module": "keras", "class_name": "DTypePolicy",
                          "config": self._dtype_policy.get_config(), "registered_name": None}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def count_params(self):
        return int(sum(np.prod(v.shape) for v in self.weights))


def _wrap_build(build):
    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        self._build_depth += 1
        pushed = not _CTX.scope or _CTX.scope[-1] is not self
        if pushed:
            _CTX.scope.append(self)
        try:
            out = build(self, *args, **kwargs)
        finally:
            if pushed:
                _CTX.scope.pop()
            self._build_depth -= 1
        if self._build_depth == 0:
            self.built = True
            object.__setattr__(self, "_locked", True)
        return out
    wrapper._keras_wrapped = True
    return wrapper


_walk.register_module_type(Layer)
