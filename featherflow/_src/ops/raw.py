"""Builds tf.raw_ops functions from OpDefs: keyword-only calls straight into dispatch.execute."""
from __future__ import annotations

import inspect

from featherflow._src.framework.convert import convert_to_tensor
from featherflow._src.framework.dtypes import resource as _resource
from featherflow._src.ops import dispatch
from featherflow._src.ops.registry import OpDef


def _signature(op: OpDef):
    """(input names, variadic input name or None, attr names) from the kernel's parameters."""
    params = list(inspect.signature(op.kernel).parameters.values())[1:]  # drop `xp`
    inputs, variadic, attrs = [], None, []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            variadic = p.name
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            inputs.append(p.name)
        elif p.kind is not p.VAR_KEYWORD:
            attrs.append(p.name)
    return inputs, variadic, attrs


def make_raw_op(op: OpDef):
    inputs, variadic, attr_names = _signature(op)

    def raw_op(**kwargs):
        kwargs.pop("name", None)
        tensors = []
        for n in inputs:
            if n not in kwargs:
                raise TypeError(f"{op.name}() missing required argument '{n}'. Received: "
                                f"{sorted(kwargs)}")
            tensors.append(convert_to_tensor(kwargs.pop(n)))
        if variadic is not None:
            values = kwargs.pop(variadic, None)
            if values is None:
                raise TypeError(f"{op.name}() missing required argument '{variadic}' (a list "
                                "of tensors).")
            tensors.extend(convert_to_tensor(v) for v in values)
        unknown = set(kwargs) - set(attr_names)
        if unknown:
            raise TypeError(f"{op.name}() got unexpected arguments {sorted(unknown)}. Expected "
                            f"inputs {inputs + ([variadic] if variadic else [])} and attributes "
                            f"{attr_names}.")
        if op.num_outputs == 0 and any(t._dtype is _resource for t in tensors):
            # An update of variables through their handles: copy-on-write and locks first.
            from featherflow._src.variables.variable import (  # noqa: PLC0415
                variable_for_handle, writing)

            handles = [variable_for_handle(t) for t in tensors if t._dtype is _resource]
            with writing(handles):
                dispatch.execute(op, tuple(tensors), kwargs or None)
            return None  # TF's raw ops without outputs return None
        return dispatch.execute(op, tuple(tensors), kwargs or None)

    raw_op.__name__ = op.name
    raw_op.__qualname__ = op.name
    args = ", ".join(inputs + ([variadic] if variadic else []) + attr_names)
    raw_op.__doc__ = f"The {op.name} primitive. Keyword arguments: {args}, name."
    return raw_op
