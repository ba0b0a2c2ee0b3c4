"""Builds featherflow's optional C accelerators (`featherflow._src.ops._fused`, one-pass optimizer
updates; `featherflow._src.framework._ctensor`, the eager tensor's storage and the binary-op
entry); everything else is in pyproject.toml. Both are optional: where they cannot be compiled,
the install goes on and the Python/NumPy code they mirror runs instead (docs/design.md)."""
import sys

from setuptools import Extension, setup

# Bit-equality with the NumPy bodies needs IEEE arithmetic as written: no contraction into
# FMA, no fast-math. -fno-math-errno only lets sqrt vectorize (it does not change results).
flags = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]

setup(ext_modules=[
    Extension("featherflow._src.ops._fused", ["featherflow/_src/ops/_fused.c"],
              extra_compile_args=flags, optional=True),
    # The eager tensor's storage and dispatch's fast path in C (docs/design.md); optional too.
    Extension("featherflow._src.framework._ctensor",
              ["featherflow/_src/framework/_ctensor.c",
               "featherflow/_src/framework/_ctensor_dispatch.c"],
              depends=["featherflow/_src/framework/_ctensor.h"],
              extra_compile_args=[] if sys.platform == "win32" else ["-O2", "-fvisibility=hidden"],
              optional=True),
])
