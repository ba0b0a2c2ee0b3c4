"""The public `featherflow` namespace, for library code that composes public ops.

Modules under `_src` are imported while `featherflow/__init__.py` is still running, so they cannot
bind the namespace when they load; they call `tf()` when they run, by which time it is complete.
It is a dictionary lookup: an `import featherflow` statement inside each call cost about 0.3 us,
and a Keras training step makes dozens of such calls.
"""
from __future__ import annotations

import sys

_MODULES = sys.modules


def tf():
    """The `featherflow` module (importing any part of it imported the package first)."""
    return _MODULES["featherflow"]
