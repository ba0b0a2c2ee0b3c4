"""tf.keras.models (re-exports only)."""
# ruff: noqa: F401
from featherflow._src.keras.models.model import Model as Model
from featherflow._src.keras.models.sequential import Sequential as Sequential
