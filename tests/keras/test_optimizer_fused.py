"""The fused (multi-tensor, in-place) optimizer paths against the plain public-ops path (their
oracle, `_fused_step = None`): several (device, dtype) groups, sparse gradients mixed in, weight
decay with exclusions; which primitive each optimizer runs; the cached grouping."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.train import updates

K = tf.keras.optimizers
# (id, factory, the primitive its fused step must run)
CONFIGS = [
    ("sgd", lambda: K.SGD(0.1), "FeatherMultiApplyGradientDescent"),
    ("sgd_momentum", lambda: K.SGD(0.1, momentum=0.9), "FeatherMultiApplyKerasMomentum"),
    ("sgd_nesterov", lambda: K.SGD(0.1, momentum=0.9, nesterov=True),
     "FeatherMultiApplyKerasMomentum"),
    ("rmsprop", lambda: K.RMSprop(0.01), "FeatherMultiApplyRMSPropNoMomentum"),
    ("rmsprop_centered", lambda: K.RMSprop(0.01, centered=True),
     "FeatherMultiApplyCenteredRMSPropNoMomentum"),
    ("rmsprop_momentum", lambda: K.RMSprop(0.01, momentum=0.5), "FeatherMultiApplyRMSProp"),
    ("rmsprop_centered_momentum", lambda: K.RMSprop(0.01, momentum=0.5, centered=True,
                                                    rho=0.8),
     "FeatherMultiApplyCenteredRMSProp"),
    ("adam", lambda: K.Adam(0.01), "FeatherMultiApplyAdam"),
    ("adamw", lambda: K.AdamW(0.01, weight_decay=0.1), "FeatherMultiApplyAdamW"),
    ("adamw_amsgrad", lambda: K.AdamW(0.01, weight_decay=0.1, amsgrad=True),
     "ResourceApplyAdamWithAmsgrad"),
    ("adamax", lambda: K.Adamax(0.01), "ResourceApplyAdaMax"),
    ("adagrad", lambda: K.Adagrad(0.1), "FeatherMultiApplyAdagradKeras"),
    ("ftrl", lambda: K.Ftrl(0.1), "ResourceApplyFtrl"),
    ("ftrl_regularized", lambda: K.Ftrl(0.1, learning_rate_power=-0.6,
                                        l1_regularization_strength=0.01,
                                        l2_regularization_strength=0.02,
                                        l2_shrinkage_regularization_strength=0.03, beta=0.1,
                                        initial_accumulator_value=0.2),
     "ResourceApplyFtrlV2"),
    ("adadelta", lambda: K.Adadelta(1.0), "ResourceApplyAdadelta"),
]
IDS = [c[0] for c in CONFIGS]


def _model(seed):
    """Four variables in three (device, dtype) groups; gradients for 4 steps."""
    rng = np.random.default_rng(seed)
    with tf.device("/GPU:0"):
        a = tf.Variable(rng.standard_normal((4, 3)).astype(np.float32), name="a")
        b = tf.Variable(rng.standard_normal(5).astype(np.float32), name="b")
    with tf.device("/CPU:0"):
        c = tf.Variable(rng.standard_normal((2, 2)).astype(np.float32), name="c")
        d = tf.Variable(rng.standard_normal(3), name="d")  # float64
    variables = [a, b, c, d]
    grads = [[rng.standard_normal(v.shape).astype(v.dtype.as_numpy_dtype) for v in variables]
             for _ in range(4)]
    return variables, grads


def _run(factory, fused, sparse=False, exclude=False):
    variables, grads = _model(3)
    opt = factory()
    if not fused:
        opt._fused_step = None
    if exclude:
        opt.exclude_from_weight_decay(var_names=["b"])
    for step in grads:
        pairs = [(tf.constant(g), v) for g, v in zip(step, variables)]
        if sparse:   # variable `a` gets rows 0 and 2 (2 twice): Keras sums duplicates
            pairs[0] = (tf.IndexedSlices(tf.constant(step[0][:3]), tf.constant([0, 2, 2]),
                                         tf.constant([4, 3])), variables[0])
        opt.apply_gradients(pairs)
    return [v.numpy() for v in variables] + [v.numpy() for v in opt.variables]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse_mixed"])
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_fused_path_equals_plain_path(config, sparse):
    _, factory, _ = config
    got = _run(factory, True, sparse)
    want = _run(factory, False, sparse)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        # NOTE: the fused ops compute 1 - beta in the variable's dtype, the plain path in
        # Python floats: float32(1 - 0.999) and 1 - float32(0.999) differ by 1.3e-5 relative.
        np.testing.assert_allclose(g, w, rtol=3e-5 if g.dtype == np.float32 else 1e-12,
                                   atol=1e-7)


@pytest.mark.parametrize("factory", [lambda: K.Adam(0.01, weight_decay=0.1),
                                     lambda: K.AdamW(0.01, weight_decay=0.1, amsgrad=True)],
                         ids=["adam_decay", "adamw_amsgrad"])
def test_folded_weight_decay_with_exclusions_equals_plain_path(factory):
    for sparse in (False, True):
        got = _run(factory, True, sparse, exclude=True)
        want = _run(factory, False, sparse, exclude=True)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=3e-5, atol=1e-12)


def test_adamw_folded_decay_is_bit_identical_to_the_plain_decay_then_adam():
    # The plain path's Adam update differs from ResourceApplyAdam in rounding; the decay part
    # must not: compare with the plain decay followed by the per-variable fused Adam op.
    variables, grads = _model(5)
    twins, _ = _model(5)
    opt = K.AdamW(0.01, weight_decay=0.1)
    ref = K.AdamW(0.01, weight_decay=0.1)
    ref.build(twins)
    for step in grads:
        opt.apply_gradients([(tf.constant(g), v) for g, v in zip(step, variables)])
        t = tf.cast(ref.iterations + 1, tf.float32)
        ref._apply_weight_decay(twins)
        for g, v in zip(step, twins):
            i = ref._get_variable_index(v)
            dt = v.dtype
            updates.apply_adam(v, ref._momentums[i], ref._velocities[i],
                               tf.pow(tf.cast(0.9, dt), tf.cast(t, dt)),   # as Keras
                               tf.pow(tf.cast(0.999, dt), tf.cast(t, dt)),
                               tf.cast(ref.learning_rate, dt), 0.9, 0.999, 1e-7, g)
        ref._iterations.assign_add(1)
    for a, b in zip(variables, twins):
        assert a.numpy().tobytes() == b.numpy().tobytes()


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_fused_step_runs_its_primitive(config, monkeypatch):
    _, factory, primitive = config
    seen = []
    real = updates._execute
    monkeypatch.setattr(updates, "_execute",
                        lambda op, inputs, attrs=None: (seen.append(op.name),
                                                        real(op, inputs, attrs))[1])
    variables, grads = _model(0)
    factory().apply_gradients([(tf.constant(g), v) for g, v in zip(grads[0], variables)])
    assert set(seen) == {primitive}
    if primitive.startswith("FeatherMulti"):
        assert len(seen) == 3   # one call per (device, dtype) group


def test_grouping_is_cached_per_variable_list():
    variables, grads = _model(1)
    opt = K.Adam(0.01)
    pairs = lambda vs: [(tf.constant(g), v) for g, v in zip(grads[0], vs)]  # noqa: E731
    opt.apply_gradients(pairs(variables))
    assert len(opt._plan_cache) == 1
    plan = next(iter(opt._plan_cache.values()))
    assert [len(group) for _, group, _ in plan] == [2, 1, 1]
    opt.apply_gradients(pairs(variables))
    assert next(iter(opt._plan_cache.values())) is plan
    opt.apply_gradients([(tf.constant(g), v) for g, v in zip(grads[1][::-1], variables[::-1])])
    assert len(opt._plan_cache) == 2   # another list: its own plan
    assert opt._plan_cache is not K.Adam._plan_cache and K.Adam._plan_cache == {}
    walked = {id(x) for x in tf.Module.variables.fget(opt)}
    assert walked and not walked & {id(v) for v in variables}   # the cache stays unwalked
