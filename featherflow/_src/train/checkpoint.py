"""tf.train.Checkpoint: TensorFlow's object-based checkpoints (the object graph, save, restore).

A checkpoint saves every variable reachable from its root through checkpoint dependencies
(`walk.children`: attributes in assignment order, list elements by index, dict entries by key).
The graph is numbered breadth-first from the root, and each variable is saved under the key of
the first (shortest) path that reaches it, `model/layers/0/kernel/.ATTRIBUTES/VARIABLE_VALUE`,
with local names escaped (`.` -> `..`, `/` -> `.S`). The graph itself (a TrackableObjectGraph) is
saved under `_CHECKPOINTABLE_OBJECT_GRAPH`, so restoring matches objects by the names on the path
from the root, as TensorFlow does, and TensorFlow restores what featherflow writes and back.

Restoring lives in `restore.py` (status objects, deferred restoration); the `checkpoint` state
file and the checkpoint reader in `state.py`.
"""
from __future__ import annotations

import os
from collections import deque

import numpy as np

from featherflow._src.framework import dtypes as _dt
from featherflow._src.module import walk as _walk
from featherflow._src.train import object_graph_proto as _ogp
from featherflow._src.train.bundle import BundleWriter

GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
VALUE_NAME = "VARIABLE_VALUE"
_ATTRIBUTES = ".ATTRIBUTES"


def escape(name: str) -> str:
    """A local name as it appears in a checkpoint key ("a/b.c" -> "a.Sb..c")."""
    return name.replace(".", "..").replace("/", ".S")


def value_key(path) -> str:
    """The key of the variable reached by the local names `path`."""
    return "/".join([escape(p) for p in path] + [_ATTRIBUTES, VALUE_NAME])


def full_name(variable) -> str:
    """The variable's TF name without ":0" (SerializedTensor.full_name)."""
    shared = getattr(variable, "_shared_name", None)
    if isinstance(shared, str):
        return shared
    name = str(getattr(variable, "name", ""))
    return name[:-2] if name.endswith(":0") else name


def checkpoint_children(obj) -> list:
    """The dependencies of `obj` in a checkpoint (the walker's view, plus Keras' naming)."""
    from featherflow._src.train import keras_names  # noqa: PLC0415

    keras_names.install()
    return _walk.children(obj)


class ObjectGraph:
    """The object graph of `root` as it is now: node ids in breadth-first order, the first path
    to each node, and the checkpoint key of each variable."""

    def __init__(self, root, aliases=()):
        self.objects = [root]         # node id -> object
        self.paths = [()]             # node id -> local names from the root
        self.edges = [[]]             # node id -> [(local name, child node id)]
        ids = {id(root): 0}
        for alias in aliases:
            ids[id(alias)] = 0
        queue = deque([0])
        while queue:
            nid = queue.popleft()
            obj = self.objects[nid]
            for name, child in checkpoint_children(obj):
                cid = ids.get(id(child))
                if cid is None:
                    cid = ids[id(child)] = len(self.objects)
                    self.objects.append(child)
                    self.paths.append(self.paths[nid] + (name,))
                    self.edges.append([])
                    queue.append(cid)
                self.edges[nid].append((name, cid))
        self.node_of = ids

    def variables(self):
        """[(node id, variable), ...] in node order."""
        return [(i, o) for i, o in enumerate(self.objects) if _walk.is_variable(o)]

    def proto(self) -> _ogp.TrackableObjectGraph:
        has_values = _has_values(self.edges, [_walk.is_variable(o) for o in self.objects])
        nodes = []
        for nid, obj in enumerate(self.objects):
            node = _ogp.TrackableObject(
                children=[_ogp.ObjectReference(c, n) for n, c in self.edges[nid]],
                has_checkpoint_values=has_values[nid])
            if _walk.is_variable(obj):
                node.attributes.append(_ogp.SerializedTensor(
                    VALUE_NAME, full_name(obj), value_key(self.paths[nid])))
            nodes.append(node)
        return _ogp.TrackableObjectGraph(nodes)


