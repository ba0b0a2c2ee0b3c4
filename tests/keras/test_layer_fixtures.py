"""Layer outputs (and some gradients) against TensorFlow/Keras 3, with TF's weights loaded
through `set_weights` (fixtures from tools/record_layer_fixtures.py)."""
import os

import numpy as np
import pytest

import featherflow as tf

L = tf.keras.layers
FIX = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_layers.npz"))
TOL = dict(rtol=2e-5, atol=2e-5)

CASES = {
    "dense": lambda: L.Dense(4, activation="relu"),
    "dense3d": lambda: L.Dense(3, activation="tanh"),
    "embedding": lambda: L.Embedding(6, 3),
    "conv2d": lambda: L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
    "conv2d_dil": lambda: L.Conv2D(2, (3, 2), dilation_rate=(2, 1)),
    "conv1d": lambda: L.Conv1D(3, 3, padding="same", strides=2),
    "maxpool": lambda: L.MaxPooling2D(pool_size=3, strides=2, padding="same"),
    "avgpool": lambda: L.AveragePooling2D(pool_size=2, padding="same"),
    "gap": lambda: L.GlobalAveragePooling2D(),
    "bn": lambda: L.BatchNormalization(momentum=0.9),
    "bn4d": lambda: L.BatchNormalization(axis=1),
    "ln": lambda: L.LayerNormalization(),
    "ln2": lambda: L.LayerNormalization(axis=(1, 2), center=False),
    "simple_rnn": lambda: L.SimpleRNN(4, return_sequences=True),
    "lstm": lambda: L.LSTM(4, return_sequences=True, return_state=True),
    "gru": lambda: L.GRU(4, return_state=True, go_backwards=True),
    "gru_nr": lambda: L.GRU(3, reset_after=False, return_sequences=True),
    "lstm_mask": lambda: L.LSTM(3, return_sequences=True),
    "mha": lambda: L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2),
    "mha_self": lambda: L.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=4),
}
EXTRA_KW = {"mha": {"return_attention_scores": True}, "mha_self": {"use_causal_mask": True}}


def _load(name):
    args = []
    while f"{name}/x{len(args)}" in FIX:
        args.append(FIX[f"{name}/x{len(args)}"])
    kwargs = {k.split("/kw_")[1]: FIX[k] for k in FIX.files if k.startswith(f"{name}/kw_")}
    kwargs.update(EXTRA_KW.get(name, {}))
    weights = [FIX[f"{name}/w{i}"] for i in range(int(FIX[f"{name}/nw"]))]
    outs = []
    while f"{name}/y{len(outs)}" in FIX:
        outs.append(FIX[f"{name}/y{len(outs)}"])
    return args, kwargs, weights, outs


def _setup(name):
    args, kwargs, weights, outs = _load(name)
    layer = CASES[name]()
    layer(*args, **kwargs)
    assert [tuple(v.shape) for v in layer.weights] == [w.shape for w in weights]
    layer.set_weights(weights)
    return layer, args, kwargs, outs


def _list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_inference_output_matches_tf(name):
    layer, args, kwargs, outs = _setup(name)
    got = _list(layer(*args, **kwargs))
    assert len(got) == len(outs)
    for g, want in zip(got, outs):
        assert g.dtype == tf.as_dtype(want.dtype)
        np.testing.assert_allclose(g.numpy(), want, **TOL)


TRAIN = sorted({k.split("/")[0] for k in FIX.files if k.endswith("/ytrain")})


@pytest.mark.parametrize("name", TRAIN)
def test_training_output_and_moving_statistics_match_tf(name):
    layer, args, kwargs, _ = _setup(name)
    y = layer(*args, training=True, **kwargs)
    np.testing.assert_allclose(y.numpy(), FIX[f"{name}/ytrain"], **TOL)
    for i, w in enumerate(layer.get_weights()):
        np.testing.assert_allclose(w, FIX[f"{name}/wafter{i}"], **TOL)
    np.testing.assert_allclose(layer(*args, **kwargs).numpy(), FIX[f"{name}/yafter"], **TOL)


GRADS = sorted({k.split("/")[0] for k in FIX.files if k.endswith("/g0")})


@pytest.mark.parametrize("name", GRADS)
def test_gradients_match_tf(name):
    layer, args, kwargs, _ = _setup(name)
    with tf.GradientTape() as tape:
        out = _list(layer(*args, **kwargs))[0]
        loss = tf.reduce_sum(out * out)
    grads = tape.gradient(loss, layer.trainable_weights)
    for i, g in enumerate(grads):
        assert g is not None
        np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), FIX[f"{name}/g{i}"],
                                   rtol=1e-4, atol=1e-4)
