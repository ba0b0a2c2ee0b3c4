"""Keras `Model.save_weights` / `load_weights` (TF2 object-checkpoint format) and the
`ModelCheckpoint(save_weights_only=True)` callback on top of them."""
import os

import numpy as np

import featherflow as tf


def make_model():
    model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu"),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Dense(1)])
    model.build((None, 3))
    return model


def test_save_and_load_weights_round_trip(tmp_path):
    a = make_model()
    x = np.random.RandomState(0).rand(5, 3).astype(np.float32)
    path = str(tmp_path / "w.weights.h5")
    a.save_weights(path)
    assert os.path.exists(path + ".index")
    keys = [k for k, _ in tf.train.list_variables(path)]
    assert all(k.endswith("/.ATTRIBUTES/VARIABLE_VALUE") for k in keys[1:])
    b = make_model()
    b.load_weights(path).assert_consumed()
    for u, v in zip(a.weights, b.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_weights_before_build_is_deferred(tmp_path):
    a = make_model()
    path = str(tmp_path / "w")
    a.save_weights(path)
    b = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu"),
                             tf.keras.layers.BatchNormalization(),
                             tf.keras.layers.Dense(1)])
    status = b.load_weights(path)
    b.build((None, 3))
    status.assert_existing_objects_matched()
    for u, v in zip(a.weights, b.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


def test_model_checkpoint_callback_saves_weights(tmp_path):
    model = make_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.RandomState(1).rand(16, 3).astype(np.float32)
    y = np.random.RandomState(2).rand(16, 1).astype(np.float32)
    path = str(tmp_path / "ep{epoch}.weights.h5")
    cb = tf.keras.callbacks.ModelCheckpoint(path, save_weights_only=True)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    last = str(tmp_path / "ep2.weights.h5")
    assert os.path.exists(last + ".index")
    other = make_model()
    other.load_weights(last).expect_partial()
    for u, v in zip(model.weights, other.weights):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
