"""tf.data: featherflow pipelines against real TensorFlow (skipped where TF is not installed).

Every case in tests/data/data_cases.py runs on both libraries; elements (values, dtypes, shapes,
structure), cardinalities and element specs must agree, as must error classes.
"""
import os
import sys

import numpy as np
import pytest

tensorflow = pytest.importorskip("tensorflow")

import featherflow  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "data"))
import data_cases as cases  # noqa: E402

SPEC_FROM_FIRST_ELEMENT = {"shuffle_len"}  # docs/compat.md: map's spec from the first element


def _run(lib, name, expr):
    ns = dict(tf=lib, D=lib.data.Dataset, np=np, **cases.helpers(lib))
    ds = eval(expr, ns)  # noqa: S307 - our own table
    card = int(ds.cardinality())
    elements = None
    if card != -1 and not name.startswith("card_"):  # card_shuffle: order differs
        elements = [cases.encode(e) for e in ds.take(50)]
    return card, repr(ds.element_spec), elements


@pytest.mark.parametrize("name,expr", cases.CASES, ids=[c[0] for c in cases.CASES])
def test_pipeline_matches_tensorflow(name, expr):
    card, spec, elements = _run(featherflow, name, expr)
    t_card, t_spec, t_elements = _run(tensorflow, name, expr)
    assert card == t_card
    if name not in SPEC_FROM_FIRST_ELEMENT:
        assert spec == t_spec
    assert elements == t_elements


@pytest.mark.parametrize("name,expr", cases.ERROR_CASES, ids=[c[0] for c in cases.ERROR_CASES])
def test_error_class_matches_tensorflow(name, expr):
    def error(lib):
        ns = dict(tf=lib, D=lib.data.Dataset, np=np, **cases.helpers(lib))
        try:
            r = eval(expr, ns)  # noqa: S307
            if isinstance(r, lib.data.Dataset):
                list(r)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__
        return None
    assert error(featherflow) == error(tensorflow)


def test_mnist_shaped_epoch_matches_tensorflow_batches():
    x = np.random.rand(1000, 784).astype(np.float32)
    y = np.random.randint(0, 10, 1000).astype(np.int64)
    mine = [b for b in featherflow.data.Dataset.from_tensor_slices((x, y)).batch(128)
            .as_numpy_iterator()]
    theirs = [b for b in tensorflow.data.Dataset.from_tensor_slices((x, y)).batch(128)
              .as_numpy_iterator()]
    assert len(mine) == len(theirs)
    for (a, b), (c, d) in zip(mine, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
