"""TrackableObjectGraph encoder/decoder: byte-exact round trip of TF's own object graphs."""
import os

import pytest

from featherflow._src.train import object_graph_proto as og
from featherflow._src.train.bundle import BundleReader

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_checkpoints")


@pytest.mark.parametrize("name", ["many_dtypes", "many_keys"])
def test_tf_object_graph_round_trip(name):
    reader = BundleReader(os.path.join(FIXTURES, name))
    blob = reader.read("_CHECKPOINTABLE_OBJECT_GRAPH").item()
    graph = og.decode(blob)
    assert og.encode(graph) == blob
    root = graph.nodes[0]
    # Every variable key in the checkpoint is some node's attribute, reachable from the root.
    keys = {a.checkpoint_key for n in graph.nodes for a in n.attributes}
    assert keys == set(reader.keys()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    for child in root.children:
        node = graph.nodes[child.node_id]
        assert node.attributes[0].checkpoint_key == \
            f"{child.local_name}/.ATTRIBUTES/VARIABLE_VALUE"
        assert node.attributes[0].name == "VARIABLE_VALUE"


def test_synthetic_round_trip():
    graph = og.TrackableObjectGraph(nodes=[
        og.TrackableObject(children=[og.ObjectReference(1, "v"), og.ObjectReference(2, "opt")],
                           has_checkpoint_values=False),
        og.TrackableObject(attributes=[og.SerializedTensor("VARIABLE_VALUE", "v",
                                                           "v/.ATTRIBUTES/VARIABLE_VALUE")]),
        og.TrackableObject(slot_variables=[og.SlotVariableReference(1, "m", 3)],
                           registered_saver=("saver", "obj")),
        og.TrackableObject(children=[og.ObjectReference(0, "")], unknown=b"\x30\x07"),
    ])
    blob = og.encode(graph)
    assert og.decode(blob) == graph
    assert og.encode(og.decode(blob)) == blob


@pytest.mark.parametrize("blob", [b"\x0a", b"\x0a\x05\x0a\x03\x08", b"\x0b", b"\x0a\x02\xff\xff"])
def test_corrupt(blob):
    with pytest.raises(ValueError):
        og.decode(blob)
