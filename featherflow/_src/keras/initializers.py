"""tf.keras.initializers (Keras 3): callables `init(shape, dtype=None)` returning a tensor.

A seeded initializer is deterministic: it draws from featherflow's stateless random ops with
`seed=[seed, 0]`, so every call gives the same values (as Keras 3 promises). An unseeded one draws
from featherflow's stateful `tf.random` ops (reproducible under `tf.random.set_seed`). The
distributions are Keras'; the bit streams are featherflow's, not TensorFlow's.
"""
from __future__ import annotations

import math

import numpy as np

from featherflow._src.keras import _serial
from featherflow._src.framework.public import tf as _tf

_MODULE = "keras.initializers"


def _float_dtype(dtype, who):
    tf = _tf()
    dtype = tf.as_dtype(dtype or "float32")
    if not dtype.is_floating:
        raise ValueError(f"{who} only supports floating point dtypes. Received: dtype={dtype.name}")
    return dtype


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, Keras' rule: the receptive field is every axis but
    the last two."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype=None)` and `get_config`."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"Initializer {type(self).__name__} does not implement "
                                  "__call__().")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())


class Zeros(Initializer):
    """>>> import featherflow as tf
    >>> tf.keras.initializers.Zeros()((2,)).numpy()
    array([0., 0.], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        return _tf().zeros(tuple(shape), dtype=dtype or "float32")


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return _tf().ones(tuple(shape), dtype=dtype or "float32")


class Constant(Initializer):
    """Fills with `value` (a scalar or anything broadcastable to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        tf = _tf()
        value = tf.cast(tf.convert_to_tensor(self.value), dtype or "float32")
        return tf.broadcast_to(value, tuple(shape))

    def get_config(self):
        return {"value": self.value}


class _Random(Initializer):
    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` argument should be an instance of `keras.random.SeedGenerator"
                             f"()` or an integer. Received: seed={seed}")
        self.seed = seed

    def _normal(self, shape, mean, stddev, dtype):
        tf = _tf()
        if self.seed is None:
            return tf.random.normal(shape, mean, stddev, dtype=dtype)
        return tf.random.stateless_normal(shape, [self.seed, 0], mean, stddev, dtype=dtype)

    def _truncated(self, shape, mean, stddev, dtype):
        tf = _tf()
        if self.seed is None:
            return tf.random.truncated_normal(shape, mean, stddev, dtype=dtype)
        return tf.random.stateless_truncated_normal(shape, [self.seed, 0], mean, stddev,
                                                    dtype=dtype)

    def _uniform(self, shape, minval, maxval, dtype):
        tf = _tf()
        if self.seed is None:
            return tf.random.uniform(shape, minval, maxval, dtype=dtype)
        return tf.random.stateless_uniform(shape, [self.seed, 0], minval, maxval, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return self._normal(tuple(shape), self.mean, self.stddev,
                            _float_dtype(dtype, "RandomNormal"))

    def get_config(self):
        return {"seed": self.seed, "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """Normal values more than two standard deviations from the mean are redrawn."""

    def __call__(self, shape, dtype=None):
        return self._truncated(tuple(shape), self.mean, self.stddev,
                               _float_dtype(dtype, "TruncatedNormal"))


class RandomUniform(_Random):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return self._uniform(tuple(shape), self.minval, self.maxval,
                             _float_dtype(dtype, "RandomUniform"))

    def get_config(self):
        return {"seed": self.seed, "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(_Random):
    """Samples with variance `scale / n`, n = fan_in, fan_out or their mean (`mode`).

    >>> import featherflow as tf
    >>> w = tf.keras.initializers.VarianceScaling(seed=1)((4, 3))
    >>> w.shape
    TensorShape([4, 3])
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. "
                             f"Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: expected one of {list(self._MODES)}. "
                             f"Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTS:
            raise ValueError(f"Invalid `distribution` argument: expected one of "
                             f"{list(self._DISTS)}. Received: distribution={distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes

    def __call__(self, shape, dtype=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            return self._truncated(shape, 0.0, math.sqrt(var) / 0.87962566103423978, dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(var), dtype)
        limit = math.sqrt(3.0 * var)
        return self._uniform(shape, -limit, limit, dtype)

    def get_config(self):
        return {"seed": self.seed, "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    doc = f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Random):
    """An orthogonal matrix (of the shape flattened to 2-D) times `gain`."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        tf = _tf()
        dtype = _float_dtype(dtype, "Orthogonal")
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self._normal((max(rows, cols), min(rows, cols)), 0.0, 1.0, tf.float64)
        # NOTE: featherflow has no QR op yet; the factorisation of this one host matrix is done
        # in NumPy (initialisation only, never on a gradient path).
        q, r = np.linalg.qr(flat.numpy())
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return tf.reshape(tf.constant(self.gain * q, dtype=dtype), shape)

    def get_config(self):
        return {"seed": self.seed, "gain": self.gain}


class Identity(Initializer):
    """A 2-D identity matrix (rectangular allowed) times `gain`."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        tf = _tf()
        dtype = _float_dtype(dtype, "Identity")
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return tf.eye(int(shape[0]), int(shape[1]), dtype=dtype) * self.gain

    def get_config(self):
        return {"gain": self.gain}


OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity

_CLASSES = {c.__name__: c for c in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
    Identity)}
_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
    "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity, "OrthogonalInitializer": Orthogonal,
    "IdentityInitializer": Identity}
_TABLE = {**_CLASSES, **_ALIASES}


def serialize(initializer):
    return _serial.serialize(initializer, _MODULE)


def deserialize(config, custom_objects=None):
    table = {**_TABLE, **(custom_objects or {})}
    return _serial.lookup(config, table, "initializer")


def get(identifier):
    """An initializer from a name, config dict, instance or callable.

    >>> import featherflow as tf
    >>> type(tf.keras.initializers.get("he_normal")).__name__
    'HeNormal'
    """
    return _serial.lookup(identifier, _TABLE, "initializer")
