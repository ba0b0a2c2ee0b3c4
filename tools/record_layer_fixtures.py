"""Records Keras 3 (TensorFlow 2.21) layer outputs for tests/keras: run with /work/tfenv/bin/python.

For each case: the inputs, the layer's weights in Keras' order (get_weights), its outputs in
inference mode (and training mode where it differs) and, for some, gradients of
sum(output ** 2) with respect to the weights. Written to tests/fixtures/keras_layers.npz.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_layers.npz")
rng = np.random.default_rng(0)
tf.keras.utils.set_random_seed(0)
L = tf.keras.layers
data = {}


def f32(*shape):
    return rng.standard_normal(shape).astype("float32")


def record(name, layer, args, kwargs=None, train=False, grads=False, extra=None):
    kwargs = kwargs or {}
    out = layer(*args, **kwargs)          # builds
    for i, a in enumerate(args):
        data[f"{name}/x{i}"] = np.asarray(a)
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray):
            data[f"{name}/kw_{k}"] = v
    ws = layer.get_weights()
    for i, w in enumerate(ws):
        data[f"{name}/w{i}"] = w
    data[f"{name}/nw"] = np.array(len(ws))
    outs = out if isinstance(out, (list, tuple)) else [out]
    for i, o in enumerate(outs):
        data[f"{name}/y{i}"] = np.asarray(o)
    if grads:
        with tf.GradientTape() as tape:
            o = layer(*args, **kwargs)
            o = o[0] if isinstance(o, (list, tuple)) else o
            loss = tf.reduce_sum(o * o)
        for i, g in enumerate(tape.gradient(loss, layer.trainable_weights)):
            data[f"{name}/g{i}"] = np.asarray(tf.convert_to_tensor(g))
    if train:
        o = layer(*args, training=True, **kwargs)
        data[f"{name}/ytrain"] = np.asarray(o)
        for i, w in enumerate(layer.get_weights()):
            data[f"{name}/wafter{i}"] = w
        data[f"{name}/yafter"] = np.asarray(layer(*args, **kwargs))
    if extra:
        extra(name, layer)


record("dense", L.Dense(4, activation="relu"), [f32(3, 5)], grads=True)
record("dense3d", L.Dense(3, activation="tanh"), [f32(2, 3, 4)])
record("embedding", L.Embedding(6, 3), [np.array([[1, 5, 0], [2, 2, 4]], "int32")], grads=True)
record("conv2d", L.Conv2D(4, 3, strides=2, padding="same", activation="relu"), [f32(2, 7, 7, 3)],
       grads=True)
record("conv2d_dil", L.Conv2D(2, (3, 2), dilation_rate=(2, 1)), [f32(1, 8, 6, 2)])
record("conv1d", L.Conv1D(3, 3, padding="same", strides=2), [f32(2, 7, 2)])
record("maxpool", L.MaxPooling2D(pool_size=3, strides=2, padding="same"), [f32(2, 7, 7, 2)])
record("avgpool", L.AveragePooling2D(pool_size=2, padding="same"), [f32(2, 5, 5, 2)])
record("gap", L.GlobalAveragePooling2D(), [f32(2, 3, 4, 5)])
bn = L.BatchNormalization(momentum=0.9)
record("bn", bn, [f32(6, 3) * 3 + 1], train=True)
record("bn4d", L.BatchNormalization(axis=1), [f32(2, 3, 4, 4)], train=True)
record("ln", L.LayerNormalization(), [f32(3, 4, 5)], grads=True)
record("ln2", L.LayerNormalization(axis=(1, 2), center=False), [f32(3, 4, 5)])
record("simple_rnn", L.SimpleRNN(4, return_sequences=True), [f32(2, 5, 3)])
record("lstm", L.LSTM(4, return_sequences=True, return_state=True), [f32(2, 5, 3)],
       grads=True)
record("gru", L.GRU(4, return_state=True, go_backwards=True), [f32(2, 5, 3)], grads=True)
record("gru_nr", L.GRU(3, reset_after=False, return_sequences=True), [f32(2, 4, 3)])
mask = np.array([[True, True, True, False, False], [True, True, True, True, True]])
record("lstm_mask", L.LSTM(3, return_sequences=True), [f32(2, 5, 3)], {"mask": mask})
am = np.ones((2, 4, 6), bool)
am[0, :, 4:] = False
am[1, 2:, :1] = False
record("mha", L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2), [f32(2, 4, 5),
                                                                           f32(2, 6, 7)],
       {"attention_mask": am, "return_attention_scores": True})
xs = f32(2, 3, 5)
record("mha_self", L.MultiHeadAttention(num_heads=3, key_dim=2, output_shape=4), [xs, xs],
       {"use_causal_mask": True}, grads=True)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
np.savez_compressed(OUT, **data)
print(OUT, os.path.getsize(OUT), "bytes,", len(data), "arrays")
