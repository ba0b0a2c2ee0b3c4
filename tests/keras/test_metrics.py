"""tf.keras.metrics against update sequences recorded from TF 2.21, plus state variables
(non-trainable, found by the module walker, no new variables per step), configs and `get`."""
import json
import os

import numpy as np
import pytest

import featherflow as tf

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras_losses_metrics.json")
with open(FIXTURE) as _f:
    DATA = json.load(_f)


def _run_steps(m, steps):
    results = []
    for yt, yp, sw in steps:
        kw = {} if sw is None else {"sample_weight": tf.constant(sw)}
        if yp is None:
            m.update_state(tf.constant(yt), **kw)
        else:
            m.update_state(tf.constant(yt), tf.constant(yp, tf.float32), **kw)
        results.append(m.result().numpy())
    return results


@pytest.mark.parametrize("case", DATA["metrics"],
                         ids=[f"{c['name']}-{c['kwargs']}" for c in DATA["metrics"]])
def test_metric_matches_tf(case):
    m = getattr(tf.keras.metrics, case["name"])(**case["kwargs"])
    for got, want in zip(_run_steps(m, case["steps"]), case["results"]):
        np.testing.assert_allclose(got, np.asarray(want), rtol=2e-5, atol=2e-6)
    m.reset_state()
    np.testing.assert_allclose(m.result().numpy(), np.asarray(case["after_reset"]), atol=1e-7)
    config = m.get_config()
    assert config == case["config"]
    assert [v.name.split("/")[-1].split(":")[0] for v in m.variables] == case["variables"]
    again = type(m).from_config(config)
    assert again.get_config() == config


def test_variables_non_trainable_and_walked():
    m = tf.keras.metrics.AUC(num_thresholds=10)
    assert len(m.variables) == 4
    assert all(not v.trainable for v in m.variables)
    holder = tf.Module()
    holder.metric = m
    assert {id(v) for v in holder.variables} == {id(v) for v in m.variables}
    assert holder.trainable_variables == ()
    assert m.variables[0].name == f"{m.name}/true_positives:0"


def test_nested_metric_variables():
    class Pair(tf.keras.metrics.Metric):
        def __init__(self):
            super().__init__(name="pair")
            self.a = tf.keras.metrics.Mean(name="a")
            self.n = self.add_variable((), "zeros", name="n")

        def update_state(self, x):
            self.a.update_state(x)
            self.n.assign_add(1.0)

        def result(self):
            return self.a.result() * self.n

    p = Pair()
    assert [v.name for v in p.variables] == ["pair/n:0", "a/total:0", "a/count:0"]
    assert float(p([1., 3.])) == 2.0
    p.reset_state()
    assert float(p.result()) == 0.0


def test_steady_updates_allocate_no_variables():
    m = tf.keras.metrics.Precision(thresholds=[0.3, 0.6])
    before = [id(v) for v in m.variables]
    buffers = [id(v._handle) if hasattr(v, "_handle") else None for v in m.variables]
    for _ in range(5):
        m.update_state([1, 0, 1], [0.9, 0.5, 0.2])
    assert [id(v) for v in m.variables] == before
    assert [id(v._handle) if hasattr(v, "_handle") else None for v in m.variables] == buffers
    np.testing.assert_allclose(m.true_positives.numpy(), [5., 5.])


def test_mean_against_numpy():
    vals = np.array([[1., 2.], [3., 5.]], np.float32)
    w = np.array([0.5, 2.0], np.float32)
    m = tf.keras.metrics.Mean()
    m.update_state(vals, sample_weight=w)
    np.testing.assert_allclose(m.result().numpy(), (vals.mean(-1) * w).sum() / w.sum(),
                               rtol=1e-6)
    with tf.device("/CPU:0"):
        s = tf.keras.metrics.Sum()
        s(vals)
    assert float(s.result()) == vals.sum()


def test_get():
    M = tf.keras.metrics
    assert isinstance(M.get("mse"), M.MeanSquaredError)
    assert isinstance(M.get("accuracy"), M.Accuracy)
    assert isinstance(M.get("AUC"), M.AUC)
    assert isinstance(M.get("sparse_categorical_accuracy"), M.SparseCategoricalAccuracy)
    assert M.get(M.binary_accuracy) is M.binary_accuracy
    assert M.get({"class_name": "Precision", "config": {"thresholds": 0.3}}).thresholds == [0.3]
    with pytest.raises(ValueError, match="Could not interpret metric identifier: nope"):
        M.get("nope")


def test_mean_metric_wrapper_round_trip():
    m = tf.keras.metrics.MeanMetricWrapper(tf.keras.losses.mse)
    assert m.name.startswith("mean_metric_wrapper")
    config = m.get_config()
    assert config["fn"]["config"] == "mean_squared_error"
    again = tf.keras.metrics.MeanMetricWrapper.from_config(config)
    assert float(again([[0., 1.]], [[1., 1.]])) == 0.5


def test_errors():
    with pytest.raises(ValueError, match="Threshold values must be in"):
        tf.keras.metrics.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="num_thresholds"):
        tf.keras.metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve"):
        tf.keras.metrics.AUC(curve="XY")
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.keras.metrics.Mean()(tf.constant([1., 2.]), sample_weight=tf.constant([1., 2., 3.]))
