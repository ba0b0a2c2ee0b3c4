"""tf.custom_gradient, tf.stop_gradient, tf.RegisterGradient and tf.no_gradient.

A custom-gradient function runs with every tape paused; its result is then recorded as one node
whose gradient is the user's `grad_fn`. The gradient function runs with public ops during the
reverse walk, so an outer tape records it (custom gradients compose with nested tapes).
"""
from __future__ import annotations

import functools
import inspect
import traceback

from featherflow._src.autodiff import tape as _tape
from featherflow._src.autodiff.backprop import flatten, pack_as, registry_overrides
from featherflow._src.framework import context
from featherflow._src.framework.tensor import EagerTensor, Tensor
from featherflow._src.ops import dispatch, registry
from featherflow._src.ops.defs import autodiff as _ops

_THREAD = context.THREAD


def stop_gradient(input, name=None):  # noqa: A002 - TF's name
    """An identity whose output has no gradient.

    >>> import featherflow as tf
    >>> x = tf.constant(2.0)
    >>> with tf.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * tf.stop_gradient(x)
    >>> g.gradient(y, x).numpy()
    np.float32(2.0)
    """
    from featherflow._src.api._args import tensor  # noqa: PLC0415

    x = input if type(input) is EagerTensor else tensor(input)
    return dispatch.execute(_ops.StopGradient, (x,))


class _CustomOp:
    """Stands in for an OpDef in a custom-gradient node."""

    __slots__ = ("name", "grad")
    vjp2 = None  # the reverse walk's direct path: not for custom gradients

    def __init__(self, grad):
        self.name = "CustomGradient"
        self.grad = grad


def _accepts_variables(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _input_tensor(a):
    h = _tape.variable_handle(a)
    if h is not None:
        return h
    if isinstance(a, Tensor):
        return a
    from featherflow._src.framework.convert import convert_to_tensor  # noqa: PLC0415

    return convert_to_tensor(a)


def custom_gradient(f=None):
    """Decorates `f(*args) -> (result, grad_fn)` so that gradients use `grad_fn`.

    `grad_fn(*upstream)` returns one gradient per argument; when `f` reads variables,
    `grad_fn(*upstream, variables=...)` returns `(argument_grads, variable_grads)`.

    >>> import featherflow as tf
    >>> @tf.custom_gradient
    ... def clip_grad(x):
    ...     return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        with _tape.stop_all_recording(), _tape.VariableWatcher() as watcher:
            result, grad_fn = f(*args, **kwargs)
        flat_args = flatten(list(args))
        arg_ids = {id(a) for a in flat_args}
        variables = [v for v in watcher.watched_variables()
                     if id(v) not in arg_ids and getattr(v, "trainable", True)]
        use_vars = _accepts_variables(grad_fn)
        if variables and not use_vars:
            raise TypeError("@tf.custom_gradient grad_fn must accept keyword argument "
                            f"'variables', since function uses variables: {variables}")
        if not _THREAD.tapes:
            return result
        # The reads inside `f` were hidden from the tapes: report the variables now so that
        # tapes watching accessed variables see them.
        for a in flat_args + variables:
            if _tape.variable_handle(a) is not None:
                _tape.variable_accessed(a)
        inputs = [_input_tensor(a) for a in flat_args] + [v.handle for v in variables]
        flat_out = flatten(result)
        input_ids = {id(t) for t in inputs}
        if any(id(o) in input_ids for o in flat_out):
            from featherflow._src.api.array_ops import identity  # noqa: PLC0415

            # An output that is an input needs its own identity for the tape.
            with _tape.stop_all_recording():
                flat_out = [identity(o) if id(o) in input_ids else o for o in flat_out]
        n_args = len(flat_args)

        def grad(op, *upstream):
            if use_vars and variables:
                arg_grads, var_grads = grad_fn(*upstream, variables=variables)
                var_grads = list(var_grads or ())
            else:
                arg_grads, var_grads = grad_fn(*upstream), []
            arg_grads = flatten(arg_grads) if isinstance(arg_grads, (list, tuple)) \
                else [arg_grads]
            if len(arg_grads) != n_args:
                raise ValueError(f"custom_gradient function expected to return {n_args} "
                                 f"gradients, but returned {len(arg_grads)} instead.")
            if len(var_grads) != len(variables):
                raise ValueError(f"Must return gradient for each variable from "
                                 f"@custom_gradient grad_fn. Expected {len(variables)} "
                                 f"variable gradients, received {len(var_grads)}.")
            return arg_grads + var_grads

        _tape._record(_CustomOp(grad), tuple(inputs), None, tuple(flat_out))
        return pack_as(result, flat_out)

    return decorated


# ---------------------------------------------------------------------------------------------
# Gradient registration
# ---------------------------------------------------------------------------------------------
_WHERE: dict = {}


def _register(op_type, fn):
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    op = registry.REGISTRY.get(op_type)
    existing = (op.grad is not None or not op.differentiable) if op is not None \
        else op_type in registry_overrides
    if existing:
        where = _WHERE.get(op_type, "featherflow")
        raise KeyError(f"Registering two gradient with name '{op_type}'! (Previous "
                       f"registration was in {where})")
    frame = traceback.extract_stack(limit=3)[0]
    _WHERE[op_type] = f"{frame.name} {frame.filename}:{frame.lineno}"
    if op is None:
        registry_overrides[op_type] = fn
    elif fn is None:
        registry.not_differentiable(op_type)
    else:
        op.grad = fn


class RegisterGradient:
    """Decorator registering a gradient function for an op type (TensorFlow's class form).

    The function is called as `grad_fn(op, *output_grads)` and returns one gradient per input.
    """

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f):
        _register(self._op_type, f)
        return f


def no_gradient(op_type):
    """Declares op type `op_type` as not differentiable."""
    _register(op_type, None)
