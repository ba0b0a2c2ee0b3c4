"""tf.keras.callbacks: hooks order, History, EarlyStopping, ModelCheckpoint, schedulers,
CSVLogger, TerminateOnNaN, LambdaCallback."""
import numpy as np
import pytest

import featherflow as tf

RNG = np.random.RandomState(0)
X = RNG.rand(32, 4).astype("float32")
Y = RNG.randint(0, 3, 32)


def _model(lr=0.1):
    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, activation="softmax")])
    m.compile(tf.keras.optimizers.SGD(lr), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


class Recorder(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            calls = object.__getattribute__(self, "calls")
            return lambda *a, **k: calls.append(name)
        return object.__getattribute__(self, name)


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
              "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
              "on_predict_batch_begin", "on_predict_batch_end"):
    setattr(Recorder, _hook, lambda self, *a, **k: None)


def test_hook_order_and_params():
    rec = Recorder()
    m = _model()
    m.fit(X, Y, batch_size=16, epochs=1, verbose=0, callbacks=[rec],
          validation_data=(X[:8], Y[:8]))
    assert rec.calls == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin",
                         "on_train_batch_end", "on_train_batch_begin", "on_train_batch_end",
                         "on_test_begin", "on_test_batch_begin", "on_test_batch_end",
                         "on_test_end", "on_epoch_end", "on_train_end"]
    assert rec.model is m and rec.params == {"verbose": 0, "epochs": 1, "steps": 2}
    rec.calls.clear()
    m.predict(X, batch_size=32, verbose=0, callbacks=[rec])
    assert rec.calls == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
                         "on_predict_end"]


def test_batch_logs_are_running_means():
    m = _model()
    seen = []
    cb = tf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    h = m.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    assert len(seen) == 4 and sorted(seen[0]) == ["accuracy", "loss"]
    assert seen[-1] == {k: v[0] for k, v in h.history.items()}
    assert m.history is h and h.epoch == [0]


def test_early_stopping_restores_best_weights():
    m = _model(lr=0.0)  # constant val_loss: no improvement after the first epoch
    snapshots = []
    cb = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: snapshots.append(m.get_weights()))
    es = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    # shuffle=False: one summation order every epoch, so the loss is exactly constant
    h = m.fit(X, Y, epochs=10, verbose=0, shuffle=False, callbacks=[cb, es])
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 2 and es.best_epoch == 0

    m = _model(lr=0.5)
    losses = []
    # Change the weights after each epoch so that restoring is visible.
    es = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1,
                                          restore_best_weights=True, mode="max")
    h = m.fit(X, Y, epochs=6, verbose=0, validation_data=(X, Y), callbacks=[es])
    best = int(np.argmax(h.history["val_accuracy"]))
    assert es.best_epoch == best
    np.testing.assert_allclose(m.evaluate(X, Y, verbose=0, return_dict=True)["accuracy"],
                               h.history["val_accuracy"][best], rtol=1e-6)
    del losses


def test_early_stopping_auto_mode_baseline_start_from_epoch():
    es = tf.keras.callbacks.EarlyStopping(monitor="val_accuracy")
    m = _model()
    m.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y), callbacks=[es])
    assert es.monitor_op is np.greater
    es = tf.keras.callbacks.EarlyStopping(monitor="loss", baseline=0.0, patience=1)
    h = _model(lr=0.0).fit(X, Y, epochs=5, verbose=0, callbacks=[es])
    assert len(h.history["loss"]) == 2  # flat loss that never reaches the baseline
    es = tf.keras.callbacks.EarlyStopping(monitor="loss", baseline=0.0, patience=1, min_delta=1e-3,
                                          start_from_epoch=3)
    h = _model(lr=0.0).fit(X, Y, epochs=6, verbose=0, callbacks=[es])
    assert len(h.history["loss"]) == 5
    with pytest.warns(UserWarning, match="not available"):
        _model().fit(X, Y, epochs=1, verbose=0,
                     callbacks=[tf.keras.callbacks.EarlyStopping(monitor="val_loss")])


