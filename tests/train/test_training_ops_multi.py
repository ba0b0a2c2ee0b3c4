"""Multi-tensor training ops (FeatherMultiApply*) against their per-variable oracles (to the bit,
with 1 and 2 threads, on CPU and a simulated GPU), and featherflow's own per-variable ops
(Keras' Adagrad, RMSProp without momentum) against NumPy."""
import gc
import weakref

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import training_ops_multi as M
from featherflow._src.ops.registry import REGISTRY
from featherflow._src.train import updates

DEVICES = ["/CPU:0", "/GPU:0"]
SHAPES = [(), (1,), (7, 3), (M.CHUNK + 5,), (3, M.CHUNK // 2 + 1), (50_000,)]


def _adamw_single(var, m, v, b1p, b2p, lr, b1, b2, eps, wd, grad):
    """The oracle of FeatherMultiApplyAdamW: Keras' composite decay, then ResourceApplyAdam."""
    var.assign_sub(var * tf.constant(wd, var.dtype) * tf.constant(lr, var.dtype))
    updates.apply_adam(var, m, v, b1p, b2p, lr, b1, b2, eps, grad)


# (id, multi function, per-variable function, number of slots, scalars, attrs, slot init)
ROWS = [
    ("gd", updates.multi_apply_gradient_descent, updates.apply_gradient_descent, 0, (0.1,),
     {}, None),
    ("keras_momentum", updates.multi_apply_keras_momentum, updates.apply_keras_momentum, 1,
     (0.1, 0.9), {}, None),
    ("keras_momentum_nesterov", updates.multi_apply_keras_momentum,
     updates.apply_keras_momentum, 1, (0.1, 0.9), {"use_nesterov": True}, None),
    ("rms_prop", updates.multi_apply_rms_prop, updates.apply_rms_prop, 2,
     (0.01, 0.9, 0.5, 1e-7), {}, None),
    ("centered_rms_prop", updates.multi_apply_centered_rms_prop,
     updates.apply_centered_rms_prop, 3, (0.01, 0.8, 0.5, 1e-7), {}, None),
    ("rms_prop_no_momentum", updates.multi_apply_rms_prop_no_momentum,
     updates.apply_rms_prop_no_momentum, 1, (0.01, 0.9, 1e-7), {}, None),
    ("centered_rms_prop_no_momentum", updates.multi_apply_centered_rms_prop_no_momentum,
     updates.apply_centered_rms_prop_no_momentum, 2, (0.01, 0.9, 1e-7), {}, None),
    ("adagrad_keras", updates.multi_apply_adagrad_keras, updates.apply_adagrad_keras, 1,
     (0.1, 1e-7), {}, 0.1),
    ("adam", updates.multi_apply_adam, updates.apply_adam, 2,
     (0.9, 0.999, 0.01, 0.9, 0.999, 1e-7), {}, None),
    ("adam_w", updates.multi_apply_adam_w, _adamw_single, 2,
     (0.9, 0.999, 0.01, 0.9, 0.999, 1e-7, 0.004), {}, None),
]
IDS = [r[0] for r in ROWS]


def _state(device, n_slots, slot_init, seed, shapes=SHAPES, dtype=np.float32):
    """(vars, slot lists, grads): slots non-negative (they hold squares) and, for centered
    RMSProp, mg small enough that ms - mg^2 stays positive."""
    rng = np.random.default_rng(seed)
    with tf.device(device):
        xs = [tf.Variable(rng.standard_normal(s).astype(dtype)) for s in shapes]
        slots = [[tf.Variable(np.full(s, slot_init, dtype) if slot_init is not None else
                              (0.1 * rng.random(s)).astype(dtype)) for s in shapes]
                 for _ in range(n_slots)]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return xs, slots, grads


def _per_variable(single, xs, slots, grads, scalars, attrs, n_slots):
    for i, (x, g) in enumerate(zip(xs, grads)):
        own = [col[i] for col in slots]
        if single is updates.apply_gradient_descent:
            single(x, *scalars, g)
        elif single in (updates.apply_keras_momentum,):
            single(x, *own, scalars[0], g, scalars[1], **attrs)
        elif single is updates.apply_adagrad_keras:
            single(x, *own, *scalars, g)
        else:  # grad last: Adam(W), RMSProp forms
            single(x, *own, *scalars, g, **attrs)


@pytest.mark.parametrize("fused", [False, True], ids=["numpy", "c_loop"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_multi_op_is_bit_identical_to_per_variable(row, device, threads, fused, monkeypatch):
    _, multi, single, n_slots, scalars, attrs, init = row
    if fused and M._fused is None:
        pytest.skip("the C extension is not built here (test_fused_kernels checks when it "
                    "must be)")
    monkeypatch.setattr(M, "USE_FUSED", fused)
    monkeypatch.setattr(M, "FUSED_PIECE", M.CHUNK // 2)  # large variables cut into pieces
    monkeypatch.setattr(M, "THREADS", threads)
    monkeypatch.setattr(M, "PARALLEL_MIN", 1000)
    a_x, a_s, grads = _state(device, n_slots, init, 7)
    b_x, b_s, _ = _state(device, n_slots, init, 7)
    for _ in range(3):
        _per_variable(single, a_x, a_s, grads, scalars, attrs, n_slots)
        multi(b_x, *b_s, grads, *scalars, **attrs)
    flat_a = a_x + [x for col in a_s for x in col]
    flat_b = b_x + [x for col in b_s for x in col]
    for a, b in zip(flat_a, flat_b):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.numpy().tobytes() == b.numpy().tobytes()
    assert not np.array_equal(b_x[2].numpy(), _state(device, n_slots, init, 7)[0][2].numpy())


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_multi_op_float64_and_in_place_without_memory_growth(row):
    _, multi, single, n_slots, scalars, attrs, init = row
    xs, slots, grads = _state("/CPU:0", n_slots, init, 1, shapes=[(5,), (300, 400)],
                              dtype=np.float64)
    grads = [tf.constant(g) for g in grads]
    multi(xs, *slots, grads, *scalars, **attrs)
    flat = xs + [x for col in slots for x in col]
    buffers = [weakref.ref(x._buf) for x in flat]
    gc.collect()  # earlier tests' garbage must not be freed inside the window
    before = tf.config.experimental.get_memory_info("CPU:0")
    for _ in range(5):
        multi(xs, *slots, grads, *scalars, **attrs)
    assert tf.config.experimental.get_memory_info("CPU:0") == before
    assert all(x._buf is b() for x, b in zip(flat, buffers))
    assert all(x.dtype == tf.float64 for x in flat)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_multi_op_validates_everything_before_writing(row):
    _, multi, _, n_slots, scalars, attrs, init = row
    xs, slots, grads = _state("/CPU:0", n_slots, init, 2, shapes=[(3,), (4, 2), (10,)])
    flat = xs + [x for col in slots for x in col]
    before = [x.numpy().copy() for x in flat]
    bad = list(grads)
    bad[-1] = bad[-1][:4]
    name = "delta" if multi is updates.multi_apply_gradient_descent else "grad"
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"var and {name} do not have the same shape\[10\] \[4\]"):
        multi(xs, *slots, bad, *scalars, **attrs)
    with tf.device("/CPU:0"):
        odd = tf.Variable(np.zeros(10, np.float64))
    with pytest.raises(tf.errors.InvalidArgumentError):
        multi(xs[:2] + [odd], *slots, grads[:2] + [np.zeros(10)], *scalars, **attrs)
    with pytest.raises(ValueError, match="lists of one length"):
        multi(xs, *slots, grads[:2], *scalars, **attrs)
    for x, b in zip(flat, before):
        np.testing.assert_array_equal(x.numpy(), b)


def test_multi_op_needs_one_device():
    with tf.device("/CPU:0"):
        a = tf.Variable([1.0])
    with tf.device("/GPU:0"):
        b = tf.Variable([1.0])
    with pytest.raises(ValueError, match="one device"):
        updates.multi_apply_gradient_descent([a, b], [[1.0], [1.0]], 0.1)


def test_multi_op_raw_ops_take_a_list_and_attrs():
    xs, slots, grads = _state("/CPU:0", 1, None, 3, shapes=[(4,), (2, 2)])
    ref_x, ref_s, _ = _state("/CPU:0", 1, None, 3, shapes=[(4,), (2, 2)])
    c = lambda x: tf.constant(x, tf.float32)  # noqa: E731
    out = tf.raw_ops.FeatherMultiApplyKerasMomentum(
        tensors=[x.handle for x in xs + slots[0]] + [tf.constant(g) for g in grads] +
        [c(0.1), c(0.9)], use_nesterov=True)
    assert out is None
    updates.multi_apply_keras_momentum(ref_x, ref_s[0], grads, 0.1, 0.9, use_nesterov=True)
    for a, b in zip(xs, ref_x):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert "use_nesterov" in tf.raw_ops.FeatherMultiApplyKerasMomentum.__doc__


# ---------------------------------------------------------------------------------------------
# featherflow's own per-variable ops against NumPy (float64 reference)
# ---------------------------------------------------------------------------------------------
def test_adagrad_keras_matches_numpy_with_epsilon_inside_the_root():
    rng = np.random.default_rng(0)
    x0, g = rng.standard_normal(6), rng.standard_normal(6)
    var, acc = tf.Variable(x0), tf.Variable(np.full(6, 0.1))
    lr, eps = 0.5, 0.3
    updates.apply_adagrad_keras(var, acc, lr, eps, g)
    want_acc = 0.1 + g * g
    np.testing.assert_allclose(acc.numpy(), want_acc, rtol=1e-15)
    np.testing.assert_allclose(var.numpy(), x0 - lr * g / np.sqrt(want_acc + eps), rtol=1e-14)
    assert var.dtype == tf.float64


@pytest.mark.parametrize("centered", [False, True])
def test_rms_prop_without_momentum_matches_numpy(centered):
    rng = np.random.default_rng(1)
    x0, g = rng.standard_normal(5), rng.standard_normal(5)
    ms0, mg0 = rng.random(5), 0.1 * rng.random(5)
    var, ms, mg = tf.Variable(x0), tf.Variable(ms0), tf.Variable(mg0)
    lr, rho, eps = 0.01, 0.9, 1e-3
    if centered:
        updates.apply_centered_rms_prop_no_momentum(var, mg, ms, lr, rho, eps, g)
    else:
        updates.apply_rms_prop_no_momentum(var, ms, lr, rho, eps, g)
    want_ms = rho * ms0 + (1 - rho) * g * g
    want_mg = rho * mg0 + (1 - rho) * g
    denom = want_ms - want_mg ** 2 + eps if centered else want_ms + eps
    np.testing.assert_allclose(ms.numpy(), want_ms, rtol=1e-13)
    np.testing.assert_allclose(mg.numpy(), want_mg if centered else mg0, rtol=1e-13)
    np.testing.assert_allclose(var.numpy(), x0 - lr * g / np.sqrt(denom), rtol=1e-13)


def test_own_ops_reject_integer_variables_with_tfs_message():
    var, acc = tf.Variable([1, 2]), tf.Variable([1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="No OpKernel was registered to support Op "
                             "'FeatherApplyAdagradKeras'"):
        tf.raw_ops.FeatherApplyAdagradKeras(var=var.handle, accum=acc.handle, lr=1, epsilon=1,
                                            grad=tf.constant([1, 1]))


class _OtherXp:
    """NumPy under another module object: takes the kernels' non-NumPy (CuPy) branch, which
    updates whole variables with full-size temporaries instead of chunks."""

    def __getattr__(self, name):
        return getattr(np, name)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_whole_variable_branch_equals_chunked_branch(row):
    _, multi, _, n_slots, scalars, attrs, init = row
    # the op each multi_apply_* runs: named first in its docstring (multi_apply_adam: its own)
    op = (M.feather_multi_apply_adam if multi is updates.multi_apply_adam else
          REGISTRY[multi.__doc__.split(" ")[0]])
    shapes = [(3,), (M.CHUNK + 7,), (2, 5)]

    def state():
        r = np.random.default_rng(4)
        return [[r.standard_normal(s).astype(np.float32) if k == 0 else
                 (0.1 * r.random(s)).astype(np.float32) for s in shapes]
                for k in range(n_slots + 2)]

    a, b = state(), state()
    f = np.float32
    hyper = [f(x) for x in scalars]
    flat = lambda cols: [x for col in cols for x in col]  # noqa: E731
    op.kernel(np, *flat(a), *hyper, **attrs)
    op.kernel(_OtherXp(), *flat(b), *hyper, **attrs)
    for x, y in zip(flat(a), flat(b)):
        assert x.tobytes() == y.tobytes()
