"""The reverse walk over a tape, and gradient on top of it (jacobians: autodiff/jacobian.py).

`backward` is the whole algorithm: one loop over the recorded nodes in reverse order. Gradients
arriving at one tensor are summed (`add_n`; IndexedSlices stay sparse: two of them concatenate).
Gradient functions are written with public ops, so when an outer tape is recording they record
on it too, which is what gives higher-order derivatives.
"""
from __future__ import annotations

import collections.abc as _abc
import types

import numpy as np

from featherflow._src.autodiff import tape as _tape
from featherflow._src.framework import nest as _nest
from featherflow._src.framework.tensor import EagerTensor, Tensor
from featherflow._src.framework.tensor import make as _make
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import grad_util
from featherflow._src.ops.defs.creation import OnesLike as _ONES_LIKE
from featherflow._src.ops.defs.elementwise import AddN as _ADD_N

TRAINABLE = _tape.TRAINABLE
_TRAINABLE_MASK = _tape._TRAINABLE_MASK
_ET = EagerTensor
_ndarray = np.ndarray
_execute = dispatch.execute
_NESTED = (list, tuple, _abc.Mapping)
# Ops whose gradient is the upstream gradient itself: the walk passes it on without a call.
_PASS_THROUGH = frozenset({"ReadVariableOp", "Identity"})
_NO_ATTRS = types.MappingProxyType({})  # `op.attrs` of a recorded op that had none
_new = object.__new__


class _Api:
    """The public ops the walk uses, imported on first use (they import this package)."""

    def __init__(self):
        from featherflow._src.api import array_ops, manip_ops, math_ops  # noqa: PLC0415
        from featherflow._src.framework import convert  # noqa: PLC0415

        self.convert_to_tensor = convert.convert_to_tensor
        self.zeros_like = array_ops.zeros_like
        self.zeros = array_ops.zeros
        self.concat = manip_ops.concat
        self.add_n = math_ops.add_n


_API = None


def _api():
    global _API
    if _API is None:
        _API = _Api()
    return _API


UnconnectedGradients = _tape.UnconnectedGradients


def _unconnected(value):
    try:
        return UnconnectedGradients(value)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}") from None


# ---------------------------------------------------------------------------------------------
# Nested structures (TF's nest rules: dict values in sorted key order)
# ---------------------------------------------------------------------------------------------
# Types seen not to be nested structures: a set lookup, not an ABC isinstance, next time.
_LEAF_TYPES = {EagerTensor}


def _is_leaf(struct):
    t = type(struct)
    if t in _LEAF_TYPES:
        return True
    if isinstance(struct, _NESTED):
        return False
    _LEAF_TYPES.add(t)
    return True


def _all_leaves(items):
    for x in items:
        if not _is_leaf(x):
            return False
    return True


def flatten(struct):
    if _is_leaf(struct):  # a single tensor or variable: the common case
        return [struct]
    return _nest.flatten(struct)


def pack_as(struct, flat):
    if _is_leaf(struct):
        return flat[0]
    return _nest.pack_sequence_as(struct, flat)


# ---------------------------------------------------------------------------------------------
# The reverse walk
# ---------------------------------------------------------------------------------------------
class OpView:
    """What a gradient function sees of a recorded op: inputs, outputs, attrs, type, and
    `skip_input_indices` (as in TensorFlow): the inputs whose gradient nobody needs (not on a
    path from a source, or not differentiable). A gradient may return None for them, and should
    when computing them costs real work."""

    __slots__ = ("type", "inputs", "outputs", "attrs", "skip_input_indices")

    def __init__(self, op, inputs, attrs, outputs, skip=()):
        self.type = op.name
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs or {}
        self.skip_input_indices = skip

    @property
    def name(self):
        return self.type

    def get_attr(self, name):
        return self.attrs[name]


def _is_slices(g):
    return getattr(g, "_is_indexed_slices", False)


def _densify(g):
    return _api().convert_to_tensor(g) if _is_slices(g) else g


