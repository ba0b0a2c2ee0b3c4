"""Records tests/fixtures/keras_losses_metrics.json from TensorFlow 2.21 (Keras 3).

Run with the TF environment: /work/tfenv/bin/python tools/record_losses_metrics_fixtures.py
Each case holds its inputs, so tests replay it with featherflow without TF. The case lists are
also imported by tests/compat to compare against live TensorFlow.
"""
from __future__ import annotations

import json
import os

import numpy as np

RNG = np.random.default_rng(7)


def _r(*shape, lo=0.05, hi=0.95):
    return np.round(RNG.uniform(lo, hi, shape), 3).astype(np.float32).tolist()


P = _r(4, 3)
P_SOFT = (np.array(P) / np.array(P).sum(-1, keepdims=True)).round(4).tolist()
ONEHOT = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]].tolist()
SPARSE = [0, 2, 1, 2]
BIN = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 1.0]]
LOGITS = np.round(RNG.normal(0, 2, (4, 3)), 3).tolist()
REG_T = np.round(RNG.normal(1, 1, (4, 3)), 3).tolist()
REG_P = np.round(RNG.normal(1, 1, (4, 3)), 3).tolist()
POS_T = np.round(RNG.uniform(0, 3, (4, 3)), 3).tolist()
SIGNS = np.sign(np.array(REG_T)).tolist()

# name, kwargs, y_true, y_pred
LOSSES = [
    ("MeanSquaredError", {}, REG_T, REG_P),
    ("MeanAbsoluteError", {}, REG_T, REG_P),
    ("MeanAbsolutePercentageError", {}, REG_T, REG_P),
    ("MeanSquaredLogarithmicError", {}, POS_T, P),
    ("Huber", {}, REG_T, REG_P),
    ("Huber", {"delta": 0.5}, REG_T, REG_P),
    ("LogCosh", {}, REG_T, REG_P),
    ("BinaryCrossentropy", {}, BIN, P),
    ("BinaryCrossentropy", {"from_logits": True}, BIN, LOGITS),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, BIN, P),
    ("BinaryFocalCrossentropy", {}, BIN, P),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "from_logits": True}, BIN,
     LOGITS),
    ("CategoricalCrossentropy", {}, ONEHOT, P),
    ("CategoricalCrossentropy", {"from_logits": True}, ONEHOT, LOGITS),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ONEHOT, P_SOFT),
    ("CategoricalCrossentropy", {"axis": 0, "from_logits": True}, ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, SPARSE, P_SOFT),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, SPARSE, LOGITS),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, SPARSE, LOGITS),
    ("KLDivergence", {}, P_SOFT, np.array(P_SOFT)[::-1].tolist()),
    ("Poisson", {}, POS_T, P),
    ("CosineSimilarity", {}, REG_T, REG_P),
    ("Hinge", {}, BIN, REG_P),
    ("Hinge", {}, SIGNS, REG_P),
    ("SquaredHinge", {}, BIN, REG_P),
    ("CategoricalHinge", {}, ONEHOT, REG_P),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]
WEIGHTS = [None, [1.0, 0.5, 2.0, 0.0], [[1.0], [0.5], [2.0], [0.0]]]

