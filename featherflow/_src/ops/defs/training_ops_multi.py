"""Multi-tensor optimizer updates: one primitive updates many variables of one device and dtype.

Each `FeatherMultiApply*` op is a per-variable training op over lists of variables (featherflow's
own ops; TF has none): `FeatherMultiApplyAdam` is ResourceApplyAdam's, `FeatherMultiApplyAdamW`
adds Keras' decoupled weight decay in front of it, the others are listed in `MULTI`. They exist
for speed, and the per-variable op is each one's oracle: the element-wise body is the same
function (`training_ops.*_body`), so the results agree to the bit
(tests/train/test_training_ops_state.py, tests/train/test_training_ops_multi.py).

Inputs of a multi op: var_1..var_n, then each slot's n buffers (in the per-variable op's order),
grad_1..grad_n, then the per-variable op's scalar inputs (shared by all variables, in its
order), then the op's extra scalars.

On NumPy the variables are processed in pieces of at most `CHUNK` elements with two scratch
buffers of that size, preallocated per thread and reused across calls, so a step allocates
nothing of the variables' size (the naive in-place NumPy Adam allocates ~6 temporaries per
variable per step, and that allocation plus writing to fresh pages is most of what we save).
The pieces are split between a small thread pool and the calling thread (NumPy releases the
GIL inside ufunc loops), which helps when cores are idle. `CHUNK` is a trade-off measured on a
2-core EPYC (512 KiB L2 per core, 8 MiB L3): 16K-element pieces that fit L2 were *slower* than
64K ones (each piece costs ~12 ufunc calls of Python overhead, and L3 keeps up with the
passes), and 256K pieces beat 64K ones again inside a training step (Keras `fit` of a
784-256-256-10 MLP: 3.0 against 3.35 s an epoch, 6 alternations; the 784x256 kernel is one
piece instead of four), at no cost to many small variables (adam_many_vars 26.5 against
27.6 ms). The scratch is bounded by CHUNK per thread. On CuPy the variables are updated
one at a time with full-size temporaries (one kernel launch per pass; chunking would only add
launches).

Adam, AdamW, gradient descent and Keras momentum have a one-pass C loop as well (`ops/_fused.c`, an optional
extension built at install time): on float32/float64 host buffers it replaces the ufunc chain,
reading and writing each buffer once, with the same operations in the same order, so the results
are the NumPy body's to the bit (tests/train/test_fused_kernels.py). Without the extension, or
with FEATHERFLOW_FUSED=0, the NumPy bodies run (docs/design.md, "One-pass C loops").
"""
from __future__ import annotations

import inspect
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from featherflow._src.ops.defs import training_ops as T
from featherflow._src.ops.registry import primitive

try:
    from featherflow._src.ops import _fused
except ImportError:  # not compiled (no C compiler at install time): the NumPy bodies run
    _fused = None
# The C loops are used when built and not switched off (FEATHERFLOW_FUSED=0); tests flip this.
USE_FUSED = _fused is not None and os.environ.get("FEATHERFLOW_FUSED", "1") != "0"
_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Variables larger than this are cut into pieces for the C loops, so the threads get equal
# shares (the loops need no scratch and no cache blocking).
FUSED_PIECE = 1 << 20

CHUNK = 1 << 18  # elements: 2 scratch buffers of 1 MiB (float32) per thread
# Below this many elements in total, one thread does everything. The hand-off costs ~50 us, and
# in a training step the second core is often still held by BLAS threads spinning down after the
# backward matmuls: measured in `fit` of a 335K-parameter MLP, one thread was faster (1.7 against
# 1.9-2.0 ms per Adam step); 10M parameters still gain from two (benchmarks: adam_many_vars).
PARALLEL_MIN = 1 << 20
THREADS = max(1, int(os.environ.get("FEATHERFLOW_UPDATE_THREADS", os.cpu_count() or 1)))

_local = threading.local()
_pool = None
_pool_lock = threading.Lock()


def _get_pool():
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=THREADS - 1,
                                           thread_name_prefix="featherflow-update")
    return _pool