def test_model_checkpoint_calls_save_weights(tmp_path):
    m = _model()
    saved = []
    m.save_weights = lambda path, overwrite=True: saved.append(path)  # stub (a later task)
    path = str(tmp_path / "ck" / "w-{epoch:02d}-{loss:.2f}.weights.h5")
    ck = tf.keras.callbacks.ModelCheckpoint(path, monitor="loss", save_weights_only=True)
    h = m.fit(X, Y, epochs=2, verbose=0, callbacks=[ck])
    assert saved == [str(tmp_path / "ck" / f"w-{e + 1:02d}-{h.history['loss'][e]:.2f}.weights.h5")
                     for e in range(2)]
    assert (tmp_path / "ck").is_dir()
    saved.clear()
    m.compile(tf.keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    ck = tf.keras.callbacks.ModelCheckpoint(str(tmp_path / "best.weights.h5"), monitor="loss",
                                            save_best_only=True, save_weights_only=True)
    m.fit(X, Y, epochs=3, verbose=0, callbacks=[ck])
    assert len(saved) == 1  # the loss never improves after the first epoch
    saved.clear()
    ck = tf.keras.callbacks.ModelCheckpoint(str(tmp_path / "b{batch}.weights.h5"), save_freq=3,
                                            save_weights_only=True)
    m.fit(X, Y, batch_size=4, epochs=1, verbose=0, callbacks=[ck])
    assert [p.rsplit("/", 1)[1] for p in saved] == ["b3.weights.h5", "b6.weights.h5"]
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        tf.keras.callbacks.ModelCheckpoint("w.ckpt", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        tf.keras.callbacks.ModelCheckpoint("w.ckpt")


def test_learning_rate_scheduler_and_reduce_on_plateau():
    m = _model()
    sched = tf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    h = m.fit(X, Y, epochs=3, verbose=0, callbacks=[sched])
    np.testing.assert_allclose(h.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    with pytest.raises(ValueError, match="should be a float"):
        m.fit(X, Y, verbose=0,
              callbacks=[tf.keras.callbacks.LearningRateScheduler(lambda e, lr: "x")])
    m2 = _model(lr=1e-9)
    h = m2.fit(X, Y, epochs=4, verbose=0, callbacks=[
        tf.keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                             min_delta=1.0)])
    # logged before the reduction made at the end of the same epoch
    np.testing.assert_allclose(h.history["learning_rate"], [1e-9, 1e-9, 5e-10, 2.5e-10],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        tf.keras.callbacks.ReduceLROnPlateau(factor=1.0)


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    m = _model()
    h = m.fit(X, Y, epochs=2, verbose=0, callbacks=[tf.keras.callbacks.CSVLogger(str(path))])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    fields = lines[1].split(",")
    assert fields[0] == "0" and float(fields[2]) == pytest.approx(h.history["loss"][0])
    assert fields[3:] == ["NA", "NA"] and len(lines) == 3
    m.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y),
          callbacks=[tf.keras.callbacks.CSVLogger(str(path), separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;") and lines[3].count(";") == 4


def test_terminate_on_nan(capsys):
    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    m.compile(tf.keras.optimizers.SGD(1e30), "mse")
    y = np.full((32, 1), 1e30, "float32")
    h = m.fit(X, y, batch_size=4, epochs=3, verbose=0,
              callbacks=[tf.keras.callbacks.TerminateOnNaN()])
    assert len(h.history["loss"]) == 1
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    m2 = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    m2.compile(tf.keras.optimizers.SGD(1e30), "mse")
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        m2.fit(X, y, batch_size=4, epochs=3, verbose=0,
               callbacks=[tf.keras.callbacks.TerminateOnNaN(raise_error=True)])


def test_lambda_callback_and_callback_list():
    events = []
    cb = tf.keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("begin"),
        on_batch_end=lambda batch, logs: events.append(batch),
        on_train_end=lambda logs: events.append("end"))
    _model().fit(X, Y, batch_size=16, verbose=0, callbacks=[cb])
    assert events == ["begin", 0, 1, "end"]
    cl = tf.keras.callbacks.CallbackList([cb], add_history=True, add_progbar=True)
    assert [type(c).__name__ for c in cl.callbacks] == ["LambdaCallback", "History",
                                                        "ProgbarLogger"]
