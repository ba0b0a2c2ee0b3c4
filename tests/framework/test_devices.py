"""Placement, soft placement, cross-device copies, memory statistics and tf.config."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.backends.simulated import SIMULATED, HostLeakError
from featherflow._src.framework.device import REGISTRY


@pytest.fixture
def fresh_registry():
    """Lets a test change visibility / logical splits, then restores the original setup."""
    visible, logical = list(REGISTRY.visible), dict(REGISTRY.logical_config)
    REGISTRY.reset()
    yield REGISTRY
    REGISTRY.visible, REGISTRY.logical_config = visible, logical
    REGISTRY.reset()


@pytest.fixture
def soft_off():
    tf.config.set_soft_device_placement(False)
    yield
    tf.config.set_soft_device_placement(True)


def test_default_device_numbers_on_gpu_strings_on_cpu():
    assert tf.constant([1.0]).device == "/job:localhost/replica:0/task:0/device:GPU:0"
    assert tf.constant(["a"]).device == "/job:localhost/replica:0/task:0/device:CPU:0"


def test_scope_placement_and_op_runs_there():
    with tf.device("/GPU:1"):
        x = tf.constant([1.0, 2.0])
        y = x * 2.0
    assert x.device.endswith("GPU:1") and y.device.endswith("GPU:1")
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    with tf.device("/CPU:0"):
        z = y + 1.0
    assert z.device.endswith("CPU:0")


def test_soft_placement_fallbacks():
    with tf.device("/GPU:7"):
        assert tf.constant([1.0]).device.endswith("GPU:0")
    with tf.device("/GPU:1"):
        assert tf.constant(["s"]).device.endswith("CPU:0")


def test_soft_placement_off_raises(soft_off):
    assert tf.config.get_soft_device_placement() is False
    with tf.device("/GPU:7"):
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.constant([1.0])
    with tf.device("/GPU:0"):
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.constant(["s"])


def test_inputs_on_two_devices_copy_one():
    with tf.device("/CPU:0"):
        a = tf.constant([1.0, 2.0])
    b = tf.constant([10.0, 20.0])  # GPU:0
    h2d, d2h = SIMULATED.host_to_device, SIMULATED.device_to_host
    c = tf.add(a, b)
    assert c.device.endswith("GPU:0")
    assert SIMULATED.host_to_device - h2d == 1 and SIMULATED.device_to_host - d2h == 0
    d2h = SIMULATED.device_to_host
    np.testing.assert_array_equal(c.numpy(), [11.0, 22.0])
    assert SIMULATED.device_to_host - d2h == 1
    with tf.device("/GPU:1"):
        g1 = tf.constant([1.0, 1.0])
    h2d, d2h = SIMULATED.host_to_device, SIMULATED.device_to_host
    e = tf.add(b, g1)  # GPU:0 + GPU:1: runs on one GPU, the other input crosses
    assert e.device.endswith("GPU:0")
    assert SIMULATED.host_to_device - h2d == 1 and SIMULATED.device_to_host - d2h == 1


def test_host_leak_raises():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(HostLeakError):
        np.sum(x._value)
    with pytest.raises(HostLeakError):
        np.asarray(x._value)


@pytest.mark.parametrize("where", ["CPU:0", "GPU:0"])
def test_memory_info_tracks_a_large_tensor(where):
    info = tf.config.experimental.get_memory_info
    tf.config.experimental.reset_memory_stats(where)
    before = info(where)
    assert before["peak"] == before["current"]
    with tf.device(where):
        t = tf.constant(np.ones((1000, 1000), np.float32))
    assert t.device.endswith(where)
    after = info(where)
    assert after["current"] - before["current"] == 4_000_000
    assert after["peak"] - before["peak"] == 4_000_000
    del t
    assert info(where)["current"] == before["current"]
    assert info(where)["peak"] == after["peak"]
    tf.config.experimental.reset_memory_stats(where)
    assert info(where)["peak"] == before["current"]


def test_memory_info_errors():
    with pytest.raises(ValueError, match="Failed parsing device name: 'foo'"):
        tf.config.experimental.get_memory_info("foo")
    with pytest.raises(ValueError, match="No matching devices found for 'GPU:9'"):
        tf.config.experimental.get_memory_info("GPU:9")


def test_list_devices():
    phys = tf.config.list_physical_devices()
    assert [d.name for d in phys] == ["/physical_device:CPU:0", "/physical_device:GPU:0",
                                      "/physical_device:GPU:1"]
    assert tf.config.list_physical_devices("cpu") == []
    assert repr(phys[0]) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"
    names = [d.name for d in tf.config.list_logical_devices("GPU")]
    assert names == ["/device:GPU:0", "/device:GPU:1"]
    assert tf.config.get_visible_devices() == phys
    assert tf.config.experimental.get_device_details(phys[0]) == {}
    assert "device_name" in tf.config.experimental.get_device_details(phys[1])
    with pytest.raises(ValueError, match="device must be a tf.config.PhysicalDevice"):
        tf.config.experimental.get_device_details("x")


def test_changes_after_initialization_raise():
    tf.config.list_logical_devices()
    cpu = tf.config.list_physical_devices("CPU")[0]
    cfg = [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    with pytest.raises(RuntimeError, match="Virtual devices cannot be modified after being "
                                           "initialized"):
        tf.config.set_logical_device_configuration(cpu, cfg)
    with pytest.raises(RuntimeError, match="Visible devices cannot be modified after being "
                                           "initialized"):
        tf.config.set_visible_devices([cpu])
    tf.config.set_visible_devices(tf.config.get_visible_devices())  # no change: allowed


def test_logical_cpu_split(fresh_registry):
    cpu = tf.config.list_physical_devices("CPU")[0]
    cfg = [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    tf.config.set_logical_device_configuration(cpu, cfg)
    assert tf.config.get_logical_device_configuration(cpu) == cfg
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    assert names == ["/device:CPU:0", "/device:CPU:1"]
    for name in names:
        with tf.device(name):
            x = tf.constant([1.0, 2.0]) + 1.0
        assert x.device.endswith(name[-5:])
        np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])


def test_logical_gpu_split_and_validation(fresh_registry):
    gpu0 = tf.config.list_physical_devices("GPU")[0]
    cpu = tf.config.list_physical_devices("CPU")[0]
    with pytest.raises(ValueError, match="Setting memory limit is required for GPU virtual"):
        tf.config.set_logical_device_configuration(gpu0, [tf.config.LogicalDeviceConfiguration()])
    with pytest.raises(ValueError, match="Setting memory limit on CPU virtual devices"):
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(memory_limit=10)])
    tf.config.set_logical_device_configuration(
        gpu0, [tf.config.LogicalDeviceConfiguration(memory_limit=100)] * 2)
    assert len(tf.config.list_logical_devices("GPU")) == 3
    with tf.device("/GPU:1"):
        assert (tf.constant([1.0]) * 3.0).device.endswith("GPU:1")


def test_visible_devices(fresh_registry):
    gpus = tf.config.list_physical_devices("GPU")
    tf.config.set_visible_devices(gpus[:1], "GPU")
    assert tf.config.get_visible_devices("GPU") == gpus[:1]
    assert [d.name for d in tf.config.list_logical_devices("GPU")] == ["/device:GPU:0"]
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.set_visible_devices(["nope"])


def test_log_device_placement(capfd):
    tf.debugging.set_log_device_placement(True)
    try:
        assert tf.debugging.get_log_device_placement() is True
        x = tf.constant([1.0])
        x + 1.0
        with tf.device("/GPU:7"):
            x * 2.0
    finally:
        tf.debugging.set_log_device_placement(False)
    err = capfd.readouterr().err
    assert "Executing op AddV2 in device /job:localhost/replica:0/task:0/device:GPU:0" in err
    assert "requested device not used" in err and "GPU:7" in err
