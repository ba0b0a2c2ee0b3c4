"""tf.keras.utils (re-exports only; a minimal set)."""
# ruff: noqa: F401
from featherflow._src.keras.progbar import Progbar as Progbar
from featherflow._src.keras.utils import (set_random_seed as set_random_seed,
                                          to_categorical as to_categorical)
