"""Builds featherflow's optional C accelerator (`featherflow._src.ops._fused`, one-pass optimizer
updates); everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled, the install goes on and the NumPy bodies do the same updates (docs/design.md)."""
import sys

from setuptools import Extension, setup

# Bit-equality with the NumPy bodies needs IEEE arithmetic as written: no contraction into
# FMA, no fast-math. -fno-math-errno only lets sqrt vectorize (it does not change results).
flags = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]

setup(ext_modules=[Extension("featherflow._src.ops._fused", ["featherflow/_src/ops/_fused.c"],
                             extra_compile_args=flags, optional=True)])
