"""Primitives that exist for automatic differentiation: StopGradient.

StopGradient is an identity that the tape never records, so nothing flows back through it.
"""
from __future__ import annotations

from featherflow._src.ops.registry import primitive


@primitive("StopGradient", differentiable=False, out_dtype="same")
def StopGradient(xp, x):
    # NOTE: a view, not the same array: the output counts no bytes of its own, and the base stays
    # referenced so an in-place variable update sees the alias and copies first.
    return x.view() if hasattr(x, "view") and hasattr(x, "base") else x
