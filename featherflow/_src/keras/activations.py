"""tf.keras.activations (Keras 3), written with `tf.nn` and `tf.math` ops."""
from __future__ import annotations

import weakref

from featherflow._src.framework.public import tf as _tf

# NOTE: Keras 3 caches the logits on the output of `softmax`/`sigmoid` (`output._keras_logits`)
# and its cross-entropies then compute the loss from those logits: no clipping of the
# probabilities at 1e-7 (a loss above 16.1 is possible, as in TensorFlow's `fit`) and a cheaper
# gradient. EagerTensor has no __dict__, so the cache is a side table keyed by id, whose entry is
# dropped when the output tensor dies.
_LOGITS = {}


def _cache_logits(out, logits):
    key = id(out)
    _LOGITS[key] = (weakref.ref(out, lambda _, key=key: _LOGITS.pop(key, None)), logits)
    return out


def keras_logits(output):
    """The logits cached on a `softmax`/`sigmoid` output, or None."""
    entry = _LOGITS.get(id(output))
    if entry is not None and entry[0]() is output:
        return entry[1]
    return None


def _x(x):
    return _tf().convert_to_tensor(x)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), with an optional slope below `threshold` and a cap at `max_value`.

    >>> import featherflow as tf
    >>> tf.keras.activations.relu([-1.0, 2.0]).numpy()
    array([0., 2.], dtype=float32)
    """
    tf = _tf()
    x = _x(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return tf.nn.relu(x)
    if threshold != 0.0:
        pos = tf.where(x > threshold, x, tf.zeros_like(x))
    else:
        pos = tf.nn.relu(x)
    if max_value is not None:
        pos = tf.minimum(pos, tf.cast(max_value, x.dtype))
    if negative_slope != 0.0:
        neg = tf.where(x < threshold, (x - threshold) * negative_slope, tf.zeros_like(x))
        pos = pos + neg
    return pos


def leaky_relu(x, negative_slope=0.2):
    return _tf().nn.leaky_relu(_x(x), alpha=negative_slope)


def relu6(x):
    return _tf().nn.relu6(_x(x))


def elu(x, alpha=1.0):
    tf = _tf()
    x = _x(x)
    e = tf.nn.elu(x)
    return e if alpha == 1.0 else tf.where(x > 0, e, e * alpha)


def selu(x):
    return _tf().nn.selu(_x(x))


def gelu(x, approximate=False):
    return _tf().nn.gelu(_x(x), approximate=approximate)


def silu(x):
    return _tf().nn.silu(_x(x))


swish = silu


def sigmoid(x):
    x = _x(x)
    return _cache_logits(_tf().nn.sigmoid(x), x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3's definition)."""
    return _tf().nn.relu6(_x(x) + 3.0) / 6.0


def tanh(x):
    return _tf().nn.tanh(_x(x))


def softplus(x):
    return _tf().nn.softplus(_x(x))


def softsign(x):
    return _tf().nn.softsign(_x(x))


def exponential(x):
    return _tf().exp(_x(x))


def linear(x):
    """The identity: returns `x` unchanged."""
    return x



def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (an int or a tuple of ints)."""
    tf = _tf()
    x = _x(x)
    if isinstance(axis, int):
        return _cache_logits(tf.nn.softmax(x, axis=axis), x)
    m = tf.reduce_max(x, axis=axis, keepdims=True)
    e = tf.exp(x - m)
    return _cache_logits(e / tf.reduce_sum(e, axis=axis, keepdims=True), x)


def log_softmax(x, axis=-1):
    tf = _tf()
    x = _x(x)
    if isinstance(axis, int):
        return tf.nn.log_softmax(x, axis=axis)
    return x - tf.reduce_logsumexp(x, axis=axis, keepdims=True)


_ALL = {f.__name__: f for f in (
    relu, leaky_relu, relu6, elu, selu, gelu, silu, sigmoid, hard_sigmoid, tanh, softplus,
    softsign, exponential, linear, softmax, log_softmax)}
_ALL["swish"] = silu


def serialize(activation):
    """The activation's name ("relu")."""
    if activation is None:
        return None
    name = getattr(activation, "__name__", None)
    if _ALL.get(name) is activation:
        return name
    if hasattr(activation, "get_config"):
        return {"module": type(activation).__module__, "class_name": type(activation).__name__,
                "config": activation.get_config(), "registered_name": None}
    raise ValueError(f"Could not serialize activation {activation!r}: register it or pass it "
                     "as a callable object.")


def deserialize(config, custom_objects=None):
    if isinstance(config, str):
        fn = {**_ALL, **(custom_objects or {})}.get(config)
        if fn is None:
            raise ValueError(f"Could not interpret activation function identifier: {config}")
        return fn
    if isinstance(config, dict):
        return deserialize(config.get("class_name") or config.get("config"), custom_objects)
    raise ValueError(f"Could not interpret activation function identifier: {config}")


def get(identifier):
    """An activation from a name, dict or callable; None gives `linear`.

    >>> import featherflow as tf
    >>> tf.keras.activations.get("relu") is tf.keras.activations.relu
    True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")
