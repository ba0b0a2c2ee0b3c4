"""tf.debugging."""
# ruff: noqa: F401
from featherflow._src.api.config import (
    get_log_device_placement as get_log_device_placement,
    set_log_device_placement as set_log_device_placement)
