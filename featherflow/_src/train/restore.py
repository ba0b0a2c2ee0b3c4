"""Restoring an object-based checkpoint: matching, deferred restoration, status objects.

A `Restoration` matches the checkpoint's object graph against the Python objects breadth-first
from the root, by local name. A checkpoint value whose object does not exist yet stays pending:
the Python objects on its path are watched (weakly), and when one of them gets an attribute
(`Module`/`Layer.__setattr__` call `walk.notify_attach`), the match continues from there and
the new variables take their saved values (TF's deferred restoration). A layer built after
`restore`, optimizer slots created on the first step and attributes assigned later all get
their values when they appear.

Every batch of values is validated first (dtype, shape, entry size, data file present and
long enough), then read and checksummed in full, and only then written, so a restore that fails
on a mismatch or on damaged data changes nothing. Variables on a NumPy device get fresh arrays
read straight from the file (`BundleReader.read_many_into`) as their new buffers.
"""
from __future__ import annotations

import logging
import weakref
from collections import deque

import numpy as np

from featherflow._src.framework import errors
from featherflow._src.module import walk as _walk
from featherflow._src.train import checkpoint as _ck

_log = logging.getLogger("featherflow")
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}

# Python object (weakly) -> [(Restoration, node id)] with values still pending below it.
_WATCH: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_busy = [False]


def _on_attach(obj, name, value):
    if _busy[0]:
        return
    try:
        entries = _WATCH.get(obj)
    except TypeError:  # an unhashable object cannot be watched
        return
    if not entries:
        return
    done = set()
    for restoration, nid in list(entries):
        if id(restoration) in done:
            continue
        done.add(id(restoration))
        # From the root when it lives: a container whose elements moved (a Sequential that
        # put an InputLayer first when built) is matched again by the names from the root.
        if restoration.live_root() is not None:
            restoration.resolve()
        else:
            restoration.resolve(nid, obj)


def _watch(obj, restoration, nid):
    try:
        entries = _WATCH.setdefault(obj, [])
    except TypeError:
        return
    if not any(r is restoration and n == nid for r, n in entries):
        entries.append((restoration, nid))
    if _on_attach not in _walk.ATTACH_HOOKS:
        _walk.ATTACH_HOOKS.append(_on_attach)


def _unwatch(restoration):
    for obj in list(_WATCH.keys()):
        entries = _WATCH.get(obj)
        if entries:
            entries[:] = [(r, n) for r, n in entries if r is not restoration]
            if not entries:
                _WATCH.pop(obj, None)
    if not _WATCH and _on_attach in _walk.ATTACH_HOOKS:
        _walk.ATTACH_HOOKS.remove(_on_attach)


def _type_string(dtype) -> str:
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def _shape_text(shape) -> str:
    return str(tuple(shape))