def _has_values(edges, own) -> list:
    """Whether each node or anything it reaches holds a value (cycles allowed)."""
    parents = [[] for _ in edges]
    for nid, kids in enumerate(edges):
        for _, cid in kids:
            parents[cid].append(nid)
    marked = list(own)
    queue = deque(i for i, m in enumerate(own) if m)
    while queue:
        for p in parents[queue.popleft()]:
            if not marked[p]:
                marked[p] = True
                queue.append(p)
    return marked


def path_text(path) -> str:
    """TF's way of naming an object in messages: (root).model.layers.0"""
    return ".".join(("(root)",) + tuple(path))


# -- reading variables for a save --------------------------------------------------------------
def snapshot(variable):
    """(host array, DType) of the variable's value now. On a NumPy device the array aliases the
    variable's buffer without a copy; the tensor that keeps it alive makes a later update copy
    first (copy-on-write), so the saved value is the value at this moment."""
    t = variable.value() if hasattr(variable, "value") else variable.read_value()
    dtype = t.dtype
    host = t._host() if hasattr(t, "_host") else np.asarray(t)
    return np.asarray(host), dtype, t


def durable_save(options) -> bool:
    """Whether a save with `options` fsyncs (CheckpointOptions.experimental_fsync)."""
    return bool(getattr(options, "experimental_fsync", False))


def write_graph(prefix: str, graph: ObjectGraph, options=None) -> str:
    """Writes every variable of `graph` and the graph proto to checkpoint `prefix` (fsynced
    when `options.experimental_fsync` is set)."""
    prefix = os.fspath(prefix)
    writer = BundleWriter(prefix, durable=durable_save(options))
    try:
        keep = []
        for nid, var in graph.variables():
            host, dtype, alive = snapshot(var)
            keep.append(alive)
            writer.add(value_key(graph.paths[nid]), host, dtype=dtype)
            del keep[:]
        blob = _ogp.encode(graph.proto())
        arr = np.empty((), dtype=object)
        arr[()] = blob
        writer.add(GRAPH_KEY, arr, dtype=_dt.string)
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return prefix


# -- tf.train.Checkpoint -----------------------------------------------------------------------
_NOT_TRACKABLE = ("`Checkpoint` was expecting {name} to be a trackable object (an object derived "
                  "from `Trackable`), got {value!r}. If you believe this object should be "
                  "trackable (i.e. it is part of the TensorFlow Python API and manages state), "
                  "please open an issue.")
_NOT_FOUND_HINT = ("\nPlease double-check that the path is correct. You may be missing the "
                   "checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1').")


class CheckpointOptions:
    """Options for `Checkpoint.save/write/read/restore` (tf.train.CheckpointOptions).

    featherflow writes synchronously from the host, so most fields are accepted and kept for
    TF's API but change nothing: `experimental_io_device`, `experimental_enable_async_checkpoint`
    / `enable_async` (a save returns when its files are written), `experimental_skip_slot_variables`,
    `experimental_sharding_callback` (one data shard is written). `experimental_write_callbacks`
    are called with the saved prefix after each write.

    `experimental_fsync` (featherflow's, not TF's; default False as TF never fsyncs): also fsync
    the data, index and state files and their directory, so that a saved checkpoint survives a
    power loss. Without it a save is still atomic against a killed process (files are written
    under temporary names and renamed into place, the index last).
    """

    __slots__ = ("experimental_io_device", "experimental_enable_async_checkpoint",
                 "experimental_write_callbacks", "enable_async", "experimental_skip_slot_variables",
                 "experimental_sharding_callback", "experimental_fsync")

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False,
                 experimental_skip_slot_variables=False, experimental_sharding_callback=None,
                 experimental_fsync=False):
        self.experimental_io_device = experimental_io_device
        self.experimental_enable_async_checkpoint = experimental_enable_async_checkpoint
        self.experimental_write_callbacks = experimental_write_callbacks
        self.enable_async = enable_async or experimental_enable_async_checkpoint
        self.experimental_skip_slot_variables = experimental_skip_slot_variables
        self.experimental_sharding_callback = experimental_sharding_callback
        self.experimental_fsync = bool(experimental_fsync)


