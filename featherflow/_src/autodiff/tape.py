"""tf.GradientTape: records the differentiable ops that touch watched tensors.

A tape is a list of nodes `(op, inputs, attrs, outputs)` and a dict of watched tensors keyed by
`id()`. Dispatch calls `_record` for every differentiable op while any tape is active (its slow
path); a node is kept on each active tape that watches one of its inputs, and the node's outputs
become watched. The reverse walk lives in `backprop.py`.

The tape holds strong references to what it recorded, so ids stay unique for its lifetime; a
non-persistent tape drops everything once its gradient has been computed.
"""
from __future__ import annotations

import contextlib
import enum
import logging
import types

from featherflow._src.framework import context
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.tensor import Tensor
from featherflow._src.ops import dispatch

_THREAD = context.THREAD
_LOG = logging.getLogger("featherflow")

# Only these dtypes carry gradients: an op whose outputs are all integer/bool ends a path.
TRAINABLE = frozenset(_dt.FLOATS + _dt.COMPLEX + (_dt.resource, _dt.variant))
_TRAINABLE_MASK = sum(d._bit for d in TRAINABLE)  # one AND per output in the recorder
_NO_VARIABLES = types.MappingProxyType({})  # a tape's watched variables before first use

USED_MSG = ("A non-persistent GradientTape can only be used to compute one set of gradients "
            "(or jacobians)")
_INSIDE_MSG = ("Calling GradientTape.gradient on a persistent tape inside its context is "
               "significantly less efficient than calling it outside the context (it causes the "
               "gradient ops to be recorded on the tape, leading to increased CPU and memory "
               "usage). Only call GradientTape.gradient inside the context if you actually want "
               "to trace the gradient in order to compute higher order derivatives.")


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _record(op, inputs, attrs, outputs):
    """dispatch's recorder: keep the node on every active tape that watches one of `inputs`.
    NOTE: the C dispatch (_ctensor.c, record_one) does the one-tape branch itself: keep the
    two in step."""
    tapes = _THREAD.tapes
    if len(tapes) == 1 and len(outputs) == 1:  # one tape, one output: the common case, inlined
        tape = tapes[0]
        w = tape._watched
        for t in inputs:
            if id(t) in w:
                break
        else:
            return
        o = outputs[0]
        if o._dtype._bit & _TRAINABLE_MASK:
            tape._nodes.append((op, inputs if type(inputs) is tuple else tuple(inputs), attrs,
                                outputs if type(outputs) is tuple else tuple(outputs)))
            w[id(o)] = o
        return
    node = None
    for tape in tapes:
        w = tape._watched
        for t in inputs:
            if id(t) in w:
                break
        else:
            continue
        if node is None:
            if len(outputs) == 1:  # the common case, without a list comprehension
                if not outputs[0]._dtype._bit & _TRAINABLE_MASK:
                    return
                outs = outputs
            else:
                outs = [o for o in outputs if o._dtype._bit & _TRAINABLE_MASK]
                if not outs:
                    return
            # dispatch passes tuples: no copies then.
            node = (op, inputs if type(inputs) is tuple else tuple(inputs), attrs,
                    outputs if type(outputs) is tuple else tuple(outputs))
        tape._nodes.append(node)
        for o in outs:
            w[id(o)] = o


def _record2(op, x, y, out, tapes):
    """`_record` for dispatch.binary: inputs (x, y), one output; their tuples are built only
    when the node is kept. Its one-tape branch is `_record`'s, for two inputs: keep them in
    step."""
    if len(tapes) == 1:
        tape = tapes[0]
        w = tape._watched
        if (id(x) in w or id(y) in w) and out._dtype._bit & _TRAINABLE_MASK:
            tape._nodes.append((op, (x, y), None, (out,)))
            w[id(out)] = out
        return
    _record(op, (x, y), None, (out,))


dispatch.set_recorder(_record, _record2, _TRAINABLE_MASK)


def variable_handle(x):
    """The resource handle of a tf.Variable-like object, or None for anything else."""
    if isinstance(x, Tensor):
        return None
    h = getattr(x, "handle", None)
    if h is not None and getattr(h, "_dtype", None) is _dt.resource:
        return h
    return None


