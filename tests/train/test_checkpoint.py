"""tf.train.Checkpoint: keys and object graph, save/write/read/restore, status objects and their
messages, deferred restoration, failed restores, the state file and the reader."""
import os

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.train import object_graph_proto as ogp
from featherflow._src.train.state import CheckpointState


def graph_of(path):
    return ogp.decode(tf.train.load_checkpoint(path).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))


def make_module():
    m = tf.Module()
    m.w = tf.Variable([[1.0, 2.0]])
    m.items = [tf.Variable(3, dtype=tf.int64), {"b": tf.Variable(4.0), "a/x.y": tf.Variable(5.0)}]
    m.empty = []
    m.plain = (1, 2)
    m.sub = tf.Module()
    m.sub.v = tf.Variable(np.arange(3, dtype=np.float64))
    return m


def test_keys_escaping_and_order(tmp_path):
    m = make_module()
    path = tf.train.Checkpoint(model=m, extra=tf.Variable(1.0)).save(str(tmp_path / "ckpt"))
    assert [k for k, _ in tf.train.list_variables(path)] == [
        "_CHECKPOINTABLE_OBJECT_GRAPH", "extra/.ATTRIBUTES/VARIABLE_VALUE",
        "model/items/0/.ATTRIBUTES/VARIABLE_VALUE",
        "model/items/1/a.Sx..y/.ATTRIBUTES/VARIABLE_VALUE",
        "model/items/1/b/.ATTRIBUTES/VARIABLE_VALUE", "model/sub/v/.ATTRIBUTES/VARIABLE_VALUE",
        "model/w/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    g = graph_of(path)
    # Root: keyword arguments sorted, then save_counter; a module's children in assignment
    # order; the empty list is a node without values; the tuple of ints is not a node.
    assert [c.local_name for c in g.nodes[0].children] == ["extra", "model", "save_counter"]
    model = g.nodes[g.nodes[0].children[1].node_id]
    assert [c.local_name for c in model.children] == ["w", "items", "empty", "sub"]
    empty = g.nodes[model.children[2].node_id]
    assert empty.children == [] and empty.has_checkpoint_values is False
    counter = g.nodes[g.nodes[0].children[2].node_id]
    assert counter.attributes[0].full_name == "save_counter"


def test_shared_variable_saved_once_under_its_first_path(tmp_path):
    v = tf.Variable(1.0)
    a, b = tf.Module(), tf.Module()
    a.deep = tf.Module()
    a.deep.v = v
    b.v = v
    path = tf.train.Checkpoint(a=a, b=b).write(str(tmp_path / "c"))
    keys = [k for k, _ in tf.train.list_variables(path)]
    assert keys == ["_CHECKPOINTABLE_OBJECT_GRAPH", "b/v/.ATTRIBUTES/VARIABLE_VALUE"]


def test_cycles_are_fine(tmp_path):
    a = tf.Module()
    a.me = a
    a.v = tf.Variable(2.0)
    path = tf.train.Checkpoint(a=a).write(str(tmp_path / "c"))
    a.v.assign(0.0)
    tf.train.Checkpoint(a=a).read(path).assert_consumed()
    assert a.v.numpy() == 2.0


def test_root_argument_matches_tf_layout(tmp_path):
    m = tf.Module()
    m.x = tf.Variable(1.0)
    ckpt = tf.train.Checkpoint(root=m, extra=tf.Variable(2.0))
    path = ckpt.save(str(tmp_path / "c"))
    g = graph_of(path)
    assert [(c.local_name, c.node_id) for c in g.nodes[0].children] == [
        ("x", 1), ("extra", 2), ("root", 0), ("save_counter", 3)]
    m.x.assign(0.0)
    tf.train.Checkpoint(root=m, extra=tf.Variable(0.0)).restore(path).assert_consumed()
    assert m.x.numpy() == 1.0


def test_save_counts_and_state_file(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    p1 = ckpt.save(str(tmp_path / "ck"))
    p2 = ckpt.save(str(tmp_path / "ck"))
    assert (os.path.basename(p1), os.path.basename(p2)) == ("ck-1", "ck-2")
    assert ckpt.save_counter.dtype == tf.int64 and int(ckpt.save_counter.numpy()) == 2
    assert ckpt.save_counter.device.endswith("CPU:0")
    text = (tmp_path / "checkpoint").read_text()
    assert text == 'model_checkpoint_path: "ck-2"\nall_model_checkpoint_paths: "ck-2"\n'
    assert tf.train.latest_checkpoint(str(tmp_path)) == p2
    assert tf.train.load_checkpoint(str(tmp_path)).get_tensor(
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE") == 2


def test_write_has_no_counter_and_no_state_file(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    assert ckpt.write(str(tmp_path / "w")) == str(tmp_path / "w")
    assert not (tmp_path / "checkpoint").exists()
    assert "save_counter/.ATTRIBUTES/VARIABLE_VALUE" not in \
        tf.train.load_checkpoint(str(tmp_path / "w")).get_variable_to_shape_map()


def test_restore_creates_save_counter_read_does_not(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "c"))
    a = tf.train.Checkpoint(v=tf.Variable(0.0))
    a.restore(path).assert_consumed()
    assert int(a.save_counter.numpy()) == 1
    b = tf.train.Checkpoint(v=tf.Variable(0.0))
    status = b.read(path)
    with pytest.raises(AssertionError, match="save_counter/.ATTRIBUTES/VARIABLE_VALUE  int64"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    # The counter made later takes its saved value (deferred restoration).
    assert int(b.save_counter.numpy()) == 1
    status.assert_consumed()


def test_status_messages_name_keys_shapes_and_objects(tmp_path):
    src = tf.Module()
    src.w = tf.Variable(np.ones((2, 3), np.float32))
    src.gone = tf.Variable([1, 2], dtype=tf.int32)
    path = tf.train.Checkpoint(model=src).write(str(tmp_path / "c"))
    dst = tf.Module()
    dst.w = tf.Variable(np.zeros((2, 3), np.float32))
    dst.new = tf.Variable(np.zeros(5, np.float64), name="brand_new")
    status = tf.train.Checkpoint(model=dst).read(path)
    with pytest.raises(AssertionError) as e:
        status.assert_consumed()
    msg = str(e.value)
    assert "model/gone/.ATTRIBUTES/VARIABLE_VALUE  int32 [2]" in msg
    assert "(root).model has no dependency 'gone' (its dependencies: 'w', 'new')" in msg
    assert "(root).model.new  float64 [5]  'brand_new:0'" in msg
    with pytest.raises(AssertionError) as e:
        status.assert_existing_objects_matched()
    assert "(root).model.new" in str(e.value) and "gone" not in str(e.value)
    status.assert_nontrivial_match()
    np.testing.assert_array_equal(dst.w.numpy(), np.ones((2, 3)))
    assert status.expect_partial() is status


def test_nontrivial_match_fails_when_nothing_matches(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0)).write(str(tmp_path / "c"))
    status = tf.train.Checkpoint(b=tf.Variable(1.0)).read(path)
    with pytest.raises(AssertionError, match="Nothing except the root object matched"):
        status.assert_nontrivial_match()
    status.expect_partial()


def test_restore_none_status():
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    for method in ("assert_consumed", "assert_existing_objects_matched",
                   "assert_nontrivial_match"):
        with pytest.raises(AssertionError, match=r"No checkpoint specified \(save_path=None\); "
                                                 "nothing is being restored."):
            getattr(status, method)()
    with pytest.raises(AssertionError, match="no restore ops are available"):
        status.run_restore_ops()
    assert status.expect_partial() is status
    assert status.initialize_or_restore() is None


def test_restore_missing_path_is_not_found(tmp_path):
    with pytest.raises(tf.errors.NotFoundError, match="You may be missing the checkpoint "
                                                      r"suffix \(e.g. the '-1'"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "nothing"))


def test_non_trackable_arguments_are_rejected():
    with pytest.raises(ValueError, match="`Checkpoint` was expecting v to be a trackable object"):
        tf.train.Checkpoint(v=1)


def test_failed_restore_changes_nothing(tmp_path):
    src = tf.Module()
    src.a = tf.Variable([1.0, 2.0])
    src.b = tf.Variable(3.0)
    src.c = tf.Variable(4.0)
    path = tf.train.Checkpoint(m=src).write(str(tmp_path / "c"))
    dst = tf.Module()
    dst.a = tf.Variable([0.0, 0.0])
    dst.b = tf.Variable(0.0)
    dst.c = tf.Variable([0.0, 0.0, 0.0])   # wrong shape, found after a and b
    with pytest.raises(ValueError, match=r"Received incompatible tensor with shape \(\) when "
                                         r"attempting to restore variable with shape \(3,\)"):
        tf.train.Checkpoint(m=dst).read(path)
    np.testing.assert_array_equal(dst.a.numpy(), [0.0, 0.0])
    assert dst.b.numpy() == 0.0
    dst.c = tf.Variable(0)                  # wrong dtype
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="expected dtype int32 does not equal original dtype float"):
        tf.train.Checkpoint(m=dst).read(path)
    np.testing.assert_array_equal(dst.a.numpy(), [0.0, 0.0])


def test_truncated_data_file_fails_before_any_write(tmp_path):
    src = tf.Module()
    src.a = tf.Variable(np.ones(10, np.float32))
    src.b = tf.Variable(np.ones(1000, np.float32))
    path = tf.train.Checkpoint(m=src).write(str(tmp_path / "c"))
    data = path + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) - 100)
    dst = tf.Module()
    dst.a = tf.Variable(np.zeros(10, np.float32))
    dst.b = tf.Variable(np.zeros(1000, np.float32))
    with pytest.raises(tf.errors.DataLossError):
        tf.train.Checkpoint(m=dst).read(path)
    assert not dst.a.numpy().any() and not dst.b.numpy().any()


