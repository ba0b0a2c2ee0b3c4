"""tf.random: seeds, stateful and stateless sampling ops, and tf.random.Generator.

Seeds follow TensorFlow's rules: with a global seed (tf.random.set_seed) every op without its own
seed draws an op seed from a generator keyed by the global seed, so the same program with the same
seed gives the same numbers; an op with `seed=` but no global seed uses TF's default global seed;
with neither, numbers are nondeterministic. Calling the same stateful op (same seed pair) again
continues its sequence, and set_seed restarts all sequences.
"""
from __future__ import annotations

import random as _pyrandom
import secrets

import numpy as np

from featherflow._src.api._args import tensor
from featherflow._src.framework import context, dtypes as _dt, errors
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import random as R

_execute = dispatch.execute
_GLOBAL = context.GLOBAL
_DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1
_M64 = (1 << 64) - 1

_state = {"rng": None, "calls": {}}  # op-seed generator and per-(seed, seed2) call counts

_UNIFORM_DTYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)
_FLOAT_DTYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)


# ---------------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------------
def set_seed(seed):
    """Sets the global random seed and restarts every op's random sequence.

    >>> import featherflow as tf
    >>> tf.random.set_seed(5); a = tf.random.uniform([2])
    >>> tf.random.set_seed(5); b = tf.random.uniform([2])
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    with _GLOBAL.lock:
        _GLOBAL.global_seed = seed
        _GLOBAL.op_seed_counter = 0
        _state["rng"] = None if seed is None else _pyrandom.Random(seed)
        _state["calls"] = {}


def get_seed(op_seed):
    """(global seed, op seed) for an op, as tf.compat.v1.random.get_seed; (None, None) when
    neither is set."""
    global_seed = _GLOBAL.global_seed
    if global_seed is not None:
        if op_seed is None:
            with _GLOBAL.lock:
                rng = _state["rng"]
                if rng is None:
                    rng = _state["rng"] = _pyrandom.Random(global_seed)
                op_seed = rng.randint(0, _MAXINT32)
                _GLOBAL.op_seed_counter += 1
        seeds = (int(global_seed), int(op_seed))
    elif op_seed is not None:
        seeds = (_DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        return None, None
    if seeds == (0, 0):  # (0, 0) means "nondeterministic" to TF's kernels
        return 0, _MAXINT32
    return seeds


def _key_counter(seed):
    """The Philox key/counter attrs of the next call of a stateful op with op seed `seed`."""
    s1, s2 = get_seed(seed)
    if s1 is None:
        return (secrets.randbits(64), secrets.randbits(64)), (0, 0)
    pair = (s1 & _M64, s2 & _M64)
    with _GLOBAL.lock:
        n = _state["calls"].get(pair, 0)
        _state["calls"][pair] = n + 1
    return pair, (n, 0)


# ---------------------------------------------------------------------------------------------
# Argument helpers
# ---------------------------------------------------------------------------------------------
def _shape(shape, op_name) -> tuple:
    if is_tensor(shape):
        t = tensor(shape)
        if t._dtype not in (_dt.int32, _dt.int64):
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'T' of {t._dtype.name} is not in the list of allowed "
                f"values: int32, int64 [Op:{op_name}]")
        return tuple(int(d) for d in np.asarray(t._host()).reshape(-1))
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, (int, np.integer)):
        shape = [shape]
    out = []
    for d in shape:
        if isinstance(d, (bool, float, np.floating)) or d is None:
            kind = "float" if isinstance(d, (float, np.floating)) else type(d).__name__
            raise errors.InvalidArgumentError(
                None, None, f"Value for attr 'T' of {kind} is not in the list of allowed values: "
                f"int32, int64 [Op:{op_name}]")
        out.append(int(d))
    return tuple(out)


def _dtype(dtype, allowed):
    d = _dt.as_dtype(dtype)
    if d not in allowed:
        names = ", ".join(f"tf.{a.name}" for a in allowed)
        raise ValueError(f"Argument `dtype` got invalid value {d!r}. Accepted dtypes are "
                         f"({names}).")
    return d


def _scale_shift(rnd, scale, shift, dtype, default_scale, default_shift):
    """rnd * scale + shift with public ops, skipped where they are the identity."""
    from featherflow._src.api.math_ops import add, multiply  # noqa: PLC0415

    if not (type(scale) in (int, float) and scale == default_scale):
        rnd = multiply(rnd, tensor(scale, dtype) if not is_tensor(scale) else scale)
    if not (type(shift) in (int, float) and shift == default_shift):
        rnd = add(rnd, tensor(shift, dtype) if not is_tensor(shift) else shift)
    return rnd


def _check_float(value, dtype):
    """TF converts mean/stddev/minval to `dtype` first (TypeError for an int dtype)."""
    if not is_tensor(value):
        tensor(value, dtype)


def _int_bounds(minval, maxval, dtype, stateless):
    if minval is None or maxval is None:
        if stateless:
            raise ValueError(f"For integer `dtype` argument {dtype!r}, argument `minval` and "
                             f"`maxval` must be both None or not None. Got `minval`={minval} "
                             f"and `maxval`={maxval}.")
        raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
    return tensor(minval, dtype), tensor(maxval, dtype)


# ---------------------------------------------------------------------------------------------
# Stateful sampling
# ---------------------------------------------------------------------------------------------
def normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """Samples from a normal distribution.

    >>> import featherflow as tf
    >>> tf.random.normal([2, 3], seed=1).shape
    TensorShape([2, 3])
    """
    dtype = _dtype(dtype, _FLOAT_DTYPES) if _dt.as_dtype(dtype).is_floating else \
        _dt.as_dtype(dtype)
    _check_float(mean, dtype)
    _check_float(stddev, dtype)
    shape = _shape(shape, "RandomStandardNormal")
    key, counter = _key_counter(seed)
    rnd = _execute(R.random_standard_normal, (), dict(shape=shape, dtype=dtype._np, key=key,
                                                      counter=counter))
    return _scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    """Samples from a normal distribution truncated at two standard deviations."""
    dtype = _dt.as_dtype(dtype)
    _check_float(mean, dtype)
    _check_float(stddev, dtype)
    dtype = _dtype(dtype, _FLOAT_DTYPES)
    shape = _shape(shape, "TruncatedNormal")
    key, counter = _key_counter(seed)
    rnd = _execute(R.truncated_normal, (), dict(shape=shape, dtype=dtype._np, key=key,
                                                counter=counter))
    return _scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)


def uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None):
    """Samples uniformly from [minval, maxval); integer dtypes need `maxval`.

    >>> import featherflow as tf
    >>> x = tf.random.uniform([4], maxval=10, dtype=tf.int32, seed=3)
    >>> x.dtype, bool(((x.numpy() >= 0) & (x.numpy() < 10)).all())
    (tf.int32, True)
    """
    dtype = _dtype(dtype, _UNIFORM_DTYPES)
    shape_t = _shape(shape, "RandomUniformInt" if dtype.is_integer else "RandomUniform")
    if dtype.is_integer:
        lo, hi = _int_bounds(minval, maxval, dtype, stateless=False)
        key, counter = _key_counter(seed)
        return _execute(R.random_uniform_int, (lo, hi), dict(shape=shape_t, key=key,
                                                             counter=counter))
    maxval = 1 if maxval is None else maxval
    _check_float(minval, dtype)
    _check_float(maxval, dtype)
    key, counter = _key_counter(seed)
    rnd = _execute(R.random_uniform, (), dict(shape=shape_t, dtype=dtype._np, key=key,
                                              counter=counter))
    return _span(rnd, minval, maxval, dtype)


def _span(rnd, minval, maxval, dtype):
    if type(minval) in (int, float) and type(maxval) in (int, float):
        return _scale_shift(rnd, maxval - minval, minval, dtype, 1, 0)
    from featherflow._src.api.math_ops import subtract  # noqa: PLC0415

    lo = minval if is_tensor(minval) else tensor(minval, dtype)
    hi = maxval if is_tensor(maxval) else tensor(maxval, dtype)
    return _scale_shift(rnd, subtract(hi, lo), lo, dtype, 1, 0)


def shuffle(value, seed=None, name=None):
    """Randomly shuffles a tensor along its first dimension."""
    value = tensor(value)
    key, counter = _key_counter(seed)
    return _execute(R.random_shuffle, (value,), dict(key=key, counter=counter))


def _logits(logits, num_samples, dtype):
    dtype = _dt.int64 if dtype is None else _dtype(dtype, (_dt.int32, _dt.int64))
    logits = tensor(logits)
    return logits, int(num_samples), dtype


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Draws `num_samples` class indices per row of `logits` ([batch, classes]).

    >>> import featherflow as tf
    >>> tf.random.categorical([[0.0, 0.0]], 5, seed=1).dtype
    tf.int64
    """
    logits, num_samples, dtype = _logits(logits, num_samples, dtype)
    key, counter = _key_counter(seed)
    return _execute(R.multinomial, (logits,), dict(num_samples=num_samples,
                                                   output_dtype=dtype._np, key=key,
                                                   counter=counter))


