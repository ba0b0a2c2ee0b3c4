"""Multi-tensor optimizer updates: one primitive updates many variables of one device and dtype.

`FeatherMultiApplyAdam` is ResourceApplyAdam over lists of variables (featherflow's own op; TF
has none). It exists for speed, and ResourceApplyAdam is its oracle: the element-wise body is the
same function (`training_ops.adam_body`), so the results agree to the bit
(tests/train/test_training_ops_state.py).

On NumPy the variables are processed in pieces of at most `CHUNK` elements with two scratch
buffers of that size, preallocated per thread and reused across calls, so a step allocates
nothing of the variables' size (the naive in-place NumPy Adam allocates ~6 temporaries per
variable per step, and that allocation plus writing to fresh pages is most of what we save).
The pieces are split between a small thread pool and the calling thread (NumPy releases the
GIL inside ufunc loops), which helps when cores are idle. `CHUNK` is a trade-off measured on a
2-core EPYC (512 KiB L2 per core, 8 MiB L3): 16K-element pieces that fit L2 were *slower* than
64K ones (each piece costs ~12 ufunc calls of Python overhead, and L3 keeps up with the
passes), so pieces are sized for L3 and to bound the scratch. On CuPy the variables are updated
one at a time with full-size temporaries (one kernel launch per pass; chunking would only add
launches).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from featherflow._src.ops.defs import training_ops as T
from featherflow._src.ops.registry import primitive

CHUNK = 65536  # elements: var, m, v, grad and 2 scratch slices of 256 KiB (float32) stay in L3
# Below this many elements in total, one thread does everything (thread hand-off costs ~50 us).
PARALLEL_MIN = 1 << 18
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


def _scratch(dtype):
    """This thread's two scratch buffers of CHUNK elements of `dtype`, reused across calls."""
    cache = getattr(_local, "scratch", None)
    if cache is None:
        cache = _local.scratch = {}
    bufs = cache.get(dtype)
    if bufs is None or bufs[0].shape[0] < CHUNK:
        bufs = cache[dtype] = (np.empty(CHUNK, dtype), np.empty(CHUNK, dtype))
    return bufs


def _run_chunks(plan, flats, alpha, beta1, beta2, epsilon, use_nesterov):
    var, m, v, g = flats
    t_buf, u_buf = _scratch(var[0].dtype)
    body = T.adam_body
    for i, s, e in plan:
        k = e - s
        body(np, var[i][s:e], m[i][s:e], v[i][s:e], g[i][s:e], alpha, beta1, beta2, epsilon,
             use_nesterov, t_buf[:k], u_buf[:k])


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


@primitive("FeatherMultiApplyAdam", same_dtype=0, num_outputs=0, differentiable=False)
def feather_multi_apply_adam(xp, *tensors, use_locking=False, use_nesterov=False):
    """ResourceApplyAdam on n variables at once. `tensors` is
    var_1..var_n, m_1..m_n, v_1..v_n, grad_1..grad_n, beta1_power, beta2_power, lr, beta1,
    beta2, epsilon (the hyperparameters shared by all). temps: none of the variables' size on
    NumPy (2 x CHUNK scratch per thread, reused); 2 per variable, one variable at a time, on
    CuPy."""
    n, rest = divmod(len(tensors) - 6, 4)
    if rest or n < 0:
        raise ValueError(f"FeatherMultiApplyAdam expects 4 * n + 6 inputs, got {len(tensors)}")
    var, m, v, grad = (tensors[k * n:(k + 1) * n] for k in range(4))
    beta1_power, beta2_power, lr, beta1, beta2, epsilon = tensors[4 * n:]
    spec = T.resource_apply_adam.kernel.spec
    attrs = {"use_nesterov": use_nesterov}
    if n == 0:
        return ()
    # Everything is validated before the first write: the scalars and variable 0 in full, the
    # others with a cheap check that falls back to the full one (for TF's message) on a mismatch.
    scalars = (beta1_power, beta2_power, lr, beta1, beta2, epsilon)
    T.validate(spec, xp, (var[0], m[0], v[0], *scalars, grad[0]), attrs)
    dtype = var[0].dtype
    for i in range(1, n):
        x = var[i]
        shape = x.shape
        if (x.dtype != dtype or m[i].dtype != dtype or v[i].dtype != dtype
                or grad[i].dtype != dtype or m[i].shape != shape or v[i].shape != shape
                or grad[i].shape != shape):
            T.validate(spec, xp, (x, m[i], v[i], *scalars, grad[i]), attrs)
            raise ValueError(f"all variables must have one dtype; var #{i} is "
                             f"{T.tf_type_name(x.dtype)}, var #0 is {T.tf_type_name(dtype)}")
    alpha = T.adam_alpha(xp, beta1_power, beta2_power, lr)
    if xp is not np:
        for i in range(n):
            T.adam_body(xp, var[i], m[i], v[i], grad[i], alpha, beta1, beta2, epsilon,
                        use_nesterov, xp.empty_like(var[i]), xp.empty_like(var[i]))
        return ()
    # NOTE: buffers are C-contiguous (variables allocate them), so reshape(-1) is a view and
    # writes through it land in the buffers; a non-contiguous grad is copied once here.
    flats = [[a.reshape(-1) for a in group] for group in (var, m, v, grad)]
    plan, sizes = [], []
    for i, a in enumerate(flats[0]):
        size = a.shape[0]
        step = -(-size // -(-size // CHUNK)) if size else 1  # equal pieces of <= CHUNK
        for s in range(0, size, step):
            e = min(s + step, size)
            plan.append((i, s, e))
            sizes.append(e - s)
    args = (flats, alpha, beta1, beta2, epsilon, use_nesterov)
    if THREADS == 1 or sum(sizes) < PARALLEL_MIN:
        _run_chunks(plan, *args)
        return ()
    first, *others = _split(plan, sizes, THREADS)
    pool = _get_pool()
    futures = [pool.submit(_run_chunks, piece, *args) for piece in others]
    try:
        _run_chunks(first, *args)
    finally:
        for f in futures:
            f.result()
    return ()
