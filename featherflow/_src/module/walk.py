"""The one attribute walker: what a Module, a Keras Layer, a Checkpoint and a Strategy see of an
object graph.

TensorFlow's rules (checked against TF 2.21, fixture in tests/fixtures/module_walk.json):

- a module's instance attributes (`vars(module)`) are visited in sorted key order (or by
  `attribute_traversal_key`); names in the module's `_TF_MODULE_IGNORED_PROPERTIES` are skipped;
  properties are never visited, since they are not instance attributes;
- each attribute value is flattened like `tf.nest`: sequences (lists, tuples, ranges, deques, ...
  but not str/bytes) by position, namedtuples by field name in field order, mappings by sorted
  key, mapping views by position; anything else (sets, arrays, variables, modules) is a leaf;
- a module's own leaves come first, then its submodules are walked depth-first in the order they
  were found (so `submodules` of a->(b->c, d->e) is b, d, c, e);
- without paths, each leaf object is reported once (by identity, across the whole walk, and the
  root module itself counts as seen); with paths, every path to it is reported;
- a module already being walked (a cycle) is listed but not entered again.

Leaves are told apart by registration, not by import, so the variable class, distributed values
and Keras layers plug in without this file importing them: `register_leaf_type` for
variable-like leaves, `register_module_type` for module-like containers.
"""
from __future__ import annotations

import collections.abc as _abc

_LEAF_TYPES: list[type] = []      # variable-like leaves (tf.Variable, distributed variables)
_MODULE_TYPES: list[type] = []    # module-like containers (tf.Module and what derives from it)
_leaf_tuple: tuple = ()
_module_tuple: tuple = ()
_builtin_variable_checked = False

# Sequences that tf.nest treats as leaves.
_TEXT = (str, bytes)


def register_leaf_type(cls: type) -> type:
    """Registers `cls` as a variable-like leaf: the walker never looks inside its instances and
    `is_variable` is true for them. Returns `cls`, so it can be used as a class decorator."""
    global _leaf_tuple
    if not isinstance(cls, type):
        raise TypeError(f"register_leaf_type expects a class. Received: {cls!r}")
    if cls not in _LEAF_TYPES:
        _LEAF_TYPES.append(cls)
        _leaf_tuple = tuple(_LEAF_TYPES)
    return cls


def unregister_leaf_type(cls: type):
    """Test support: forgets a class registered with `register_leaf_type`."""
    global _leaf_tuple
    if cls in _LEAF_TYPES:
        _LEAF_TYPES.remove(cls)
        _leaf_tuple = tuple(_LEAF_TYPES)


def register_module_type(cls: type) -> type:
    """Registers `cls` as a module-like container whose instance attributes are walked."""
    global _module_tuple
    if not isinstance(cls, type):
        raise TypeError(f"register_module_type expects a class. Received: {cls!r}")
    if cls not in _MODULE_TYPES:
        _MODULE_TYPES.append(cls)
        _module_tuple = tuple(_MODULE_TYPES)
    return cls


def _ensure_builtin_variable():
    # NOTE: tf.Variable is registered by importing its module, which may not be imported yet when
    # a walk first runs (a module holding only stand-in leaves); importing it here makes the
    # answer independent of import order. It is tried once per process.
    global _builtin_variable_checked
    if _builtin_variable_checked:
        return
    _builtin_variable_checked = True
    try:
        from featherflow._src.variables import variable as _variable  # noqa: PLC0415
    except ImportError:
        return
    cls = getattr(_variable, "Variable", None)
    if isinstance(cls, type):
        register_leaf_type(cls)


def is_module(obj) -> bool:
    return isinstance(obj, _module_tuple)


def is_variable(obj) -> bool:
    if not _builtin_variable_checked:
        _ensure_builtin_variable()
    return isinstance(obj, _leaf_tuple)


def is_trainable_variable(obj) -> bool:
    return is_variable(obj) and bool(getattr(obj, "trainable", False))


def is_non_trainable_variable(obj) -> bool:
    return is_variable(obj) and not getattr(obj, "trainable", False)


