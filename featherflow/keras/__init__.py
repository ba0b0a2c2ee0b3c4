"""tf.keras: Keras 3's API on featherflow (re-exports only)."""
# ruff: noqa: F401

# -- optimizers [optimizer helper] ------------------------------------------------------------
from featherflow.keras import optimizers as optimizers
from featherflow._src.keras.optimizers.base import Optimizer as Optimizer

# -- layers [layers helper] -------------------------------------------------------------------

# -- models and training [training helper] ----------------------------------------------------
