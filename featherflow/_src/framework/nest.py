"""tf.nest: flatten, pack and map nested structures of lists, tuples, namedtuples and dicts.

Dict values flatten in sorted-key order (packing restores the dict's own key order), tensors and
strings are leaves, and with `expand_composites=True` a composite (tf.IndexedSlices) flattens to
its component tensors.
"""
from __future__ import annotations

import collections.abc as _abc


# ---------------------------------------------------------------------------------------------
# What is nested
# ---------------------------------------------------------------------------------------------
def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_composite(x) -> bool:
    return hasattr(x, "_nest_components")


def _nested(x, expand_composites=False) -> bool:
    if isinstance(x, (list, tuple, _abc.Mapping)):
        return True
    return expand_composites and _is_composite(x)


def is_nested(seq) -> bool:
    """True for lists, tuples (namedtuples included) and mappings; False for leaves.

    >>> import featherflow as tf
    >>> tf.nest.is_nested([1]), tf.nest.is_nested("ab")
    (True, False)
    """
    return _nested(seq)


def _sorted_keys(d):
    return sorted(d)


def _children(x, expand_composites):
    if isinstance(x, _abc.Mapping):
        return [x[k] for k in _sorted_keys(x)]
    if expand_composites and _is_composite(x):
        return list(x._nest_components())
    return list(x)


def _rebuild(template, children):
    """A structure like `template` with its children (in flatten order) replaced."""
    if isinstance(template, _abc.Mapping):
        by_key = dict(zip(_sorted_keys(template), children))
        items = [(k, by_key[k]) for k in template]
        if type(template) is dict:
            return dict(items)
        if hasattr(template, "default_factory"):
            return type(template)(template.default_factory, items)
        return type(template)(items)
    if _is_namedtuple(template):
        return type(template)(*children)
    if isinstance(template, (list, tuple)):
        return type(template)(children) if type(template) in (list, tuple) else \
            type(template)(children)
    return type(template)._nest_from_components(template, children)


# ---------------------------------------------------------------------------------------------
# flatten / pack
# ---------------------------------------------------------------------------------------------
def flatten(structure, expand_composites=False) -> list:
    """The leaves of `structure` in order (dicts by sorted key).

    >>> import featherflow as tf
    >>> tf.nest.flatten({"b": 1, "a": [2, None]})
    [2, None, 1]
    """
    out = []
    _flatten_into(structure, expand_composites, out)
    return out


def _flatten_into(x, expand, out):
    if not _nested(x, expand):
        out.append(x)
        return
    for c in _children(x, expand):
        _flatten_into(c, expand, out)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """`flat_sequence` packed into the shape of `structure`.

    >>> import featherflow as tf
    >>> tf.nest.pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])
    {'b': 3, 'a': [1, 2]}
    """
    if not _nested(flat_sequence, expand_composites) or \
            isinstance(flat_sequence, _abc.Mapping):
        raise TypeError(f"Attempted to pack value:\n  {flat_sequence}\ninto a structure, but "
                        f"found incompatible type `{type(flat_sequence)}` instead.")
    flat = list(flat_sequence)
    if not _nested(structure, expand_composites):
        if len(flat) != 1:
            raise ValueError(f"The target structure is of type `{type(structure)}`\n  "
                             f"{structure}\nHowever the input is a sequence "
                             f"({type(flat_sequence)}) of length {len(flat)}.\n  {flat_sequence}"
                             "\nnest cannot guarantee that it is safe to map one to the other.")
        return flat[0]
    n = len(flatten(structure, expand_composites))
    if n != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {n} atoms, but flat_sequence "
                         f"had {len(flat)} items.  Structure: {structure}, flat_sequence: "
                         f"{flat_sequence}.")
    packed, _ = _pack(structure, flat, 0, expand_composites)
    return packed


def _pack(template, flat, i, expand):
    if not _nested(template, expand):
        return flat[i], i + 1
    children = []
    for c in _children(template, expand):
        v, i = _pack(c, flat, i, expand)
        children.append(v)
    return _rebuild(template, children), i


# ---------------------------------------------------------------------------------------------
# assert_same_structure / map_structure
# ---------------------------------------------------------------------------------------------
class _Dot:
    def __repr__(self):
        return "."


