"""tf.device and tf.name_scope: the per-thread device and name scopes.

Both are context managers over fields of `context.THREAD`; each restores exactly the value it
found on exit (also when the body raises), so scopes nest and stay thread-local.
"""
from __future__ import annotations

from featherflow._src.framework import context
from featherflow._src.framework.device import DeviceSpec, as_spec

_THREAD = context.THREAD


class _DeviceScope:
    """The object `tf.device(...)` returns; re-entrant per use, not shared across threads."""

    __slots__ = ("_spec", "_clear", "_saved")

    def __init__(self, spec, clear):
        self._spec = spec
        self._clear = clear
        self._saved = []

    def __enter__(self):
        th = _THREAD
        old = th.device_spec
        self._saved.append(old)
        if self._clear:
            new = None
        elif old is None:
            new = self._spec
        else:
            new = old.make_merged_spec(self._spec)
        th.device_spec = new
        context.refresh(th)
        return self

    def __exit__(self, exc_type, exc, tb):
        th = _THREAD
        th.device_spec = self._saved.pop()
        context.refresh(th)
        return False


def device(device_name):
    """Places the ops created in the `with` block on `device_name` (tf.device).

    `device_name` is a device string ("/GPU:0", "gpu:1", "/job:localhost/device:CPU:0", "CPU"),
    a `tf.DeviceSpec`, a `tf.config.LogicalDevice`, or None (clears the enclosing scopes). Inner
    scopes override the fields they set. With soft placement (the default) a request that cannot
    be met falls back to a device that can run the op.

    >>> import featherflow as tf
    >>> with tf.device("/CPU:0"):
    ...     tf.constant([1.0]).device
    '/job:localhost/replica:0/task:0/device:CPU:0'
    """
    if callable(device_name) and not isinstance(device_name, (str, DeviceSpec)) and \
            not hasattr(device_name, "device_type"):
        raise RuntimeError("tf.device does not support functions.")
    if device_name is None:
        return _DeviceScope(None, True)
    if not isinstance(device_name, (str, DeviceSpec)) and not hasattr(device_name, "device_type"):
        raise ValueError(f"Expecting a string device name. Got {type(device_name)}"
                         f"({device_name})")
    return _DeviceScope(as_spec(device_name), False)


class name_scope:  # noqa: N801 - TF's name
    """A context manager that prefixes the names of variables and ops created inside it.

    A name ending in "/" is taken as an absolute scope; "" resets to the top level.

    >>> import featherflow as tf
    >>> with tf.name_scope("outer"):
    ...     with tf.name_scope("inner") as scope:
    ...         scope
    'outer/inner/'
    """

    __slots__ = ("_name", "_saved")

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise ValueError("name for name_scope must be a string.")
        self._name = name
        self._saved = []

    @property
    def name(self) -> str:
        return self._name

    def __enter__(self) -> str:
        th = _THREAD
        old = th.name_scope
        name = self._name
        if not name:
            scope = ""
        elif name[-1] == "/":
            scope = name
        else:
            scope = f"{old}{name}/"
        self._saved.append(old)
        th.name_scope = scope
        return scope

    def __exit__(self, exc_type, exc, tb):
        _THREAD.name_scope = self._saved.pop()
        return False


def current_name_scope() -> str:
    """The current name scope string ("" at the top, else "outer/inner/")."""
    return _THREAD.name_scope
