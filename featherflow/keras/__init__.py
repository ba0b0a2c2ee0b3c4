"""tf.keras: Keras 3's API on featherflow (re-exports only)."""
# ruff: noqa: F401

# -- optimizers [optimizer helper] ------------------------------------------------------------
from featherflow.keras import optimizers as optimizers
from featherflow._src.keras.optimizers.base import Optimizer as Optimizer

# -- layers [layers helper] -------------------------------------------------------------------

# -- models and training [training helper] ----------------------------------------------------

# -- losses and metrics [metrics helper] ------------------------------------------------------
from featherflow.keras import losses as losses
from featherflow.keras import metrics as metrics
from featherflow._src.keras.losses import Loss as Loss
from featherflow._src.keras.metrics.base import Metric as Metric