def _callbacks(options, path):
    for cb in (getattr(options, "experimental_write_callbacks", None) or ()):
        try:
            cb(path)
        except TypeError:
            cb()


class Checkpoint:
    """Saves and restores the variables reachable from its attributes (tf.train.Checkpoint).

    >>> import featherflow as tf, tempfile, os
    >>> m = tf.Module(); m.w = tf.Variable([1.0, 2.0])
    >>> ckpt = tf.train.Checkpoint(model=m)
    >>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
    >>> os.path.basename(path)
    'ckpt-1'
    >>> _ = m.w.assign([0.0, 0.0])
    >>> ckpt.restore(path).assert_consumed().__class__.__name__
    'CheckpointLoadStatus'
    >>> m.w.numpy()
    array([1., 2.], dtype=float32)
    """

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_ckpt_root", None)
        object.__setattr__(self, "_ckpt_save_counter", None)
        if root is not None:
            if not _walk.is_trackable(root) or isinstance(root, (list, dict, tuple)):
                raise ValueError(_NOT_TRACKABLE.format(name="root", value=root))
            object.__setattr__(self, "_ckpt_root", root)
        for name, value in sorted(kwargs.items(), key=lambda kv: kv[0]):
            if not _walk.is_trackable(value) or isinstance(value, (list, dict, tuple)):
                raise ValueError(_NOT_TRACKABLE.format(name=name, value=value))
            if root is not None and name in dict(checkpoint_children(root)):
                raise ValueError(f"Cannot create a Checkpoint with keyword argument {name} if "
                                 f"root.{name} already exists.")
            setattr(self, name, value)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if _walk.ATTACH_HOOKS:
            _walk.notify_attach(self, name, value)

    # -- the graph -----------------------------------------------------------------------------
    @property
    def _root(self):
        return self._ckpt_root

    def _checkpoint_children(self):
        out = []
        root = self._ckpt_root
        if root is not None:
            out += checkpoint_children(root)
        out += [(k, v) for k, v in vars(self).items() if not k.startswith("_ckpt_")]
        if root is not None:
            out.append(("root", root))
        if self._ckpt_save_counter is not None:
            out.append(("save_counter", self._ckpt_save_counter))
        return out

    def _graph(self) -> ObjectGraph:
        root = self._ckpt_root
        return ObjectGraph(self, [root] if root is not None else [])

    @property
    def save_counter(self):
        """How many times `save` ran (an int64 variable on the CPU, saved with the rest; made
        on first use)."""
        self._maybe_create_save_counter()
        return self._ckpt_save_counter

    def _maybe_create_save_counter(self):
        if self._ckpt_save_counter is not None:
            return
        from featherflow._src.framework import context  # noqa: PLC0415
        from featherflow._src.framework.device_scope import device  # noqa: PLC0415
        from featherflow._src.variables.variable import Variable  # noqa: PLC0415

        scope = context.THREAD.name_scope
        context.THREAD.name_scope = ""  # TF names it "save_counter" wherever it is made
        try:
            with device("/CPU:0"):
                counter = Variable(0, dtype=_dt.int64, trainable=False, name="save_counter")
        finally:
            context.THREAD.name_scope = scope
        object.__setattr__(self, "_ckpt_save_counter", counter)
        if _walk.ATTACH_HOOKS:
            _walk.notify_attach(self, "save_counter", counter)

    # -- saving --------------------------------------------------------------------------------
    def write(self, file_prefix, options=None) -> str:
        """Writes a checkpoint at exactly `file_prefix` (no counter, no `checkpoint` file)."""
        path = write_graph(os.fspath(file_prefix), self._graph(), options)
        _callbacks(options, path)
        return path

    def save(self, file_prefix, options=None) -> str:
        """Increments `save_counter`, writes `file_prefix-N` and records it in the directory's
        `checkpoint` file; returns the path. A failed save leaves the counter unchanged."""
        from featherflow._src.train import state  # noqa: PLC0415

        file_prefix = os.fspath(file_prefix)
        counter = self.save_counter
        number = int(counter.assign_add(1).numpy())
        try:
            path = write_graph(f"{file_prefix}-{number}", self._graph(), options)
        except BaseException:
            counter.assign_sub(1)
            raise
        state.update_checkpoint_state(os.path.dirname(file_prefix), path, [path],
                                      durable=durable_save(options))
        _callbacks(options, path)
        return path

    # -- restoring -----------------------------------------------------------------------------
    def read(self, save_path, options=None):
        """Restores from `save_path` without creating `save_counter`; returns a status."""
        from featherflow._src.framework import errors  # noqa: PLC0415
        from featherflow._src.train import restore as _restore  # noqa: PLC0415
        from featherflow._src.train.bundle_reader import BundleReader  # noqa: PLC0415

        del options
        if save_path is None:
            return _restore.InitializationOnlyStatus(self)
        save_path = os.fspath(save_path)
        try:
            reader = BundleReader(save_path)
        except errors.NotFoundError as e:
            raise errors.NotFoundError(
                None, None, f"Error when restoring from checkpoint or SavedModel at {save_path}: "
                f"{e.message}{_NOT_FOUND_HINT}") from None
        if GRAPH_KEY not in reader:
            reader.close()
            raise errors.NotFoundError(
                None, None, f"Checkpoint {save_path} has no object graph ({GRAPH_KEY}): it was "
                "written by a name-based saver (tf.compat.v1.train.Saver), which featherflow "
                "does not restore. Read its tensors with tf.train.load_checkpoint.")
        try:
            graph = _ogp.decode(bytes(reader.read(GRAPH_KEY).reshape(-1)[0]))
        except ValueError as e:
            reader.close()
            raise errors.DataLossError(None, None, f"Corrupted object graph in checkpoint "
                                                   f"{save_path}: {e}") from None
        root = self._ckpt_root
        restoration = _restore.Restoration(self, save_path, reader, graph,
                                           [root] if root is not None else [])
        restoration.resolve()
        return _restore.CheckpointLoadStatus(restoration, self)

    def restore(self, save_path, options=None):
        """Restores from `save_path` (a prefix such as `ckpt-3`; None restores nothing) and
        returns a status. Values of objects that do not exist yet are restored when they are
        attached (deferred restoration)."""
        if save_path is None:
            from featherflow._src.train import restore as _restore  # noqa: PLC0415

            return _restore.InitializationOnlyStatus(self)
        self._maybe_create_save_counter()
        return self.read(save_path, options)


# -- Keras Model.save_weights / load_weights ---------------------------------------------------
def save_model_weights(model, filepath, overwrite=True, options=None) -> str:
    """`Model.save_weights`: a TF-format object checkpoint whose root is the model (keys such as
    `d1/_kernel/.ATTRIBUTES/VARIABLE_VALUE`), at prefix `filepath` whatever its suffix."""
    filepath = os.fspath(filepath)
    if not overwrite and os.path.exists(f"{filepath}.index"):
        raise FileExistsError(f"Weights file {filepath} exists and overwrite=False. "
                              f"Received: filepath={filepath}")
    return Checkpoint(root=model).write(filepath, options=options)


def load_model_weights(model, filepath, skip_mismatch=False, options=None):
    """`Model.load_weights`: restores a checkpoint written by `save_weights` (variables created
    later, e.g. by the first call, get their values then); returns the status."""
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        from featherflow._src.train import state  # noqa: PLC0415

        filepath = state.latest_checkpoint(filepath) or filepath
    status = Checkpoint(root=model).read(filepath, options)
    if skip_mismatch:
        status.expect_partial()
    return status
