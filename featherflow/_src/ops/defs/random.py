"""Random-number primitives: stateful (key/counter chosen by the caller) and stateless (seed input).

Numbers come from NumPy's counter-based Philox4x64 keyed by two 64-bit words, so one key and
counter give the same numbers on every backend: kernels draw on the host and then place the
result with `xp.asarray`. A stateful op's `key`/`counter` attrs are picked by the public function
(global/op seeds, tf.random.Generator state), which keeps every kernel a pure function.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.ops.registry import FLOATS, INDEX, REAL, primitive

_M64 = (1 << 64) - 1
_FLOAT_OUT = (np.float32, np.float64)


def philox(key, counter=(0, 0)) -> np.random.Generator:
    """A NumPy Generator over Philox keyed by two words; `counter` picks a disjoint stream.

    NOTE: the caller's counter goes into the high counter words and NumPy increments the low
    ones, so streams of distinct counters never overlap (up to 2**128 blocks per call)."""
    bits = np.random.Philox(counter=[0, 0, int(counter[0]) & _M64, int(counter[1]) & _M64],
                            key=[int(key[0]) & _M64, int(key[1]) & _M64])
    return np.random.Generator(bits)


def _check_shape(shape):
    for d in shape:
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0")


def _place(xp, host, dtype):
    host = np.asarray(host).astype(dtype, copy=False)
    if xp is np:
        return host[()] if host.ndim == 0 else host
    return xp.asarray(host)


def _normal(g, shape, dtype):
    work = np.float64 if np.dtype(dtype) == np.float64 else np.float32
    return g.standard_normal(size=shape, dtype=work)


def _uniform(g, shape, dtype):
    dtype = np.dtype(dtype)
    work = np.float64 if dtype == np.float64 else np.float32
    u = np.asarray(g.random(size=shape, dtype=work)).astype(dtype)
    if dtype not in _FLOAT_OUT:
        # Rounding to a narrow float can reach 1.0; TF's range is [0, 1).
        below_one = dtype.type(1.0 - float(ml_dtypes.finfo(dtype).epsneg))
        u = np.minimum(u, below_one)
    return u


def _truncated(g, shape, dtype):
    z = np.asarray(_normal(g, shape, dtype), dtype=np.float64)
    bad = np.abs(z) > 2.0
    while bad.any():  # resample the tails: TF's truncation at two standard deviations
        z[bad] = g.standard_normal(size=int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z


def _full_int(g, shape, dtype):
    info = np.iinfo(dtype)
    return g.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def _ints(g, shape, lo, hi, dtype):
    lo, hi = int(np.asarray(lo).tolist()), int(np.asarray(hi).tolist())
    if lo >= hi:
        raise ValueError(f"Need minval < maxval, got {lo} >= {hi}")
    return g.integers(lo, hi, size=shape, dtype=dtype)


def _categorical(xp, g, logits, num_samples, output_dtype):
    shape = tuple(logits.shape)
    if len(shape) != 2:
        raise ValueError(f"logits should be a matrix, got shape {list(shape)}")
    if shape[1] <= 0:
        raise ValueError(f"num_classes should be positive, got {shape[1]}")
    if num_samples < 0:
        raise ValueError(f"num_samples should be nonnegative, got {num_samples}")
    # Gumbel-max: argmax(logits + Gumbel noise) samples the softmax distribution.
    noise = g.gumbel(size=(shape[0], num_samples, shape[1]))
    work = xp.asarray(logits).astype(xp.float64)[:, None, :] + xp.asarray(noise)
    out = xp.argmax(work, axis=-1).astype(output_dtype)
    return out


def _seed_key(seed):
    s = np.asarray(seed).tolist() if not hasattr(seed, "get") else seed.get().tolist()
    if not isinstance(s, list) or len(s) != 2:
        raise ValueError(f"seed must have shape [2], not {list(np.shape(s))}")
    return s


# ---------------------------------------------------------------------------------------------
# Stateful ops (key/counter attrs)
# ---------------------------------------------------------------------------------------------
@primitive("RandomStandardNormal", differentiable=False, stateful=True)
def random_standard_normal(xp, *, shape, dtype, key, counter):
    _check_shape(shape)
    return _place(xp, _normal(philox(key, counter), shape, dtype), dtype)


@primitive("RandomUniform", differentiable=False, stateful=True)
def random_uniform(xp, *, shape, dtype, key, counter):
    _check_shape(shape)
    return _place(xp, _uniform(philox(key, counter), shape, dtype), dtype)


@primitive("RandomUniformInt", dtypes=INDEX, differentiable=False, stateful=True,
           out_dtype="same")
def random_uniform_int(xp, minval, maxval, *, shape, key, counter):
    _check_shape(shape)
    dtype = np.dtype(minval.dtype)
    return _place(xp, _ints(philox(key, counter), shape, _host(minval), _host(maxval), dtype),
                  dtype)


@primitive("TruncatedNormal", differentiable=False, stateful=True)
def truncated_normal(xp, *, shape, dtype, key, counter):
    _check_shape(shape)
    return _place(xp, _truncated(philox(key, counter), shape, dtype), dtype)


@primitive("StatefulUniformFullInt", differentiable=False, stateful=True)
def stateful_uniform_full_int(xp, *, shape, dtype, key, counter):
    _check_shape(shape)
    return _place(xp, _full_int(philox(key, counter), shape, dtype), dtype)


@primitive("RandomShuffle", differentiable=False, stateful=True, out_dtype="same")
def random_shuffle(xp, value, *, key, counter):
    if getattr(value, "ndim", 0) == 0 or value.shape[0] <= 1:
        return value.copy()
    perm = philox(key, counter).permutation(value.shape[0])
    return xp.take(value, xp.asarray(perm), axis=0)


@primitive("Multinomial", dtypes=REAL, differentiable=False, stateful=True)
def multinomial(xp, logits, *, num_samples, output_dtype, key, counter):
    return _categorical(xp, philox(key, counter), logits, num_samples, output_dtype)


# ---------------------------------------------------------------------------------------------
# Stateless ops (seed input of shape [2])
# ---------------------------------------------------------------------------------------------
@primitive("StatelessRandomNormal", dtypes=INDEX, differentiable=False)
def stateless_random_normal(xp, seed, *, shape, dtype):
    _check_shape(shape)
    return _place(xp, _normal(philox(_seed_key(seed)), shape, dtype), dtype)


@primitive("StatelessRandomUniform", dtypes=INDEX, differentiable=False)
def stateless_random_uniform(xp, seed, *, shape, dtype):
    _check_shape(shape)
    return _place(xp, _uniform(philox(_seed_key(seed)), shape, dtype), dtype)


@primitive("StatelessTruncatedNormal", dtypes=INDEX, differentiable=False)
def stateless_truncated_normal(xp, seed, *, shape, dtype):
    _check_shape(shape)
    return _place(xp, _truncated(philox(_seed_key(seed)), shape, dtype), dtype)


@primitive("StatelessRandomUniformInt", dtypes=INDEX, same_dtype=0, differentiable=False)
def stateless_random_uniform_int(xp, seed, minval, maxval, *, shape):
    _check_shape(shape)
    dtype = np.dtype(minval.dtype)
    g = philox(_seed_key(seed))
    return _place(xp, _ints(g, shape, _host(minval), _host(maxval), dtype), dtype)


@primitive("StatelessRandomUniformFullInt", dtypes=INDEX, differentiable=False)
def stateless_random_uniform_full_int(xp, seed, *, shape, dtype):
    _check_shape(shape)
    return _place(xp, _full_int(philox(_seed_key(seed)), shape, dtype), dtype)


@primitive("StatelessMultinomial", dtypes=REAL, same_dtype=0, differentiable=False)
def stateless_multinomial(xp, logits, seed, *, num_samples, output_dtype):
    return _categorical(xp, philox(_seed_key(seed)), logits, num_samples, output_dtype)


def _host(a):
    """A host scalar/array from a backend value (a device sync for CuPy; scalars are tiny)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.generic) else a


FLOAT_DTYPES = FLOATS
UNIFORM_DTYPES = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64, _dt.int32, _dt.int64)
