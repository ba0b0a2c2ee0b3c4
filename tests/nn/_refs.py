"""Independent NumPy references for tf.nn (written from the math, not from featherflow)."""
import math

import numpy as np

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def f64(x):
    return np.asarray(x, dtype=np.float64)


def relu(x):
    return np.where(x > 0, x, 0)


def relu6(x):
    return np.clip(x, 0, 6)


def elu(x):
    x = f64(x)
    return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def selu(x):
    x = f64(x)
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1))


def gelu(x):
    x = f64(x)
    return np.vectorize(lambda v: 0.5 * v * math.erfc(-v / math.sqrt(2)))(x) if x.size else x


def gelu_tanh(x):
    x = f64(x)
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def leaky_relu(x, alpha=0.2):
    # TF's LeakyRelu attr `alpha` is a 32-bit float, whatever the features' dtype.
    x = f64(x)
    return np.where(x > 0, x, float(np.float32(alpha)) * x)


def softplus(x):
    x = f64(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softsign(x):
    x = f64(x)
    return x / (1 + np.abs(x))


def sigmoid(x):
    x = f64(x)
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def silu(x, beta=1.0):
    return f64(x) * sigmoid(beta * f64(x))


def log_softmax(x, axis=-1):
    x = f64(x)
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def softmax(x, axis=-1):
    return np.exp(log_softmax(x, axis))


def sigmoid_xent(labels, logits):
    x, z = f64(logits), f64(labels)
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def softmax_xent(labels, logits, axis=-1):
    return -np.sum(f64(labels) * log_softmax(logits, axis), axis=axis)


def sparse_softmax_xent(labels, logits):
    ls = log_softmax(logits, -1)
    return -np.take_along_axis(ls, np.asarray(labels)[..., None], -1)[..., 0]


def l2_loss(x):
    return np.sum(f64(x) ** 2) / 2


def l2_normalize(x, axis=None, eps=1e-12):
    x = f64(x)
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), eps))


def segment_reduce(data, ids, num, how, empty):
    data = np.asarray(data)
    out = np.full((num,) + data.shape[1:], empty, dtype=np.float64)
    for s in range(num):
        rows = data[np.asarray(ids) == s]
        if len(rows):
            out[s] = {"sum": np.sum, "max": np.max, "mean": np.mean}[how](rows, axis=0)
    return out
