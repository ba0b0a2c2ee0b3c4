"""tf.Module: a named container whose variables and submodules are found by walking its attributes.

Everything a Module reports about its contents comes from `walk.py`, the walker that Keras layers,
checkpoints and strategies share.
"""
from __future__ import annotations

import functools
import re

from featherflow._src.framework.device_scope import name_scope as _name_scope
from featherflow._src.module import walk as _walk

_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An upper-case letter starts a new word after a lower-case letter or digit ("ModuleOne"), or
# anywhere but the start when it is followed by a lower-case letter ("HTTPServer", "My_Module"
# -> "my__module", as TensorFlow names it).
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<!^)(?=[A-Z][a-z])")


def camel_to_snake(name: str) -> str:
    """"MyModuleOne" -> "my_module_one", "HTTPServer" -> "http_server"."""
    return _WORD_START.sub("_", name).lower()


def valid_identifier(name) -> bool:
    if not isinstance(name, str):
        raise TypeError(f"expected string or bytes-like object, got '{type(name).__name__}'")
    return bool(_VALID_NAME.match(name))


class Module:
    """Base class for neural network modules: a named container of variables and submodules.

    >>> import featherflow as tf
    >>> class Dense(tf.Module):
    ...     def __init__(self, name=None):
    ...         super().__init__(name=name)
    ...         self.w = tf.Variable(1.0, name="w")
    >>> d = Dense()
    >>> d.name, len(d.variables)
    ('dense', 1)
    """

    # Attribute names that the walker skips; subclasses extend it with `.union(...)` (Keras adds
    # its bookkeeping). The two names are TensorFlow's checkpoint bookkeeping attributes, kept so
    # the value equals TensorFlow's; featherflow never sets them.
    _TF_MODULE_IGNORED_PROPERTIES = frozenset(("_self_unconditional_checkpoint_dependencies",
                                               "_self_unconditional_dependency_names"))

    def __init__(self, name=None):
        if name is None:
            name = camel_to_snake(type(self).__name__)
        elif not valid_identifier(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid "
                             "Python identifiers (e.g. a valid class name).")
        self._name = name
        # The scope is fixed at construction: a module built inside tf.name_scope("outer")
        # keeps "outer/<name>/" wherever it is used later, as in TensorFlow.
        with _name_scope(name) as scope:
            self._name_scope = _name_scope(scope)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        # A checkpoint restored before this attribute existed gives it its saved value now.
        if _walk.ATTACH_HOOKS:
            _walk.notify_attach(self, name, value)

    @property
    def name(self) -> str:
        """The module's name (the class name in snake_case unless given)."""
        return self._name

    @property
    def name_scope(self):
        """A `tf.name_scope` for this module: `with m.name_scope:` prefixes names with it."""
        return self._name_scope

    @property
    def variables(self) -> tuple:
        """All variables of this module and its submodules, each once, in walk order."""
        return tuple(self._flatten(predicate=_walk.is_variable, expand_composites=True))

    @property
    def trainable_variables(self) -> tuple:
        """The variables with `trainable=True`, each once, in walk order."""
        return tuple(self._flatten(predicate=_walk.is_trainable_variable,
                                   expand_composites=True))

    @property
    def non_trainable_variables(self) -> tuple:
        """The variables with `trainable=False`, each once, in walk order."""
        return tuple(self._flatten(predicate=_walk.is_non_trainable_variable,
                                   expand_composites=True))

    @property
    def submodules(self) -> tuple:
        """All modules reachable from this one (not itself), each once.

        >>> import featherflow as tf
        >>> a, b, c = tf.Module(), tf.Module(), tf.Module()
        >>> a.b = b; b.c = c
        >>> list(a.submodules) == [b, c]
        True
        """
        return tuple(self._flatten(predicate=_walk.is_module))

    def _flatten(self, recursive=True, predicate=None, attribute_traversal_key=None,
                 with_path=False, expand_composites=False):
        """Walks this module's attributes (see `featherflow._src.module.walk`)."""
        return _walk.walk(self, recursive=recursive, predicate=predicate,
                          attribute_traversal_key=attribute_traversal_key, with_path=with_path,
                          expand_composites=expand_composites)

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: runs `method` inside `self.name_scope`.

        >>> import featherflow as tf
        >>> class M(tf.Module):
        ...     @tf.Module.with_name_scope
        ...     def make(self):
        ...         return tf.Variable(1.0, name="w")
        >>> M(name="m").make().name
        'm/w:0'
        """
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return wrapped


_walk.register_module_type(Module)