_DOT = _Dot()


def _desc(x) -> str:
    return f"type={type(x).__name__} str={x}"


def _mismatch(a, b, check_types, expand):
    """(exception class, detail) for the first difference between `a` and `b`, or None."""
    na, nb = _nested(a, expand), _nested(b, expand)
    if na != nb:
        if na:
            return ValueError, (f'Substructure "{_desc(a)}" is a sequence, while substructure '
                                f'"{_desc(b)}" is not')
        return ValueError, (f'Substructure "{_desc(a)}" is not a sequence, while substructure '
                            f'"{_desc(b)}" is')
    if not na:
        return None
    if check_types and type(a) is not type(b):
        same_nt = _is_namedtuple(a) and _is_namedtuple(b) and \
            type(a).__name__ == type(b).__name__ and type(a)._fields == type(b)._fields
        if not same_nt:
            return TypeError, (f"The two namedtuples don't have the same sequence type. First "
                               f"structure {_desc(a)} has type {type(a).__name__}, while second "
                               f"structure {_desc(b)} has type {type(b).__name__}")
    if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
        if set(a) != set(b):
            ka, kb = list(a), list(b)
            return ValueError, (f"The two dictionaries don't have the same set of keys. First "
                                f"structure has keys {_desc(ka)}, while second structure has "
                                f"keys {_desc(kb)}")
    ca, cb = _children(a, expand), _children(b, expand)
    if len(ca) != len(cb):
        return ValueError, (f"The two structures don't have the same number of elements. First "
                            f"structure: {_desc(a)}. Second structure: {_desc(b)}")
    for x, y in zip(ca, cb):
        found = _mismatch(x, y, check_types, expand)
        if found:
            return found
    return None


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ValueError (TypeError for differing sequence types) unless the two structures
    nest the same way.

    >>> import featherflow as tf
    >>> tf.nest.assert_same_structure([1, (2, 3)], ["a", ("b", "c")])
    """
    found = _mismatch(nest1, nest2, check_types, expand_composites)
    if found is None:
        return
    cls, detail = found
    dots1 = _map_one(lambda _: _DOT, nest1, expand_composites)
    dots2 = _map_one(lambda _: _DOT, nest2, expand_composites)
    raise cls(f"The two structures don't have the same nested structure.\n\nFirst structure: "
              f"{_desc(nest1)}\n\nSecond structure: {_desc(nest2)}\n\nMore specifically: "
              f"{detail}\nEntire first structure:\n{dots1}\nEntire second structure:\n{dots2}")


def _map_one(func, structure, expand):
    return pack_sequence_as(structure, [func(x) for x in flatten(structure, expand)], expand) \
        if _nested(structure, expand) else func(structure)


def map_structure(func, *structure, **kwargs):
    """Applies `func` to the corresponding leaves of one or more structures.

    >>> import featherflow as tf
    >>> tf.nest.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)])
    [11, (22, 33)]
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    expand = kwargs.pop("expand_composites", False)
    if kwargs:
        raise ValueError("Only valid keyword arguments are `check_types` and "
                         f"`expand_composites`, not: `{'`, `'.join(kwargs)}`")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types,
                              expand_composites=expand)
    flats = [flatten(s, expand) for s in structure]
    results = [func(*leaves) for leaves in zip(*flats)]
    return pack_sequence_as(structure[0], results, expand) if _nested(structure[0], expand) \
        else results[0]


def flatten_with_joined_string_paths(structure, separator="/", expand_composites=False):
    """[(path, leaf)] with each leaf's keys/indices joined by `separator`."""
    out = []
    _paths(structure, (), expand_composites, out)
    return [(separator.join(str(p) for p in path), leaf) for path, leaf in out]


def _paths(x, prefix, expand, out):
    if not _nested(x, expand):
        out.append((prefix, x))
        return
    if isinstance(x, _abc.Mapping):
        keys = _sorted_keys(x)
    elif _is_namedtuple(x):
        keys = type(x)._fields
    else:
        keys = range(len(_children(x, expand)))
    for k, c in zip(keys, _children(x, expand)):
        _paths(c, prefix + (k,), expand, out)
