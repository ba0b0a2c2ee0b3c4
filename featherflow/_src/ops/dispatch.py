"""execute(op, inputs, attrs): the only place kernels run.

The fast path (no device scope, no tape, no placement log, all inputs on one directly-usable
device) is a handful of Python operations. Everything else goes through `_execute_slow`, which
places the op, copies inputs across devices, opens simulated-GPU boxes, logs placement and records
on active tapes.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np

from featherflow._src.backends.simulated import HostLeakError
from featherflow._src.framework import context, device as _device, dtypes as _dt, errors
from featherflow._src.framework import tensor as _tensor
from featherflow._src.framework.tensor import EagerTensor as _ET
from featherflow._src.framework.tensor import make
from featherflow._src.ops.registry import OpDef, get

_THREAD = context.THREAD
_GLOBAL = context.GLOBAL
_from_numpy = _dt.from_numpy
_BY_NP = _dt._BY_NP
# Raised as they are: TF's own errors, and a simulated-GPU host leak (a featherflow bug to see).
_FF_ERRORS = (errors.OpError, HostLeakError)
_new = _tensor.new_tensor
_ndarray = np.ndarray

# NumPy warns on float overflow, 0/0 and friends, where TensorFlow computes inf/nan silently.
# Two mechanisms, chosen per op (OpDef.quiet):
# - Plain ufunc/operator kernels (the elementwise table): NumPy credits their warnings to the
#   calling Python frame, which is in featherflow._src.ops.defs, so one warnings filter on that
#   package silences them at no per-op cost (a per-op np.errstate costs more than a scalar add).
#   The test configuration repeats this filter above its "error" rule.
# - Every other kernel runs under NumPy's "ignore" error state, set through its context variable
#   (one set/reset, ~0.25 us), because NumPy's Python-level functions warn from NumPy's modules.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"featherflow\._src\.ops\.defs")
# `binary` calls the Python operator of AddV2/Sub/Mul itself (OpDef.operator): its warnings are
# credited to this module (the Python binary), or, from the C binary, to the Python frame that
# called it: the tensor operators' module, or the gradients' (in ops.defs). Neither module runs
# other code that warns.
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=r"featherflow\._src\.ops\.dispatch")
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=r"featherflow\._src\.api\.operators")
warnings.filterwarnings("ignore", category=np.exceptions.ComplexWarning,
                        module=r"featherflow\._src\.ops\.defs")
try:
    from numpy._core import _ufunc_config as _ufc  # NumPy 2

    _ERRVAR = _ufc._extobj_contextvar
    with np.errstate(all="ignore"):
        _IGNORE = _ERRVAR.get()
except (ImportError, AttributeError):  # pragma: no cover - other NumPy versions
    _ERRVAR = _IGNORE = None

# Set by autodiff/tape.py: record(op, inputs, attrs, outputs) for the active tapes, and
# record2(op, x, y, output, tapes), the same for `binary`'s two inputs and one output.
_recorder = _recorder2 = None


def set_recorder(fn, fn2, trainable_mask=0):
    """`trainable_mask` (the dtype bits that carry gradients) lets the C dispatch record ops
    on one tape itself, as `fn` would (tape._record's one-tape branch)."""
    global _recorder, _recorder2
    _recorder, _recorder2 = fn, fn2
    if _tensor.NATIVE:
        _tensor._ctensor.set_recorder(fn, fn2, trainable_mask)


def _run_quiet(op, xp, arrays, attrs):
    """Runs a kernel under NumPy's "ignore" error state; translates its errors to TF's."""
    tok = _ERRVAR.set(_IGNORE) if _ERRVAR is not None else None
    try:
        if attrs:
            return op.kernel(xp, *arrays, **attrs)
        # Explicit arities: a star-call costs more than many kernels (~1 us on CPython 3.11).
        n = len(arrays)
        if n == 1:
            return op.kernel(xp, arrays[0])
        if n == 2:
            return op.kernel(xp, arrays[0], arrays[1])
        return op.kernel(xp, *arrays)
    except _FF_ERRORS:
        raise
    except Exception as e:  # noqa: BLE001 - translated to TF's error classes
        raise _translate(e, op) from e
    finally:
        if tok is not None:
            _ERRVAR.reset(tok)


def _translate(e: Exception, op: OpDef) -> Exception:
    if isinstance(e, MemoryError):
        return errors.ResourceExhaustedError(None, None, f"OOM when running {op.name}: {e} "
                                             f"[Op:{op.name}]")
    msg = str(e)
    if "could not be broadcast" in msg:
        shapes = msg.split("shapes")[-1].strip()
        msg = f"Incompatible shapes: {shapes}"
    return errors.InvalidArgumentError(None, None, f"{msg} [Op:{op.name}]")


def execute(op, inputs=(), attrs=None):
    """Runs primitive `op` (an OpDef or its name) on EagerTensors; returns the output tensor(s)."""
    if type(op) is str:
        op = get(op)
    th = _THREAD
    # Under a tape (but no device scope) ops still take the fast path, then get recorded: the
    # recording target is at most 2x the untaped op. NOTE: every line here runs for every op;
    # arities 1 and 2 are tested without a loop, and a thread-local field costs ~0.1 us a read,
    # so without scopes and tapes `plain` is the only one read.
    plain = th.plain
    if (plain or th.device_spec is None) and inputs and not _GLOBAL.log_placement:
        x = inputs[0]
        dev = x._device
        n = len(inputs)
        if dev.direct and (n == 1 or (inputs[1]._device is dev if n == 2 else
                                      inputs[1]._device is dev and inputs[2]._device is dev
                                      if n == 3 else _one_device(inputs, dev))):
            d0 = x._dtype
            if not op.fast_mask & d0._bit or n != 1 and op.same_dtype and (
                    inputs[1]._dtype is not d0 if n == 2 else
                    inputs[1]._dtype is not d0 or inputs[2]._dtype is not d0 if n == 3 else
                    _mixed(inputs, d0)):
                op.validate(inputs, attrs)
            if op.quiet:
                out = _run_quiet(op, dev.xp, (x._value,) if n == 1 else
                                 [t._value for t in inputs], attrs)
            else:
                try:
                    if attrs:
                        out = op.kernel(dev.xp, *[t._value for t in inputs], **attrs)
                    elif n == 2:
                        out = op.kernel(dev.xp, x._value, inputs[1]._value)
                    elif n == 1:
                        out = op.kernel(dev.xp, x._value)
                    elif n == 3:  # AddN of three gradients, Select, ...
                        out = op.kernel(dev.xp, x._value, inputs[1]._value, inputs[2]._value)
                    else:
                        out = op.kernel(dev.xp, *[t._value for t in inputs])
                except _FF_ERRORS:
                    raise
                except Exception as e:  # noqa: BLE001 - translated to TF's error classes
                    raise _translate(e, op) from e
            if op.num_outputs != 1:
                outs = _wrap_many(out, dev) if out else out  # updates return ()
                if not plain and op.differentiable:
                    _recorder(op, inputs, attrs, outs)
                return outs
            # Inlined tensor.make(): this is the hottest line of the library.
            t = _new(_ET)
            t._value = out
            t._dtype = d0 if op.same_out else op.out_dtype or _BY_NP.get(out.dtype) or \
                _from_numpy(out.dtype)
            t._device = dev
            t._shape = None
            # An array owns its nbytes unless it is a view; a NumPy scalar its itemsize (read
            # from a table: attributes of NumPy scalars cost ~0.2 us each).
            if type(out) is _ndarray:
                n = out.nbytes if out.base is None else 0
            else:
                n = _SCALAR_BYTES.get(type(out))
                if n is None:
                    n = _owned_bytes(out)
            t._nbytes = n
            if n:
                used = dev.bytes_in_use = dev.bytes_in_use + n
                if used > dev.peak_bytes:
                    dev.peak_bytes = used
            if not plain and op.differentiable:
                _recorder(op, inputs, attrs, (t,))
            return t
    return _execute_slow(op, inputs, attrs or {})


def binary(op, x, y):
    """execute(op, (x, y)) for an OpDef with two tensor inputs, no attrs and one output: the
    operators' and the gradients' entry. NOTE: the fast path of `execute` for that one shape,
    without its arity and attribute tests (and without the inputs tuple unless a tape records
    the op); anything it does not take goes to `execute`. With the C extension, `binary` is
    _ctensor.binary, which does what this function does (tests/framework/test_ctensor.py)."""
    th = _THREAD
    plain = th.plain
    dev = x._device
    if (plain or th.device_spec is None) and y._device is dev and dev.direct and \
            not _GLOBAL.log_placement:
        d0 = x._dtype
        if op.fast_mask & d0._bit and (y._dtype is d0 or not op.same_dtype) and not op.quiet:
            fn = op.operator
            try:
                out = fn(x._value, y._value) if fn is not None else \
                    op.kernel(dev.xp, x._value, y._value)
            except _FF_ERRORS:
                raise
            except Exception as e:  # noqa: BLE001 - translated to TF's error classes
                raise _translate(e, op) from e
            t = _new(_ET)  # tensor.make(), inlined as in execute
            t._value = out
            t._dtype = d0 if op.same_out else op.out_dtype or _BY_NP.get(out.dtype) or \
                _from_numpy(out.dtype)
            t._device = dev
            t._shape = None
            if type(out) is _ndarray:
                n = out.nbytes if out.base is None else 0
            else:
                n = _SCALAR_BYTES.get(type(out))
                if n is None:
                    n = _owned_bytes(out)
            t._nbytes = n
            if n:
                used = dev.bytes_in_use = dev.bytes_in_use + n
                if used > dev.peak_bytes:
                    dev.peak_bytes = used
            if not plain and op.differentiable:
                _recorder2(op, x, y, t, th.tapes)
            return t
    return execute(op, (x, y))


_SCALAR_BYTES = {}  # NumPy scalar type -> itemsize, filled by _owned_bytes


def _owned_bytes(out):
    """The bytes a kernel result owns: a NumPy scalar its itemsize, another backend's array
    its nbytes unless it is a view."""
    if isinstance(out, np.generic):
        n = _SCALAR_BYTES[type(out)] = out.itemsize
        return n
    return out.nbytes if getattr(out, "base", None) is None else 0


def _one_device(inputs, dev):
    for t in inputs:
        if t._device is not dev:
            return False
    return True


def _mixed(inputs, d0):
    for t in inputs:
        if t._dtype is not d0:
            return True
    return False


def _wrap_one(out, dev, dtype=None):
    backend = dev.backend
    dtype = dtype or _from_numpy(out.dtype)
    if dev.direct:
        nbytes = out.nbytes if out.base is None else 0
        return make(out, dtype, dev, nbytes)
    boxed = backend.wrap(out)
    return make(boxed, dtype, dev, backend.nbytes(boxed))


def _wrap_many(outs, dev):
    wrapped = [_wrap_one(o, dev) for o in outs]
    return tuple(wrapped) if isinstance(outs, tuple) else wrapped


def _placement_dtype(op, inputs, attrs):
    if inputs:
        return inputs[0]._dtype
    d = attrs.get("dtype")
    return _dt.as_dtype(d) if d is not None else _dt.float32


def place(op, inputs, attrs):
    """The device `op` runs on, and why when it differs from the request."""
    if inputs and inputs[0]._dtype is _dt.resource:
        # Resource ops run where the resource (a variable's buffer) lives, whatever the scope.
        return inputs[0]._device, None
    spec = _THREAD.device_spec
    dtype = _placement_dtype(op, inputs, attrs)
    if spec is not None:
        return _device.resolve(spec, dtype, _GLOBAL.soft_placement)
    if inputs:
        first = inputs[0]._device
        # Mixed inputs run where the first accelerator input lives, as TensorFlow prefers GPUs.
        for t in inputs:
            if t._device is not first:
                for u in inputs:
                    if u._device.device_type != "CPU" and u._device.supports(dtype):
                        return u._device, None
                return first, None
        if first.supports(dtype):
            return first, None
    return _device.default_device(dtype), None


def copy_to_device(t, dev):
    """An explicit, counted copy of tensor `t` onto `dev` (no copy when it is there already)."""
    src = t._device
    if src is dev:
        return t
    host = src.backend.to_host(t._value) if src.backend.name != "numpy" else t._value
    backend = dev.backend
    if backend.name == "numpy":
        value = np.array(host, copy=True) if host is t._value else host
        return make(value, t._dtype, dev, value.nbytes)
    value = backend.from_host(host)
    return make(value, t._dtype, dev, backend.nbytes(value))


def _execute_slow(op, inputs, attrs):
    dev, reason = place(op, inputs, attrs)
    if _GLOBAL.log_placement:
        _log_placement(op, dev, reason)
    if any(t._device is not dev for t in inputs):
        placed = [copy_to_device(t, dev) for t in inputs]
    else:
        placed = inputs
    op.validate(placed, attrs)
    backend = dev.backend
    arrays = [t._value for t in placed] if dev.direct else [backend.unwrap(t._value) for t in placed]
    out = _run_quiet(op, dev.xp, arrays, attrs)
    if op.num_outputs == 1:
        od = placed[0]._dtype if op.same_out else op.out_dtype
        outputs = _wrap_one(out, dev, od)
        flat = (outputs,)
    else:
        outputs = _wrap_many(out, dev)
        flat = outputs
    if _THREAD.tapes and _recorder is not None and op.differentiable:
        _recorder(op, inputs, attrs, flat)
    return outputs


# The Python definitions are the specification of the C ones (and what runs without them).
execute_py, binary_py = execute, binary
if _tensor.NATIVE:
    _tensor._ctensor.configure(_ndarray, _SCALAR_BYTES, _owned_bytes, _BY_NP, _from_numpy,
                               _THREAD, _GLOBAL, execute_py, binary_py, _translate, _FF_ERRORS,
                               OpDef, _dt.DType, _device.Device, _ERRVAR, _IGNORE, _wrap_many)
    execute = _tensor._ctensor.execute  # noqa: F811
    binary = _tensor._ctensor.binary  # noqa: F811


def _log_placement(op, dev, reason):
    line = f"Executing op {op.name} in device {dev.name}"
    if reason:
        line += f" (requested device not used: {reason})"
    print(line, file=sys.stderr)
