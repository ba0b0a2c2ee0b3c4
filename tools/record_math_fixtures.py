"""Records TensorFlow's output dtype or exception class for (math op, input dtype) pairs.

Run with a Python that has TensorFlow: `python tools/record_math_fixtures.py`; writes
tests/fixtures/math_ops.json, which tests/ops/test_math_fixtures.py checks featherflow against.
Inputs are built by `make_input` (copied in the test): small 1-D arrays, [1, 2, 3] cast to the
dtype ([True, False, True] for bool); binary ops get the same array twice.
"""
import json
import os

import numpy as np

UNARY = ["abs", "negative", "sign", "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p",
         "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
         "atanh", "sigmoid", "reciprocal", "floor", "ceil", "round", "rint", "erf", "is_nan",
         "is_inf", "is_finite", "logical_not", "invert", "real", "imag", "conj",
         "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all",
         "reduce_any", "reduce_logsumexp", "reduce_std", "reduce_variance",
         "reduce_euclidean_norm", "count_nonzero", "argmax", "argmin", "cumsum", "cumprod",
         "top_k", "sort", "argsort", "where"]
BINARY = ["add", "subtract", "multiply", "truediv", "floordiv", "floormod", "truncatediv",
          "truncatemod", "maximum", "minimum", "squared_difference", "divide_no_nan", "xlogy",
          "xdivy", "atan2", "pow", "less", "less_equal", "greater", "greater_equal", "equal",
          "not_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
          "bitwise_xor", "left_shift", "right_shift", "matmul_2d", "einsum_ij_jk"]
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint32", "complex64", "bool"]


def make_input(dtype_name, np_dtype):
    if dtype_name == "bool":
        return np.array([True, False, True])
    return np.array([1, 2, 3]).astype(np_dtype)


def resolve(tf, name):
    """The callable for fixture op `name` in module `tf` (TensorFlow or featherflow)."""
    special = {
        "invert": lambda x: tf.bitwise.invert(x) if hasattr(tf, "bitwise") else tf.math.invert(x),
        "bitwise_and": lambda x, y: _bitwise(tf, "bitwise_and")(x, y),
        "bitwise_or": lambda x, y: _bitwise(tf, "bitwise_or")(x, y),
        "bitwise_xor": lambda x, y: _bitwise(tf, "bitwise_xor")(x, y),
        "left_shift": lambda x, y: _bitwise(tf, "left_shift")(x, y),
        "right_shift": lambda x, y: _bitwise(tf, "right_shift")(x, y),
        "top_k": lambda x: tf.math.top_k(x, 2).values,
        "sort": lambda x: tf.sort(x),
        "argsort": lambda x: tf.argsort(x),
        "where": lambda x: tf.where(x),
        "matmul_2d": lambda x, y: tf.matmul(tf.reshape(x, [3, 1]), tf.reshape(y, [1, 3]))
        if hasattr(tf, "reshape") else tf.matmul([x], [y]),
        "einsum_ij_jk": lambda x, y: tf.einsum("i,i->", x, y),
    }
    if name in special:
        return special[name]
    fn = getattr(tf.math, name, None)
    return fn if fn is not None else getattr(tf, name)


def _bitwise(tf, name):
    mod = getattr(tf, "bitwise", None)
    return getattr(mod, name) if mod is not None else getattr(tf.math, name)


def run_case(tf, name, dtype_name, np_dtype, dtype):
    x = tf.constant(make_input(dtype_name, np_dtype), dtype=dtype)
    fn = resolve(tf, name)
    try:
        out = fn(x) if name in UNARY else fn(x, x)
    except Exception as e:  # noqa: BLE001 - the class is the record
        return {"error": type(e).__name__}
    return {"out": out.dtype.name}


def main():
    import tensorflow as tf

    records = []
    for name in UNARY + BINARY:
        for dname in DTYPES:
            dtype = tf.as_dtype(dname)
            np_dtype = dtype.as_numpy_dtype
            records.append({"op": name, "dtype": dname, "arity": 1 if name in UNARY else 2,
                            **run_case(tf, name, dname, np_dtype, dtype)})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "math_ops.json")
    with open(path, "w") as f:
        f.write('{"tensorflow": "%s", "records": [\n' % tf.__version__)
        f.write(",\n".join(json.dumps(r) for r in records))
        f.write("\n]}\n")
    print(f"wrote {len(records)} records to {path}")


if __name__ == "__main__":
    main()
