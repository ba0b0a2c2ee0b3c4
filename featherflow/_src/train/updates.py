"""Optimizer updates on Variables: the API the Keras optimizer classes build on.

Each `apply_*` / `sparse_apply_*` function runs one of TensorFlow's fused training ops
(`ops/defs/training_ops*.py`) on Variables, in place:

- arguments are TF's inputs in TF's order and with TF's names, with Variables where TF takes
  resource handles (`var` and the slots) and tensors or Python numbers for the rest;
  hyperparameters are converted to the variable's dtype and placed on its device (no copy per
  step), a non-tensor `grad` is converted to the variable's dtype;
- the written variables are locked and copied-on-write first (`variable.writing`), so a value
  read before the update keeps its value, and concurrent updates are safe;
- nothing is recorded on a GradientTape; a failed update (shape or dtype mismatch) raises TF's
  InvalidArgumentError and leaves var and slots unchanged.

>>> import featherflow as tf
>>> from featherflow._src.train import updates
>>> v = tf.Variable([1.0, 2.0])
>>> updates.apply_gradient_descent(v, 0.5, tf.constant([2.0, 2.0]))
>>> v.numpy()
array([0., 1.], dtype=float32)

`multi_apply_adam` updates many variables with one primitive (all on one device, one dtype);
`multi_apply_adam_grouped` groups arbitrary variables by (device, dtype) first. The per-variable
`apply_adam` is its oracle: both give bit-identical results. `multi_apply_*` for AdamW, gradient
descent, Keras momentum, RMSProp (4 forms) and Keras' Adagrad follow the same pattern.

Sparse duplicates: the `sparse_apply_*` functions apply repeated indices one after another, as
TF's raw ops do. Keras sums duplicate rows first; call `deduplicate(values, indices)` before the
update to get Keras' result.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import convert as _convert
from featherflow._src.framework.tensor import EagerTensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import training_ops as _T
from featherflow._src.ops.defs import training_ops_multi as _M
from featherflow._src.ops.defs import training_ops_sparse as _S
from featherflow._src.variables.variable import Variable, writing

_execute = dispatch.execute


# (type, value, dtype, device) -> tensor: Python hyperparameters, converted once
_SCALARS: dict = {}


def _operand(value, var, name):
    """`value` as a tensor on var's device; Python/NumPy values take var's dtype."""
    cls = value.__class__
    if (cls is float or cls is int) and name != "indices":
        # Optimizers pass the same Python hyperparameters every step: convert each once.
        key = (cls, value, var._dtype, var._device)
        found = _SCALARS.get(key)
        if found is None:
            if len(_SCALARS) >= 256:
                _SCALARS.clear()
            host = np.asarray(value, dtype=var._dtype._np)
            found = _SCALARS[key] = _convert.place_host(host, var._dtype, var._device)
        return found
    if isinstance(value, Variable):
        value = value.value()
    if type(value) is EagerTensor:
        if value._device is not var._device and value._dtype is var._dtype:
            value = dispatch.copy_to_device(value, var._device)
        return value
    if isinstance(value, (np.ndarray, np.generic, float, int, list, tuple)):
        host = np.asarray(value, dtype=var._dtype._np if name != "indices" else None)
        if name == "indices" and host.dtype.kind not in "iu":
            return _convert.convert_to_tensor(value)
        return _convert.place_host(host, var._dtype if name != "indices" else
                                   _convert.convert_to_tensor(host)._dtype, var._device)
    return _convert.convert_to_tensor(value)


def _check_variable(v, op, name):
    if not isinstance(v, Variable):
        raise TypeError(f"{op.name}: `{name}` must be a tf.Variable. Received: {v!r}")
    return v


def _make(op, public_name):
    spec = op.kernel.spec
    names = spec.inputs
    resources = set(spec.resources)
    attr_defaults = {k: v for k, v in spec.attr_defaults.items() if k != "use_locking"}

    def update(*args, use_locking=False, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{public_name}() takes {len(names)} inputs "
                            f"({', '.join(names)}). Received: {len(args)}")
        bound = dict(zip(names, args))
        for n in names[len(args):]:
            if n not in kwargs:
                raise TypeError(f"{public_name}() missing required argument '{n}'.")
            bound[n] = kwargs.pop(n)
        unknown = set(kwargs) - set(attr_defaults)
        if unknown:
            raise TypeError(f"{public_name}() got unexpected arguments {sorted(unknown)}. "
                            f"Expected attributes {sorted(attr_defaults)}.")
        var = _check_variable(bound["var"], op, "var")
        variables = [_check_variable(bound[n], op, n) for n in names if n in resources]
        inputs = tuple(bound[n]._handle if n in resources else _operand(bound[n], var, n)
                       for n in names)
        with writing(variables):
            _execute(op, inputs, kwargs or None)

    update.__name__ = update.__qualname__ = public_name
    shown = ", ".join(names + [f"{k}={v!r}" for k, v in attr_defaults.items()])
    update.__doc__ = (f"{op.name} on Variables: {public_name}({shown}).\n\n"
                      f"{op.kernel.__doc__ or ''}")
    return update


apply_gradient_descent = _make(_T.resource_apply_gradient_descent, "apply_gradient_descent")
apply_momentum = _make(_T.resource_apply_momentum, "apply_momentum")
apply_keras_momentum = _make(_T.resource_apply_keras_momentum, "apply_keras_momentum")
apply_adam = _make(_T.resource_apply_adam, "apply_adam")
apply_adam_with_amsgrad = _make(_T.resource_apply_adam_with_amsgrad, "apply_adam_with_amsgrad")
apply_ada_max = _make(_T.resource_apply_ada_max, "apply_ada_max")
apply_adagrad = _make(_T.resource_apply_adagrad, "apply_adagrad")
apply_adagrad_v2 = _make(_T.resource_apply_adagrad_v2, "apply_adagrad_v2")
apply_adadelta = _make(_T.resource_apply_adadelta, "apply_adadelta")
apply_rms_prop = _make(_T.resource_apply_rms_prop, "apply_rms_prop")
apply_centered_rms_prop = _make(_T.resource_apply_centered_rms_prop, "apply_centered_rms_prop")
apply_ftrl = _make(_T.resource_apply_ftrl, "apply_ftrl")
apply_ftrl_v2 = _make(_T.resource_apply_ftrl_v2, "apply_ftrl_v2")
apply_rms_prop_no_momentum = _make(_T.feather_apply_rms_prop_no_momentum,
                                   "apply_rms_prop_no_momentum")
apply_centered_rms_prop_no_momentum = _make(_T.feather_apply_centered_rms_prop_no_momentum,
                                            "apply_centered_rms_prop_no_momentum")
apply_adagrad_keras = _make(_T.feather_apply_adagrad_keras, "apply_adagrad_keras")

sparse_apply_momentum = _make(_S.resource_sparse_apply_momentum, "sparse_apply_momentum")
sparse_apply_keras_momentum = _make(_S.resource_sparse_apply_keras_momentum,
                                    "sparse_apply_keras_momentum")
sparse_apply_adagrad = _make(_S.resource_sparse_apply_adagrad, "sparse_apply_adagrad")
sparse_apply_adagrad_v2 = _make(_S.resource_sparse_apply_adagrad_v2, "sparse_apply_adagrad_v2")
sparse_apply_adadelta = _make(_S.resource_sparse_apply_adadelta, "sparse_apply_adadelta")
sparse_apply_rms_prop = _make(_S.resource_sparse_apply_rms_prop, "sparse_apply_rms_prop")
sparse_apply_centered_rms_prop = _make(_S.resource_sparse_apply_centered_rms_prop,
                                       "sparse_apply_centered_rms_prop")
sparse_apply_ftrl = _make(_S.resource_sparse_apply_ftrl, "sparse_apply_ftrl")
sparse_apply_ftrl_v2 = _make(_S.resource_sparse_apply_ftrl_v2, "sparse_apply_ftrl_v2")


def _make_multi(op, public_name):
    """`public_name(vars, *slot_lists, grads, *scalars, **attrs)`: the multi-tensor op `op` on
    Variables of one device and dtype (its per-variable op's scalars, then op's extras)."""
    n_slots = len(op.kernel.slots)

    def update(vars, *args, **attrs):
        lists, scalars = args[:n_slots + 1], args[n_slots + 1:]
        n = len(vars)
        if any(len(x) != n for x in lists):
            raise ValueError(f"{public_name} needs lists of one length. Received lengths "
                             f"{[n] + [len(x) for x in lists]}")
        if n == 0:
            return
        slot_lists, grads = lists[:-1], lists[-1]
        var0 = vars[0]
        written = [*vars, *(x for col in slot_lists for x in col)]
        dev = var0._device
        for x in written:
            if x.__class__ is not Variable:
                _check_variable(x, op, "vars/slots")
            if x._device is not dev:
                raise ValueError(f"{public_name} needs all variables on one device (group them "
                                 f"by device and dtype first). Received: {x.name} on "
                                 f"{x.device}, {var0.name} on {var0.device}")
        inputs = [x._handle for x in written]
        inputs += [_operand(g, x, "grad") for g, x in zip(grads, vars)]
        inputs += [_operand(s, var0, "scalar") for s in scalars]
        with writing(written):
            _execute(op, tuple(inputs), {k: v for k, v in attrs.items() if v} or None)

    update.__name__ = update.__qualname__ = public_name
    update.__doc__ = (f"{op.name} on Variables of one device and dtype: {public_name}(vars, "
                      + "".join(f"{s}s, " for s in op.kernel.slots)
                      + "grads, <scalars>, **attrs).\n\n" + (op.kernel.__doc__ or ""))
    return update


_multi_adam = _make_multi(_M.feather_multi_apply_adam, "multi_apply_adam")


def multi_apply_adam(vars, ms, vs, grads, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                     use_nesterov=False):
    """ResourceApplyAdam on every (vars[i], ms[i], vs[i], grads[i]) with one primitive
    (FeatherMultiApplyAdam). All variables must live on one device and have one dtype; the
    hyperparameters are shared. Bit-identical to calling `apply_adam` on each variable.

    >>> import featherflow as tf
    >>> from featherflow._src.train import updates
    >>> w = [tf.Variable([1.0, 2.0]), tf.Variable([[3.0]])]
    >>> m = [tf.Variable(tf.zeros_like(x)) for x in w]
    >>> v = [tf.Variable(tf.zeros_like(x)) for x in w]
    >>> g = [tf.constant([1.0, -1.0]), tf.constant([[1.0]])]
    >>> updates.multi_apply_adam(w, m, v, g, 0.9, 0.999, 0.1, 0.9, 0.999, 1e-7)
    >>> w[0].numpy()
    array([0.90000033, 2.0999997 ], dtype=float32)
    """
    _multi_adam(vars, ms, vs, grads, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                use_nesterov=use_nesterov)


# The other multi-tensor ops: (vars, *slot lists in the per-variable op's order, grads,
# *its scalars in its order [, extras]); attrs as keywords. Each is bit-identical to its
# per-variable op (named in the op's docstring) on each variable.
multi_apply_adam_w = _make_multi(_M.feather_multi_apply_adam_w, "multi_apply_adam_w")
multi_apply_gradient_descent = _make_multi(_M.feather_multi_apply_gradient_descent,
                                           "multi_apply_gradient_descent")
multi_apply_keras_momentum = _make_multi(_M.feather_multi_apply_keras_momentum,
                                         "multi_apply_keras_momentum")
multi_apply_rms_prop = _make_multi(_M.feather_multi_apply_rms_prop, "multi_apply_rms_prop")
multi_apply_centered_rms_prop = _make_multi(_M.feather_multi_apply_centered_rms_prop,
                                            "multi_apply_centered_rms_prop")
multi_apply_rms_prop_no_momentum = _make_multi(_M.feather_multi_apply_rms_prop_no_momentum,
                                               "multi_apply_rms_prop_no_momentum")
multi_apply_centered_rms_prop_no_momentum = _make_multi(
    _M.feather_multi_apply_centered_rms_prop_no_momentum,
    "multi_apply_centered_rms_prop_no_momentum")
multi_apply_adagrad_keras = _make_multi(_M.feather_multi_apply_adagrad_keras,
                                        "multi_apply_adagrad_keras")


def multi_apply_adam_grouped(vars, ms, vs, grads, beta1_power, beta2_power, lr, beta1, beta2,
                             epsilon, use_nesterov=False):
    """multi_apply_adam over variables on several devices or of several dtypes: one call per
    (device, dtype) group, in first-seen order."""
    groups = {}
    for item in zip(vars, ms, vs, grads):
        groups.setdefault((id(item[0]._device), item[0]._dtype), []).append(item)
    for items in groups.values():
        multi_apply_adam(*(list(col) for col in zip(*items)), beta1_power, beta2_power, lr,
                         beta1, beta2, epsilon, use_nesterov=use_nesterov)


def deduplicate(values, indices):
    """(summed values, unique indices): rows of `values` with equal indices summed, as Keras
    does before a sparse update (tf.IndexedSlices deduplication). Uses public ops."""
    import featherflow as tf  # noqa: PLC0415

    unique, positions = tf.unique(indices)
    summed = tf.math.unsorted_segment_sum(values, positions, tf.shape(unique)[0])
    return summed, unique
