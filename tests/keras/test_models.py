"""Sequential, functional and subclassed models: structure, layers, summary (vs TF's text)."""
import json
import os

import numpy as np
import pytest

import featherflow as tf

FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_training.npz"))
SUMMARIES = json.loads(str(FIX["summaries"]))


@pytest.fixture(autouse=True)
def _columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # the fixtures were recorded on an 80-column terminal


def _seq():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(8, name="d1"),
                                tf.keras.layers.Dense(3, name="d2")], name="seq")


def _func():
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((2,), name="b")
    shared = tf.keras.layers.Dense(5, name="shared")
    c = tf.keras.layers.Concatenate(name="cat")([shared(a), tf.keras.layers.Dense(5, name="db")(b)])
    o1 = tf.keras.layers.Dense(1, name="out1")(c)
    o2 = tf.keras.layers.Dense(3, name="out2")(c)
    return tf.keras.Model([a, b], [o1, o2], name="func")


def _summary(model, **kw):
    lines = []
    model.summary(print_fn=lines.append, **kw)
    assert len(lines) == 1
    return lines[0]


@pytest.mark.parametrize("key", ["seq", "seq_60", "func", "func_60"])
def test_summary_text_matches_tensorflow(key):
    model = _seq() if key.startswith("seq") else _func()
    kw = {"line_length": 60} if key.endswith("_60") else {}
    assert _summary(model, **kw) == SUMMARIES[key]


def test_summary_after_training_counts_optimizer_params():
    m = _seq()
    m.compile("adam", "mse")
    m.fit(np.ones((4, 4), "float32"), np.ones((4, 3), "float32"), verbose=0)
    assert _summary(m) == SUMMARIES["seq_compiled"]


def test_summary_prints_to_stdout(capsys):
    _seq().summary()
    assert capsys.readouterr().out == SUMMARIES["seq"]


def test_summary_unbuilt_and_nested():
    m = tf.keras.Sequential([tf.keras.layers.Dense(3, name="x")], name="unb")
    text = _summary(m)
    assert "│ x (Dense)" in text and "0 (unbuilt)" in text and " ?  " in text
    inner = _seq()
    outer = tf.keras.Sequential([tf.keras.Input((4,)), inner, tf.keras.layers.Dense(2)])
    text = _summary(outer, expand_nested=True)
    assert "seq (Sequential)" in text and "└ d1 (Dense)" in text
    assert f"Total params: {outer.count_params():,}" in text


def test_sequential_add_pop_and_shapes():
    m = tf.keras.Sequential(name="s")
    m.add(tf.keras.Input((4,)))
    m.add(tf.keras.layers.Dense(5))
    assert m.built and m.output_shape == (None, 5) and m.input_shape == (None, 4)
    m.add(tf.keras.layers.Dense(2))
    assert m.output_shape == (None, 2) and len(m.layers) == 2 and len(m.weights) == 4
    popped = m.pop()
    assert isinstance(popped, tf.keras.layers.Dense) and m.output_shape == (None, 5)
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        m.add(3)
    with pytest.raises(ValueError, match="already been configured"):
        m.add(tf.keras.Input((3,)))
    lazy = tf.keras.Sequential([tf.keras.layers.Dense(2)])
    assert not lazy.built
    out = lazy(np.ones((3, 7), "float32"))
    assert out.shape == (3, 2) and lazy.built and lazy.layers[0].kernel.shape == (7, 2)
    with_shape = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(6,))])
    assert with_shape.built and with_shape.output_shape == (None, 2)


def test_get_layer_and_errors():
    m = _func()
    assert [l.name for l in m.layers] == ["a", "b", "shared", "db", "cat", "out1", "out2"]
    assert m.get_layer("cat").name == "cat" and m.get_layer(index=2).name == "shared"
    with pytest.raises(ValueError, match="No such layer: zz"):
        m.get_layer("zz")
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        m.get_layer()
    with pytest.raises(ValueError, match="only has 7 layers"):
        m.get_layer(index=9)
    assert m.output_names == ["out1", "out2"] and m.name == "func"
    assert isinstance(m, tf.keras.Model) and type(m).__name__ == "Functional"


def test_functional_call_matches_numpy_with_shared_layer():
    a = tf.keras.Input((3,))
    b = tf.keras.Input((3,))
    shared = tf.keras.layers.Dense(2)
    out = tf.keras.layers.Add()([shared(a), shared(b)])
    m = tf.keras.Model(inputs=[a, b], outputs=out)
    assert len(m.weights) == 2 and len(shared._inbound_nodes) == 2
    xa, xb = np.random.rand(4, 3).astype("float32"), np.random.rand(4, 3).astype("float32")
    k, bias = shared.get_weights()
    np.testing.assert_allclose(m([xa, xb]).numpy(), xa @ k + xb @ k + 2 * bias, rtol=1e-5)
    m.compile("sgd", "mse")
    m.fit([xa, xb], np.zeros((4, 2), "float32"), verbose=0)


def test_nested_model_as_layer_and_weights_order():
    inner = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(4)])
    x = tf.keras.Input((3,))
    y = tf.keras.layers.Dense(1)(inner(x))
    m = tf.keras.Model(x, y)
    assert [tuple(w.shape) for w in m.weights] == [(3, 4), (4,), (4, 1), (1,)]
    data = np.random.rand(5, 3).astype("float32")
    k1, b1, k2, b2 = m.get_weights()
    np.testing.assert_allclose(m.predict(data, verbose=0), (data @ k1 + b1) @ k2 + b2,
                               rtol=1e-5)
    assert m.trainable_weights[0] is inner.layers[0].kernel
    inner.trainable = False
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2


def test_subclass_passing_inputs_outputs_is_functional():
    class Wrapped(tf.keras.Model):
        def __init__(self):
            x = tf.keras.Input((2,))
            super().__init__(x, tf.keras.layers.Dense(3)(x))
    w = Wrapped()
    assert w(np.ones((1, 2), "float32")).shape == (1, 3) and len(w.weights) == 2


def test_graph_errors():
    with pytest.raises(ValueError, match="KerasTensors"):
        tf.keras.Model(tf.keras.Input((2,)), np.ones(2))
    a, b = tf.keras.Input((2,)), tf.keras.Input((2,))
    out = tf.keras.layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        tf.keras.Model(a, out)


def test_save_is_a_later_task():
    # save_weights/load_weights are TF2 object checkpoints (tests/train/test_keras_weights.py).
    with pytest.raises(NotImplementedError, match="save"):
        _seq().save("x.keras")


def test_utils():
    np.testing.assert_array_equal(tf.keras.utils.to_categorical([[1], [0]], 3),
                                  np.eye(3)[[1, 0]])
    tf.keras.utils.set_random_seed(3)
    a = np.random.rand()
    tf.keras.utils.set_random_seed(3)
    assert np.random.rand() == a
    with pytest.raises(ValueError, match="integer"):
        tf.keras.utils.set_random_seed(1.5)
    assert tf.keras.models.Sequential is tf.keras.Sequential
    assert tf.keras.models.Model is tf.keras.Model
