"""Dataset.from_generator: values from a Python generator, checked against a signature.

A yielded value that does not fit the signature (structure, dtype, shape) raises
`tf.errors.InvalidArgumentError` with TensorFlow's message (which starts with "TypeError:"); an
exception raised by the generator itself becomes `tf.errors.UnknownError`, as in TensorFlow.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.data import structure as S
from featherflow._src.data.dataset import UNKNOWN, Dataset
from featherflow._src.framework import convert, dtypes as _dt, errors
from featherflow._src.framework.shapes import TensorShape
from featherflow._src.framework.tensor_spec import TensorSpec


def _signature(output_types, output_shapes, output_signature):
    if output_signature is not None:
        if output_types is not None:
            raise TypeError("The `output_types` argument can not be used together with the "
                            "`output_signature` argument.")
        if output_shapes is not None:
            raise TypeError("The `output_shapes` argument can not be used together with the "
                            "`output_signature` argument.")

        def check(spec):
            if not isinstance(spec, TensorSpec):
                raise TypeError(f"`output_signature` must contain objects that are subclass of "
                                f"`tf.TypeSpec` but found {type(spec)} which is not.")
            return spec
        return S.map_leaves(check, output_signature, lists_as_tuples=True)
    if output_types is None:
        raise TypeError("To specify the output signature you need to provide either the "
                        "`output_signature` argument or the `output_types` argument.")
    types = S.map_leaves(_dt.as_dtype, output_types, lists_as_tuples=True)
    if output_shapes is None:
        return S.map_leaves(lambda t: TensorSpec(None, t), types)
    flat_types = S.flatten(types)
    # A shape is a list of dims, so the shapes structure is flattened up to the types' structure.
    flat_shapes = _flatten_up_to(types, output_shapes)
    if len(flat_shapes) != len(flat_types):
        raise ValueError(f"The two structures don't have the same number of elements. "
                         f"Received: output_types={output_types}, output_shapes={output_shapes}")
    return S.pack(types, [TensorSpec(s, t) for s, t in zip(flat_shapes, flat_types)])


def _flatten_up_to(template, value):
    if isinstance(template, dict):
        return [x for k in sorted(template) for x in _flatten_up_to(template[k], value[k])]
    if isinstance(template, tuple):
        return [x for t, v in zip(template, value) for x in _flatten_up_to(t, v)]
    return [value]


def _bad(message):
    return errors.InvalidArgumentError(None, None, "TypeError: " + message)


def _types_text(spec):
    return str(S.map_leaves(lambda s: s.dtype, spec))


def _match(value, spec):
    """`value` (flattened up to `spec`'s structure) as host arrays of the spec's dtypes."""
    if isinstance(spec, dict):
        if not isinstance(value, dict) or sorted(value) != sorted(spec):
            raise KeyError
        return type(spec)((k, _match(value[k], spec[k])) for k in spec)
    if isinstance(spec, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(spec):
            raise KeyError
        items = [_match(v, s) for v, s in zip(value, spec)]
        return type(spec)(*items) if hasattr(type(spec), "_fields") else tuple(items)
    return _leaf(value, spec)


def _leaf(value, spec):
    dtype = spec.dtype
    if hasattr(value, "_host"):
        value = value._host()
    try:
        a = convert.host_array(value)
    except (TypeError, ValueError):
        a = np.asarray(value, dtype=object)
    a = np.asarray(a)
    if dtype == _dt.string:
        if a.dtype != object:
            raise _convert_error(value, dtype)
        out = a
    else:
        if a.dtype == object:
            raise _convert_error(value, dtype)
        out = a.astype(dtype._np)
        # NOTE: TensorFlow casts silently here (1.5 -> 1, 2**40 -> 0 for int32); featherflow
        # refuses values that do not survive the cast (docs/compat.md).
        if dtype._kind in "iub" and out.size and \
                not np.array_equal(out.astype(a.dtype), a):
            raise _convert_error(value, dtype)
    if not spec.shape.is_compatible_with(TensorShape(out.shape)):
        raise _bad(f"`generator` yielded an element of shape {TensorShape(out.shape)} where an "
                   f"element of shape {spec.shape} was expected.")
    return out


def _convert_error(value, dtype):
    return _bad(f"`generator` yielded an element that could not be converted to the expected "
                f"type. The expected type was {dtype.name}, but the yielded element was "
                f"{_text(value)}.")


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _arg(value):
    """TF hands generator arguments over as NumPy values (np.int32(3), b'text', arrays)."""
    a = S.host_leaf(value)
    return a[()] if a.ndim == 0 else a


class GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        self._gen = generator
        self._spec_cache = _signature(output_types, output_shapes, output_signature)
        self._args = () if args is None else tuple(_arg(a) for a in args)

    def _elements(self):
        spec = self._spec_cache
        it = self._gen(*self._args)
        try:
            while True:
                try:
                    value = next(it)
                except StopIteration:
                    return
                except Exception as e:
                    raise errors.UnknownError(None, None, f"{type(e).__name__}: {e}") from e
                try:
                    yield _match(value, spec)
                except (KeyError, TypeError, IndexError):
                    raise _bad(f"`generator` yielded an element that did not match the expected "
                               f"structure. The expected structure was {_types_text(spec)}, but "
                               f"the yielded element was {_text(value)}.") from None
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _card(self):
        return UNKNOWN
