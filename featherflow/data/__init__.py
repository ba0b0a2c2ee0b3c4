"""tf.data: input pipelines (tf.data.Dataset)."""
# ruff: noqa: F401
from featherflow._src.data.dataset import AUTOTUNE as AUTOTUNE
from featherflow._src.data.dataset import Dataset as Dataset
from featherflow._src.data.dataset import INFINITE as INFINITE_CARDINALITY
from featherflow._src.data.dataset import UNKNOWN as UNKNOWN_CARDINALITY
from featherflow.data import experimental as experimental
