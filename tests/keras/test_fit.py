"""fit/evaluate/predict: TF-recorded trajectories replayed, and the data handling rules."""
import json
import os

import numpy as np
import pytest

import featherflow as tf

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_training.npz")
FIX = np.load(FIXTURE)
CASES = json.loads(str(FIX["cases"]))
D = {k.split("/", 1)[1]: FIX[k] for k in FIX.files if k.startswith("data/")}


def sequential():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(5, activation="relu"),
                                tf.keras.layers.Dense(3, activation="softmax")])


def functional():
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((2,), name="b")
    h = tf.keras.layers.Concatenate()([a, b])
    h = tf.keras.layers.Dense(6, activation="tanh")(h)
    o1 = tf.keras.layers.Dense(1, name="out1")(h)
    o2 = tf.keras.layers.Dense(3, activation="softmax", name="out2")(h)
    return tf.keras.Model([a, b], [o1, o2])


def _opt(name):
    return tf.keras.optimizers.SGD(0.1) if name == "sgd" else tf.keras.optimizers.Adam(0.01)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_tensorflow(name):
    kind, opt, extra = CASES[name]
    model = sequential() if kind == "sequential" else functional()
    init = [FIX[f"{name}/init/{i}"] for i in range(len(model.get_weights()))]
    model.set_weights(init)
    if kind == "sequential":
        model.compile(_opt(opt), "sparse_categorical_crossentropy", metrics=["accuracy"])
        x, y = D["x"], D["y"]
    else:
        model.compile(_opt(opt), ["mse", "sparse_categorical_crossentropy"],
                      loss_weights=[1.0, 0.5], metrics=[["mae"], ["accuracy"]])
        x, y = [D["x"], D["b"]], [D["r"], D["y"]]
    kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0}
    if extra.get("sample_weight"):
        kwargs["sample_weight"] = D["sw"]
    if extra.get("validation"):
        kwargs["validation_data"] = (D["vx"], D["vy"])
    if "class_weight" in extra:
        kwargs["class_weight"] = {int(k): v for k, v in extra["class_weight"].items()}
    hist = model.fit(x, y, **kwargs).history
    want = {k.rsplit("/", 1)[1]: FIX[k] for k in FIX.files if k.startswith(f"{name}/history/")}
    assert sorted(hist) == sorted(want)
    assert list(hist) == sorted(hist)  # Keras logs are sorted by name
    for key, values in want.items():
        np.testing.assert_allclose(hist[key], values, rtol=2e-5, atol=2e-6, err_msg=key)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, FIX[f"{name}/final/{i}"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), FIX[f"{name}/evaluate"],
                               rtol=2e-5, atol=2e-6)
    pred = model.predict(x, verbose=0)
    flat = np.concatenate([np.asarray(p).reshape(40, -1) for p in
                           (pred if isinstance(pred, list) else [pred])], axis=1)
    np.testing.assert_allclose(flat, FIX[f"{name}/predict"], rtol=1e-5, atol=1e-6)


def _model(units=3, activation="softmax"):
    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(units,
                                                                       activation=activation)])
    return m


def _np_dense(model, x):
    k, b = model.get_weights()
    z = x @ k + b
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_evaluate_matches_numpy_loss_and_accuracy():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    p = _np_dense(m, D["x"])
    loss = -np.log(p[np.arange(40), D["y"]]).mean()
    acc = (p.argmax(1) == D["y"]).mean()
    got = m.evaluate(D["x"], D["y"], batch_size=7, verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], loss, rtol=1e-5)
    np.testing.assert_allclose(got["accuracy"], acc, rtol=1e-6)
    assert m.evaluate(D["x"], D["y"], verbose=0) == [got["loss"], got["accuracy"]]


def test_sample_weight_and_class_weight_scale_the_loss():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy")
    p = _np_dense(m, D["x"])
    per = -np.log(p[np.arange(40), D["y"]])
    sw = D["sw"]
    got = m.evaluate(D["x"], D["y"], sample_weight=sw, batch_size=40, verbose=0)
    np.testing.assert_allclose(got, (per * sw).mean(), rtol=1e-5)
    cw = {0: 1.0, 1: 3.0, 2: 0.25}
    before = m.get_weights()
    m.compile(tf.keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    h = m.fit(D["x"], D["y"], class_weight=cw, batch_size=40, shuffle=False, verbose=0)
    weights = np.array([cw[int(c)] for c in D["y"]])
    np.testing.assert_allclose(h.history["loss"][0], (per * weights).mean(), rtol=1e-5)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="class_weight` and `sample_weight"):
        m.fit(D["x"], D["y"], class_weight=cw, sample_weight=sw, verbose=0)


def test_validation_split_takes_last_samples_before_shuffling():
    m = _model()
    m.compile(tf.keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    h = m.fit(D["x"], D["y"], validation_split=0.25, epochs=1, verbose=0, shuffle=True)
    want = m.evaluate(D["x"][30:], D["y"][30:], verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][0], want, rtol=1e-6)
    with pytest.raises(ValueError, match="not sufficient to split"):
        m.fit(D["x"][:1], D["y"][:1], validation_split=0.5, verbose=0)


def test_initial_epoch_steps_and_validation_freq():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    cb = tf.keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))
    h = m.fit(D["x"], D["y"], epochs=5, initial_epoch=2, verbose=0, callbacks=[cb],
              validation_data=(D["vx"], D["vy"]), validation_freq=2)
    assert seen == [2, 3, 4] and h.epoch == [2, 3, 4]
    assert len(h.history["loss"]) == 3 and len(h.history["val_loss"]) == 1  # 1-based epoch 4 only
    assert h.params == {"verbose": 0, "epochs": 5, "steps": 2}


