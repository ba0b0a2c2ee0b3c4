"""The fixed cases shared by tools/record_nn_fixtures.py (run under TensorFlow) and the tests
(run under featherflow): `tf` is either module. Each case maps a name to f(tf, *inputs)."""
import numpy as np


def inputs():
    rng = np.random.default_rng(2024)
    x = rng.uniform(-4, 4, (3, 5))
    x[0, :3] = [1e4, -1e4, 0.0]
    z = rng.uniform(0, 1, (3, 5))
    return {"x": x, "probs": z / z.sum(-1, keepdims=True), "z": z,
            "labels": np.array([4, 0, 2]), "seg": rng.uniform(-3, 3, (5, 2)),
            "bias": rng.uniform(-1, 1, (5,))}


CASES = {
    "relu": (lambda tf, x: tf.nn.relu(x), ["x"]),
    "relu6": (lambda tf, x: tf.nn.relu6(x), ["x"]),
    "elu": (lambda tf, x: tf.nn.elu(x), ["x"]),
    "selu": (lambda tf, x: tf.nn.selu(x), ["x"]),
    "gelu": (lambda tf, x: tf.nn.gelu(x), ["x"]),
    "gelu_tanh": (lambda tf, x: tf.nn.gelu(x, approximate=True), ["x"]),
    "leaky_relu": (lambda tf, x: tf.nn.leaky_relu(x, alpha=0.1), ["x"]),
    "softplus": (lambda tf, x: tf.nn.softplus(x), ["x"]),
    "softsign": (lambda tf, x: tf.nn.softsign(x), ["x"]),
    "silu": (lambda tf, x: tf.nn.silu(x, beta=1.5), ["x"]),
    "softmax": (lambda tf, x: tf.nn.softmax(x), ["x"]),
    "softmax_axis0": (lambda tf, x: tf.nn.softmax(x, axis=0), ["x"]),
    "log_softmax": (lambda tf, x: tf.nn.log_softmax(x), ["x"]),
    "sigmoid_xent": (lambda tf, z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z,
                                                                            logits=x),
                     ["z", "x"]),
    "softmax_xent": (lambda tf, p, x: tf.nn.softmax_cross_entropy_with_logits(p, x),
                     ["probs", "x"]),
    "sparse_xent": (lambda tf, x, labels: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels, x), ["x", "labels"]),
    "l2_loss": (lambda tf, x: tf.nn.l2_loss(x / 100.0), ["x"]),
    "l2_normalize": (lambda tf, x: tf.nn.l2_normalize(x, axis=1), ["x"]),
    "bias_add": (lambda tf, x, b: tf.nn.bias_add(x, b), ["x", "bias"]),
    "moments_mean": (lambda tf, s: tf.nn.moments(s, [0])[0], ["seg"]),
    "moments_var": (lambda tf, s: tf.nn.moments(s, [0])[1], ["seg"]),
    "batch_norm": (lambda tf, x, b: tf.nn.batch_normalization(x, b, b * b + 0.5, b, b, 1e-3),
                   ["x", "bias"]),
    "segment_sum": (lambda tf, s: tf.math.segment_sum(s, [0, 0, 1, 3, 3]), ["seg"]),
    "segment_mean": (lambda tf, s: tf.math.segment_mean(s, [0, 0, 1, 3, 3]), ["seg"]),
    "segment_max": (lambda tf, s: tf.math.segment_max(s, [0, 0, 1, 3, 3]), ["seg"]),
    "unsorted_segment_sum": (lambda tf, s: tf.math.unsorted_segment_sum(
        s, [3, 0, -1, 2, 1], 4), ["seg"]),
    "unsorted_segment_mean": (lambda tf, s: tf.math.unsorted_segment_mean(
        s, [3, 0, -1, 2, 1], 4), ["seg"]),
    "unsorted_segment_max": (lambda tf, s: tf.math.unsorted_segment_max(
        s, [3, 0, -1, 2, 1], 4), ["seg"]),
}


def run(tf, name, dtype):
    """(output, [gradient of sum(output * w) per float input]) as NumPy arrays."""
    f, names = CASES[name]
    data = inputs()
    args = [tf.constant(data[n]) if data[n].dtype.kind == "i" else
            tf.constant(data[n], dtype=dtype) for n in names]
    floats = [a for a in args if a.dtype.is_floating]
    with tf.GradientTape() as tape:
        tape.watch(floats)
        y = f(tf, *args)
        w = tf.constant(np.linspace(-1, 1, int(np.prod(y.shape))).reshape(y.shape), y.dtype)
        loss = tf.reduce_sum(y * w)
    grads = tape.gradient(loss, floats)
    return y.numpy(), [np.asarray(tf.convert_to_tensor(g).numpy()) for g in grads]
