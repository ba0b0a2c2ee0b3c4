"""tf.config.experimental."""
# ruff: noqa: F401
from featherflow._src.api.config import (
    get_device_details as get_device_details, get_memory_growth as get_memory_growth,
    get_memory_info as get_memory_info, get_memory_usage as get_memory_usage,
    get_visible_devices as get_visible_devices, list_logical_devices as list_logical_devices,
    list_physical_devices as list_physical_devices, reset_memory_stats as reset_memory_stats,
    set_memory_growth as set_memory_growth, set_visible_devices as set_visible_devices)
from featherflow._src.api.config import (
    get_logical_device_configuration as get_virtual_device_configuration)
from featherflow._src.api.config import (
    set_logical_device_configuration as set_virtual_device_configuration)
from featherflow._src.api.config import LogicalDeviceConfiguration as VirtualDeviceConfiguration