class Restoration:
    """One `restore(save_path)`: the checkpoint, what is matched, what is still pending."""

    def __init__(self, root, prefix: str, reader, graph_proto, aliases=()):
        self.prefix = prefix
        self.reader = reader
        self.proto = graph_proto
        self.root_ref = weakref.ref(root)
        # With `Checkpoint(root=obj)`, obj's children are the root's: it stands in for a
        # Checkpoint object that is gone (`model.load_weights` makes one and drops it).
        self.alias_refs = []
        for a in aliases:
            try:
                self.alias_refs.append(weakref.ref(a))
            except TypeError:
                pass
        self.bound = {0: id(root)}          # node id -> id(Python object)
        self.restored: set = set()          # node ids whose value was written
        self.expect_partial = False
        self.values = {}                    # node id -> checkpoint key
        for nid, node in enumerate(graph_proto.nodes):
            for attr in node.attributes:
                if attr.name == _ck.VALUE_NAME:
                    self.values[nid] = attr.checkpoint_key
        self.parents = [[] for _ in graph_proto.nodes]
        for nid, node in enumerate(graph_proto.nodes):
            for ref in node.children:
                if 0 <= ref.node_id < len(self.parents):
                    self.parents[ref.node_id].append(nid)

    def live_root(self):
        root = self.root_ref()
        if root is None:
            for ref in self.alias_refs:
                root = ref()
                if root is not None:
                    break
        return root

    # -- matching ------------------------------------------------------------------------------
    def _pending_below(self) -> list:
        """Whether each node reaches a value that is not restored yet."""
        marked = [False] * len(self.proto.nodes)
        queue = deque(n for n in self.values if n not in self.restored)
        for n in queue:
            marked[n] = True
        while queue:
            for p in self.parents[queue.popleft()]:
                if not marked[p]:
                    marked[p] = True
                    queue.append(p)
        return marked

    def resolve(self, start=0, obj=None):
        """Matches what is reachable from node `start` (bound to `obj`; the root by default)
        and restores the variables newly found."""
        if obj is None:
            obj = self.live_root()
            start = 0
            if obj is None:
                return
        if len(self.restored) == len(self.values):
            return
        pending = self._pending_below()
        if not pending[start]:
            return
        nodes = self.proto.nodes
        new = {}              # node id -> object, committed only when the restore succeeds
        visited = {start: obj}
        queue = deque([start])
        while queue:
            nid = queue.popleft()
            here = visited[nid]
            if _walk.is_variable(here):
                continue
            kids = None
            for ref in nodes[nid].children:
                cid = ref.node_id
                if not (0 <= cid < len(nodes)) or not pending[cid]:
                    continue
                if kids is None:
                    kids = dict(_ck.checkpoint_children(here))
                child = kids.get(ref.local_name)
                if child is None:
                    continue
                # Only a restored variable keeps its node: containers are matched again by
                # name on every pass, so elements that moved are found where they are now.
                known = self.bound.get(cid) if cid in self.restored else None
                if known is not None and known != id(child):
                    continue  # the value went to another variable already (TF keeps the first)
                if cid not in visited:
                    visited[cid] = child
                    if cid not in self.restored:
                        new[cid] = (id(child), child)
                    queue.append(cid)
        todo = [(nid, obj_) for nid, (_, obj_) in new.items()
                if nid in self.values and nid not in self.restored and _walk.is_variable(obj_)]
        if todo:
            restore_values(self.reader, [(self.values[nid], var) for nid, var in todo])
        for nid, (oid, _) in new.items():
            self.bound[nid] = oid
        self.restored.update(nid for nid, _ in todo)
        self._rewatch(visited)

    def _rewatch(self, visited):
        if len(self.restored) == len(self.values):
            _unwatch(self)
            self.reader.close()
            return
        pending = self._pending_below()
        for nid, o in visited.items():
            if pending[nid] and not _walk.is_variable(o):
                _watch(o, self, nid)

    # -- reports -------------------------------------------------------------------------------
    def checkpoint_paths(self) -> list:
        """The first path of local names to each checkpoint node (None when unreachable)."""
        paths = [None] * len(self.proto.nodes)
        paths[0] = ()
        queue = deque([0])
        while queue:
            nid = queue.popleft()
            for ref in self.proto.nodes[nid].children:
                if 0 <= ref.node_id < len(paths) and paths[ref.node_id] is None:
                    paths[ref.node_id] = paths[nid] + (ref.local_name,)
                    queue.append(ref.node_id)
        return paths

    def unused_values(self) -> list:
        """Lines describing each checkpoint value that no Python variable took."""
        root = self.live_root()
        graph = _ck.ObjectGraph(root, self._alias_objects(root)) if root is not None else None
        paths = self.checkpoint_paths()
        lines = []
        for nid, key in sorted(self.values.items(), key=lambda kv: kv[1]):
            if nid in self.restored:
                continue
            try:
                dtype, shape = self.reader.dtype_and_shape(key)
                what = f"{dtype.name} {list(shape)}"
            except errors.OpError:
                what = "(not readable)"
            lines.append(f"    {key}  {what}  <- {self._why_unused(paths[nid], graph)}")
        return lines

    def _alias_objects(self, root):
        return [o for o in (getattr(root, "_ckpt_root", None),) if o is not None]

    def _why_unused(self, path, graph) -> str:
        if path is None:
            return "not reachable from the checkpoint's root"
        if graph is None:
            return f"object {_ck.path_text(path)} (the root object no longer exists)"
        obj = graph.objects[0]
        for i, name in enumerate(path):
            kids = dict(_ck.checkpoint_children(obj))
            if name not in kids:
                have = ", ".join(repr(k) for k in kids) or "none"
                return (f"{_ck.path_text(path)}: {_ck.path_text(path[:i])} has no dependency "
                        f"{name!r} (its dependencies: {have})")
            obj = kids[name]
        if not _walk.is_variable(obj):
            return f"{_ck.path_text(path)} is a {type(obj).__name__}, not a variable"
        return f"{_ck.path_text(path)} is another checkpoint value's variable"

    def unmatched_objects(self) -> list:
        """Lines describing each Python variable (reachable now) that got no value."""
        root = self.live_root()
        if root is None:
            return []
        graph = _ck.ObjectGraph(root, self._alias_objects(root))
        restored_ids = {self.bound[n] for n in self.restored if n in self.bound}
        paths = self.checkpoint_paths()
        ckpt_path_set = {p for p in paths if p is not None}
        lines = []
        for nid, var in graph.variables():
            if id(var) in restored_ids:
                continue
            path = graph.paths[nid]
            reason = ("no value at this path in the checkpoint" if path not in ckpt_path_set
                      else "the checkpoint object at this path has no variable value")
            lines.append(f"    {_ck.path_text(path)}  {var.dtype.name} "
                         f"{list(var.shape.as_list() if hasattr(var.shape, 'as_list') else var.shape)}"
                         f"  {var.name!r}  <- {reason}")
        return lines

    def __del__(self):
        try:
            if not self.expect_partial and len(self.restored) < len(self.values):
                missing = [k for n, k in self.values.items() if n not in self.restored]
                _log.warning("A checkpoint restoration of %s is being deleted with %d unrestored "
                             "values (use `status.expect_partial()` to silence this): %s",
                             self.prefix, len(missing), ", ".join(sorted(missing)[:10]))
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# -- writing values ----------------------------------------------------------------------------
def _direct_buffer(var, dtype, shape):
    """The variable's own host buffer when a fresh array can replace it, else None."""
    dev = getattr(var, "_device", None)
    buf = getattr(var, "_buf", None)
    if dev is None or not dev.direct or dev.backend.name != "numpy" or type(buf) is not np.ndarray:
        return None
    if not hasattr(var, "_adopt_buffer") or not hasattr(var, "_lock"):
        return None
    if buf.shape != tuple(shape) or buf.dtype != dtype._np or dtype._kind == "O":
        return None
    return buf


