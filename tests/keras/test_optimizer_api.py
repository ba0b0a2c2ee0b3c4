"""The tf.keras.optimizers API around the update rules: construction errors, learning rates,
config round trips, get/serialize, None gradients, minimize, lazy slots, get_slot/add_slot,
the module walk, LossScaleOptimizer helpers and steady-state memory. Expected values are TF
2.21 / Keras 3 behaviour (checked with /work/tfenv) or computed here with NumPy."""
import gc
import numpy as np
import pytest

import featherflow as tf

K = tf.keras.optimizers
ALL = ["SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl",
       "Lion", "Lamb", "Adafactor"]


def test_tf_optimizers_alias():
    assert tf.optimizers.Adam is tf.keras.optimizers.Adam
    assert tf.keras.optimizers.Optimizer is tf.keras.Optimizer


@pytest.mark.parametrize("kw", [dict(clipnorm=1.0, clipvalue=1.0),
                                dict(clipnorm=1.0, global_clipnorm=1.0),
                                dict(clipvalue=1.0, global_clipnorm=1.0)])
def test_two_clip_options_raise(kw):
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set"):
        K.SGD(**kw)


@pytest.mark.parametrize("make, match", [
    (lambda: K.SGD(learning_rate=1), "Argument `learning_rate` should be float"),
    (lambda: K.SGD(momentum=2.0), "`momentum` must be a float between"),
    (lambda: K.SGD(gradient_accumulation_steps=1), "`gradient_accumulation_steps` must be"),
    (lambda: K.SGD(use_ema=True, ema_momentum=2.0), "`ema_momentum` must be in the range"),
    (lambda: K.SGD(bogus=1), "Argument\\(s\\) not recognized"),
    (lambda: K.AdamW(weight_decay=None), "Argument `weight_decay` must be a float"),
    (lambda: K.Ftrl(learning_rate_power=0.5), "`learning_rate_power` needs to be negative"),
    (lambda: K.Lion(beta_1=0.0), "Argument `beta_1` must be in the"),
    (lambda: K.LossScaleOptimizer(K.SGD(), clipnorm=1.0), "does not support `clipnorm`"),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_iterations_int64_and_names():
    opt = K.Adam(name="opt_a")
    assert opt.iterations.dtype == tf.int64 and opt.iterations.name == "opt_a/iteration:0"
    v = tf.Variable([1.0, 2.0], name="w")
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    assert int(opt.iterations) == 1
    assert [x.name for x in opt.variables] == ["opt_a/iteration:0", "opt_a/learning_rate:0",
                                               "opt_a/w_0_momentum:0", "opt_a/w_0_velocity:0"]


def test_auto_names_are_snake_case():
    assert K.RMSprop().name.startswith("rm_sprop")
    assert K.AdamW().name.startswith("adam_w")


@pytest.mark.parametrize("cls", ALL)
def test_config_round_trip(cls):
    opt = getattr(K, cls)(learning_rate=0.25, name="x")
    cfg = opt.get_config()
    assert cfg["learning_rate"] == 0.25 and cfg["name"] == "x"
    again = type(opt).from_config(cfg)
    assert again.get_config() == cfg
    ser = K.serialize(opt)
    assert ser["class_name"] == cls and ser["module"] == "keras.optimizers"
    assert K.deserialize(ser).get_config() == cfg
    assert K.get(ser).get_config() == cfg


def test_get():
    assert isinstance(K.get("adam"), K.Adam)
    assert isinstance(K.get("RMSprop"), K.RMSprop)
    opt = K.SGD()
    assert K.get(opt) is opt
    sgd = K.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert float(sgd.learning_rate) == 0.5
    for bad in ("nope", 3):
        with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
            K.get(bad)


def test_schedule_in_config_and_not_settable():
    sched = K.schedules.ExponentialDecay(0.1, 10, 0.9)
    opt = K.Adam(learning_rate=sched)
    cfg = opt.get_config()
    assert cfg["learning_rate"]["class_name"] == "ExponentialDecay"
    assert isinstance(K.Adam.from_config(cfg)._learning_rate, K.schedules.ExponentialDecay)
    with pytest.raises(TypeError, match="hence its learning rate is not settable"):
        opt.learning_rate = 0.5


def test_learning_rate_setter_and_callable():
    opt = K.SGD(learning_rate=0.1)
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    opt.learning_rate = lambda: 0.25
    assert opt.learning_rate == 0.25
    assert all("learning_rate" not in v.name for v in opt.variables)
    v = tf.Variable(1.0)
    opt.apply_gradients([(tf.constant(1.0), v)])
    assert float(v) == pytest.approx(0.75)


def test_none_gradients():
    a, b = tf.Variable(1.0, name="a"), tf.Variable(2.0, name="b")
    opt = K.SGD(learning_rate=0.5)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, a), (None, b)])
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b:0'\]"):
        opt.apply_gradients([(tf.constant(1.0), a), (None, b)])
    assert float(a) == 0.5 and float(b) == 2.0


def test_apply_without_variables():
    opt = K.SGD(learning_rate=1.0)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([tf.constant(1.0)])
    v = tf.Variable(1.0)
    opt.build([v])
    opt.apply([tf.constant(0.5)])
    assert float(v) == 0.5
    with pytest.raises(ValueError, match="one-to-on"):
        opt.apply([tf.constant(0.5), tf.constant(1.0)])


