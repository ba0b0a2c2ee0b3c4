"""The optional C tensor core (framework/_ctensor.c) against the Python it mirrors.

dispatch.execute_py and dispatch.binary_py are the specification: the C `execute` and `binary`
must give the same values, dtypes, devices, byte counts, recorded tape nodes and errors, and
their fallbacks must reach the Python path. The storage type must keep the device byte
counter as the Python __del__ does. The whole suite also runs without the extension
(FEATHERFLOW_NATIVE=0, `make test`), so these tests are about the two agreeing.
"""
import gc
import importlib.util
import os
import shutil
import sysconfig
import weakref

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.framework import tensor as tensor_mod
from featherflow._src.framework.tensor import EagerTensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.registry import get

native = pytest.mark.skipif(not tensor_mod.NATIVE, reason="the C tensor core is not built or "
                            "FEATHERFLOW_NATIVE=0 (this run tests the Python path)")


def test_extension_is_built_wherever_a_c_compiler_is():
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None and shutil.which("cc") is None:
        pytest.skip(f"no C compiler ({compiler}) on this machine: the Python dispatch runs")
    # Importable even in the FEATHERFLOW_NATIVE=0 run, which only leaves it unused.
    assert importlib.util.find_spec("featherflow._src.framework._ctensor") is not None, \
        "featherflow._src.framework._ctensor did not build (pip install -e .)"
    assert tensor_mod.NATIVE == (os.environ.get("FEATHERFLOW_NATIVE", "1") != "0")


def _cpu(value, dtype=None):
    with tf.device("/CPU:0"):
        return tf.constant(value, dtype)


def _rng():
    return np.random.default_rng(7)


# (id, op name, inputs builder, attrs): execute's shapes of call.
EXECUTE_CASES = [
    ("neg-vector", "Neg", lambda r: [_cpu(r.standard_normal(5).astype(np.float32))], None),
    ("relu-matrix", "Relu", lambda r: [_cpu(r.standard_normal((3, 4)).astype(np.float32))],
     None),
    ("log-quiet", "Log", lambda r: [_cpu(np.array([0.0, -1.0, 2.0], np.float32))], None),
    ("add-scalars", "AddV2", lambda r: [_cpu(2.5), _cpu(0.25)], None),
    ("mul-broadcast", "Mul", lambda r: [_cpu(r.standard_normal((2, 3))),
                                        _cpu(r.standard_normal(3))], None),
    ("div-int", "FloorDiv", lambda r: [_cpu([7, -7, 9], tf.int32), _cpu([2, 2, -4], tf.int32)],
     None),
    ("equal-bool-out", "Equal", lambda r: [_cpu([1.0, 2.0]), _cpu([1.0, 3.0])], None),
    ("add-strings", "AddV2", lambda r: [_cpu([b"a", b"b"]), _cpu([b"c", b"d"])], None),
    ("complex", "Mul", lambda r: [_cpu(np.array([1 + 2j, 3j], np.complex64)),
                                  _cpu(np.array([2 - 1j, 1], np.complex64))], None),
    ("add_n-3", "AddN", lambda r: [_cpu(r.standard_normal(4).astype(np.float32))
                                   for _ in range(3)], None),
    ("add_n-12", "AddN", lambda r: [_cpu(np.float32(i)) for i in range(12)], None),
    ("sum-attrs", "Sum", lambda r: [_cpu(r.standard_normal((3, 4)).astype(np.float32))],
     {"axis": (1,), "keep_dims": True}),
    ("sum-scalar-out", "Sum", lambda r: [_cpu(r.standard_normal(6).astype(np.float32))], {}),
    ("matmul-attrs", "MatMul", lambda r: [_cpu(r.standard_normal((2, 3)).astype(np.float32)),
                                          _cpu(r.standard_normal((2, 3)).astype(np.float32))],
     {"transpose_b": True}),
    ("reshape-view", "Reshape", lambda r: [_cpu(np.arange(6.0, dtype=np.float32))],
     {"shape": (3, 2)}),
    ("cast-int", "Cast", lambda r: [_cpu([1.5, -2.5])], {"dtype": np.dtype(np.int32)}),
]


