"""featherflow's output dtype / exception class per (math op, dtype) equals TensorFlow's, as
recorded by tools/record_math_fixtures.py in tests/fixtures/math_ops.json."""
import importlib.util
import json
import os

import pytest

import featherflow as tf

_HERE = os.path.dirname(__file__)
_spec = importlib.util.spec_from_file_location(
    "record_math_fixtures", os.path.join(_HERE, "..", "..", "tools", "record_math_fixtures.py"))
rec = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rec)  # the recorder imports TensorFlow only inside main()

with open(os.path.join(_HERE, "..", "fixtures", "math_ops.json")) as f:
    RECORDS = json.load(f)["records"]

# Pairs where featherflow deliberately differs (see docs/compat.md).
# TensorFlow lacks a CPU kernel for these (NotFoundError / UnimplementedError); featherflow either
# computes the value or rejects the dtype with InvalidArgumentError.
_NO_TF_KERNEL = "TensorFlow has no CPU kernel for this dtype (see docs/compat.md)"
KNOWN = {k: _NO_TF_KERNEL for k in [
    ("reciprocal", "int8"), ("reciprocal", "int16"), ("reciprocal", "int32"),
    ("reciprocal", "int64"), ("round", "complex64"), ("rint", "float16"), ("rint", "bfloat16"),
    ("where", "float16"), ("floordiv", "complex64"), ("truncatediv", "complex64"),
    ("truncatemod", "float16"), ("truncatemod", "bfloat16"), ("einsum_ij_jk", "int8"),
    ("einsum_ij_jk", "int16"), ("einsum_ij_jk", "uint8"), ("einsum_ij_jk", "uint32"),
    ("einsum_ij_jk", "bool")]}


@pytest.mark.parametrize("r", [r for r in RECORDS if (r["op"], r["dtype"]) not in KNOWN],
                         ids=lambda r: f"{r['op']}-{r['dtype']}")
def test_dtype_and_error_class_match_tensorflow(r):
    dtype = tf.as_dtype(r["dtype"])
    got = rec.run_case(tf, r["op"], r["dtype"], dtype._np, dtype)
    want = {k: v for k, v in r.items() if k in ("out", "error")}
    assert got == want


@pytest.mark.parametrize("r", [r for r in RECORDS if (r["op"], r["dtype"]) in KNOWN],
                         ids=lambda r: f"{r['op']}-{r['dtype']}")
def test_where_tensorflow_has_no_cpu_kernel(r):
    """TF raised NotFoundError/UnimplementedError; featherflow computes a value of the input's
    kind or refuses the dtype with InvalidArgumentError (docs/compat.md)."""
    assert r.get("error") in ("NotFoundError", "UnimplementedError"), r
    dtype = tf.as_dtype(r["dtype"])
    got = rec.run_case(tf, r["op"], r["dtype"], dtype._np, dtype)
    assert "out" in got or got.get("error") == "InvalidArgumentError", got