def test_deferred_restoration_of_attributes_and_lists(tmp_path):
    src = make_module()
    path = tf.train.Checkpoint(model=src).save(str(tmp_path / "c"))
    dst = tf.Module()
    ckpt = tf.train.Checkpoint(model=dst)
    status = ckpt.restore(path)
    dst.sub = tf.Module()
    dst.sub.v = tf.Variable(np.zeros(3))        # restored on attach
    np.testing.assert_array_equal(dst.sub.v.numpy(), [0.0, 1.0, 2.0])
    dst.items = []
    dst.items.append(tf.Variable(0, dtype=tf.int64))   # appended: no attribute assignment
    dst.w = tf.Variable([[0.0, 0.0]])           # this assignment matches the list too
    assert int(dst.items[0].numpy()) == 3
    np.testing.assert_array_equal(dst.w.numpy(), [[1.0, 2.0]])
    with pytest.raises(AssertionError, match="model/items/1/b"):
        status.assert_consumed()
    dst.items.append({"b": tf.Variable(0.0), "a/x.y": tf.Variable(0.0)})
    status.assert_consumed()                     # the assertion matches what appeared since
    assert dst.items[1]["a/x.y"].numpy() == 5.0


def test_deferred_restoration_survives_the_checkpoint_object(tmp_path):
    src = tf.Module()
    src.v = tf.Variable(7.0)
    path = tf.train.Checkpoint(m=src).write(str(tmp_path / "c"))
    dst = tf.Module()
    tf.train.Checkpoint(m=dst).restore(path).expect_partial()
    dst.v = tf.Variable(0.0)
    assert dst.v.numpy() == 7.0


