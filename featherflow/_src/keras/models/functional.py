"""Functional models: a graph of layer calls recorded on KerasTensors (`tf.keras.Input` ->
layers -> `tf.keras.Model(inputs, outputs)`), replayed on real tensors.

The graph is ordered once, at construction, as Keras orders it (depth from the outputs, ties by
first discovery), so `layers`, weights order and `summary()` match Keras; a call then runs the
recorded nodes in that order with a dict from KerasTensor to value.
"""
from __future__ import annotations

from featherflow._src.keras.layers import base as _base
from featherflow._src.keras.layers.keras_tensor import KerasTensor
from featherflow._src.keras.models.model import Model
from featherflow._src.keras.models.training import Trainer
from featherflow._src.module.walk import flatten_with_paths
from featherflow._src.framework.public import tf as _tf


def _flat(structure):
    return [v for _, v in flatten_with_paths(structure)]


def _check_tensors(structure, what):
    flat = _flat(structure)
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise ValueError(f"All `{what}` values must be KerasTensors. Received: {what}="
                             f"{structure} including invalid value {t} of type {type(t)}")
    return flat


def map_graph(inputs, outputs):
    """(nodes by depth, operations in Keras' order) of the graph from `inputs` to `outputs`."""
    finished, in_progress, ordered, op_index = set(), set(), [], {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor):
        history = tensor._keras_history
        if history is None:
            raise ValueError(f"Tensor {tensor} is not the output of a Keras layer (no history). "
                             "Build the model from `tf.keras.Input` tensors.")
        op, node_index, _ = history
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{op.name}' is part of a cycle.")
        op_index.setdefault(op, len(op_index))
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for t in outputs:
        visit(t)
    node_depth, op_depth = {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    by_depth: dict = {}
    for node in ordered:
        by_depth.setdefault(node_depth[id(node)], []).append(node)
    ops_by_depth: dict = {}
    for op, depth in op_depth.items():
        ops_by_depth.setdefault(depth, []).append(op)
    operations = []
    for depth in sorted(ops_by_depth, reverse=True):
        operations.extend(sorted(ops_by_depth[depth], key=lambda o: op_index[o]))
    # Every input must be reachable from `inputs`.
    known = set(input_ids)
    for depth in sorted(by_depth, reverse=True):
        for node in by_depth[depth]:
            if not node.is_input:
                for t in node.input_tensors:
                    if id(t) not in known:
                        raise ValueError(
                            f"Graph disconnected: cannot find parent for tensor {t} at layer "
                            f"'{node.operation.name}'. The following previous layers were "
                            "accessed without issue: "
                            f"{[n.operation.name for n in ordered if n.is_input][:5]}")
                for t in node.output_tensors:
                    known.add(id(t))
    return by_depth, operations


def init_graph(model, inputs, outputs, name=None, trainable=True, **kwargs):
    """Sets `model` up as the functional model from `inputs` to `outputs`."""
    if isinstance(inputs, dict):
        for k, v in inputs.items():
            if not isinstance(v, KerasTensor):
                raise ValueError(f"All `inputs` values must be KerasTensors. Received: "
                                 f"inputs={inputs} including invalid value {v} of type {type(v)}")
    flat_in = _check_tensors(inputs, "inputs")
    flat_out = _check_tensors(outputs, "outputs")
    _base.Layer.__init__(model, name=name, trainable=trainable, **kwargs)
    Trainer.__init__(model)
    by_depth, operations = map_graph(flat_in, flat_out)
    model._inputs_struct = inputs
    model._outputs_struct = outputs
    model.inputs = flat_in
    model.outputs = flat_out
    model._nodes_by_depth = by_depth
    model._exec_nodes = [n for d in sorted(by_depth, reverse=True) for n in by_depth[d]
                         if not n.is_input]
    # NOTE: the layers list is an attribute, so weights (and the module walker) follow it.
    model._operations = operations
    model.built = True
    object.__setattr__(model, "_locked", True)


def _input_layer(t):
    return t._keras_history.operation


def _match_inputs(model, data):
    """Real inputs in the order of `model.inputs` (from a tensor, a list or a dict)."""
    flat_in = model.inputs
    struct = model._inputs_struct
    if isinstance(data, dict):
        if isinstance(struct, dict):
            keys = sorted(struct)
            missing = [k for k in keys if k not in data]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing}. Expected the following "
                                 f"keys: {keys}. Received keys: {sorted(data)}")
            return [data[k] for k in keys]
        names = [_input_layer(t).name for t in flat_in]
        if all(n in data for n in names):
            return [data[n] for n in names]
        flat = list(data.values())
    elif isinstance(data, (list, tuple)):
        flat = _flat(data)
    else:
        flat = [data]
    if len(flat) != len(flat_in):
        raise ValueError(f"Layer \"{model.name}\" expects {len(flat_in)} input(s), but it "
                         f"received {len(flat)} input tensors. Inputs received: {data}")
    return flat


def _standardize(value, ref):
    tf = _tf()
    if not tf.is_tensor(value):
        value = tf.convert_to_tensor(value)
    want = ref.dtype
    if value.dtype != want and (value.dtype.is_floating or value.dtype.is_integer) and (
            want.is_floating or want.is_integer):
        value = tf.cast(value, want)
    rank, ref_rank = len(value.shape), len(ref.shape)
    if rank == ref_rank - 1 and ref.shape[-1] == 1:
        value = tf.expand_dims(value, -1)
    elif rank == ref_rank + 1 and value.shape[-1] == 1:
        value = tf.squeeze(value, -1)
    return value


def run_graph(model, inputs, training=None, mask=None, **kwargs):
    flat = _match_inputs(model, inputs)
    values = {id(ref): _standardize(v, ref) for ref, v in zip(model.inputs, flat)}

    def resolve(x):
        if isinstance(x, KerasTensor):
            return values[id(x)]
        if isinstance(x, (list, tuple)):
            return type(x)(resolve(v) for v in x)
        if isinstance(x, dict):
            return {k: resolve(v) for k, v in x.items()}
        return x
    for node in model._exec_nodes:
        args = resolve(node.call_args)
        call_kwargs = resolve(node.call_kwargs) if node.call_kwargs else {}
        out = node.operation(*args, **call_kwargs)
        outs = node.output_tensors
        if len(outs) == 1 and _tf().is_tensor(out):
            values[id(outs[0])] = out
        else:
            for ref, value in zip(outs, _flat(out)):
                values[id(ref)] = value
    return resolve(model._outputs_struct)


class Functional(Model):
    """A model defined by `tf.keras.Model(inputs, outputs)`."""

    def __init__(self, inputs, outputs, name=None, **kwargs):
        init_graph(self, inputs, outputs, name=name, **kwargs)

    def call(self, inputs, training=None, mask=None):
        return run_graph(self, inputs, training=training, mask=mask)

    @property
    def layers(self):
        return list(self._operations)

    @property
    def output_names(self):
        if isinstance(self._outputs_struct, dict):
            return [_input_layer(self._outputs_struct[k]).name
                    for k in sorted(self._outputs_struct)]
        return [_input_layer(t).name for t in self.outputs]

    @property
    def input_names(self):
        return [_input_layer(t).name for t in self.inputs]
