"""tf.keras.losses against values recorded from TF 2.21 (tools/record_losses_metrics_fixtures.py)
plus configs, `get`, errors and the sample-weight rules."""
import json
import os

import numpy as np
import pytest

import featherflow as tf

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_losses_metrics.json")
with open(FIXTURE) as _f:
    DATA = json.load(_f)

ERRORS = {"InvalidArgumentError": tf.errors.InvalidArgumentError, "ValueError": ValueError}


def _id(case):
    return (f"{case['name']}-{case['kwargs']}-{case['reduction']}-"
            f"{'w' + str(np.ndim(case['sample_weight'])) if case['sample_weight'] else 'nw'}")


@pytest.mark.parametrize("case", DATA["losses"], ids=[_id(c) for c in DATA["losses"]])
def test_loss_matches_tf(case):
    loss = getattr(tf.keras.losses, case["name"])(reduction=case["reduction"], **case["kwargs"])
    args = (tf.constant(case["y_true"]), tf.constant(case["y_pred"], tf.float32))
    kw = {} if case["sample_weight"] is None else {"sample_weight":
                                                   tf.constant(case["sample_weight"])}
    if "error" in case:
        with pytest.raises(ERRORS[case["error"]]):
            loss(*args, **kw)
        return
    out = loss(*args, **kw)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), np.asarray(case["expected"]), rtol=2e-5, atol=2e-6)
    # Huber's delta and CosineSimilarity's axis are kept in the config (docs/compat.md).
    extra = {"Huber": ("delta",), "CosineSimilarity": ("axis",)}.get(case["name"], ())
    assert {k: v for k, v in loss.get_config().items() if k not in extra} == case["config"]


@pytest.mark.parametrize("cls", ["MeanSquaredError", "Huber", "BinaryCrossentropy",
                                 "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
                                 "CosineSimilarity", "BinaryFocalCrossentropy"])
def test_config_round_trip(cls):
    kwargs = {"Huber": {"delta": 2.5}, "CosineSimilarity": {"axis": 0},
              "BinaryCrossentropy": {"from_logits": True, "label_smoothing": 0.1}}.get(cls, {})
    loss = getattr(tf.keras.losses, cls)(reduction="sum", name="my_loss", **kwargs)
    again = type(loss).from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert again.reduction == "sum" and again.name == "my_loss"
    for k, v in kwargs.items():
        assert again.get_config()[k] == v
    back = tf.keras.losses.deserialize(tf.keras.losses.serialize(loss))
    assert type(back) is type(loss) and back.get_config() == loss.get_config()


def test_get():
    L = tf.keras.losses
    assert L.get("mse") is L.mse
    assert L.get("mean_squared_error") is L.mse
    assert L.get("sparse_categorical_crossentropy") is L.sparse_categorical_crossentropy
    assert isinstance(L.get("CategoricalCrossentropy"), L.CategoricalCrossentropy)
    inst = L.Huber()
    assert L.get(inst) is inst
    assert L.get(L.hinge) is L.hinge
    assert L.get(None) is None
    got = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert got.from_logits is True
    with pytest.raises(ValueError, match="Could not interpret loss identifier: nope"):
        L.get("nope")


def test_invalid_reduction():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`.*"
                                         "Received: reduction=bad"):
        tf.keras.losses.MeanSquaredError(reduction="bad")


def test_shape_mismatch_errors():
    L = tf.keras.losses
    with pytest.raises(ValueError, match="must have the same shape"):
        L.CategoricalCrossentropy()(tf.constant([[1., 0., 0.]]), tf.constant([[1., 0.]]))
    with pytest.raises(ValueError, match="must have the same shape"):
        L.BinaryCrossentropy()(tf.constant([[1., 0., 0.]]), tf.constant([[1., 0.]]))
    with pytest.raises(ValueError, match="up until the last dimension"):
        L.SparseCategoricalCrossentropy()(tf.constant([1, 2, 0]), tf.constant([[1., 0.]]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        L.MeanSquaredError()(tf.constant([[1., 2., 3.]]), tf.constant([[1., 2.]]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        L.SparseCategoricalCrossentropy()(tf.constant([1, 5]), tf.constant([[1., 0.], [.5, .5]]))


def test_weighted_mse_against_numpy():
    yt = np.array([[0., 1.], [2., 3.], [1., 1.]], np.float32)
    yp = np.array([[1., 1.], [2., 0.], [0., 2.]], np.float32)
    w = np.array([0.5, 2.0, 1.0], np.float32)
    per = ((yt - yp) ** 2).mean(-1)
    mse = tf.keras.losses.MeanSquaredError
    np.testing.assert_allclose(mse()(yt, yp, sample_weight=w).numpy(), (per * w).mean(),
                               rtol=1e-6)
    np.testing.assert_allclose(mse(reduction="sum")(yt, yp, sample_weight=w).numpy(),
                               (per * w).sum(), rtol=1e-6)
    np.testing.assert_allclose(
        mse(reduction="mean_with_sample_weight")(yt, yp, sample_weight=w).numpy(),
        (per * w).sum() / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(mse(reduction=None)(yt, yp).numpy(), per, rtol=1e-6)


def test_function_forms_and_cpu():
    yt = np.array([[0., 1.]], np.float32)
    yp = np.array([[0.3, 0.6]], np.float32)
    with tf.device("/CPU:0"):
        out = tf.keras.losses.binary_crossentropy(yt, yp)
    c = np.clip(yp, 1e-7, 1 - 1e-7)
    ref = -(yt * np.log(c) + (1 - yt) * np.log(1 - c)).mean(-1)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    assert "CPU" in out.device
    np.testing.assert_allclose(tf.keras.losses.mae(yt, yp).numpy(), np.abs(yt - yp).mean(-1))


def test_loss_subclass_and_dtype():
    class Twice(tf.keras.losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * tf.reduce_mean(tf.abs(y_true - y_pred), axis=-1)

    loss = Twice(dtype="float64")
    out = loss(tf.constant([[1., 2.]]), tf.constant([[0., 0.]]))
    assert out.dtype == tf.float64 and float(out) == 3.0
    assert loss.name.startswith("twice")


def test_ignore_class_averages_over_valid_entries():
    logits = np.array([[2., 0.5, 0.1], [0.3, 1.0, 0.2], [0.1, 0.1, 3.0]], np.float32)
    labels = np.array([0, -1, 2])
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    lsm = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ref = -(lsm[0, 0] + lsm[2, 2]) / 2
    np.testing.assert_allclose(loss(labels, logits).numpy(), ref, rtol=1e-6)