def test_minimize_callable_and_tape():
    v = tf.Variable([1.0, -2.0])
    opt = K.SGD(learning_rate=0.1)
    opt.minimize(lambda: tf.reduce_sum(v * v), [v])
    np.testing.assert_allclose(v.numpy(), [0.8, -1.6], rtol=1e-6)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(v * v)
    opt.minimize(loss, [v], tape=tape)
    np.testing.assert_allclose(v.numpy(), [0.64, -1.28], rtol=1e-6)
    with pytest.raises(ValueError, match="`tape` is required"):
        opt.minimize(loss, [v])


def test_lazy_slots_get_slot_add_slot():
    a, b = tf.Variable([1.0], name="a"), tf.Variable([2.0, 3.0], name="b")
    opt = K.Adam(learning_rate=0.1, name="lazy")
    opt.apply_gradients([(tf.constant([1.0]), a)])
    opt.apply_gradients([(tf.constant([1.0]), a), (tf.constant([1.0, 1.0]), b)])
    assert opt.get_slot(b, "m").name == "lazy/b_0_momentum:0"
    assert opt.get_slot(b, "velocity").shape == (2,)
    # b's first step is Adam's step 2 (iterations is shared): NumPy reference.
    m, vv = 0.1 * 1.0, 0.001 * 1.0
    lr_t = 0.1 * np.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    np.testing.assert_allclose(b.numpy(), [2.0 - lr_t * m / (np.sqrt(vv) + 1e-7),
                                           3.0 - lr_t * m / (np.sqrt(vv) + 1e-7)], rtol=1e-5)
    s = opt.add_slot(a, "extra", initializer=2.0)
    assert s.numpy().tolist() == [2.0] and opt.add_slot(a, "extra") is s
    with pytest.raises(KeyError):
        opt.get_slot(a, "nope")


def test_exclude_from_weight_decay_after_build_raises():
    opt = K.AdamW()
    opt.build([tf.Variable(1.0)])
    with pytest.raises(ValueError, match="can only be configured before"):
        opt.exclude_from_weight_decay(var_names=["b"])


def test_exclude_by_var_list():
    a, b = tf.Variable(1.0), tf.Variable(1.0)
    opt = K.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[b])
    opt.apply_gradients([(tf.constant(0.0), a), (tf.constant(0.0), b)])
    assert float(a) == pytest.approx(0.95) and float(b) == 1.0


def test_module_walk_finds_optimizer_variables():
    class Model(tf.Module):
        pass

    m = Model()
    m.w = tf.Variable([1.0, 2.0], name="w")
    m.opt = K.Adam(name="walked")
    m.opt.apply_gradients([(tf.constant([1.0, 1.0]), m.w)])
    names = sorted(v.name for v in m.variables)
    assert names == sorted(["w:0", "walked/iteration:0", "walked/learning_rate:0",
                            "walked/w_0_momentum:0", "walked/w_0_velocity:0"])
    assert set(map(id, m.opt.variables)) <= set(map(id, m.variables))
    assert isinstance(m.opt, tf.Module)


def test_loss_scale_helpers():
    opt = K.LossScaleOptimizer(K.SGD(learning_rate=1.0), initial_scale=8.0)
    assert float(opt.get_scaled_loss(tf.constant(2.0))) == 16.0
    v = tf.Variable(1.0)
    opt.apply_gradients([(tf.constant(8.0), v)])      # unscaled gradient 1.0
    assert float(v) == 0.0
    (g,) = opt.get_unscaled_gradients([tf.constant(16.0)])
    assert float(g) == 2.0
    assert float(opt.learning_rate) == 1.0 and int(opt.iterations) == 1
    again = K.LossScaleOptimizer.from_config(opt.get_config())
    assert again.inner_optimizer.get_config()["learning_rate"] == 1.0


def test_sparse_sgd_only_touches_given_rows():
    v = tf.Variable([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    g = tf.IndexedSlices(tf.constant([[1.0, 1.0]]), tf.constant([1]), tf.constant([3, 2]))
    K.SGD(learning_rate=0.5).apply_gradients([(g, v)])
    np.testing.assert_array_equal(v.numpy(), [[1.0, 1.0], [1.5, 1.5], [3.0, 3.0]])


@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "Adagrad", "Lamb"])
def test_no_new_memory_per_step(cls):
    w = [tf.Variable(np.ones((64, 32), np.float32)), tf.Variable(np.ones(32, np.float32))]
    opt = getattr(K, cls)(learning_rate=0.01)
    grads = [tf.ones((64, 32)), tf.ones(32)]
    device = w[0].device.split("device:")[-1]
    for _ in range(3):
        opt.apply_gradients(zip(grads, w))
    gc.collect()  # earlier tests' garbage must not be freed inside the window
    before = tf.config.experimental.get_memory_info(device)["current"]
    for _ in range(5):
        opt.apply_gradients(zip(grads, w))
    assert tf.config.experimental.get_memory_info(device)["current"] == before


def test_variables_on_cpu_stay_on_cpu():
    with tf.device("/CPU:0"):
        v = tf.Variable([1.0, 2.0])
    opt = K.Adam(learning_rate=0.1)
    opt.apply_gradients([(tf.constant([1.0, 1.0]), v)])
    assert opt.get_slot(v, "m").device.endswith("CPU:0")
    np.testing.assert_allclose(v.numpy(), [0.9, 1.9], rtol=1e-5)


@pytest.mark.parametrize("module", ["base", "sgd", "adam", "rmsprop", "adagrad", "lion_lamb",
                                    "loss_scale", "schedules"])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"featherflow._src.keras.optimizers.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
