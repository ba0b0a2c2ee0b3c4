"""Replays tests/data/data_cases.py on featherflow against TensorFlow's recorded results
(tests/fixtures/data_pipelines.json, written by tools/record_data_fixtures.py)."""
import json
import os

import numpy as np
import pytest

import featherflow as tf
import data_cases as cases

_PATH = os.path.join(os.path.dirname(__file__), "..", "fixtures", "data_pipelines.json")
with open(_PATH) as f:
    FIXTURE = json.load(f)

# map's element_spec comes from running map_func on the first element (TF traces it), so a
# data-dependent dimension shows the first element's size (docs/compat.md).
MAP_SPEC_FROM_FIRST_ELEMENT = {"shuffle_len"}

NS = dict(tf=tf, D=tf.data.Dataset, np=np, **cases.helpers(tf))


@pytest.mark.parametrize("name,expr", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_pipeline_matches_tf(name, expr):
    want = FIXTURE["cases"][name]
    ds = eval(expr, NS)  # noqa: S307 - our own table
    card = ds.cardinality()
    assert card.dtype == tf.int64 and card.shape == ()
    assert int(card) == want["cardinality"]
    if name not in MAP_SPEC_FROM_FIRST_ELEMENT:
        assert repr(ds.element_spec) == want["element_spec"]
    if "elements" in want:
        got = [cases.encode(e) for e in ds]
        assert got == want["elements"]
        # as_numpy_iterator gives the same values and NumPy types
        got_np = [cases.encode(e) for e in _as_tensors(ds.as_numpy_iterator())]
        assert got_np == want["elements"]


def _as_tensors(it):
    """NumPy elements wrapped so encode() sees a dtype name like a tensor's."""
    class Leaf:
        def __init__(self, v):
            a = np.asarray(v)
            self.dtype = tf.string if a.dtype.kind in "OS" else tf.as_dtype(a.dtype)
            self._v = v

        def numpy(self):
            return self._v

    def wrap(x):
        if isinstance(x, dict):
            return {k: wrap(v) for k, v in x.items()}
        if isinstance(x, tuple):
            return type(x)(*map(wrap, x)) if hasattr(x, "_fields") else tuple(map(wrap, x))
        assert isinstance(x, (np.ndarray, np.generic, bytes)), type(x)
        return Leaf(x)
    return [wrap(e) for e in it]


@pytest.mark.parametrize("name,expr", cases.ERROR_CASES, ids=[c[0] for c in cases.ERROR_CASES])
def test_error_matches_tf(name, expr):
    want = FIXTURE["errors"][name]
    with pytest.raises(Exception) as info:
        r = eval(expr, NS)  # noqa: S307
        if isinstance(r, tf.data.Dataset):
            list(r)
    assert type(info.value).__name__ == want["class"]
    if want["class"] in ("InvalidArgumentError", "UnknownError"):
        assert isinstance(info.value, getattr(tf.errors, want["class"]))
        assert info.value.message == want["message"]
    else:
        assert str(info.value) == want["message"]