def test_dataset_input_and_steps_per_epoch():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((D["x"], D["y"])).batch(10)
    h = m.fit(ds, epochs=2, verbose=0, validation_data=ds)
    assert h.params["steps"] == 4
    np.testing.assert_allclose(h.history["val_loss"][-1], m.evaluate(ds, verbose=0)[0],
                               rtol=1e-6)
    steps = []
    cb = tf.keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: steps.append(b))
    m.fit(ds.repeat(), epochs=2, steps_per_epoch=3, verbose=0, callbacks=[cb])
    assert steps == [0, 1, 2, 0, 1, 2]
    pred = m.predict(ds, verbose=0)
    np.testing.assert_allclose(pred, _np_dense(m, D["x"]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="`y` should not be"):
        m.fit(ds, D["y"], verbose=0)


def test_dict_and_list_inputs_and_outputs():
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((2,), name="b")
    h = tf.keras.layers.Concatenate()([a, b])
    out = {"r": tf.keras.layers.Dense(1, name="reg")(h),
           "c": tf.keras.layers.Dense(3, activation="softmax", name="cls")(h)}
    m = tf.keras.Model({"a": a, "b": b}, out)
    assert m.output_names == ["cls", "reg"]
    m.compile("sgd", {"r": "mse", "c": "sparse_categorical_crossentropy"},
              metrics={"c": "accuracy"})
    h = m.fit({"a": D["x"], "b": D["b"]}, {"r": D["r"], "c": D["y"]}, batch_size=8, verbose=0)
    assert sorted(h.history) == ["c_accuracy", "c_loss", "loss", "r_loss"]
    np.testing.assert_allclose(h.history["loss"][0],
                               h.history["c_loss"][0] + h.history["r_loss"][0], rtol=1e-5)
    pred = m.predict({"a": D["x"], "b": D["b"]}, verbose=0)
    assert sorted(pred) == ["c", "r"] and pred["c"].shape == (40, 3)
    assert m.metrics_names == ["loss", "compile_metrics", "c_loss", "r_loss"]


def test_multi_output_metrics_list_must_match_outputs():
    m = functional()
    m.compile("sgd", "mse", metrics=["mae"])
    with pytest.raises(ValueError, match="Invalid `metrics`"):
        m.fit([D["x"], D["b"]], [D["r"], np.ones((40, 3), "float32")], verbose=0)


def test_on_batch_methods():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    out = m.train_on_batch(D["x"], D["y"])
    assert isinstance(out, list) and len(out) == 2
    logs = m.test_on_batch(D["x"], D["y"], return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]
    p = m.predict_on_batch(D["x"])
    assert isinstance(p, np.ndarray) and p.shape == (40, 3)
    np.testing.assert_allclose(p, _np_dense(m, D["x"]), rtol=1e-5, atol=1e-6)


def test_compile_required_and_string_resolution():
    m = _model()
    with pytest.raises(ValueError, match="You must call `compile\\(\\)`"):
        m.fit(D["x"], D["y"], verbose=0)
    m.compile(loss="categorical_crossentropy", metrics=["acc"])
    assert type(m.optimizer).__name__ == "RMSprop"
    m.fit(D["x"], tf.keras.utils.to_categorical(D["y"], 3), verbose=0)
    names = [type(x).__name__ for x in m.metrics[1].flat_metrics]
    assert names == ["CategoricalAccuracy"] and m.metrics[1].flat_metrics[0].name == "acc"
    b = _model(1, "sigmoid")
    b.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    b.fit(D["x"], (D["y"] > 0).astype("float32"), verbose=0)
    assert type(b.metrics[1].flat_metrics[0]).__name__ == "BinaryAccuracy"


def test_regularization_losses_are_added():
    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(
        3, kernel_regularizer=tf.keras.regularizers.L2(0.5))])
    m.compile(tf.keras.optimizers.SGD(0.0), "mse")
    y = np.zeros((40, 3), "float32")
    k, b = m.get_weights()
    mse = ((D["x"] @ k + b) ** 2).mean()
    got = m.evaluate(D["x"], y, batch_size=40, verbose=0)
    np.testing.assert_allclose(got, mse + 0.5 * (k ** 2).sum(), rtol=1e-5)


def test_subclassed_model_and_custom_train_step():
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = tf.keras.layers.Dense(4, activation="relu")
            self.d2 = tf.keras.layers.Dense(3)

        def call(self, x, training=False):
            return self.d2(self.d1(x))
    net = Net()
    assert net.name.startswith("net")
    net.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
    h = net.fit(D["x"], D["y"], epochs=2, verbose=0)
    assert len(net.trainable_weights) == 4 and len(h.history["loss"]) == 2

    class Custom(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = tf.keras.layers.Dense(1)
            self.tracker = tf.keras.metrics.Mean(name="my_loss")

        def call(self, x):
            return self.d(x)

        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((self(x) - y) ** 2)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            self.tracker.update_state(loss)
            return {"my_loss": self.tracker.result()}
    c = Custom()
    c.compile("sgd")
    h = c.fit(D["x"], D["r"], epochs=2, verbose=0)
    assert list(h.history) == ["my_loss"] and len(h.history["my_loss"]) == 2


def test_stop_training_from_callback():
    m = _model()
    m.compile("sgd", "sparse_categorical_crossentropy")

    class Stop(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                self.model.stop_training = True
    h = m.fit(D["x"], D["y"], epochs=3, verbose=0, callbacks=[Stop()])
    assert len(h.history["loss"]) == 1