# name, kwargs, [(y_true, y_pred, sample_weight), ...]
B1 = [[1.0], [0.0], [1.0], [1.0], [0.0]]
PB1 = [[0.9], [0.4], [0.3], [0.6], [0.8]]
B2 = [[0.0], [1.0], [0.0], [1.0], [1.0]]
PB2 = [[0.2], [0.7], [0.55], [0.1], [0.95]]
W1 = [1.0, 2.0, 0.5, 1.0, 0.0]
METRICS = [
    ("Mean", {}, [([1.0, 2.0, 3.0], None, None), ([4.0, 5.0], None, [1.0, 3.0])]),
    ("Sum", {}, [([1.0, 2.0, 3.0], None, None), ([[4.0, 5.0]], None, [2.0])]),
    ("Accuracy", {}, [([[1], [2], [3]], [[1], [0], [3]], None),
                      ([[1], [2]], [[1], [1]], [0.5, 2.0])]),
    ("BinaryAccuracy", {}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("BinaryAccuracy", {"threshold": 0.7}, [(B1, PB1, W1)]),
    ("CategoricalAccuracy", {}, [(ONEHOT, P, None), (ONEHOT, LOGITS, [1.0, 0.0, 2.0, 1.0])]),
    ("SparseCategoricalAccuracy", {}, [(SPARSE, P, None), ([[0], [1], [1], [2]], LOGITS,
                                                            [1.0, 0.0, 2.0, 1.0])]),
    ("TopKCategoricalAccuracy", {"k": 2}, [(ONEHOT, P, None), (ONEHOT, LOGITS, [1., 0., 2., 1.])]),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, [(SPARSE, P, None),
                                                 (SPARSE, LOGITS, [1., 0., 2., 1.])]),
    ("TruePositives", {}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("FalsePositives", {"thresholds": [0.3, 0.6]}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("TrueNegatives", {}, [(B1, PB1, W1), (B2, PB2, None)]),
    ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, [(B1, PB1, None),
                                                                     (B2, PB2, W1)]),
    ("Precision", {}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("Precision", {"thresholds": [0.2, 0.5, 0.8]}, [(B1, PB1, W1), (B2, PB2, None)]),
    ("Precision", {"top_k": 1}, [(BIN, P, None), (BIN, LOGITS, [1., 2., 0., 1.])]),
    ("Precision", {"class_id": 2}, [(BIN, P, None), (BIN, P_SOFT, [1., 2., 0., 1.])]),
    ("Recall", {}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("Recall", {"top_k": 2, "class_id": 1}, [(BIN, P, None), (BIN, P_SOFT, [1., 2., 0., 1.])]),
    ("AUC", {}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("AUC", {"num_thresholds": 5}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("AUC", {"curve": "PR"}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, [(B1, PB1, W1), (B2, PB2, None)]),
    ("AUC", {"summation_method": "minoring"}, [(B1, PB1, W1), (B2, PB2, None)]),
    ("AUC", {"from_logits": True}, [(BIN, LOGITS, None), (BIN, REG_P, [1., 2., 0., 1.])]),
    ("AUC", {"thresholds": [0.3, 0.5, 0.7]}, [(B1, PB1, None), (B2, PB2, W1)]),
    ("AUC", {"multi_label": True}, [(BIN, P, None), (BIN, P_SOFT, [1., 2., 0., 1.])]),
    ("MeanSquaredError", {}, [(REG_T, REG_P, None), (REG_T, P, [1., 0., 2., 1.])]),
    ("MeanAbsoluteError", {}, [(REG_T, REG_P, None), (REG_T, P, [1., 0., 2., 1.])]),
    ("RootMeanSquaredError", {}, [(REG_T, REG_P, None), (REG_T, P, [1., 0., 2., 1.])]),
    ("BinaryCrossentropy", {}, [(BIN, P, None), (BIN, P_SOFT, [1., 0., 2., 1.])]),
    ("BinaryCrossentropy", {"from_logits": True}, [(BIN, LOGITS, [1., 0., 2., 1.])]),
    ("CategoricalCrossentropy", {}, [(ONEHOT, P, None), (ONEHOT, P_SOFT, [1., 0., 2., 1.])]),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
     [(ONEHOT, LOGITS, [1., 0., 2., 1.])]),
    ("SparseCategoricalCrossentropy", {}, [(SPARSE, P_SOFT, None),
                                           (SPARSE, P, [1., 0., 2., 1.])]),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, [(SPARSE, LOGITS, None)]),
]


def _np(x):
    return np.asarray(x, dtype=np.float64).tolist()


def record(tf):
    out = {"losses": [], "metrics": []}
    for name, kwargs, yt, yp in LOSSES:
        for red in REDUCTIONS:
            for sw in WEIGHTS:
                loss = getattr(tf.keras.losses, name)(reduction=red, **kwargs)
                args = (tf.constant(yt), tf.constant(yp, tf.float32))
                case = {"name": name, "kwargs": kwargs, "reduction": red, "y_true": yt,
                        "y_pred": yp, "sample_weight": sw, "config": loss.get_config()}
                try:
                    val = loss(*args) if sw is None else loss(*args,
                                                              sample_weight=tf.constant(sw))
                    case["expected"] = _np(val.numpy())
                except Exception as e:  # noqa: BLE001 - the class is what is recorded
                    case["error"] = type(e).__name__
                out["losses"].append(case)
    for name, kwargs, steps in METRICS:
        m = getattr(tf.keras.metrics, name)(**kwargs)
        results = []
        for yt, yp, sw in steps:
            if yp is None:
                m.update_state(tf.constant(yt), sample_weight=None if sw is None
                               else tf.constant(sw))
            else:
                m.update_state(tf.constant(yt), tf.constant(yp, tf.float32),
                               sample_weight=None if sw is None else tf.constant(sw))
            results.append(_np(m.result().numpy()))
        m.reset_state()
        out["metrics"].append({"name": name, "kwargs": kwargs,
                               "steps": [list(s) for s in steps], "results": results,
                               "after_reset": _np(m.result().numpy()),
                               "config": {k: v for k, v in m.get_config().items()},
                               "variables": [v.name for v in m.variables]})
    return out


if __name__ == "__main__":
    import tensorflow as tf

    data = record(tf)
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                        "keras_losses_metrics.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print(path, len(data["losses"]), len(data["metrics"]))