def aggregate(grads):
    """The sum of the gradients that reached one tensor."""
    if len(grads) == 1:
        return grads[0]
    g0 = grads[0]
    if type(g0) is _ET:
        # Dense tensors of one dtype, shape and device (the usual case): one AddN, no checks.
        d, dev, v0 = g0._dtype, g0._device, g0._value
        vt = type(v0)
        if vt is not _ndarray and issubclass(vt, np.generic):
            # NumPy scalars (0-d host values): one type means one dtype and shape ().
            for g in grads:
                if type(g) is not _ET or type(g._value) is not vt or g._dtype is not d or \
                        g._device is not dev:
                    break
            else:
                return _execute(_ADD_N, tuple(grads))
        else:
            shape = v0.shape
            for g in grads:
                if type(g) is not _ET or g._dtype is not d or g._device is not dev or \
                        g._value.shape != shape:
                    break
            else:
                return _execute(_ADD_N, tuple(grads))
    api = _api()
    if all(_is_slices(g) for g in grads):
        # The walk meets the last-recorded use first: concatenate in recording order, as TF.
        grads = grads[::-1]
        g0 = grads[0]
        return type(g0)(api.concat([g.values for g in grads], 0),
                        api.concat([g.indices for g in grads], 0), g0.dense_shape)
    return api.add_n([_densify(g) for g in grads])


def _grad_fn(op):
    fn = op.grad
    if fn is None:
        fn = registry_overrides.get(op.name)
    if fn is None:
        raise LookupError(f"gradient registry has no entry for: {op.name}")
    return fn


# Gradients registered with tf.RegisterGradient for op types that are not (yet) primitives.
registry_overrides: dict = {}


def _zeros(t, batch):
    api = _api()
    if batch is None:
        return api.zeros_like(t)
    return api.zeros((batch,) + t._value.shape, t._dtype)


def path(tape, source_ids):
    """(the recorded nodes on a path from a source, in recording order; the ids reached from
    the sources). An input of a node needs a gradient when it was reached and its dtype is
    trainable (see `_skip`).

    Every node was recorded because an input was watched, so when the sources include all
    that the tape watched directly, every node is on a path and what was reached is what the
    tape watched (only outputs of a non-trainable dtype are missing, and those are skipped
    anyway): no walk is needed.
    """
    watched = tape._watched
    for r in tape._roots:
        if r not in source_ids:
            return _on_path(tape._nodes, source_ids)
    return tape._nodes, watched


def _on_path(nodes, source_ids):
    """`path` for sources that leave out some of what the tape watched. Nodes are recorded in
    execution order, so a node's inputs were reached (or not) before it is looked at."""
    reach = set(source_ids)
    add = reach.add
    out = []
    for node in nodes:
        for t in node[1]:
            if id(t) in reach:
                break
        else:
            continue
        out.append(node)
        for o in node[3]:
            add(id(o))
    return out, reach


def _skip(inputs, reach):
    """The indices of `inputs` that need no gradient (TF's skip_input_indices): off every path
    from a source, or of a dtype without gradients."""
    skip = ()
    i = 0
    for t in inputs:
        if id(t) not in reach or not t._dtype._bit & _TRAINABLE_MASK:
            skip += (i,)
        i += 1
    return skip


def _upstream(op, outputs, grads, source_ids, batch):
    """The gradients arriving at `outputs` (zeros for outputs none reached; None when none
    reached any), summed, densified unless the op's gradient takes IndexedSlices."""
    upstream = []
    found = False
    for o in outputs:
        key = id(o)
        gl = grads.get(key) if key in source_ids else grads.pop(key, None)
        if gl is None:
            upstream.append(None)
            continue
        found = True
        if len(gl) == 1:
            g = gl[0]
        else:
            g = aggregate(gl)
            if key in source_ids:
                grads[key] = [g]
        upstream.append(g)
    if not found:
        return None
    sparse_ok = op.name in grad_util.SPARSE_OK
    none_ok = op.name in grad_util.NONE_OK
    for i, g in enumerate(upstream):
        if g is None:
            if not none_ok:
                upstream[i] = _zeros(outputs[i], batch)
        elif type(g) is not _ET and not sparse_ok and _is_slices(g):
            upstream[i] = _densify(g)
    return upstream


def _view(op, inputs, attrs, outputs, skip):
    """An OpView without the __init__ call (the walk builds one per node)."""
    v = _new(OpView)
    v.type = op.name
    v.inputs = inputs
    v.outputs = outputs
    v.attrs = attrs or _NO_ATTRS
    v.skip_input_indices = skip
    return v


