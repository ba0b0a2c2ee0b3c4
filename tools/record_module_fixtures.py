"""Records TensorFlow's tf.Module walk order into tests/fixtures/module_walk.json.

Run with a Python that has TensorFlow: /work/tfenv/bin/python tools/record_module_fixtures.py
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "module"))

import tensorflow as tf  # noqa: E402

import module_specs as specs  # noqa: E402


def make_var(label, trainable):
    return tf.Variable(0.0, trainable=trainable, name=label)


def main():
    out = {"tensorflow": tf.__version__, "cases": {}, "class_names": {}, "module_names": {}}
    is_var = lambda x: isinstance(x, tf.Variable)  # noqa: E731
    is_mod = lambda x: isinstance(x, tf.Module)  # noqa: E731
    for name, spec in specs.CASES.items():
        root, labels = specs.build(spec, tf.Module, make_var)
        out["cases"][name] = specs.observe(root, labels, is_var, is_mod)
    for cls_name in specs.CLASS_NAMES:
        out["class_names"][cls_name] = type(cls_name, (tf.Module,), {})().name
    for name in specs.MODULE_NAMES:
        try:
            m = tf.Module(name=name)
            out["module_names"][name] = {"name": m.name, "scope": m.name_scope.name}
        except Exception as e:  # noqa: BLE001 - the error is what we record
            out["module_names"][name] = {"error": type(e).__name__, "message": str(e)}
    path = os.path.join(ROOT, "tests", "fixtures", "module_walk.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
