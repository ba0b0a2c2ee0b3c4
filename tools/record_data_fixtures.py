"""Records tf.data behaviour from TensorFlow into tests/fixtures/data_pipelines.json.

Run with TensorFlow installed:  python tools/record_data_fixtures.py  (e.g. /work/tfenv)
The pipelines are tests/data/data_cases.py; tests/data/test_data_fixtures.py replays them on
featherflow.
"""
import json
import os
import re
import sys

import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "data"))
import data_cases as cases  # noqa: E402


def message(e):
    """The user-facing part of an error message (no function-node prefix, op suffix, traceback)."""
    text = str(e)
    text = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", text)
    text = text.split("\nTraceback")[0].split("\n\t [[")[0]
    text = re.sub(r"\s*\[Op:\w+\].*$", "", text, flags=re.S)
    return text.strip()


def main():
    ns = dict(tf=tf, D=tf.data.Dataset, np=np, **cases.helpers(tf))
    out = {"tf_version": tf.__version__, "cases": {}, "errors": {}}
    for name, expr in cases.CASES:
        ds = eval(expr, ns)  # noqa: S307 - our own table of expressions
        card = int(ds.cardinality())
        row = {"expr": expr, "cardinality": card, "element_spec": repr(ds.element_spec)}
        if not name.startswith("card_") and card != -1:
            row["elements"] = [cases.encode(e) for e in ds]
        out["cases"][name] = row
    for name, expr in cases.ERROR_CASES:
        try:
            r = eval(expr, ns)  # noqa: S307
            if isinstance(r, tf.data.Dataset):
                list(r)
        except Exception as e:  # noqa: BLE001
            out["errors"][name] = {"expr": expr, "class": type(e).__name__,
                                   "message": message(e)}
        else:
            raise SystemExit(f"{name}: expected an error")
    path = os.path.join(ROOT, "tests", "fixtures", "data_pipelines.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