# ---------------------------------------------------------------------------------------------
# Stateless sampling
# ---------------------------------------------------------------------------------------------
def _seed(seed):
    s = tensor(seed) if is_tensor(seed) else tensor(seed)
    if s._dtype not in (_dt.int32, _dt.int64):
        raise errors.InvalidArgumentError(
            None, None, f"Value for attr 'Tseed' of {s._dtype.name} is not in the list of allowed "
            "values: int32, int64 [Op:StatelessRandomGetKeyCounter]")
    if tuple(s.shape.as_list()) != (2,):
        raise errors.InvalidArgumentError(
            None, None, f"seed must have shape [2], not {s.shape.as_list()} "
            "[Op:StatelessRandomGetKeyCounter]")
    return s


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                     alg="auto_select"):
    """Deterministic normal samples: the same `seed` ([2] ints) gives the same numbers.

    >>> import featherflow as tf
    >>> a = tf.random.stateless_normal([3], seed=[1, 2])
    >>> b = tf.random.stateless_normal([3], seed=[1, 2])
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    dtype = _dtype(dtype, _FLOAT_DTYPES)
    shape = _shape(shape, "StatelessRandomNormalV2")
    rnd = _execute(R.stateless_random_normal, (_seed(seed),), dict(shape=shape, dtype=dtype._np))
    return _scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None,
                               alg="auto_select"):
    """Deterministic truncated-normal samples keyed by `seed`."""
    dtype = _dtype(dtype, _FLOAT_DTYPES)
    shape = _shape(shape, "StatelessTruncatedNormalV2")
    rnd = _execute(R.stateless_truncated_normal, (_seed(seed),),
                   dict(shape=shape, dtype=dtype._np))
    return _scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)


_STATELESS_UNIFORM = _UNIFORM_DTYPES + (_dt.uint32, _dt.uint64)


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=_dt.float32, name=None,
                      alg="auto_select"):
    """Deterministic uniform samples keyed by `seed`; for integer dtypes, minval and maxval are
    both given (range [minval, maxval)) or both None (the dtype's full range)."""
    dtype = _dtype(dtype, _STATELESS_UNIFORM)
    shape = _shape(shape, "StatelessRandomUniformV2")
    s = _seed(seed)
    if dtype.is_integer:
        if minval is None and maxval is None:
            return _execute(R.stateless_random_uniform_full_int, (s,),
                            dict(shape=shape, dtype=dtype._np))
        if dtype in (_dt.uint32, _dt.uint64):
            _dtype(dtype, _UNIFORM_DTYPES)
        lo, hi = _int_bounds(minval, maxval, dtype, stateless=True)
        return _execute(R.stateless_random_uniform_int, (s, lo, hi), dict(shape=shape))
    if dtype in (_dt.uint32, _dt.uint64):
        _dtype(dtype, _UNIFORM_DTYPES)
    maxval = 1 if maxval is None else maxval
    rnd = _execute(R.stateless_random_uniform, (s,), dict(shape=shape, dtype=dtype._np))
    return _span(rnd, minval, maxval, dtype)


def stateless_categorical(logits, num_samples, seed, dtype=_dt.int64, name=None):
    """Deterministic categorical samples keyed by `seed`."""
    logits, num_samples, dtype = _logits(logits, num_samples, dtype)
    return _execute(R.stateless_multinomial, (logits, _seed(seed)),
                    dict(num_samples=num_samples, output_dtype=dtype._np))


