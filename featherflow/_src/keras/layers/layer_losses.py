"""Losses bookkeeping of `Layer` (base.py): `add_loss`, `losses` and their clearing.

`LayerLossesMixin` is a base class of `Layer`; it keeps each layer's `_losses` (set in
`Layer.__init__`) and, with `_WITH_LOSSES`, lets a top-level call skip clearing when no layer
holds any. `_losses_kept` protects the user's losses from dummy (shape-inference) calls.
"""
from __future__ import annotations

import weakref

from featherflow._src.keras.layers.spec import _tf
from featherflow._src.module import walk as _walk


# Layers whose `_losses` may be non-empty (weakly held): the top-level call clears losses only
# when some layer has any.
_WITH_LOSSES = weakref.WeakSet()


class _losses_kept:
    """Dummy calls (shape inference) must not replace losses the user already sees."""

    def __init__(self, layer):
        self.layer = layer

    def __enter__(self):
        self.saved = [(lay, list(lay._losses)) for lay in self.layer._flatten_layers()]

    def __exit__(self, *exc):
        for lay, losses in self.saved:
            lay._losses = losses
            if losses:
                _WITH_LOSSES.add(lay)


class LayerLossesMixin:
    """`add_loss` and `losses` of a Layer (mixed into `Layer`)."""

    # -- losses ------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a scalar loss (tensor or value) to `losses` until the next top-level call."""
        tf = _tf()
        for _, item in _walk.flatten_with_paths(loss):
            self._losses.append(item if callable(item) else tf.convert_to_tensor(item))
        if self._losses:
            _WITH_LOSSES.add(self)

    def _own_losses(self):
        out = [x() if callable(x) else x for x in self._losses]
        out.extend(reg(v) for v, reg in self._regularized)
        return out

    @property
    def losses(self):
        """Losses added with `add_loss`, then weight-regularizer losses, own first."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._own_losses())
        return out

    def _clear_losses(self):
        # NOTE: only layers in _WITH_LOSSES can hold losses; when it is empty (no add_loss since
        # the last clear) there is nothing to clear and the sublayer walk is skipped.
        if not _WITH_LOSSES:
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []
            _WITH_LOSSES.discard(layer)
