"""tf.keras.callbacks (re-exports only)."""
# ruff: noqa: F401
from featherflow._src.keras.callbacks import (
    Callback as Callback, CallbackList as CallbackList, History as History,
    LambdaCallback as LambdaCallback, ProgbarLogger as ProgbarLogger,
    TerminateOnNaN as TerminateOnNaN)
from featherflow._src.keras.callbacks_files import (
    CSVLogger as CSVLogger, ModelCheckpoint as ModelCheckpoint)
from featherflow._src.keras.callbacks_monitor import (
    EarlyStopping as EarlyStopping, LearningRateScheduler as LearningRateScheduler,
    ReduceLROnPlateau as ReduceLROnPlateau)