def test_values_on_simulated_gpu_and_cpu(tmp_path):
    with tf.device("/GPU:1"):
        g = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.device("/CPU:0"):
        c = tf.Variable(np.arange(4, dtype=np.int64))
    s = tf.Variable(b"hello")
    path = tf.train.Checkpoint(g=g, c=c, s=s).write(str(tmp_path / "c"))
    with tf.device("/GPU:1"):
        g2 = tf.Variable(np.zeros((2, 3), np.float32))
    with tf.device("/CPU:0"):
        c2 = tf.Variable(np.zeros(4, np.int64))
    s2 = tf.Variable(b"")
    tf.train.Checkpoint(g=g2, c=c2, s=s2).read(path).assert_consumed()
    np.testing.assert_array_equal(g2.numpy(), g.numpy())
    np.testing.assert_array_equal(c2.numpy(), c.numpy())
    assert s2.numpy() == b"hello"
    assert g2.device.endswith("GPU:1") and c2.device.endswith("CPU:0")


def test_restore_does_not_change_a_value_read_before(tmp_path):
    with tf.device("/CPU:0"):
        v = tf.Variable([1.0, 2.0])
    path = tf.train.Checkpoint(v=v).write(str(tmp_path / "c"))
    v.assign([5.0, 6.0])
    before = v.value()
    tf.train.Checkpoint(v=v).read(path)
    np.testing.assert_array_equal(before.numpy(), [5.0, 6.0])   # copy-on-write kept it
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_dict_with_non_string_key_is_rejected(tmp_path):
    m = tf.Module()
    m.d = {1: tf.Variable(1.0)}
    with pytest.raises(ValueError, match="non-string key 1"):
        tf.train.Checkpoint(m=m).write(str(tmp_path / "c"))