def variable_accessed(variable, read=None, tapes=None):
    """A Variable read while tapes are active: every tape that watches accessed variables
    auto-watches a trainable one. `read`, the tensor of a read the Variable made itself (its
    inlined host read), becomes an alias of the variable on each tape that watches it: it is
    watched, and its id is listed under the variable's handle (`tape._reads`), so gradients
    reaching it are the variable's (backprop.source_grads). That is what the ReadVariableOp
    node dispatch records would give (an identity gradient), without a node to record and walk.
    Reads through dispatch leave the recording to dispatch. `tapes`: the thread's active
    tapes, when the caller has them at hand. NOTE: Variable.value repeats the alias listing
    inline for one tape that already watches the variable: keep the two in step."""
    key = id(variable)
    for tape in tapes or _THREAD.tapes:
        # A variable read again on the same tape costs this one lookup.
        if key not in tape._variables and tape._watch_accessed_variables and \
                getattr(variable, "trainable", True):
            tape._watch_variable(variable)
        if read is not None:
            # A list exists for each watched variable of a trainable dtype (_watch_variable).
            reads = tape._reads.get(id(variable._handle))
            if reads is not None:
                tape._watched[id(read)] = read
                reads.append(id(read))


_BACKPROP = None


def _backprop():
    """autodiff.backprop (it imports this module), bound on first use."""
    global _BACKPROP
    if _BACKPROP is None:
        from featherflow._src.autodiff import backprop  # noqa: PLC0415

        _BACKPROP = backprop
    return _BACKPROP


def _push(tape):
    th = _THREAD
    th.tapes = th.tapes + (tape,)
    th.plain = False  # what context.refresh() computes with a tape active


def _pop(tape):
    th = _THREAD
    tapes = th.tapes
    th.tapes = tapes = tapes[:-1] if tapes and tapes[-1] is tape else \
        tuple(t for t in tapes if t is not tape)
    th.plain = th.device_spec is None and not tapes  # what context.refresh() computes


