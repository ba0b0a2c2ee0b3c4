"""Records TensorFlow-written object-based checkpoints for tests/train/test_checkpoint_fixtures.py.

Run with TensorFlow installed (TF 2.21, Keras 3):
    /work/tfenv/bin/python tools/record_checkpoint_fixtures.py
Writes tests/fixtures/tf_object_checkpoints/: three checkpoints and values.json, the values TF
held when it saved (read back from the TF objects, not from the files).
"""
import json
import os
import shutil

import numpy as np
import tensorflow as tf
import keras

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tf_object_checkpoints")


def arr(v):
    a = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
    return {"dtype": a.dtype.name, "shape": list(a.shape), "values": a.reshape(-1).tolist()}


class Model(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(tf.random.normal([3, 2], seed=1))
        self.layers = [tf.Variable([1, 2, 3], dtype=tf.int64),
                       {"scale": tf.Variable(2.5, dtype=tf.float64),
                        "shift": tf.Variable([0.5, -0.5])}]
        self.table = {"a/b.c": tf.Variable([[True, False]]), "z": [tf.Variable(7, dtype=tf.int32)]}
        self.sub = tf.Module()
        self.sub.v = tf.Variable(np.arange(4, dtype=np.float16))


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.d1 = keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(1))
        self.bn = keras.layers.BatchNormalization()
        self.d2 = keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(2))

    def call(self, x, training=False):
        return self.d2(self.bn(self.d1(x), training=training))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    values = {}
    # 1. a tf.Module with variables in lists and dicts
    m = Model()
    m.w.assign_add(tf.ones([3, 2]))
    path = tf.train.Checkpoint(model=m).save(os.path.join(OUT, "module", "ckpt"))
    values["module"] = {
        "path": os.path.relpath(path, OUT),
        "w": arr(m.w), "layers/0": arr(m.layers[0]), "layers/1/scale": arr(m.layers[1]["scale"]),
        "layers/1/shift": arr(m.layers[1]["shift"]), "table/a/b.c": arr(m.table["a/b.c"]),
        "table/z/0": arr(m.table["z"][0]), "sub/v": arr(m.sub.v)}
    # 2. a Keras model and Adam after two steps
    net = Net()
    opt = keras.optimizers.Adam(0.01)
    rng = np.random.RandomState(0)
    x = rng.rand(8, 3).astype("float32")
    y = rng.rand(8, 2).astype("float32")
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((net(x, training=True) - y) ** 2)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
    path = tf.train.Checkpoint(model=net, optimizer=opt).save(os.path.join(OUT, "keras", "ckpt"))
    values["keras"] = {
        "path": os.path.relpath(path, OUT), "x": arr(x), "y": arr(y),
        "output": arr(net(x, training=False)),
        "weights": {f"{layer}/{w}": arr(getattr(getattr(net, layer), w))
                    for layer, names in (("d1", ("kernel", "bias")),
                                         ("bn", ("gamma", "beta", "moving_mean",
                                                 "moving_variance")),
                                         ("d2", ("kernel", "bias")))
                    for w in names},
        "optimizer_variables": [arr(v) for v in opt.variables],
        "iterations": int(opt.iterations.numpy())}
    # 3. a CheckpointManager directory (max_to_keep=2 after three saves)
    v = tf.Variable([0.0, 0.0])
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, os.path.join(OUT, "managed"), max_to_keep=2)
    saved = {}
    for i in range(3):
        v.assign([float(i), float(i) * 10])
        saved[os.path.basename(manager.save())] = arr(v)
    values["managed"] = {"checkpoints": [os.path.basename(p) for p in manager.checkpoints],
                         "values": saved}
    with open(os.path.join(OUT, "values.json"), "w") as f:
        json.dump(values, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
