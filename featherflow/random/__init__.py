"""tf.random."""
# ruff: noqa: F401
from featherflow._src.api.random_generator import Generator as Generator
from featherflow._src.api.random_generator import get_global_generator as get_global_generator
from featherflow._src.api.random_generator import set_global_generator as set_global_generator
from featherflow._src.api.random_ops import (
    categorical as categorical, normal as normal, set_seed as set_seed, shuffle as shuffle,
    stateless_categorical as stateless_categorical, stateless_normal as stateless_normal,
    stateless_truncated_normal as stateless_truncated_normal,
    stateless_uniform as stateless_uniform, truncated_normal as truncated_normal,
    uniform as uniform)
