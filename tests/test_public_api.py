"""The public surface is held against a committed list (tools/public_api.py rewrites it)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))

import public_api  # noqa: E402


def test_public_surface_matches_the_committed_list():
    expected = public_api.OUT.read_text().split("\n")
    actual = public_api.surface()
    added = sorted(set(actual) - set(expected) - {""})
    removed = sorted(set(expected) - set(actual) - {""})
    assert not added and not removed, (
        f"public names added: {added}; removed: {removed}. If intended, run "
        "`python tools/public_api.py` and commit tests/fixtures/public_api.txt.")


def test_top_level_has_the_core_tf_names():
    import featherflow as tf

    for name in ["Variable", "Module", "GradientTape", "Tensor", "TensorShape", "DType",
                 "constant", "convert_to_tensor", "device", "name_scope", "IndexedSlices",
                 "matmul", "keras", "train", "data",
                 "nn", "math", "linalg", "random", "nest", "config", "errors", "raw_ops"]:
        assert hasattr(tf, name), name
