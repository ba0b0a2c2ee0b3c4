"""tf.keras: Keras 3's API on featherflow (re-exports only)."""
# ruff: noqa: F401

# -- optimizers ------------------------------------------------------------
from featherflow.keras import optimizers as optimizers
from featherflow._src.keras.optimizers.base import Optimizer as Optimizer

# -- layers -------------------------------------------------------------------
from featherflow.keras import activations as activations
from featherflow.keras import constraints as constraints
from featherflow.keras import initializers as initializers
from featherflow.keras import layers as layers
from featherflow.keras import regularizers as regularizers
from featherflow._src.keras.layers.core import Input as Input
from featherflow._src.keras.layers.base import DTypePolicy as DTypePolicy
from featherflow._src.keras.layers.keras_tensor import KerasTensor as KerasTensor

# -- models and training ----------------------------------------------------
from featherflow.keras import callbacks as callbacks
from featherflow.keras import models as models
from featherflow.keras import utils as utils
from featherflow._src.keras.models.model import Model as Model
from featherflow._src.keras.models.sequential import Sequential as Sequential

# -- losses and metrics ------------------------------------------------------
from featherflow.keras import losses as losses
from featherflow.keras import metrics as metrics
from featherflow._src.keras.losses import Loss as Loss
from featherflow._src.keras.metrics.base import Metric as Metric
