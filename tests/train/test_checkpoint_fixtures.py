"""Checkpoints written by TensorFlow 2.21 (tools/record_checkpoint_fixtures.py) restore into the
same featherflow objects with TF's values."""
import json
import os
import shutil

import numpy as np
import pytest

import featherflow as tf

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_object_checkpoints")
with open(os.path.join(HERE, "values.json")) as f:
    VALUES = json.load(f)


def expected(entry):
    dtype = np.dtype(entry["dtype"])
    return np.array(entry["values"], dtype=dtype).reshape(entry["shape"])


def check(variable, entry):
    got = np.asarray(variable.numpy())
    want = expected(entry)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


class Model(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(tf.zeros([3, 2]))
        self.layers = [tf.Variable([0, 0, 0], dtype=tf.int64),
                       {"scale": tf.Variable(0.0, dtype=tf.float64),
                        "shift": tf.Variable([0.0, 0.0])}]
        self.table = {"a/b.c": tf.Variable([[False, False]]), "z": [tf.Variable(0)]}
        self.sub = tf.Module()
        self.sub.v = tf.Variable(np.zeros(4, np.float16))


def test_module_fixture_restores_every_value():
    fx = VALUES["module"]
    m = Model()
    status = tf.train.Checkpoint(model=m).restore(os.path.join(HERE, fx["path"]))
    status.assert_consumed()
    check(m.w, fx["w"])
    check(m.layers[0], fx["layers/0"])
    check(m.layers[1]["scale"], fx["layers/1/scale"])
    check(m.layers[1]["shift"], fx["layers/1/shift"])
    check(m.table["a/b.c"], fx["table/a/b.c"])
    check(m.table["z"][0], fx["table/z/0"])
    check(m.sub.v, fx["sub/v"])


def test_module_fixture_keys_are_what_featherflow_writes(tmp_path):
    fx = VALUES["module"]
    m = Model()
    tf.train.Checkpoint(model=m).restore(os.path.join(HERE, fx["path"]))
    ours = tf.train.Checkpoint(model=m).save(str(tmp_path / "ckpt"))
    theirs = tf.train.list_variables(os.path.join(HERE, fx["path"]))
    assert tf.train.list_variables(ours) == theirs
    # Same object graph bytes: node order, names, full names, has_checkpoint_values.
    a = tf.train.load_checkpoint(ours).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH")
    b = tf.train.load_checkpoint(os.path.join(HERE, fx["path"])).get_tensor(
        "_CHECKPOINTABLE_OBJECT_GRAPH")
    from featherflow._src.train import object_graph_proto as ogp
    ga, gb = ogp.decode(a), ogp.decode(b)
    assert [[(c.node_id, c.local_name) for c in n.children] for n in ga.nodes] == \
        [[(c.node_id, c.local_name) for c in n.children] for n in gb.nodes]
    assert [[x.checkpoint_key for x in n.attributes] for n in ga.nodes] == \
        [[x.checkpoint_key for x in n.attributes] for n in gb.nodes]
    assert [n.has_checkpoint_values for n in ga.nodes] == [n.has_checkpoint_values
                                                           for n in gb.nodes]


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.d1 = tf.keras.layers.Dense(4)
        self.bn = tf.keras.layers.BatchNormalization()
        self.d2 = tf.keras.layers.Dense(2)

    def call(self, x, training=False):
        return self.d2(self.bn(self.d1(x), training=training))


def test_keras_fixture_restores_model_and_adam_deferred():
    fx = VALUES["keras"]
    net = Net()
    opt = tf.keras.optimizers.Adam(0.01)
    # Restored before the model is built or the optimizer has slots: values arrive on creation.
    status = tf.train.Checkpoint(model=net, optimizer=opt).restore(
        os.path.join(HERE, fx["path"]))
    assert int(opt.iterations.numpy()) == fx["iterations"]
    x = expected(fx["x"])
    out = net(x, training=False)
    np.testing.assert_allclose(out.numpy(), expected(fx["output"]), rtol=1e-5, atol=1e-6)
    check(net.d1.kernel, fx["weights"]["d1/kernel"])
    check(net.bn.moving_variance, fx["weights"]["bn/moving_variance"])
    opt.build(net.trainable_variables)
    assert len(opt.variables) == len(fx["optimizer_variables"])
    for var, entry in zip(opt.variables, fx["optimizer_variables"]):
        check(var, entry)
    status.assert_consumed()


def test_keras_fixture_training_continues_like_tf():
    """One more Adam step from the restored state moves the weights (slots were restored, so
    the step is not a first step: bias correction uses iteration 3)."""
    fx = VALUES["keras"]
    net = Net()
    opt = tf.keras.optimizers.Adam(0.01)
    tf.train.Checkpoint(model=net, optimizer=opt).restore(os.path.join(HERE, fx["path"]))
    x, y = expected(fx["x"]), expected(fx["y"])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((net(x, training=True) - y) ** 2)
    grads = tape.gradient(loss, net.trainable_variables)
    opt.apply_gradients(zip(grads, net.trainable_variables))
    assert int(opt.iterations.numpy()) == fx["iterations"] + 1
    m0 = expected(fx["optimizer_variables"][2])       # d1 kernel first moment
    g = grads[0].numpy()
    np.testing.assert_allclose(opt.variables[2].numpy(), 0.9 * m0 + 0.1 * g, rtol=1e-5,
                               atol=1e-7)


def test_manager_fixture_directory_is_recovered(tmp_path):
    fx = VALUES["managed"]
    directory = tmp_path / "managed"
    shutil.copytree(os.path.join(HERE, "managed"), directory)
    v = tf.Variable([0.0, 0.0])
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(directory), max_to_keep=2)
    assert [os.path.basename(p) for p in manager.checkpoints] == fx["checkpoints"]
    assert manager.latest_checkpoint == str(directory / fx["checkpoints"][-1])
    assert tf.train.latest_checkpoint(str(directory)) == manager.latest_checkpoint
    assert manager.restore_or_initialize() == manager.latest_checkpoint
    check(v, fx["values"][fx["checkpoints"][-1]])
    assert int(ckpt.save_counter.numpy()) == 3
    # Saving continues the numbering and deletes the oldest, as TF's manager would.
    path = manager.save()
    assert os.path.basename(path) == "ckpt-4"
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3", "ckpt-4"]
    assert not os.path.exists(str(directory / "ckpt-2.index"))
    for name in fx["checkpoints"][:1]:
        with pytest.raises(tf.errors.NotFoundError):
            tf.train.load_checkpoint(str(directory / name))
