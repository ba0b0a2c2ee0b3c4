"""tf.keras.callbacks (re-exports only)."""
# ruff: noqa: F401
from featherflow._src.keras.callbacks import (
    CSVLogger as CSVLogger, Callback as Callback, CallbackList as CallbackList,
    EarlyStopping as EarlyStopping, History as History, LambdaCallback as LambdaCallback,
    LearningRateScheduler as LearningRateScheduler, ModelCheckpoint as ModelCheckpoint,
    ProgbarLogger as ProgbarLogger, ReduceLROnPlateau as ReduceLROnPlateau,
    TerminateOnNaN as TerminateOnNaN)
