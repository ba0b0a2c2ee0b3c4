"""tf.keras.initializers."""
# ruff: noqa: F401
from featherflow._src.keras.initializers import (
    Constant as Constant, GlorotNormal as GlorotNormal, GlorotUniform as GlorotUniform,
    HeNormal as HeNormal, HeUniform as HeUniform, Identity as Identity,
    IdentityInitializer as IdentityInitializer, Initializer as Initializer,
    LecunNormal as LecunNormal, LecunUniform as LecunUniform, Ones as Ones,
    Orthogonal as Orthogonal, OrthogonalInitializer as OrthogonalInitializer,
    RandomNormal as RandomNormal, RandomUniform as RandomUniform,
    TruncatedNormal as TruncatedNormal, VarianceScaling as VarianceScaling, Zeros as Zeros,
    deserialize as deserialize, get as get, serialize as serialize)
from featherflow._src.keras.initializers import (
    Constant as constant, GlorotNormal as glorot_normal, GlorotUniform as glorot_uniform,
    HeNormal as he_normal, HeUniform as he_uniform, Identity as identity,
    LecunNormal as lecun_normal, LecunUniform as lecun_uniform, Ones as ones,
    Orthogonal as orthogonal, RandomNormal as random_normal, RandomUniform as random_uniform,
    TruncatedNormal as truncated_normal, VarianceScaling as variance_scaling, Zeros as zeros)
