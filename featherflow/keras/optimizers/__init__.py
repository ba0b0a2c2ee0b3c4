"""tf.keras.optimizers (also tf.optimizers): Keras 3's optimizers on featherflow Variables."""
# ruff: noqa: F401
from featherflow._src.keras.optimizers.adagrad import Adadelta as Adadelta
from featherflow._src.keras.optimizers.adagrad import Adagrad as Adagrad
from featherflow._src.keras.optimizers.adagrad import Ftrl as Ftrl
from featherflow._src.keras.optimizers.adam import Adam as Adam
from featherflow._src.keras.optimizers.adam import Adamax as Adamax
from featherflow._src.keras.optimizers.adam import AdamW as AdamW
from featherflow._src.keras.optimizers.adam import Nadam as Nadam
from featherflow._src.keras.optimizers.base import Optimizer as Optimizer
from featherflow._src.keras.optimizers.lion_lamb import Adafactor as Adafactor
from featherflow._src.keras.optimizers.lion_lamb import Lamb as Lamb
from featherflow._src.keras.optimizers.lion_lamb import Lion as Lion
from featherflow._src.keras.optimizers.loss_scale import (
    LossScaleOptimizer as LossScaleOptimizer)
from featherflow._src.keras.optimizers.registry import deserialize as deserialize
from featherflow._src.keras.optimizers.registry import get as get
from featherflow._src.keras.optimizers.registry import serialize as serialize
from featherflow._src.keras.optimizers.rmsprop import RMSprop as RMSprop
from featherflow._src.keras.optimizers.sgd import SGD as SGD
from featherflow.keras.optimizers import schedules as schedules