def validate(reader, items):
    """Checks every (key, variable) pair before anything is written: the key exists, dtypes are
    equal and shapes compatible (TF's exception classes), the data is where the index says."""
    for key, var in items:
        _validate_one(reader, key, var)


def _validate_one(reader, key, var):
    """(DType, shape) of `key` after checking that it can be restored into `var`."""
    dtype, shape = reader.dtype_and_shape(key)
    if dtype != var.dtype:
        raise errors.InvalidArgumentError(
            None, None, f"tensor_name = {key}; expected dtype {_type_string(var.dtype)} does "
            f"not equal original dtype {_type_string(dtype)}")
    buf = getattr(var, "_buf", None)
    # NOTE: a buffer of exactly the saved shape is compatible with the declared shape (which
    # always admits the buffer's), so the common case builds no TensorShape.
    if getattr(buf, "shape", None) == shape:
        ok = True
    else:
        vshape = var.shape
        ok = vshape.is_compatible_with(shape) if hasattr(vshape, "is_compatible_with") \
            else tuple(vshape) == tuple(shape)
    if not ok:
        vshape = var.shape
        raise ValueError(f"Received incompatible tensor with shape {_shape_text(shape)} when "
                         f"attempting to restore variable with shape {vshape} and name "
                         f"{var.name}. (checkpoint key {key!r})")
    if dtype._kind != "O":
        reader._locate(key, reader.entry(key))  # data file present and long enough
    return dtype, shape