# ---------------------------------------------------------------------------------------------
# Structures (tf.nest's rules for what is a container)
# ---------------------------------------------------------------------------------------------
def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError as e:
        raise TypeError(f"nest only supports dicts with sortable keys. Received keys: "
                        f"{list(mapping)!r}") from e


def _children(value):
    """(key, child) pairs of a container, or None for a leaf."""
    if isinstance(value, _leaf_tuple) or isinstance(value, _module_tuple):
        return None
    if isinstance(value, _abc.Mapping):
        return [(k, value[k]) for k in _sorted_keys(value)]
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return list(zip(type(value)._fields, value))
    if isinstance(value, (_abc.KeysView, _abc.ValuesView, _abc.ItemsView)):
        return list(enumerate(value))
    if isinstance(value, _abc.Sequence) and not isinstance(value, _TEXT):
        return list(enumerate(value))
    return None


def flatten_with_paths(value, path=()):
    """[(path, leaf), ...] of a nested structure, in tf.nest order; path is a tuple of keys."""
    out = []
    stack = [(path, value)]
    # Iterative and in order: children are pushed reversed so the first is popped first.
    while stack:
        p, v = stack.pop()
        kids = _children(v)
        if kids is None:
            out.append((p, v))
        else:
            for k, child in reversed(kids):
                stack.append((p + (k,), child))
    return out


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------
def _always(_):
    return True


def _ignored(module):
    return getattr(module, "_TF_MODULE_IGNORED_PROPERTIES", ())


def walk(root, recursive=True, predicate=None, attribute_traversal_key=None, with_path=False,
         expand_composites=False):
    """Yields the leaves of `root`'s attributes that satisfy `predicate` (all leaves when None),
    as `(path, leaf)` pairs when `with_path`. See the module docstring for the order.

    `expand_composites` is accepted for TF's signature; featherflow has no composite tensors yet,
    so it changes nothing.
    """
    del expand_composites
    if not _builtin_variable_checked:
        _ensure_builtin_variable()
    pred = predicate or _always
    seen = {id(root)}
    yield from _walk_module(root, recursive, pred, attribute_traversal_key, with_path, (), seen,
                            [])


def _walk_module(module, recursive, pred, key_fn, with_path, prefix, seen, stack):
    mid = id(module)
    # A module already on the stack is a back edge of a cycle: list it, do not enter it again.
    enter = recursive and mid not in stack
    attrs = vars(module)
    ignored = _ignored(module)
    found = []
    for name in sorted(attrs, key=key_fn):
        if name in ignored:
            continue
        value = attrs[name]
        try:
            leaves = flatten_with_paths(value, (name,))
        except Exception as e:  # noqa: BLE001 - reported with the attribute that failed
            raise ValueError(f"Error processing property {name!r} of {value!r}") from e
        for path, leaf in leaves:
            if not with_path:
                lid = id(leaf)
                if lid in seen:
                    continue
                seen.add(lid)
            if pred(leaf):
                yield (prefix + path, leaf) if with_path else leaf
            if enter and isinstance(leaf, _module_tuple):
                found.append((prefix + path, leaf))
    if not found:
        return
    stack.append(mid)
    try:
        for path, sub in found:
            yield from _walk_module(sub, recursive, pred, key_fn, with_path, path, seen, stack)
    finally:
        stack.pop()


def variables(root) -> tuple:
    return tuple(walk(root, predicate=is_variable))


def trainable_variables(root) -> tuple:
    return tuple(walk(root, predicate=is_trainable_variable))


def non_trainable_variables(root) -> tuple:
    return tuple(walk(root, predicate=is_non_trainable_variable))


def submodules(root) -> tuple:
    return tuple(walk(root, predicate=is_module))


# ---------------------------------------------------------------------------------------------
# Checkpoint dependencies: the children of an object with their local names (TF's rules)
# ---------------------------------------------------------------------------------------------
# NOTE: this is a different view from `walk` above, because TensorFlow's checkpoints see an
# object graph differently from `tf.Module.variables`: attributes in assignment order (not
# sorted), lists and dicts are objects of their own (a node, even when empty), tuples only when
# they hold something trackable, `_TF_MODULE_IGNORED_PROPERTIES` does not apply (TF's optimizers
# save `_trainable_variables`, which `Module.variables` hides), and a dict key is a local name.