def backward(nodes, seeds, source_ids, reach, batch=None):
    """Walks `nodes` in reverse from `seeds` ({id: [grad]}); returns {id: [grad]} for sources.
    `nodes` and `reach` come from `path`.

    `batch` is the size of a leading batch axis carried by every gradient (vectorized
    Jacobians), or None.
    """
    # NOTE: one iteration per recorded op of every gradient computed: the common cases (one
    # output, one or two inputs, identity gradients) are inlined.
    grads = seeds
    pop = grads.pop
    get = grads.get
    add = grads.setdefault  # add(key, []).append(g): a gradient arriving at tensor `key`
    sparse_ok = grad_util.SPARSE_OK
    mask = _TRAINABLE_MASK
    for op, inputs, attrs, outputs in reversed(nodes):
        if len(outputs) == 1:  # the common case, inlined
            key = id(outputs[0])
            if key in source_ids:
                gl = get(key)
                if gl is None:
                    continue
                if len(gl) > 1:
                    grads[key] = gl = [aggregate(gl)]
            else:
                gl = pop(key, None)
                if gl is None:
                    continue
            g = gl[0] if len(gl) == 1 else aggregate(gl)
            if type(g) is not _ET and op.name not in sparse_ok and _is_slices(g):
                g = _densify(g)
            n = len(inputs)
            if n == 1:  # reached, or the node would not be on the path
                x = inputs[0]
                if op.name in _PASS_THROUGH:  # identity gradient: no call, no OpView
                    if x._dtype._bit & mask:
                        add(id(x), []).append(g)
                    continue
                skip = () if x._dtype._bit & mask else (0,)
            elif n == 2:
                x, y = inputs
                if id(x) in reach and x._dtype._bit & mask:
                    skip = () if id(y) in reach and y._dtype._bit & mask else (1,)
                else:
                    skip = (0,) if id(y) in reach and y._dtype._bit & mask else (0, 1)
                vjp2 = op.vjp2
                if vjp2 is not None:  # no op view, no wrapper call
                    gx, gy = vjp2(x, y, outputs[0], g, skip)
                    if gx is not None:
                        add(id(x), []).append(gx)
                    if gy is not None:
                        add(id(y), []).append(gy)
                    continue
            else:
                skip = _skip(inputs, reach)
            in_grads = (op.grad or _grad_fn(op))(_view(op, inputs, attrs, outputs, skip), g)
        else:
            upstream = _upstream(op, outputs, grads, source_ids, batch)
            if upstream is None:
                continue
            skip = _skip(inputs, reach)
            in_grads = _grad_fn(op)(_view(op, inputs, attrs, outputs, skip), *upstream)
        if type(in_grads) is not tuple and type(in_grads) is not list:
            in_grads = (in_grads,)
        i = 0
        for t, g in zip(inputs, in_grads):
            if g is not None and not (skip and i in skip):
                add(id(t), []).append(g)
            i += 1
    return grads


# ---------------------------------------------------------------------------------------------
# gradient / jacobian
# ---------------------------------------------------------------------------------------------
# Types whose instances were seen to be variables tracked through their `_handle` attribute
# (tf.Variable and its subclasses): `_tracked` reads it without variable_handle's checks.
_HANDLE_TYPES = set()


def _variable_handle_property():
    from featherflow._src.variables.variable import Variable  # noqa: PLC0415

    return Variable.__dict__["handle"]


def _tracked(s):
    """The tensor the tape tracks for source `s` (a variable's handle)."""
    if type(s) in _HANDLE_TYPES:
        return s._handle
    return _as_source(s)[0]


def _as_source(s):
    """(the tensor the tape tracks for source `s`, whether it is a variable)."""
    if type(s) is _ET:
        return s, False
    h = _tape.variable_handle(s)
    if h is not None:
        if getattr(type(s), "handle", None) is _variable_handle_property():
            _HANDLE_TYPES.add(type(s))  # `handle` is Variable's: `_handle` itself
        return h, True
    if isinstance(s, Tensor):
        return s, False
    raise AttributeError(f"{type(s).__name__!r} object has no attribute 'dtype'")


def _target_tensor(t):
    """Targets may be variables: differentiate their value as read now."""
    if type(t) is not _ET and _tape.variable_handle(t) is not None:
        return _api().convert_to_tensor(t)
    return t


def _zero_for(s, batch=None):
    shape = tuple(s.shape.as_list()) if not isinstance(s, EagerTensor) else s._value.shape
    dtype = s.dtype
    return _api().zeros(((batch,) if batch is not None else ()) + tuple(shape), dtype)


def _source_ids(tape, tracked):
    """Ids of the sources the tape traced: watched, or produced by a recorded op, and the
    inlined reads of the source variables (tape._reads). Like TensorFlow, an unwatched tensor
    gets no gradient even where a recorded op consumed it."""
    watched = tape._watched
    reads = tape._reads
    ids = set()
    for s in tracked:  # a loop, not a set comprehension: usually one source
        key = id(s)
        if key in watched:
            ids.add(key)
            r = reads.get(key) if reads else None
            if r is not None:
                ids.update(r)
    return ids