def test_checkpoint_options_and_write_callbacks(tmp_path):
    seen = []
    options = tf.train.CheckpointOptions(experimental_write_callbacks=[seen.append])
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "c"), options=options)
    assert seen == [path]
    assert tf.train.CheckpointOptions().experimental_io_device is None


def test_reader_api(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable([1.5, 2.5]), n=tf.Variable(3)).write(
        str(tmp_path / "c"))
    reader = tf.train.load_checkpoint(path)
    assert reader.has_tensor("v/.ATTRIBUTES/VARIABLE_VALUE")
    assert not reader.has_tensor("nope")
    np.testing.assert_array_equal(reader.get_tensor("v/.ATTRIBUTES/VARIABLE_VALUE"), [1.5, 2.5])
    assert isinstance(reader.get_tensor("n/.ATTRIBUTES/VARIABLE_VALUE"), np.int32)
    assert reader.get_variable_to_shape_map()["v/.ATTRIBUTES/VARIABLE_VALUE"] == [2]
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes["n/.ATTRIBUTES/VARIABLE_VALUE"] is tf.int32
    assert dtypes["_CHECKPOINTABLE_OBJECT_GRAPH"] is tf.string
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files"):
        tf.train.load_checkpoint(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(str(tmp_path))


def test_state_file_text_round_trip(tmp_path):
    state = CheckpointState('dir "q"/ck-1\u00e9', ["a", 'dir "q"/ck-1\u00e9'], [1.5, 2.25], 0.5)
    text = state.to_text()
    assert 'model_checkpoint_path: "dir \\"q\\"/ck-1\\303\\251"' in text
    assert CheckpointState.from_text(text) == state
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("garbage here\n")
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_latest_checkpoint_needs_the_files(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "c"))
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    os.remove(path + ".index")
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


@pytest.mark.parametrize("fsync", [False, True])
def test_experimental_fsync_controls_durability_calls(tmp_path, monkeypatch, fsync):
    # Saves are atomic by renames either way; only experimental_fsync=True also fsyncs the data,
    # index and state files and the directory (TF itself never fsyncs).
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    m = tf.Module()
    m.v = tf.Variable(np.arange(5000, dtype=np.float32))
    options = tf.train.CheckpointOptions(experimental_fsync=fsync)
    assert options.experimental_fsync is fsync
    ckpt = tf.train.Checkpoint(model=m)
    path = ckpt.save(str(tmp_path / "c"), options=options)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path / "m"), max_to_keep=2)
    manager.save(options=options)
    if fsync:
        # data + index + directory for each of the two writes, state file + directory for
        # save() and twice for the manager.
        assert len(calls) >= 2 * 3 + 2 + 2 * 2
    else:
        assert calls == []
    monkeypatch.setattr(os, "fsync", real)
    m.v.assign(tf.zeros([5000]))
    ckpt.restore(path).assert_consumed()
    np.testing.assert_array_equal(m.v.numpy(), np.arange(5000, dtype=np.float32))
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
