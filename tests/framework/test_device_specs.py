"""DeviceSpec parsing, to_string and merging against a TensorFlow fixture; tf.device/name_scope."""
import json
import pathlib
import threading

import pytest

import featherflow as tf

FIXTURE = json.loads((pathlib.Path(__file__).parents[1] / "fixtures" /
                      "device_specs.json").read_text())


@pytest.mark.parametrize("spec", sorted(FIXTURE["parse"]))
def test_parse_matches_tf(spec):
    want = FIXTURE["parse"][spec]
    if "error" in want:
        with pytest.raises(ValueError) as e:
            tf.DeviceSpec.from_string(spec)
        assert str(e.value) == want["message"]
        with pytest.raises(ValueError):
            tf.device(spec)
        return
    d = tf.DeviceSpec.from_string(spec)
    got = {"job": d.job, "replica": d.replica, "task": d.task, "device_type": d.device_type,
           "device_index": d.device_index, "to_string": d.to_string()}
    assert got == want


@pytest.mark.parametrize("outer,inner,want", FIXTURE["merge"])
def test_merge_matches_tf(outer, inner, want):
    a, b = tf.DeviceSpec.from_string(outer), tf.DeviceSpec.from_string(inner)
    assert a.make_merged_spec(b).to_string() == want


def test_device_accepts_every_form():
    cpu = tf.config.list_logical_devices("CPU")[0]
    for name in ["/device:GPU:1", "/GPU:1", "gpu:1", "/job:localhost/replica:0/task:0/device:GPU:1",
                 tf.DeviceSpec(device_type="GPU", device_index=1)]:
        with tf.device(name):
            assert tf.constant([1.0]).device.endswith("GPU:1")
    with tf.device(cpu):
        assert tf.constant([1.0]).device.endswith("CPU:0")
    with tf.device("CPU"):
        assert tf.constant([1.0]).device.endswith("CPU:0")


def test_device_errors():
    with pytest.raises(ValueError, match="Unknown attribute 'foo' is encountered while parsing the "
                                         "device spec: 'foo'."):
        tf.device("foo")
    with pytest.raises(ValueError, match="Expecting a string device name"):
        tf.device(5)
    with pytest.raises(RuntimeError, match="does not support functions"):
        tf.device(lambda op: "/cpu:0")


def test_nested_scopes_merge_and_none_clears():
    with tf.device("/GPU:1"):
        with tf.device("/job:localhost"):
            assert tf.constant([1.0]).device.endswith("GPU:1")
        with tf.device("/CPU:0"):
            assert tf.constant([1.0]).device.endswith("CPU:0")
            with tf.device(None):
                assert tf.constant([1.0]).device.endswith("GPU:0")
        assert tf.constant([1.0]).device.endswith("GPU:1")
    assert tf.constant([1.0]).device.endswith("GPU:0")


def test_device_scope_restores_on_exception_and_is_thread_local():
    from featherflow._src.framework import context

    with pytest.raises(KeyError):
        with tf.device("/CPU:0"):
            raise KeyError("x")
    assert context.THREAD.device_spec is None and context.THREAD.plain
    seen = []
    with tf.device("/CPU:0"):
        t = threading.Thread(target=lambda: seen.append(tf.constant([1.0]).device))
        t.start()
        t.join()
    assert seen[0].endswith("GPU:0")


def test_name_scope():
    from featherflow._src.framework import context

    with tf.name_scope("a") as s1:
        with tf.name_scope("b") as s2:
            assert context.THREAD.name_scope == "a/b/"
            with tf.name_scope("x/") as s3:
                assert s3 == "x/"
            with tf.name_scope("") as s4:
                assert s4 == ""
    assert (s1, s2) == ("a/", "a/b/")
    assert context.THREAD.name_scope == ""
    assert tf.name_scope("q").name == "q"
    with pytest.raises(ValueError, match="name for name_scope must be a string."):
        tf.name_scope(None)
    with pytest.raises(KeyError):
        with tf.name_scope("z"):
            raise KeyError
    assert context.THREAD.name_scope == ""
