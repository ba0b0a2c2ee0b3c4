"""Checkpoint dependency names of Keras layers, as Keras 3 (in TensorFlow 2.21) writes them.

Keras 3 keeps its bookkeeping lists (`_trainable_variables`, `_losses`, `_inbound_nodes`, ...)
out of checkpoints, and stores some weights under a private attribute behind a property
(`Dense._kernel`, `Conv*._kernel`, `Embedding._embeddings`), which is the name TensorFlow saves.
featherflow's layers keep the public attribute; this rule gives them Keras 3's local names, so a
TF Keras checkpoint restores into a featherflow model and the other way round.

NOTE: Keras 3 also drops lists and dicts of sublayers assigned to a layer (their variables are
only saved through an optimizer's `_trainable_variables`, and non-trainable ones not at all).
featherflow saves them (`blocks/0/_kernel`), see docs/compat.md.

The rule is registered with the walker (`walk.register_children_rule`) the first time a
checkpoint looks at an object graph after Keras layers were imported; importing this file never
imports Keras.
"""
from __future__ import annotations

import sys

# Weights Keras 3 stores under a private name (class name -> {attribute: saved name}); classes
# are matched by name along the MRO so that subclasses keep their base's names.
_RENAMES = {
    "Dense": {"kernel": "_kernel"},
    "EinsumDense": {"kernel": "_kernel"},
    "BaseConv": {"kernel": "_kernel"},
    "Conv": {"kernel": "_kernel"},
    "Conv1D": {"kernel": "_kernel"},
    "Conv2D": {"kernel": "_kernel"},
    "Conv3D": {"kernel": "_kernel"},
    "Conv1DTranspose": {"kernel": "_kernel"},
    "Conv2DTranspose": {"kernel": "_kernel"},
    "Conv3DTranspose": {"kernel": "_kernel"},
    "Embedding": {"embeddings": "_embeddings"},
}

_installed = False
_bookkeeping: frozenset = frozenset()


def _renames_for(cls) -> dict:
    out = {}
    for klass in reversed(cls.__mro__):
        out.update(_RENAMES.get(klass.__name__, {}))
    return out


def layer_children(layer) -> list:
    """(local name, value) of a featherflow Keras layer, with Keras 3's names."""
    renames = _renames_for(type(layer))
    out = []
    taken = set()
    for name, value in vars(layer).items():
        if name in _bookkeeping or name.startswith("_self_"):
            continue
        saved = renames.get(name, name)
        if saved in taken:
            continue
        taken.add(saved)
        out.append((saved, value))
    return out


def install():
    """Registers the Keras rule once Keras layers are imported (cheap when already done)."""
    global _installed, _bookkeeping
    if _installed:
        return
    base = sys.modules.get("featherflow._src.keras.layers.base")
    if base is None:
        return
    from featherflow._src.module import walk  # noqa: PLC0415

    layer_cls = base.Layer
    # The containers a bare Layer sets up for itself are bookkeeping (every variable in them is
    # also an attribute of the layer that made it); computed, so it follows the Layer class.
    try:
        probe = layer_cls(name="featherflow_checkpoint_probe")
        _bookkeeping = frozenset(k for k, v in vars(probe).items()
                                 if isinstance(v, (list, dict, tuple)))
    except Exception:  # noqa: BLE001 - a Layer that cannot be made bare: keep every attribute
        _bookkeeping = frozenset()
    walk.register_children_rule(layer_cls, layer_children)
    _installed = True
