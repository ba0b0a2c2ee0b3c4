"""Records small checkpoints written by real TensorFlow, for tests/train (needs TensorFlow).

    /work/tfenv/bin/python tools/record_tf_checkpoints.py

Writes under tests/fixtures/tf_checkpoints/:
- many_dtypes.*: `tf.train.Checkpoint(...).write` with variables of every numeric dtype, bool,
  strings (empty, short, longer than 127 bytes), scalars and empty tensors;
- many_keys.*: 40 variables with shared key prefixes (prefix compression, restart points);
- two_shards.*: two `SaveV2` shards merged by `MergeV2Checkpoints` (a multi-shard bundle);
- expected.npz: every tensor's value (strings as fixed-width bytes plus their dtype/shape), keyed
  "<checkpoint>|<key>", and expected.json: dtypes and shapes as TF's CheckpointReader sees them.
"""
import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tf_checkpoints")
NUMERIC = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
           "uint8", "uint16", "uint32", "uint64", "bool", "complex64", "complex128"]


def many_dtypes(prefix):
    rng = np.random.default_rng(1)
    vs = {}
    for name in NUMERIC:
        raw = rng.normal(size=(2, 3)) * 50
        if name == "bool":
            value = raw > 0
        elif name.startswith("complex"):
            value = raw + 1j * rng.normal(size=(2, 3))
        elif name.startswith(("int", "uint")):
            value = np.abs(raw).astype(np.int64)
        else:
            value = raw
        vs[name] = tf.Variable(tf.cast(tf.constant(value), name))
    vs["strings"] = tf.Variable([[b"", b"a"], [b"x" * 200, "héllo".encode()]])
    vs["string_scalar"] = tf.Variable(b"scalar string")
    vs["empty_strings"] = tf.Variable(tf.zeros((0,), tf.string))
    vs["scalar"] = tf.Variable(3.5)
    vs["int_scalar"] = tf.Variable(np.int64(-7))
    vs["empty"] = tf.Variable(tf.zeros((0, 3)))
    vs["rank3"] = tf.Variable(tf.reshape(tf.range(24, dtype=tf.float32), (2, 3, 4)))
    return tf.train.Checkpoint(**vs).write(prefix)


def many_keys(prefix):
    vs = {f"layer_{i:02d}": tf.Variable(tf.fill((i % 3 + 1,), float(i))) for i in range(40)}
    return tf.train.Checkpoint(**vs).write(prefix)


def two_shards(prefix, tmp):
    parts = [os.path.join(tmp, "part0"), os.path.join(tmp, "part1")]
    tf.raw_ops.SaveV2(prefix=parts[0], tensor_names=["a", "c"], shape_and_slices=["", ""],
                      tensors=[tf.constant([1.0, 2.0]), tf.constant([[1, 2], [3, 4]])])
    tf.raw_ops.SaveV2(prefix=parts[1], tensor_names=["b", "d"], shape_and_slices=["", ""],
                      tensors=[tf.constant([b"s0", b"s1"]),
                               tf.constant(np.arange(5, dtype=np.float64))])
    tf.raw_ops.MergeV2Checkpoints(checkpoint_prefixes=parts, destination_prefix=prefix)
    return prefix


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with tempfile.TemporaryDirectory() as tmp:
        prefixes = {
            "many_dtypes": many_dtypes(os.path.join(OUT, "many_dtypes")),
            "many_keys": many_keys(os.path.join(OUT, "many_keys")),
            "two_shards": two_shards(os.path.join(OUT, "two_shards"), tmp),
        }
    values, meta = {}, {}
    for name, prefix in prefixes.items():
        reader = tf.train.load_checkpoint(prefix)
        dtypes = reader.get_variable_to_dtype_map()
        shapes = reader.get_variable_to_shape_map()
        meta[name] = {}
        for key in sorted(dtypes):
            value = reader.get_tensor(key)
            meta[name][key] = {"dtype": dtypes[key].name, "shape": list(shapes[key])}
            if dtypes[key] == tf.string:
                flat = [v for v in np.asarray(value, dtype=object).reshape(-1)]
                meta[name][key]["strings_hex"] = [v.hex() for v in flat]
            else:
                arr = np.asarray(value)
                if dtypes[key] == tf.bfloat16:
                    arr = arr.view(np.uint16)  # .npz cannot hold bfloat16; compare bits
                values[f"{name}|{key}"] = arr
    np.savez(os.path.join(OUT, "expected.npz"), **values)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(OUT, p)) for p in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
