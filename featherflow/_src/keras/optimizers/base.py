"""tf.keras.optimizers.Optimizer: Keras 3's optimizer base class on featherflow Variables.

A subclass writes `build` (creating its slots with `add_optimizer_variables`) and `update_step`
(one variable, written with public ops and in-place `assign*`), as in Keras. A subclass may also
define `_fused_step(grads, variables, lr, slots)` for dense gradients of one (device, dtype)
group (`slots`: one list per entry of its `_fused_slot_lists()`, aligned with `variables`): the
fused in-place training ops of `featherflow._src.train.updates`; `update_step` stays its oracle.
The grouping is computed once per list of variables and cached.

The optimizer is a `tf.Module` for the walker, so a Module or Checkpoint holding it finds
`iterations` and every slot variable (the model variables it updates are not its own and are
hidden from the walk).
"""
from __future__ import annotations

import warnings

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.device_scope import device as _device_scope
from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.framework.indexed_slices import IndexedSlices
from featherflow._src.keras.optimizers import _ops as ops
from featherflow._src.keras.optimizers.clip_decay_ema import ClipDecayEmaMixin
from featherflow._src.keras.optimizers import schedules as _schedules
from featherflow._src.module.module import Module, camel_to_snake
from featherflow._src.variables.variable import Variable, VariableAggregation

_NAME_COUNTS: dict = {}


def auto_name(class_name: str) -> str:
    """Keras' default names: "adam", then "adam_1", "adam_2", ... per process."""
    base = camel_to_snake(class_name)
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _initial(initializer, shape, dtype):
    """The initial value for an optimizer variable: "zeros"/"ones", a number, or a Keras
    initializer (any callable taking (shape, dtype))."""
    if isinstance(initializer, str):
        if initializer not in ("zeros", "ones"):
            from featherflow._src.keras import initializers  # noqa: PLC0415

            return initializers.get(initializer)(shape, dtype=dtype)
        initializer = 0 if initializer == "zeros" else 1
    if isinstance(initializer, (int, float)):
        return ops.fill(list(shape), ops.cast(initializer, dtype))
    return initializer(shape, dtype=dtype)


def _slot_base(variable) -> str:
    path = getattr(variable, "path", None)
    if path is not None:
        return str(path).replace("/", "_")
    return str(variable.name).replace("/", "_").replace(":", "_")