def restore_values(reader, items):
    """Restores (key, variable) pairs so that a failure changes no variable: every pair is
    validated and every value read and checksummed before any variable is updated.
    Values for host NumPy variables are read (in worker threads, checksummed as they arrive)
    into fresh arrays that then become the variables' buffers, a pointer swap under each
    variable's lock; the rest (other devices, strings, flexible shapes) are read afterwards
    and go through `assign`."""
    direct, staged = [], []

    def fresh_targets():
        for key, var in items:
            dtype, shape = _validate_one(reader, key, var)
            if _direct_buffer(var, dtype, shape) is not None:
                # NOTE: a fresh array, not the variable's buffer: a damaged tensor found later
                # must not leave the earlier variables overwritten. Still no extra copy: the
                # bytes go once from the file into the array that becomes the buffer.
                fresh = np.empty(shape, dtype=dtype._np)
                direct.append((var, key, fresh))
                yield key, fresh
            else:
                staged.append((var, key))

    reader.read_many_into(fresh_targets())
    staged = [(var, reader.read(key)) for var, key in staged]
    _busy[0] = True
    try:
        _swap_in(direct)
        for var, value in staged:
            var.assign(value)
    finally:
        _busy[0] = False


def _swap_in(direct):
    """Installs each (variable, key, fresh array), holding all their locks at once (in a fixed
    order, like `variable.writing`), so no update interleaves with the swap."""
    locks = sorted({id(var): var for var, _, _ in direct}.values(), key=id)
    for var in locks:
        var._lock.acquire()
    try:
        for var, _, fresh in direct:
            var._adopt_buffer(fresh)
    finally:
        for var in reversed(locks):
            var._lock.release()
    direct.clear()  # the variables own the arrays now (no extra reference: no copy-on-write)


# -- status objects ----------------------------------------------------------------------------
class CheckpointLoadStatus:
    """What `Checkpoint.restore(path)` returns: assertions about the match, eagerly checked."""

    def __init__(self, restoration: Restoration, root):
        self._restoration = restoration
        self._root = root  # keeps the checkpoint's objects alive while the status is

    def _report(self, method, unused, unmatched):
        r = self._restoration
        parts = [f"Checkpoint {r.prefix} does not match the Python objects ({method}):"]
        if unused:
            parts.append(f"  {len(unused)} checkpoint value(s) not used by any Python object "
                         "(key, dtype, shape <- why):")
            parts += unused
        if unmatched:
            parts.append(f"  {len(unmatched)} Python variable(s) with no value in the checkpoint "
                         "(path, dtype, shape, name <- why):")
            parts += unmatched
        return AssertionError("\n".join(parts))

    def assert_consumed(self):
        """Every checkpoint value was used and every Python variable got one."""
        r = self._restoration
        r.resolve()
        unused, unmatched = r.unused_values(), r.unmatched_objects()
        if unused or unmatched:
            raise self._report("assert_consumed", unused, unmatched)
        return self

    def assert_existing_objects_matched(self):
        """Every Python variable that exists now got a value (unused checkpoint values are
        allowed)."""
        r = self._restoration
        r.resolve()
        unmatched = r.unmatched_objects()
        if unmatched:
            raise self._report("assert_existing_objects_matched", [], unmatched)
        return self

    def assert_nontrivial_match(self):
        """Something besides the root object was matched."""
        r = self._restoration
        r.resolve()
        if len([n for n in r.bound if n != 0]) == 0:
            unmatched = r.unmatched_objects()
            raise AssertionError(
                f"Nothing except the root object matched a checkpointed value in {r.prefix}. "
                "Typically this means that the checkpoint does not match the Python program. "
                "Python variables with no value in the checkpoint:\n" + "\n".join(unmatched)
                + "\nCheckpoint values:\n" + "\n".join(r.unused_values()))
        return self

    def expect_partial(self):
        """Silences the warning about unused checkpoint values."""
        self._restoration.expect_partial = True
        return self

    def run_restore_ops(self, session=None):
        """Values are restored eagerly; this only restores what appeared since."""
        self._restoration.resolve()

    def initialize_or_restore(self, session=None):
        self._restoration.resolve()


class InitializationOnlyStatus:
    """What `restore(None)` returns: nothing is restored, variables keep their initial values."""

    def __init__(self, root=None):
        self._root = root

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being "
                             "restored.")

    assert_existing_objects_matched = assert_consumed
    assert_nontrivial_match = assert_consumed

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        raise AssertionError("No checkpoint specified, so no restore ops are available "
                             "(save_path=None to Saver.restore).")

    def initialize_or_restore(self, session=None):
        return None