def _same_tensor(a, b):
    assert type(a) is type(b) is EagerTensor
    assert a.dtype is b.dtype and a.device == b.device and a.shape == b.shape
    assert a._nbytes == b._nbytes
    assert type(a._value) is type(b._value)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name,op,build,attrs", EXECUTE_CASES, ids=[c[0] for c in EXECUTE_CASES])
def test_execute_matches_python(name, op, build, attrs, quiet_gc):
    inputs = tuple(build(_rng()))
    dev = inputs[0]._device
    before = dev.bytes_in_use
    got = dispatch.execute(get(op), inputs, attrs)
    grew = dev.bytes_in_use - before
    want = dispatch.execute_py(get(op), inputs, attrs)
    _same_tensor(got, want)
    assert grew == got._nbytes  # what the tensor owns is counted once
    del got, want
    assert dev.bytes_in_use == before


BINARY_CASES = [c for c in EXECUTE_CASES if c[3] is None and len(c[2](_rng())) == 2]


@pytest.mark.parametrize("name,op,build,attrs", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
def test_binary_matches_python(name, op, build, attrs):
    x, y = build(_rng())
    _same_tensor(dispatch.binary(get(op), x, y), dispatch.binary_py(get(op), x, y))


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    e = info.value
    return type(e), str(e), type(e.__cause__)


ERROR_CASES = [
    ("dtype-mismatch", "AddV2", lambda: (_cpu([1.0, 2.0]), _cpu([1, 2])), None),
    ("broadcast", "Mul", lambda: (_cpu([1.0, 2.0]), _cpu([1.0, 2.0, 3.0])), None),
    ("no-kernel", "Sub", lambda: (_cpu([True]), _cpu([False])), None),
    ("matmul-shapes", "MatMul", lambda: (_cpu(np.ones((2, 3), np.float32)),
                                         _cpu(np.ones((2, 3), np.float32))), None),
    ("bad-attr", "Sum", lambda: (_cpu(np.ones((2, 3), np.float32)),), {"axis": (5,)}),
]


@pytest.mark.parametrize("name,op,build,attrs", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_python_and_change_nothing(name, op, build, attrs, quiet_gc):
    inputs = build()
    dev = inputs[0]._device
    before = dev.bytes_in_use
    got = _error(lambda: dispatch.execute(get(op), inputs, attrs))
    assert dev.bytes_in_use == before
    assert got == _error(lambda: dispatch.execute_py(get(op), inputs, attrs))
    assert issubclass(got[0], tf.errors.OpError)
    if len(inputs) == 2 and attrs is None:
        got2 = _error(lambda: dispatch.binary(get(op), *inputs))
        assert got2 == _error(lambda: dispatch.binary_py(get(op), *inputs))
        assert dev.bytes_in_use == before


def test_translated_error_chains_the_kernel_error():
    x, y = _cpu([1.0, 2.0]), _cpu([1.0, 2.0, 3.0])
    for run in (dispatch.binary, dispatch.binary_py):
        with pytest.raises(tf.errors.InvalidArgumentError, match="Incompatible shapes") as info:
            run(get("AddV2"), x, y)
        assert isinstance(info.value.__cause__, ValueError)
        assert info.value.__suppress_context__


def test_fallbacks_reach_the_python_path():
    a, b = _cpu([1.0, 2.0]), _cpu([3.0, 4.0])
    _same_tensor(dispatch.execute("AddV2", (a, b)), dispatch.execute_py(get("AddV2"), (a, b)))
    _same_tensor(dispatch.execute(get("AddV2"), [a, b]), dispatch.execute_py(get("AddV2"), [a, b]))
    # two outputs
    x = _cpu(np.arange(6.0, dtype=np.float32))
    got = dispatch.execute(get("Unpack"), (tf.reshape(x, [2, 3]),), {"num": 2, "axis": 0})
    want = dispatch.execute_py(get("Unpack"), (tf.reshape(x, [2, 3]),), {"num": 2, "axis": 0})
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        _same_tensor(g, w)
    # a device scope and another device's inputs
    with tf.device("/GPU:0"):
        g1 = tf.constant([1.0, 2.0])
        in_scope = dispatch.binary(get("Mul"), a, b)
    assert in_scope.device.endswith("GPU:0")
    np.testing.assert_array_equal(in_scope.numpy(), [3.0, 8.0])
    mixed = dispatch.binary(get("Mul"), a, g1)
    assert mixed.device.endswith("GPU:0")
    np.testing.assert_array_equal(mixed.numpy(), [1.0, 4.0])


def _nodes(record):
    """The nodes a tape keeps for `v * v + 3 * v` and an AddN, run by `record`'s dispatch."""
    execute, binary = record
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        r = v.value()
        y = binary(get("Mul"), r, r)
        z = binary(get("AddV2"), y, _cpu(3.0))
        s = execute(get("AddN"), (y, z, z))
        execute(get("Neg"), (_cpu(1.0),))  # not on the tape: no watched input
        n = execute(get("Cast"), (s,), {"dtype": np.dtype(np.int32)})  # int: not kept
    kept = [(op.name, tuple(map(id, ins)), attrs, tuple(map(id, outs)))
            for op, ins, attrs, outs in tape._nodes]
    ids = {id(t): name for name, t in (("r", r), ("y", y), ("z", z), ("s", s), ("n", n))}
    named = [(name, tuple(ids.get(i, "c") for i in ins), attrs, tuple(ids.get(i) for i in outs))
             for name, ins, attrs, outs in kept]
    watched = sorted(ids[i] for i in tape._watched if i in ids)
    assert tape.gradient(s, v).numpy() == 12.0  # s = 3 v^2 + 6 at v = 2
    return named, watched


def test_recording_matches_python():
    got = _nodes((dispatch.execute, dispatch.binary))
    want = _nodes((dispatch.execute_py, dispatch.binary_py))
    assert got == want
    assert [n[0] for n in got[0]] == ["ReadVariableOp", "Mul", "AddV2", "AddN"]  # first read
    assert got[1] == ["r", "s", "y", "z"]


def test_nested_tapes_record_on_both():
    x = _cpu(3.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = inner.gradient(y, x)
    assert dy.numpy() == pytest.approx(27.0)
    assert outer.gradient(dy, x).numpy() == pytest.approx(18.0)


# -- the storage --------------------------------------------------------------------------------
def test_freeing_returns_the_bytes(quiet_gc):
    dev = _cpu(0.0)._device
    before = dev.bytes_in_use
    a = _cpu(np.ones(1000, np.float32))
    b = a * 2.0
    view = tf.reshape(b, [10, 100])
    assert dev.bytes_in_use - before == 8000 and view._nbytes == 0
    del a, b, view
    assert dev.bytes_in_use == before


def test_weak_references_and_their_callbacks():
    t = _cpu([1.0, 2.0])
    seen = []
    ref = weakref.ref(t, lambda r: seen.append(r))
    assert ref() is t
    del t
    assert ref() is None and len(seen) == 1


def test_tensors_cannot_be_built_directly():
    with pytest.raises(TypeError, match="created by ops"):
        EagerTensor()
    t = tensor_mod.make(np.float32(1.5), tf.float32, _cpu(0.0)._device, 4)
    assert t.numpy() == np.float32(1.5) and t._nbytes == 4 and t.shape == ()


@native
def test_plain_tensors_leave_the_cycle_collector_alone():
    t = _cpu([1.0])
    assert not gc.is_tracked(t) and not gc.is_tracked(t + t)
    v = tf.Variable([1.0, 2.0])
    sliced = v[0:1]  # a subclass with fields of its own (the variable) stays tracked
    assert gc.is_tracked(sliced)
    with tf.GradientTape() as tape:  # what a tape keeps is untracked as well
        tape.watch(t)
        u = t * 2.0
    assert tape._nodes and not gc.is_tracked(u)


def test_sliced_reads_keep_their_bytes_once():
    v = tf.Variable(np.ones(100, np.float32))
    dev = v._device
    gc.collect()
    before = dev.bytes_in_use
    s = v[10:20]
    kept = dev.bytes_in_use - before
    assert s._nbytes == kept == 40  # the slice's own copy, counted once (not by the read too)
    del s
    gc.collect()
    assert dev.bytes_in_use == before


# -- edge cases: each once broke the C path or made it differ from the Python one ---------------
from featherflow._src.framework.device import Device  # noqa: E402
from featherflow._src.ops.registry import OpDef  # noqa: E402

PAIRS = [(dispatch.execute, dispatch.binary), (dispatch.execute_py, dispatch.binary_py)]


def _op(name, kernel, **kw):
    """An unregistered OpDef (dispatch only reads its fields)."""
    return OpDef(name, kernel, quiet=False, out_dtype="same", **kw)


@pytest.mark.parametrize("execute,binary", PAIRS, ids=["native", "python"])
def test_a_kernel_that_rebinds_its_inputs_fields(execute, binary, quiet_gc):
    cpu = _cpu(0.0)._device
    x, y = _cpu([1.0, 2.0]), _cpu([3.0, 4.0])

    def kernel(xp, a, b):
        # Rebinds x's device to a temporary one (freed when x moves on) and its value.
        x._device = Device("CPU", 99, cpu.backend, None)
        x._value = np.zeros(2, np.float32)
        x._device = cpu
        return a + b

    before = cpu.bytes_in_use
    for run in (lambda op: execute(op, (x, y)), lambda op: binary(op, x, y)):
        out = run(_op("Rebind", kernel))
        np.testing.assert_array_equal(out.numpy(), [4.0, 6.0])
        assert out._device is cpu and out.dtype == tf.float32
        x._value = np.array([1.0, 2.0], np.float32)
        del out
    assert cpu.bytes_in_use == before


@pytest.mark.parametrize("execute,binary", PAIRS, ids=["native", "python"])
def test_base_exceptions_are_not_translated(execute, binary):
    def kernel(xp, a, b):
        raise KeyboardInterrupt("stop")

    x = _cpu([1.0])
    with pytest.raises(KeyboardInterrupt, match="stop"):
        execute(_op("Interrupt", kernel), (x, x))
    with pytest.raises(KeyboardInterrupt, match="stop"):
        binary(_op("Interrupt", kernel), x, x)


def _chain(run):
    try:
        raise KeyError("outer")
    except KeyError:
        try:
            run()
        except tf.errors.InvalidArgumentError as e:
            return type(e.__cause__), e.__context__ is e.__cause__, e.__suppress_context__
    raise AssertionError("no error")


def test_translated_errors_chain_like_python_inside_an_except_block():
    x, y = _cpu([1.0, 2.0]), _cpu([1.0, 2.0, 3.0])
    for execute, binary in PAIRS:
        assert _chain(lambda: binary(get("AddV2"), x, y)) == (ValueError, True, True)
        assert _chain(lambda: execute(get("Sum"), (x,), {"axis": (3,)})) == \
            (_chain(lambda: dispatch.execute_py(get("Sum"), (x,), {"axis": (3,)}))[0], True,
             True)


def test_keyword_arguments_and_numpy_integer_byte_counts(quiet_gc):
    x, y = _cpu([1.0, 2.0]), _cpu([3.0, 4.0])
    _same_tensor(dispatch.execute(get("Mul"), inputs=(x, y)),
                 dispatch.execute_py(get("Mul"), inputs=(x, y)))
    _same_tensor(dispatch.execute(op=get("Sum"), inputs=(x,), attrs={"axis": (0,)}),
                 dispatch.execute_py(op=get("Sum"), inputs=(x,), attrs={"axis": (0,)}))
    _same_tensor(dispatch.binary(op=get("Mul"), x=x, y=y), dispatch.binary_py(get("Mul"), x, y))
    dev = x._device
    before = dev.bytes_in_use
    for make in (tensor_mod.make, tensor_mod.make_py):
        t = make(np.float64(2.0), tf.float64, dev, nbytes=np.int64(8))
        assert t._nbytes == 8 and dev.bytes_in_use == before + 8
        del t
        assert dev.bytes_in_use == before


def test_binary_takes_opdefs_only():
    x = _cpu([1.0])
    for binary in (dispatch.binary, dispatch.binary_py):
        with pytest.raises(AttributeError, match="fast_mask"):
            binary("AddV2", x, x)


def test_a_failed_byte_count_on_free_is_reported_once(monkeypatch):
    dev = Device("CPU", 98, _cpu(0.0)._device.backend, None)
    t = tensor_mod.make(np.ones(4, np.float32), tf.float32, dev, 16)
    seen = []
    monkeypatch.setattr("sys.unraisablehook", seen.append)
    dev.bytes_in_use = None  # the subtraction fails
    del t
    gc.collect()
    assert len(seen) == 1 and isinstance(seen[0].exc_value, TypeError)


@native
def test_the_storage_class_must_be_a_plain_python_subclass():
    with pytest.raises(TypeError, match="no fields of its own"):
        tensor_mod._ctensor.configure_class(tensor_mod._ctensor.TensorBase, tensor_mod.make_py)
    with pytest.raises(TypeError, match="no fields of its own"):
        from featherflow._src.variables.sliced import SlicedVariableRead  # noqa: PLC0415
        tensor_mod._ctensor.configure_class(SlicedVariableRead, tensor_mod.make_py)
    assert type(_cpu(1.0) + _cpu(2.0)) is EagerTensor  # still configured as it was


def test_weak_reference_callbacks_see_the_bytes_returned(quiet_gc):
    dev = _cpu(0.0)._device
    before = dev.bytes_in_use
    t = tensor_mod.make(np.ones(1000, np.float32), tf.float32, dev, 4000)
    seen = []
    ref = weakref.ref(t, lambda r: seen.append(dev.bytes_in_use - before))
    assert t.__weakref__ is ref
    del t
    assert seen == [0]
    assert _cpu(1.0).__weakref__ is None


def test_a_failed_peak_update_leaves_the_counter_as_python_does():
    for make in (tensor_mod.make, tensor_mod.make_py):
        dev = Device("CPU", 97, _cpu(0.0)._device.backend, None)
        dev.peak_bytes = None  # the comparison with the new count fails
        with pytest.raises(TypeError, match="'>' not supported"):
            make(np.ones(4, np.float32), tf.float32, dev, 16)
        gc.collect()
        assert dev.bytes_in_use == 0


class _BadMessage(Exception):
    def __str__(self):
        try:
            raise IndexError("inner")
        except IndexError:
            raise RuntimeError("no message") from None


def _context_chain(run):
    def kernel(xp, a, b):
        raise _BadMessage()

    with pytest.raises(RuntimeError) as info:
        run(_op("BadMessage", kernel))
    chain, e = [], info.value
    while e is not None:
        chain.append(type(e).__name__)
        e = e.__context__
    return chain


def test_an_error_of_the_translation_itself_chains_like_python():
    x = _cpu([1.0])
    want = _context_chain(lambda op: dispatch.execute_py(op, (x, x)))
    assert want == ["RuntimeError", "IndexError", "_BadMessage"]
    assert _context_chain(lambda op: dispatch.execute(op, (x, x))) == want
    assert _context_chain(lambda op: dispatch.binary(op, x, x)) == want
    assert _context_chain(lambda op: dispatch.binary_py(op, x, x)) == want


def test_fields_deleted_before_or_during_a_call():
    for execute, binary in PAIRS:
        x, y = _cpu([1.0, 2.0]), _cpu([3.0, 4.0])
        del y._dtype
        with pytest.raises(AttributeError):
            binary(_op("Add", lambda xp, a, b: a + b, same_dtype=0), x, y)

        class Quiet:  # the op's `quiet` flag deletes an input's value when read
            def __bool__(self):
                del z._value
                return False

        z = _cpu([1.0, 2.0])
        op = _op("DeletesInput", lambda xp, a, b: a + b)
        op.quiet = Quiet()
        with pytest.raises((AttributeError, tf.errors.InvalidArgumentError)) as info:
            execute(op, (x, z))
        assert "_value" in str(info.value)


def test_updates_return_their_empty_result_on_both_paths():
    op = get("AssignAddVariableOp")
    outs = []
    for execute in (dispatch.execute, dispatch.execute_py):
        v = tf.Variable([1.0, 2.0])
        outs.append(execute(op, (v.handle, _cpu([0.5, 0.5]))))
        np.testing.assert_array_equal(v.numpy(), [1.5, 2.5])
    assert type(outs[0]) is type(outs[1]) and outs[0] == outs[1] and not outs[0]
    with pytest.raises(tf.errors.InvalidArgumentError):
        dispatch.execute(op, (tf.Variable([1.0, 2.0]).handle, _cpu([1.0, 2.0, 3.0])))
