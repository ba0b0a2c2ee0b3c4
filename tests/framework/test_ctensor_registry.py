"""Every registered op through the C execute/binary and through the Python ones they mirror.

A differential sweep: each stateless op of the registry on one, two and three inputs drawn from
a pool of dtypes and shapes, without a tape and under one and two tapes. The two paths must
give the same outcome: the same value bytes, dtype, device, owned bytes and device counter
change, or the same error (type, message, cause, context); and the same recorded tape nodes.
Only meaningful with the extension (without it both sides are the Python functions).
"""
import itertools
import warnings

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.framework import tensor as tensor_mod
from featherflow._src.ops import dispatch
from featherflow._src.ops.registry import REGISTRY

pytestmark = [
    pytest.mark.skipif(not tensor_mod.NATIVE, reason="the C tensor core is not built or "
                       "FEATHERFLOW_NATIVE=0: both sides would be the Python path"),
    pytest.mark.usefixtures("quiet_gc"),  # counter changes are compared across calls
]

OPS = [op for _, op in sorted(REGISTRY.items()) if not op.stateful]


def _pool():
    with tf.device("/CPU:0"):
        return [tf.constant(np.array([1.5, -2.0, 0.0], np.float32)),
                tf.constant(np.array([3, 0, -1], np.int32)),
                tf.constant(2.0),
                tf.constant([True, False, True]),
                tf.constant(np.array([1 + 1j, 2, 0], np.complex64)),
                tf.constant([b"a", b"b", b"c"]),
                tf.constant(np.int64(4)),
                tf.constant(np.ones((2, 3), np.float64))]


def _outcome(run, dev):
    before = dev.bytes_in_use
    try:
        r = run()
    except Exception as e:  # noqa: BLE001 - the error itself is the outcome compared
        return ("error", type(e).__name__, str(e), type(e.__cause__).__name__,
                type(e.__context__).__name__, dev.bytes_in_use - before)
    grew = dev.bytes_in_use - before
    if isinstance(r, (tuple, list)):
        return ("several", type(r).__name__, grew, [_tensor(t, dev) for t in r])
    return ("ok", grew) + _tensor(r, dev)


def _tensor(t, dev):
    v = t._value
    data = repr(v) if getattr(v, "dtype", None) is None or v.dtype == object else \
        np.asarray(v).tobytes()
    return (type(t).__name__, t._dtype, t._nbytes, type(v).__name__, getattr(v, "dtype", None),
            data, t._device is dev)


def _combos(n_pool):
    for k in (1, 2, 3):
        for combo in itertools.product(range(n_pool), repeat=k):
            if k < 3 or len(set(combo)) == 1:  # three inputs: one of each kind (AddN, Select)
                yield combo


def test_every_op_gives_the_python_outcome():
    pool = _pool()
    dev = pool[0]._device
    diffs, kinds = [], {"ok": 0, "error": 0, "several": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a kernel's warning is not what is compared here
        for op in OPS:
            for combo in _combos(len(pool)):
                ins = tuple(pool[i] for i in combo)
                runs = [(dispatch.execute, dispatch.execute_py, lambda f: f(op, ins))]
                if len(ins) == 2:
                    runs.append((dispatch.binary, dispatch.binary_py, lambda f: f(op, *ins)))
                for native, python, call in runs:
                    got = _outcome(lambda: call(native), dev)
                    want = _outcome(lambda: call(python), dev)
                    kinds[got[0]] += 1
                    if got != want:
                        diffs.append((op.name, combo, got, want))
    assert not diffs, diffs[:5]
    # The sweep reached the fast path, its errors and the multi-output fallback.
    assert kinds["ok"] > 500 and kinds["error"] > 10000 and kinds["several"] > 100, kinds


def _recorded(execute, binary, op, ins, pool, use_binary, n_tapes):
    tapes = [tf.GradientTape(persistent=True) for _ in range(n_tapes)]
    for t in tapes:
        t.__enter__()
        t.watch(pool[0])
        t.watch(pool[3])
    try:
        out = binary(op, *ins) if use_binary else execute(op, ins)
    except Exception as e:  # noqa: BLE001 - compared below
        out = type(e).__name__
    finally:
        for t in reversed(tapes):
            t.__exit__(None, None, None)
    names = {id(p): i for i, p in enumerate(pool)}
    if not isinstance(out, str) and not isinstance(out, (tuple, list)):
        names[id(out)] = "out"
    return out if isinstance(out, str) else None, [
        [(o.name, tuple(names.get(id(i), "?") for i in node_ins), attrs,
          tuple(names.get(id(x), "?") for x in outs)) for o, node_ins, attrs, outs in t._nodes]
        + [sorted(str(names.get(k, "?")) for k in t._watched)] for t in tapes]


def test_every_op_records_what_python_records():
    with tf.device("/CPU:0"):
        pool = [tf.constant(np.array([1.5, -2.0, 0.5], np.float32)),
                tf.constant(np.array([3, 0, -1], np.int32)),
                tf.constant(np.array([0.5, 2.0, 3.0], np.float32)),
                tf.constant(np.array([1 + 1j, 2, 0], np.complex64))]
    diffs, kept = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for op in OPS:
            for k in (1, 2):
                for combo in itertools.product(range(len(pool)), repeat=k):
                    ins = tuple(pool[i] for i in combo)
                    for use_binary in (False, True) if k == 2 else (False,):
                        for n_tapes in (1, 2):
                            got = _recorded(dispatch.execute, dispatch.binary, op, ins, pool,
                                            use_binary, n_tapes)
                            want = _recorded(dispatch.execute_py, dispatch.binary_py, op, ins,
                                             pool, use_binary, n_tapes)
                            kept += sum(len(t) - 1 for t in got[1])
                            if got != want:
                                diffs.append((op.name, combo, use_binary, n_tapes, got, want))
    assert not diffs, diffs[:3]
    assert kept > 500  # nodes were recorded, on one tape (in C) and on two (in Python)