def _scratch(dtype, count=2):
    """This thread's `count` scratch buffers of CHUNK elements of `dtype`, reused across
    calls."""
    cache = getattr(_local, "scratch", None)
    if cache is None:
        cache = _local.scratch = {}
    bufs = cache.get(dtype)
    if bufs is None or bufs[0].shape[0] < CHUNK or len(bufs) < count:
        bufs = cache[dtype] = tuple(np.empty(CHUNK, dtype) for _ in range(max(count, 2)))
    return bufs[:count]



def _run_chunks(plan, body, n_scratch, prepared):
    """Runs `body` on each entry of `plan` (flat arrays: var, slots, grad) with this thread's
    scratch."""
    scratch = _scratch(plan[0][0].dtype, n_scratch)
    if n_scratch == 2:
        t, u = scratch
        for arrays in plan:
            k = arrays[0].shape[0]
            body(np, *arrays, *prepared, t[:k], u[:k])
        return
    for arrays in plan:
        k = arrays[0].shape[0]
        body(np, *arrays, *prepared, *[b[:k] for b in scratch])


def _split(plan, sizes, parts):
    """`plan` cut into `parts` consecutive pieces of about equal element counts."""
    total = sum(sizes)
    pieces, cur, acc, goal = [], [], 0, total / parts
    for item, size in zip(plan, sizes):
        cur.append(item)
        acc += size
        if acc >= goal * (len(pieces) + 1) and len(pieces) < parts - 1:
            pieces.append(cur)
            cur = []
    pieces.append(cur)
    return [p for p in pieces if p]


