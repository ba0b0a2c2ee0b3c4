"""tf.random.Generator: an explicit random state (Philox key and counter) advanced by each call."""
from __future__ import annotations

import secrets

import numpy as np

from featherflow._src.api import random_ops as _ops
from featherflow._src.api._args import tensor
from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework.convert import constant
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import random as R

_M64 = (1 << 64) - 1
RNG_ALG_PHILOX = 1
_STATE_SIZE = 3
# Counter blocks a call reserves (TF also advances the counter by a multiple of 256 per call).
_STEP = 256


def _words(seed) -> list:
    """An int seed split into 64-bit words, low first, padded to the state size (TF's layout)."""
    seed = int(seed)
    if seed < 0:
        seed &= _M64
    words = []
    while seed:
        words.append(seed & _M64)
        seed >>= 64
    return (words + [0] * _STATE_SIZE)[:_STATE_SIZE]


def _check_alg(alg):
    if alg not in (None, RNG_ALG_PHILOX, "philox", "auto_select"):
        raise ValueError(f"Unsupported random algorithm: {alg!r}. featherflow supports Philox "
                         "(1).")


class Generator:
    """A random number generator with explicit state (counter words, then the key).

    >>> import featherflow as tf
    >>> g = tf.random.Generator.from_seed(1)
    >>> g.normal([2]).shape, g.state.numpy().tolist()
    (TensorShape([2]), [257, 0, 0])
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            self._state = list(copy_from._state)
        else:
            _check_alg(alg)
            if state is None:
                raise ValueError("Must provide either copy_from or state.")
            words = np.asarray(state.numpy() if hasattr(state, "numpy") else state).reshape(-1)
            if words.size != _STATE_SIZE:
                raise ValueError(f"The size of the state must be {_STATE_SIZE} for Philox. "
                                 f"Received: state of size {words.size}")
            self._state = [int(w) & _M64 for w in words.tolist()]

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_seed(cls, seed, alg=None) -> "Generator":
        _check_alg(alg)
        return cls(state=_words(seed), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None) -> "Generator":
        _check_alg(alg)
        return cls(state=[secrets.randbits(64) for _ in range(_STATE_SIZE)], alg=alg)

    @classmethod
    def from_state(cls, state, alg) -> "Generator":
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg) -> "Generator":
        words = list(np.asarray(counter).reshape(-1).tolist()) + \
            list(np.asarray(key).reshape(-1).tolist())
        return cls(state=words, alg=alg)

    def reset(self, state):
        self._state = Generator(state=state)._state

    def reset_from_seed(self, seed):
        self._state = _words(seed)

    # -- state ------------------------------------------------------------------------------
    @property
    def state(self):
        """The state as an int64 tensor [counter_lo, counter_hi, key]."""
        return constant(np.array(self._state, dtype=np.uint64).view(np.int64), _dt.int64)

    @property
    def algorithm(self) -> int:
        return RNG_ALG_PHILOX

    @property
    def key(self):
        return constant(np.array(self._state[2:], dtype=np.uint64))

    def _next(self):
        """The key/counter attrs of this call, advancing the state."""
        lo, hi, key = self._state
        attrs = dict(key=(key, 0), counter=(lo, hi))
        lo += _STEP
        if lo > _M64:
            lo &= _M64
            hi = (hi + 1) & _M64
        self._state[0], self._state[1] = lo, hi
        return attrs

    def skip(self, delta):
        for _ in range(int(delta)):
            self._next()

    # -- sampling ---------------------------------------------------------------------------
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None):
        dtype = _ops._dtype(dtype, _ops._FLOAT_DTYPES)
        shape = _ops._shape(shape, "StatefulStandardNormalV2")
        rnd = dispatch.execute(R.random_standard_normal, (),
                               dict(shape=shape, dtype=dtype._np, **self._next()))
        return _ops._scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None):
        dtype = _ops._dtype(dtype, _ops._FLOAT_DTYPES)
        shape = _ops._shape(shape, "StatefulTruncatedNormal")
        rnd = dispatch.execute(R.truncated_normal, (),
                               dict(shape=shape, dtype=dtype._np, **self._next()))
        return _ops._scale_shift(rnd, stddev, mean, dtype, 1.0, 0.0)

    def uniform(self, shape, minval=0, maxval=None, dtype=_dt.float32, name=None):
        dtype = _ops._dtype(dtype, _ops._UNIFORM_DTYPES + (_dt.uint32, _dt.uint64))
        shape = _ops._shape(shape, "StatefulUniform")
        if dtype.is_integer:
            if minval is None and maxval is None:
                return self.uniform_full_int(shape, dtype)
            if (minval is None) != (maxval is None):
                raise ValueError(f"For integer dtype {dtype!r}, minval and maxval must be both "
                                 f"`None` or both non-`None`; got minval={minval} and "
                                 f"maxval={maxval}")
            lo, hi = tensor(minval, dtype), tensor(maxval, dtype)
            return dispatch.execute(R.random_uniform_int, (lo, hi),
                                    dict(shape=shape, **self._next()))
        maxval = 1 if maxval is None else maxval
        rnd = dispatch.execute(R.random_uniform, (),
                               dict(shape=shape, dtype=dtype._np, **self._next()))
        return _ops._span(rnd, minval, maxval, dtype)

    def uniform_full_int(self, shape, dtype=_dt.uint64, name=None):
        dtype = _ops._dtype(dtype, (_dt.int32, _dt.int64, _dt.uint32, _dt.uint64))
        shape = _ops._shape(shape, "StatefulUniformFullInt")
        return dispatch.execute(R.stateful_uniform_full_int, (),
                                dict(shape=shape, dtype=dtype._np, **self._next()))

    def split(self, count=1) -> list:
        """`count` new generators with independent streams (advances this one)."""
        words = self.uniform_full_int([int(count), _STATE_SIZE], _dt.uint64).numpy()
        return [Generator(state=row) for row in words]

    def __repr__(self):
        return f"<tf.random.Generator state={self._state} alg={RNG_ALG_PHILOX}>"


_GLOBAL_GENERATOR = None


def get_global_generator() -> Generator:
    global _GLOBAL_GENERATOR
    if _GLOBAL_GENERATOR is None:
        _GLOBAL_GENERATOR = Generator.from_non_deterministic_state()
    return _GLOBAL_GENERATOR


def set_global_generator(generator: Generator):
    global _GLOBAL_GENERATOR
    _GLOBAL_GENERATOR = generator
