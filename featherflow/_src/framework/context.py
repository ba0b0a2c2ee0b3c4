"""Runtime state: per-thread (device scope, name scope, tapes) and process-wide (placement flags,
seeds). Dispatch reads the per-thread fields on every op, so they are plain attributes of one
`threading.local` object with class-level defaults."""
from __future__ import annotations

import threading


class _ThreadState(threading.local):
    # True while neither a device scope nor a tape is active in this thread: dispatch's fast
    # path reads only this. Keep it in step with `device_spec` and `tapes` (see `refresh`).
    plain = True
    # The merged tf.device spec of the innermost scope, or None outside any scope.
    device_spec = None
    # The current name scope, "" at the top or "outer/inner/".
    name_scope = ""
    # Active GradientTapes (innermost last); empty tuple when nothing records.
    tapes = ()
    # The active tf.distribute strategy's per-thread context, if any.
    strategy = None
    replica_context = None


def refresh(th=None):
    """Recomputes the thread's `plain` flag after a device scope or tape change."""
    th = th or THREAD
    th.plain = th.device_spec is None and not th.tapes


class _GlobalState:
    def __init__(self):
        self.soft_placement = True
        self.log_placement = False
        self.global_seed = None
        self.op_seed_counter = 0
        self.lock = threading.Lock()
        self.run_functions_eagerly = False


THREAD = _ThreadState()
GLOBAL = _GlobalState()


def executing_eagerly() -> bool:
    """Always True: featherflow executes eagerly (tf.function tracing is a later layer)."""
    return True


def get_soft_device_placement() -> bool:
    return GLOBAL.soft_placement


def set_soft_device_placement(enabled: bool):
    GLOBAL.soft_placement = bool(enabled)


def set_log_device_placement(enabled: bool):
    GLOBAL.log_placement = bool(enabled)


def get_log_device_placement() -> bool:
    return GLOBAL.log_placement