def _pieces(rows, chunk):
    """(plan, sizes): each row's flat arrays, cut into equal pieces of at most `chunk`
    elements."""
    plan, sizes = [], []
    for row in rows:
        # NOTE: buffers are C-contiguous (variables allocate them), so reshape(-1) is a view
        # and writes through it land in the buffers; a non-contiguous grad is copied once here.
        flat = [a if a.ndim == 1 else a.reshape(-1) for a in row]
        size = flat[0].shape[0]
        if size <= chunk:
            plan.append(flat)
            sizes.append(size)
            continue
        step = -(-size // -(-size // chunk))  # equal pieces of <= chunk
        for s in range(0, size, step):
            plan.append([a[s:s + step] for a in flat])
            sizes.append(min(step, size - s))
    return plan, sizes


def _run_fused(plan, fused, prepared, body, n_scratch):
    """The C loop `fused` over `plan`; where it declines (overlapping buffers), the NumPy body
    over the same plan cut to the scratch size."""
    if not fused(plan, prepared):
        _run_chunks(_pieces(plan, CHUNK)[0], body, n_scratch, prepared)


def _run(xp, cols, body, n_scratch, prepared, fused=None):
    """Runs `body` over every variable: chunked and threaded on NumPy (or `fused`'s one-pass C
    loop, threaded, where it applies), whole on CuPy."""
    if xp is not np:
        for row in zip(*cols):
            body(xp, *row, *prepared, *[xp.empty_like(row[0]) for _ in range(n_scratch)])
        return
    dtype = cols[0][0].dtype
    if fused is not None and USE_FUSED and dtype in _FUSED_DTYPES and all(
            isinstance(x, bool) or getattr(x, "dtype", None) == dtype for x in prepared):
        chunk, run, args = FUSED_PIECE, _run_fused, (fused, prepared, body, n_scratch)
    else:
        chunk, run, args = CHUNK, _run_chunks, (body, n_scratch, prepared)
    plan, sizes = _pieces(zip(*cols), chunk)
    if THREADS == 1 or sum(sizes) < PARALLEL_MIN:
        run(plan, *args)
        return
    first, *others = _split(plan, sizes, THREADS)
    pool = _get_pool()
    futures = [pool.submit(run, piece, *args) for piece in others]
    try:
        run(first, *args)
    finally:
        for f in futures:
            f.result()


def multi_op(name, single, body, n_scratch=2, prepare=None, extra_scalars=(), extra_attrs=None,
             fused=None):
    """Registers `name`: the per-variable training op `single` over n variables.

    body(xp, var, *slots, grad, *prepared, *scratch) updates one variable (or a flat piece of
    it and its slots) in place; `prepared` is `prepare(xp, *scalars, **attrs)` (the scalars as
    they are by default; an op with attrs passes them on through `prepare`), computed once per
    call. `extra_scalars` are further
    0-d inputs after single's scalars; `extra_attrs` are attrs beyond single's (name: default).
    `fused(plan, prepared)`, where given, does body's arithmetic in one C pass over a list of
    flat float32/float64 pieces, returning False (nothing written) where it cannot.
    """
    spec = single.kernel.spec
    slots = spec.resources[1:]
    n_cols = len(slots) + 2
    scalar_names = list(spec.scalars) + list(extra_scalars)
    n_scalars = len(scalar_names)
    single_attrs = [k for k in spec.attr_defaults if k != "use_locking"]
    defaults = {k: spec.attr_defaults[k] for k in single_attrs}
    defaults.update(extra_attrs or {})

    def per_variable(cols, scalars, i):
        named = dict(zip(spec.scalars, scalars))
        named["var"], named[spec.grad_name] = cols[0][i], cols[-1][i]
        named.update(zip(slots, (col[i] for col in cols[1:-1])))
        return tuple(named[k] for k in spec.inputs)

    def kernel(xp, *tensors, use_locking=False, **attrs):
        n, rest = divmod(len(tensors) - n_scalars, n_cols)
        if rest or n < 0:
            raise ValueError(f"{name} expects {n_cols} * n + {n_scalars} inputs, got "
                             f"{len(tensors)}")
        if n == 0:
            return ()
        cols = [tensors[k * n:(k + 1) * n] for k in range(n_cols)]
        scalars = tensors[n_cols * n:]
        attrs = {**defaults, **attrs}
        checked = {k: attrs[k] for k in single_attrs}
        # Everything is validated before the first write: the scalars and variable 0 in full,
        # the others with a cheap check that falls back to the full one (TF's message) on a
        # mismatch.
        T.validate(spec, xp, per_variable(cols, scalars, 0), checked)
        dtype = cols[0][0].dtype
        for k, s in zip(extra_scalars, scalars[len(spec.scalars):]):
            if s.dtype != dtype or getattr(s, "ndim", 0) != 0:
                raise ValueError(f"{k} must be a scalar of the variables' dtype "
                                 f"{T.tf_type_name(dtype)}")
        for i in range(1, n):
            shape = cols[0][i].shape
            for col in cols:
                a = col[i]
                if a.dtype != dtype or a.shape != shape:
                    T.validate(spec, xp, per_variable(cols, scalars, i), checked)
                    raise ValueError(f"all variables must have one dtype; var #{i} is "
                                     f"{T.tf_type_name(cols[0][i].dtype)}, var #0 is "
                                     f"{T.tf_type_name(dtype)}")
        prepared = prepare(xp, *scalars, **attrs) if prepare is not None else scalars
        _run(xp, cols, body, n_scratch, prepared, fused)
        return ()

    params = [inspect.Parameter("xp", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("tensors", inspect.Parameter.VAR_POSITIONAL),
              inspect.Parameter("use_locking", inspect.Parameter.KEYWORD_ONLY, default=False)]
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v)
               for k, v in defaults.items()]
    kernel.__signature__ = inspect.Signature(params)
    kernel.__name__ = kernel.__qualname__ = "feather_multi_" + name
    kernel.__doc__ = (f"{single.name} on n variables at once: var_1..var_n, "
                      + "".join(f"{s}_1..{s}_n, " for s in slots)
                      + f"{spec.grad_name}_1..{spec.grad_name}_n, "
                      + ", ".join(scalar_names) + f" (shared). temps: {n_scratch} x CHUNK "
                      "scratch per thread, reused, on NumPy; per variable, one variable at a "
                      "time, on CuPy.")
    op = primitive(name, same_dtype=0, num_outputs=0, differentiable=False)(kernel)
    kernel.single = single
    kernel.slots = slots
    return op


# -- the ops ----------------------------------------------------------------------------------
def _adam_prepare(xp, beta1_power, beta2_power, lr, beta1, beta2, epsilon, use_nesterov=False):
    return (T.adam_alpha(xp, beta1_power, beta2_power, lr), beta1, beta2, epsilon, use_nesterov)


def _adamw_prepare(xp, beta1_power, beta2_power, lr, beta1, beta2, epsilon, weight_decay,
                   use_nesterov=False):
    return (T.adam_alpha(xp, beta1_power, beta2_power, lr), beta1, beta2, epsilon, use_nesterov,
            lr, weight_decay)