def source_grads(grads, tape, source):
    """The gradients that reached `source` (a tracked tensor or variable handle) in the walk's
    order, or None: its own, then each inlined read's (summed per read), the last read first,
    as the ReadVariableOp nodes those reads stand for would have passed them on."""
    key = id(source)
    gl = grads.get(key)
    reads = tape._reads.get(key) if tape._reads else None
    if not reads:
        return gl
    out = list(gl) if gl is not None else []
    get = grads.get
    for r in reversed(reads):
        rl = get(r)
        if rl is not None:
            out.append(rl[0] if len(rl) == 1 else aggregate(rl))
    return out or None


def _ones_like(t):
    """The default output gradient. A 0-d target on the host gets its NumPy scalar one
    directly (no kernel: the value a 0-d OnesLike would hold)."""
    v = t._value
    dev = t._device
    if type(v) is not _ndarray and dev.direct and dev.xp is np:
        one = _ONES.get(type(v))  # NumPy scalars are immutable: one per type serves every seed
        if one is None:
            one = _ONES[type(v)] = type(v)(1)
        return _make(one, t._dtype, dev, t._dtype._np.itemsize)  # a NumPy scalar owns its size
    return _execute(_ONES_LIKE, (t,))


_ONES = {}  # NumPy scalar type -> its 1


def _seeds(target, output_gradients):
    """{id(target tensor): [its output gradient]} for every trainable target."""
    targets = [target] if type(target) is _ET else [_target_tensor(t) for t in flatten(target)]
    if output_gradients is not None:
        out_grads = flatten(output_gradients)
        if len(out_grads) != len(targets):
            raise ValueError(f"Expected {len(targets)} output_gradients (one per target). "
                             f"Received: {len(out_grads)}")
    else:
        out_grads = None
    seeds = {}
    k = 0
    for t in targets:
        if t._dtype._bit & _TRAINABLE_MASK:
            g = None if out_grads is None else out_grads[k]
            if g is None:
                g = _ones_like(t)
            elif not isinstance(g, Tensor) and not _is_slices(g):
                g = _api().convert_to_tensor(g, dtype=t._dtype)
            gl = seeds.get(id(t))
            if gl is None:
                seeds[id(t)] = [g]
            else:
                gl.append(g)
        k += 1
    return seeds


def gradient(tape, target, sources, output_gradients, unconnected_gradients):
    # NOTE: runs once per training step: one target tensor and one source or a plain list of
    # them (the usual call) skip the nest walks.
    if unconnected_gradients is UnconnectedGradients.NONE or unconnected_gradients == "none":
        unconnected = UnconnectedGradients.NONE
    else:
        unconnected = _unconnected(unconnected_gradients)
    leaf = type(sources) in _LEAF_TYPES or _is_leaf(sources)
    flat_list = False
    if leaf:
        tr = sources if type(sources) is _ET else \
            sources._handle if type(sources) in _HANDLE_TYPES else _tracked(sources)
        # _source_ids for one source, inlined
        key = id(tr)
        if key in tape._watched:
            source_ids = {key}
            reads = tape._reads
            reads = reads.get(key) if reads else None
            if reads:
                source_ids.update(reads)
        else:
            source_ids = set()
    else:
        if type(sources) is list and _all_leaves(sources):  # a list of variables: no nest walk
            flat_sources, flat_list = sources, True
        else:
            flat_sources = _nest.flatten(sources)
        tracked = [s if type(s) is _ET else _tracked(s) for s in flat_sources]
    if output_gradients is None and type(target) is _ET:  # the usual call: one seed of ones
        seeds = {id(target): [_ones_like(target)]} if target._dtype._bit & _TRAINABLE_MASK \
            else {}
    else:
        seeds = _seeds(target, output_gradients)
    if not leaf:
        source_ids = _source_ids(tape, tracked)
    nodes, reach = path(tape, source_ids)
    grads = backward(nodes, seeds, source_ids, reach)
    if leaf:  # one source: its gradients summed, or None (zeros with ZERO)
        gl = source_grads(grads, tape, tr)
        if gl is None or not tr._dtype._bit & _TRAINABLE_MASK:
            return None if unconnected is UnconnectedGradients.NONE else _zero_for(sources)
        return gl[0] if len(gl) == 1 else aggregate(gl)
    result = []
    for s, tr in zip(flat_sources, tracked):
        gl = source_grads(grads, tape, tr)
        if gl is None or not tr._dtype._bit & _TRAINABLE_MASK:
            g = None
            if unconnected is UnconnectedGradients.ZERO:
                g = _zero_for(s)
        else:
            g = aggregate(gl)
        result.append(g)
    return result if flat_list else _nest.pack_sequence_as(sources, result)