class GradientTape:
    """Records operations for automatic differentiation.

    >>> import featherflow as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * x
    >>> g.gradient(y, x).numpy()
    np.float32(6.0)
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._recording = False
        # None until entered (or watched): like TF, such a tape cannot differentiate.
        # Nothing is allocated before _clear(), which entering or watching runs.
        self._nodes = self._watched = None
        self._variables = _NO_VARIABLES
        self._roots = ()
        self._reads = None

    def _clear(self):
        self._nodes = []
        self._watched = {}       # id(tensor) -> tensor: watched sources and recorded outputs
        self._variables = {}     # id(variable) -> variable, in watch order
        self._roots = []         # ids of what was watched directly (tensors, variable handles)
        # id(handle) -> ids of the inlined reads of a watched variable (of a trainable dtype),
        # in read order
        self._reads = {}

    # -- context --------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter "
                             "an already-active tape.")
        if self._nodes is None:  # a used non-persistent tape entered again starts afresh
            self._clear()
        self._recording = True
        th = _THREAD  # _push, inlined
        th.tapes = th.tapes + (self,)
        th.plain = False
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._recording:
            self._recording = False
            th = _THREAD
            tapes = th.tapes
            if tapes and tapes[-1] is self:  # _pop's common case, inlined
                th.tapes = tapes = tapes[:-1]
                th.plain = th.device_spec is None and not tapes
            else:
                _pop(self)
        return False

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stops recording on this tape (ops run inside are not differentiated)."""
        if not self._recording:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._recording = False
        _pop(self)
        try:
            yield
        finally:
            self._recording = True
            _push(self)

    def reset(self):
        """Clears everything recorded so far; the tape keeps recording if it was."""
        self._clear()

    # -- watching -------------------------------------------------------------------------
    def watch(self, tensor):
        """Ensures `tensor` (a tensor, a variable, or a nested structure of them) is traced."""
        from featherflow._src.autodiff.backprop import flatten  # noqa: PLC0415

        if self._nodes is None:
            self._clear()
        for t in flatten(tensor):
            handle = variable_handle(t)
            if handle is not None:
                self._watch_variable(t)
                continue
            if not isinstance(t, Tensor):
                raise ValueError(f"Passed in object {t!r} of type {type(t).__name__!r}, not "
                                 "tf.Tensor or tf.Variable or ExtensionType.")
            if t._dtype not in TRAINABLE:
                _LOG.warning("The dtype of the watched tensor must be floating (e.g. "
                             "tf.float32), got %r", t._dtype)
            if id(t) not in self._watched:
                self._watched[id(t)] = t
                self._roots.append(id(t))

    def _watch_variable(self, variable):
        if self._nodes is None:
            self._clear()
        if id(variable) not in self._variables:
            self._variables[id(variable)] = variable
            handle = variable.handle
            self._watched[id(handle)] = handle
            self._roots.append(id(handle))
            if variable.dtype._bit & _TRAINABLE_MASK:  # its inlined reads will be listed here
                self._reads[id(handle)] = []

    def watched_variables(self):
        """The variables this tape watched, in the order they were first watched."""
        return tuple(self._variables.values())

    # -- differentiation ------------------------------------------------------------------
    def _begin_gradient(self):
        """Checks the tape can still differentiate; stops a non-persistent tape recording."""
        if self._nodes is None:
            raise RuntimeError(USED_MSG)
        if self._recording:
            if not self._persistent:
                self._recording = False
                _pop(self)
            else:
                _LOG.warning(_INSIDE_MSG)

    def _end_gradient(self):
        if not self._persistent:
            # Frees every saved value: the tape can not be used again.
            self._nodes = None
            self._watched = self._reads = None

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of target)/d(sources), in the structure of `sources`.

        >>> import featherflow as tf
        >>> v = tf.Variable(2.0)
        >>> with tf.GradientTape() as g:
        ...     y = v * v * v
        >>> g.gradient(y, v).numpy()
        np.float32(12.0)
        """
        backprop = _BACKPROP or _backprop()
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received "
                            "None.")
        if self._nodes is None or self._recording:  # else nothing for _begin_gradient to do
            self._begin_gradient()
        try:
            return backprop.gradient(self, target, sources, output_gradients,
                                     unconnected_gradients)
        finally:
            if not self._persistent:  # _end_gradient, inlined
                self._nodes = self._watched = self._reads = None

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """The Jacobian of `target` w.r.t. each source: shape target.shape + source.shape."""
        from featherflow._src.autodiff import jacobian as jacobians  # noqa: PLC0415

        self._begin_gradient()
        try:
            return jacobians.jacobian(self, target, sources, unconnected_gradients,
                                      vectorize=bool(experimental_use_pfor))
        finally:
            self._end_gradient()

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobians: shape [b] + target.shape[1:] + source.shape[1:]."""
        from featherflow._src.autodiff import jacobian as jacobians  # noqa: PLC0415

        self._begin_gradient()
        try:
            return jacobians.batch_jacobian(self, target, source, unconnected_gradients,
                                            vectorize=bool(experimental_use_pfor))
        finally:
            self._end_gradient()


class VariableWatcher:
    """Collects the variables read inside its scope (for tf.custom_gradient), recording nothing.

    It sits on the tape stack so that the Variable read path reports accesses to it; it watches
    no tensor, so dispatch never records on it.
    """

    _watch_accessed_variables = True

    def __init__(self):
        self._watched = {}
        self._nodes = []
        self._variables = {}
        self._reads = {}

    def _watch_variable(self, variable):
        self._variables.setdefault(id(variable), variable)

    def __enter__(self):
        _push(self)
        return self

    def __exit__(self, *exc):
        _pop(self)
        return False

    def watched_variables(self):
        return tuple(self._variables.values())


@contextlib.contextmanager
def stop_all_recording():
    """Pauses every active tape in this thread (used while running a custom_gradient body)."""
    saved = _THREAD.tapes
    _THREAD.tapes = ()
    context.refresh()
    try:
        yield
    finally:
        _THREAD.tapes = saved
        context.refresh()