class Optimizer(ClipDecayEmaMixin, Module):
    """Base class of Keras optimizers (tf.keras.optimizers.Optimizer).

    >>> import featherflow as tf
    >>> v = tf.Variable([1.0, 2.0])
    >>> opt = tf.keras.optimizers.SGD(learning_rate=0.5)
    >>> _ = opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    >>> v.numpy(), int(opt.iterations)
    (array([0.5, 1.5], dtype=float32), 1)
    """

    # The model variables an optimizer updates are not its own: hidden from the walk.
    _TF_MODULE_IGNORED_PROPERTIES = Module._TF_MODULE_IGNORED_PROPERTIES.union(
        ("_trainable_variables", "_index", "_slot_map", "_exclude_ids", "_wd_cache",
         "_exclude_pattern", "_plan_cache", "_hyper_cache"))
    # A subclass whose `_fused_step` applies the decoupled weight decay itself sets this.
    _FUSED_WEIGHT_DECAY = False
    _plan_cache: dict = {}  # replaced per instance by _cache_plan
    # TF 2.x (legacy optimizer) slot names accepted by get_slot, per class.
    _LEGACY_SLOT_NAMES: dict = {}

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            name = auto_name(type(self).__name__)
        self._name = name
        self._name_scope = _name_scope(name)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError("`ema_momentum` must be in the range [0, 1]. Received: "
                                 f"ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._index = {}
        self._slot_map = {}
        with _name_scope(self._name):
            self._iterations = Variable(0, name="iteration", dtype=_dt.int64, trainable=False,
                                        aggregation=VariableAggregation.ONLY_FIRST_REPLICA)
        self._variables.append(self._iterations)
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of "
                    "LearningRateSchedule, or a callable (that takes in the current iteration "
                    "value and returns the corresponding learning rate value). Received instead: "
                    f"learning_rate={learning_rate}")
            with _name_scope(self._name):
                self._learning_rate = Variable(
                    learning_rate, name="learning_rate", dtype=_dt.float32, trainable=False,
                    aggregation=VariableAggregation.ONLY_FIRST_REPLICA)
            self._variables.append(self._learning_rate)

    # -- names and state -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        self._name_scope = _name_scope(value)

    @property
    def variables(self) -> list:
        """Every optimizer variable (iterations, learning rate, slots), in creation order."""
        return self._variables[:]

    @property
    def iterations(self):
        """The step counter (an int64 Variable); with gradient accumulation, the number of
        applied (accumulated) steps, as a tensor."""
        if self.gradient_accumulation_steps:
            return ops.floordiv(self._iterations.value(), self.gradient_accumulation_steps)
        return self._iterations

    @property
    def learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        if callable(lr):
            return lr()
        return lr

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` object as its "
                    "`learning_rate` constructor argument, hence its learning rate is not "
                    "settable. If you need the learning rate to be settable, you should "
                    "instantiate the optimizer with a float `learning_rate` argument.")
            if previous is None:
                with _name_scope(self._name):
                    self._learning_rate = Variable(float(learning_rate), name="learning_rate",
                                                   dtype=_dt.float32, trainable=False)
                self._variables.append(self._learning_rate)
            else:
                previous.assign(learning_rate)
        if previous is not None and not isinstance(self._learning_rate, Variable):
            self._variables = [v for v in self._variables if v is not previous]

    # -- variables -----------------------------------------------------------------------------
    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None):
        """A new optimizer variable (not trainable), tracked in `variables`."""
        dtype = _dt.as_dtype(dtype) if dtype is not None else _dt.float32
        with _name_scope(self._name):
            variable = Variable(_initial(initializer, shape, dtype), name=name, trainable=False)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot: an optimizer variable shaped and typed like `reference_variable`, on its
        device, named `{reference name}_{name}` (Keras 3's naming)."""
        slot = name or "var"
        with _name_scope(self._name), _device_scope(reference_variable.device):
            variable = Variable(_initial(initializer, reference_variable.shape,
                                         reference_variable.dtype),
                                name=f"{_slot_base(reference_variable)}_{slot}",
                                trainable=False)
        self._variables.append(variable)
        self._slot_map[(id(reference_variable), slot)] = variable
        return variable

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Slots for every variable: one list per name (a tuple of lists for a list of names)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = [initializer] if isinstance(name, str) else (
            list(initializer) if isinstance(initializer, (list, tuple)) else
            [initializer] * len(names))
        if len(names) != len(inits):
            raise ValueError(f"The number of provided names must match the number of provided "
                             f"initializers.  Received name='{name}', "
                             f"initializer='{initializer}'")
        out = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(self.add_variable_from_reference(variable, n, init))
        return out[0] if isinstance(name, str) else out

    def build(self, variables):
        """Creates the base optimizer's per-variable state (EMA averages, gradient
        accumulators); subclasses call it first, then create their slots."""
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables,
                                                                                "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        offset = len(self._trainable_variables) if getattr(self, "_extending", False) else 0
        for i, variable in enumerate(variables):
            self._index[id(variable)] = offset + i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, "gradient_accumulator"))
        self._trainable_variables = variables[:]
        self.built = True

    def _extend(self, new_variables):
        """Slots for variables first seen after `build` (TF 2.x optimizers did this; Keras 3
        raises): runs `build` on the new variables and appends each per-variable list it
        replaced to the old one, so `_get_variable_index` keeps working."""
        before = {k: v for k, v in vars(self).items() if type(v) is list}
        self.built = False
        self._extending = True
        try:
            self.build(new_variables)
        finally:
            self._extending = False
            self.built = True
        for key, old in before.items():
            new = vars(self).get(key)
            if new is not old and type(new) is list:
                setattr(self, key, old + new)

    def _get_variable_index(self, variable):
        return self._index[id(variable)]

    def get_slot(self, var, slot_name):
        """The slot `slot_name` of `var` (TF 2.x API; Keras 3 dropped it)."""
        slot_name = self._LEGACY_SLOT_NAMES.get(slot_name, slot_name)
        found = self._slot_map.get((id(var), slot_name))
        if found is None:
            known = sorted({s for (_, s) in self._slot_map})
            raise KeyError(f"No slot {slot_name!r} for variable {var.name}. Slots of this "
                           f"optimizer: {known}")
        return found

    def get_slot_names(self) -> list:
        return sorted({s for (_, s) in self._slot_map})

    def add_slot(self, var, slot_name, initializer="zeros"):
        """Creates (or returns) the slot `slot_name` of `var` (TF 2.x API)."""
        existing = self._slot_map.get((id(var), slot_name))
        if existing is not None:
            return existing
        return self.add_variable_from_reference(var, slot_name, initializer)

    # -- in-place writes (Keras' assign/assign_add/assign_sub: IndexedSlices scatter) ----------
    def assign(self, variable, value):
        if ops.is_sparse(value):
            variable.scatter_update(value)
        else:
            variable.assign(value)

    def assign_add(self, variable, value):
        if ops.is_sparse(value):
            variable.scatter_add(value)
        else:
            variable.assign_add(value)

    def assign_sub(self, variable, value):
        if ops.is_sparse(value):
            variable.scatter_sub(value)
        else:
            variable.assign_sub(value)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    # -- applying gradients --------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False,
                        **kwargs):
        """Applies `(gradient, variable)` pairs; returns `iterations`."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates `trainable_variables` (or the variables the optimizer was built with) with
        `grads`, one per variable."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first. ")
            if len(grads) != len(self._index):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    f"match `optimizer.variables` one-to-on. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables.")
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
                self.built = True
            else:
                index = self._index
                new = [v for v in variables if id(v) not in index]
                if new:
                    self._extend(list({id(v): v for v in new}.values()))
        grads, variables = self._filter_empty_gradients(grads, variables)
        if grads:
            scale = self.loss_scale_factor
            if scale is not None:
                grads = [g / scale if not ops.is_sparse(g) else
                         ops.map_values(g, lambda x: x / scale) for g in grads]
            self._backend_apply_gradients(grads, variables)
            for variable in variables:
                if variable.constraint is not None:
                    variable.assign(variable.constraint(variable))
        self._iterations.assign_add(self._hyper(1, _dt.int64))

    def _filter_empty_gradients(self, grads, variables):
        if not any(g is None for g in grads):
            return grads, list(variables)
        kept_g, kept_v, missing = [], [], []
        for g, v in zip(grads, variables):
            if g is None:
                missing.append(getattr(v, "path", None) or v.name)
            else:
                kept_g.append(g)
                kept_v.append(v)
        if not kept_g:
            raise ValueError("No gradients provided for any variable.")
        warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                      "loss. If using `model.compile()`, did you forget to provide a `loss` "
                      "argument?", stacklevel=3)
        return kept_g, kept_v

    def _backend_apply_gradients(self, grads, variables):
        steps = self.gradient_accumulation_steps
        if steps:
            acc = [self._accumulated_gradients[self._get_variable_index(v)] for v in variables]
            if (int(self._iterations.numpy()) + 1) % steps == 0:
                grads = [(ops.dense(g) + a) / steps for g, a in zip(grads, acc)]
                grads = self._clip_gradients(grads)
                if not self._folds_weight_decay():
                    self._apply_weight_decay(variables)
                self._backend_update_step(grads, variables, self.learning_rate)
                for a in self._accumulated_gradients:
                    a.assign(ops.zeros_like(a))
            else:
                for g, a in zip(grads, acc):
                    a.assign(a + ops.dense(g))
        else:
            grads = self._clip_gradients(grads)
            if not self._folds_weight_decay():
                self._apply_weight_decay(variables)
            self._backend_update_step(grads, variables, self.learning_rate)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            freq = self.ema_overwrite_frequency
            if freq and (int(self.iterations.numpy()) + 1) % freq == 0:
                self._overwrite_model_variables_with_average_value(self._trainable_variables)

    def _backend_update_step(self, grads, variables, learning_rate):
        """update_step per variable, or `_fused_step` per (device, dtype) group of dense
        gradients when the subclass has one."""
        fused = getattr(self, "_fused_step", None)
        if fused is None:
            for g, v in zip(grads, variables):
                self.update_step(g, v, learning_rate)
            return
        if any(type(g) is IndexedSlices for g in grads):
            # Sparse gradients take update_step (Keras' dedup rules); the rest is grouped anew.
            decay = self._folds_weight_decay()
            dense = []
            for i, (g, v) in enumerate(zip(grads, variables)):
                if type(g) is IndexedSlices:
                    if decay:
                        self._apply_weight_decay([v])
                    self.update_step(g, v, learning_rate)
                else:
                    dense.append(i)
            if not dense:
                return
            plan = self._fused_plan([variables[i] for i in dense])
            grads = [grads[i] for i in dense]
        else:
            plan = self._plan_cache.get(tuple(map(id, variables)))
            if plan is None:
                plan = self._cache_plan(variables)
        for positions, group, slots in plan:
            fused(grads if positions is None else [grads[i] for i in positions], group,
                  learning_rate, slots)

    def _cache_plan(self, variables):
        cache = self.__dict__.setdefault("_plan_cache", {})
        if len(cache) >= 8:   # a few variable lists in turn (GANs); never grows without bound
            cache.clear()
        # NOTE: the plan holds the variables, so no id in the key can be reused while cached.
        plan = cache[tuple(map(id, variables))] = self._fused_plan(variables)
        return plan

    def _fused_plan(self, variables):
        """[(positions in `variables` or None for all, the group's variables, its slot lists)]
        per (device, dtype) group, slot lists per `_fused_slot_lists()` (the subclass' lists
        of per-variable slots, in the order its `_fused_step` takes them)."""
        groups = {}
        for i, v in enumerate(variables):
            groups.setdefault((v.device, v.dtype), []).append(i)
        lists = self._fused_slot_lists() if hasattr(self, "_fused_slot_lists") else ()
        index = self._index
        plan = []
        for positions in groups.values():
            group = [variables[i] for i in positions]
            slots = tuple([lst[index[id(v)]] for v in group] for lst in lists)
            plan.append((None if len(groups) == 1 else positions, group, slots))
        return plan

    def _hyper(self, value, dtype):
        """`ops.cast(value, dtype)` of a Python hyperparameter, computed once per (value,
        dtype) for the fused steps (tensors never change, so sharing them is safe)."""
        cache = self.__dict__.setdefault("_hyper_cache", {})
        key = (value.__class__, value, dtype)
        found = cache.get(key)
        if found is None:
            if len(cache) >= 64:
                cache.clear()
            found = cache[key] = ops.cast(value, dtype)
        return found

    def _next_step(self, dtype):
        """iterations + 1 in `dtype` (the step an update is for), as the plain path computes
        it, with the int64 1 converted once."""
        if self.gradient_accumulation_steps:
            return ops.cast(self.iterations + 1, dtype)
        one = self._hyper(1, _dt.int64)
        return ops.cast(self._iterations.value() + one, dtype)

    def _folds_weight_decay(self) -> bool:
        """Whether the fused step applies weight decay itself (subclasses with
        `_FUSED_WEIGHT_DECAY`), so the base class must not apply it first."""
        return (self.weight_decay is not None and self._FUSED_WEIGHT_DECAY
                and getattr(self, "_fused_step", None) is not None)

    # -- TF 2.x API kept (Keras 3 dropped it) --------------------------------------------------
    def minimize(self, loss, var_list, tape=None):
        """Computes gradients of `loss` (a callable, or a tensor recorded on `tape`) for
        `var_list` (a list or a callable returning one) and applies them."""
        from featherflow._src.autodiff.tape import GradientTape  # noqa: PLC0415

        if not callable(loss) and tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss}, tape={tape}.")
        if callable(loss):
            tape = GradientTape() if tape is None else tape
            with tape:
                if callable(var_list):
                    var_list = var_list()
                tape.watch(var_list)
                loss = loss()
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list)
        return self.apply_gradients(zip(grads, var_list))

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr.numpy())
        elif callable(lr):
            lr = {"class_name": "__lambda__" if getattr(lr, "__name__", "") == "<lambda>"
                  else "function", "config": {"value": getattr(lr, "__name__", repr(lr))}}
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"],
                                                             custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"
