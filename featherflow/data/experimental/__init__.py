"""tf.data.experimental: the constants TF also exports here."""
# ruff: noqa: F401
from featherflow._src.data.dataset import AUTOTUNE as AUTOTUNE
from featherflow._src.data.dataset import INFINITE as INFINITE_CARDINALITY
from featherflow._src.data.dataset import UNKNOWN as UNKNOWN_CARDINALITY