_CHILDREN_RULES: dict = {}    # class -> fn(obj) -> [(name, value)] overriding `vars(obj)`
ATTACH_HOOKS: list = []       # fn(obj, name, value), called after a trackable attribute is set


def register_children_rule(cls: type, fn):
    """Makes `fn(obj)` (a list of (local name, value) pairs) the checkpoint dependencies of
    instances of `cls` (and subclasses without a rule of their own) instead of `vars(obj)`."""
    _CHILDREN_RULES[cls] = fn


def _rule_for(cls):
    for klass in cls.__mro__:
        fn = _CHILDREN_RULES.get(klass)
        if fn is not None:
            return fn
    return None


def is_trackable(value) -> bool:
    """Whether `value` is a node of a checkpoint's object graph: a variable, a module, an object
    with `_checkpoint_children`, a list or dict, or a tuple holding something trackable."""
    if not _builtin_variable_checked:
        _ensure_builtin_variable()
    if isinstance(value, _leaf_tuple) or isinstance(value, _module_tuple):
        return True
    if isinstance(value, (list, dict)) or hasattr(value, "_checkpoint_children"):
        return not isinstance(value, type)
    if isinstance(value, tuple):
        return any(is_trackable(v) for v in value)
    return False


def children(obj) -> list:
    """[(local name, child), ...]: the checkpoint dependencies of `obj`, in TF's order.

    >>> import featherflow as tf
    >>> m = tf.Module(); m.w = tf.Variable(1.0); m.layers = [tf.Variable(2.0)]
    >>> [name for name, _ in children(m)]
    ['w', 'layers']
    >>> [name for name, _ in children(m.layers)]
    ['0']
    """
    if not _builtin_variable_checked:
        _ensure_builtin_variable()
    if isinstance(obj, _leaf_tuple):
        return []
    hook = getattr(obj, "_checkpoint_children", None)
    if hook is not None and not isinstance(obj, type):
        return [(n, v) for n, v in hook() if is_trackable(v)]
    if isinstance(obj, _abc.Mapping):
        return _mapping_children(obj, strict=False)
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if is_trackable(v)]
    rule = _rule_for(type(obj))
    items = rule(obj) if rule is not None else _attributes(obj)
    ignored = _ignored(obj)
    out = []
    for name, value in items:
        if not is_trackable(value):
            continue
        # A dict the module hides from its walk may use non-string keys (an optimizer's slot
        # map keyed by variable id): it is still a node, its non-string entries are skipped.
        # Any other dict attribute with a non-string key to a trackable is an error, as in TF.
        if isinstance(value, _abc.Mapping) and name not in ignored:
            _mapping_children(value, strict=True)
        out.append((name, value))
    return out


def _attributes(obj) -> list:
    try:
        attrs = vars(obj)
    except TypeError:
        return []
    return [(k, v) for k, v in attrs.items() if not k.startswith("_self_")]


def _mapping_children(mapping, strict) -> list:
    out = []
    for key, value in mapping.items():
        if not is_trackable(value):
            continue
        if not isinstance(key, str):
            if not strict:
                continue
            raise ValueError(
                f"Unable to save the object {mapping!r} (a dictionary tracked as a checkpoint "
                "dependency): it maps the non-string key {key!r} to a trackable object. "
                "Checkpoint names are strings: use string keys, or keep this dictionary on an "
                "object that is not saved. Received: key {key!r}".replace("{key!r}", repr(key)))
        out.append((key, value))
    return out


def notify_attach(obj, name, value):
    """Called by Module/Layer `__setattr__` (only while a hook is registered): tells pending
    checkpoint restorations that `obj.name` now holds `value`."""
    if is_trackable(value):
        for hook in list(ATTACH_HOOKS):
            hook(obj, name, value)