def _adamw(xp, var, m, v, grad, alpha, beta1, beta2, epsilon, use_nesterov, lr, weight_decay,
           t, u):
    xp.multiply(var, weight_decay, out=t)      # var -= (var * weight_decay) * lr
    t *= lr
    var -= t
    T.adam_body(xp, var, m, v, grad, alpha, beta1, beta2, epsilon, use_nesterov, t, u)


def _keras_momentum_prepare(xp, lr, momentum, use_nesterov=False):
    return lr, momentum, use_nesterov


def _rms_prop(xp, var, ms, mom, grad, lr, rho, momentum, epsilon, t, u):
    T.rms_prop_body(xp, var, None, ms, mom, grad, lr, rho, momentum, epsilon, t, u)


def _rms_prop_no_momentum(xp, var, ms, grad, lr, rho, epsilon, t, u):
    T.rms_prop_body(xp, var, None, ms, None, grad, lr, rho, None, epsilon, t, u)


def _centered_rms_prop_no_momentum(xp, var, mg, ms, grad, lr, rho, epsilon, t, u):
    T.rms_prop_body(xp, var, mg, ms, None, grad, lr, rho, None, epsilon, t, u)


# The C loops' adapters: the scalars as the NumPy bodies compute them (`1 - beta1` in the
# variables' dtype), passed as Python floats (exact).
def _adam_fused(plan, prepared):
    alpha, beta1, beta2, epsilon, use_nesterov = prepared
    return _fused.adam(plan, float(alpha), float(1 - beta1), float(1 - beta2), float(epsilon),
                       float(beta1), bool(use_nesterov), None, 0.0)


def _adamw_fused(plan, prepared):
    alpha, beta1, beta2, epsilon, use_nesterov, lr, weight_decay = prepared
    return _fused.adam(plan, float(alpha), float(1 - beta1), float(1 - beta2), float(epsilon),
                       float(beta1), bool(use_nesterov), float(weight_decay), float(lr))


def _gradient_descent_fused(plan, prepared):
    return _fused.gradient_descent(plan, float(prepared[0]))


def _keras_momentum_fused(plan, prepared):
    lr, momentum, use_nesterov = prepared
    return _fused.keras_momentum(plan, float(lr), float(momentum), bool(use_nesterov))


feather_multi_apply_adam = multi_op("FeatherMultiApplyAdam", T.resource_apply_adam,
                                    T.adam_body, prepare=_adam_prepare, fused=_adam_fused)
# The AdamW step: Keras' decoupled weight decay `var -= (var * weight_decay) * lr` (an input
# after Adam's scalars), then ResourceApplyAdam, piece by piece. Its oracle is the composite
# decay followed by ResourceApplyAdam.
feather_multi_apply_adam_w = multi_op("FeatherMultiApplyAdamW", T.resource_apply_adam, _adamw,
                                      prepare=_adamw_prepare, extra_scalars=("weight_decay",),
                                      fused=_adamw_fused)
feather_multi_apply_gradient_descent = multi_op(
    "FeatherMultiApplyGradientDescent", T.resource_apply_gradient_descent,
    T.gradient_descent_body, n_scratch=1, fused=_gradient_descent_fused)
feather_multi_apply_keras_momentum = multi_op(
    "FeatherMultiApplyKerasMomentum", T.resource_apply_keras_momentum, T.keras_momentum_body,
    prepare=_keras_momentum_prepare, fused=_keras_momentum_fused)
feather_multi_apply_rms_prop = multi_op("FeatherMultiApplyRMSProp", T.resource_apply_rms_prop,
                                        _rms_prop)
feather_multi_apply_centered_rms_prop = multi_op(
    "FeatherMultiApplyCenteredRMSProp", T.resource_apply_centered_rms_prop, T.rms_prop_body)
feather_multi_apply_rms_prop_no_momentum = multi_op(
    "FeatherMultiApplyRMSPropNoMomentum", T.feather_apply_rms_prop_no_momentum,
    _rms_prop_no_momentum)
feather_multi_apply_centered_rms_prop_no_momentum = multi_op(
    "FeatherMultiApplyCenteredRMSPropNoMomentum", T.feather_apply_centered_rms_prop_no_momentum,
    _centered_rms_prop_no_momentum)
feather_multi_apply_adagrad_keras = multi_op(
    "FeatherMultiApplyAdagradKeras", T.feather_apply_adagrad_keras, T.keras_adagrad_body)
