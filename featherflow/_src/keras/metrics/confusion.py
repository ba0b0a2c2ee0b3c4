"""Confusion-matrix metrics (Keras 3): TruePositives..FalseNegatives, Precision, Recall, AUC.

Counts are accumulated per threshold with in-place `assign_add`. For evenly spaced thresholds
(AUC's default) Keras buckets each prediction once instead of comparing it with every
threshold; both paths are here, as in Keras, since they differ at bucket edges.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.keras import _lossops as ops
from featherflow._src.keras._lossops import EPSILON, squeeze_or_expand_to_same_rank
from featherflow._src.keras.metrics.base import Metric

NEG_INF = -1e10
TP, FP, TN, FN = "tp", "fp", "tn", "fn"


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    if thresholds is not None:
        bad = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds) -> bool:
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _filter_top_k(x, k):
    _, idx = ops.top_k(x, k)
    mask = ops.reduce_sum(ops.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    one = ops.to_tensor(1.0, x.dtype)
    return x * mask + ops.to_tensor(NEG_INF, x.dtype) * (one - mask)


def _update_bucketed(variables, y_true, y_pred, thresholds, multi_label, sample_weight,
                     label_weights, with_epsilon):
    num_t = thresholds.shape[0]
    dtype = y_true.dtype
    weights = None
    if sample_weight is not None:
        weights = ops.broadcast_to(ops.cast(sample_weight, y_pred.dtype), ops.shape(y_pred))
    if label_weights is not None:
        lw = ops.broadcast_to(ops.expand_dims(label_weights, 0), ops.shape(y_pred))
        weights = lw if weights is None else weights * lw
    if weights is None:
        weights = ops.ones_like(y_pred)
    weights = ops.cast(weights, dtype)
    y_pred = ops.clip_by_value(y_pred, ops.to_tensor(0.0, y_pred.dtype),
                               ops.to_tensor(1.0, y_pred.dtype))
    y_true = ops.cast(ops.cast(y_true, "bool"), dtype)
    if not multi_label:
        y_true, y_pred, weights = (ops.reshape(t, [-1]) for t in (y_true, y_pred, weights))
    true_labels = y_true * weights
    false_labels = (ops.to_tensor(1.0, dtype) - y_true) * weights
    buckets = ops.ceil(y_pred * ops.to_tensor(num_t - 1, y_pred.dtype)) \
        - ops.to_tensor(1.0, y_pred.dtype)
    if with_epsilon:
        buckets = ops.relu(buckets)
    buckets = ops.cast(buckets, "int32")
    if multi_label:
        # One segment range per label: ids label * num_t + bucket, laid out as [label, bucket].
        num_labels = y_pred.shape[1]
        offsets = ops.reshape(ops.cast(ops.to_tensor(list(range(num_labels))), "int32")
                              * num_t, [1, -1])
        # A bucket of -1 would land in the previous label's range: send it past the end.
        ids = ops.where(ops.less_equal(ops.zeros_like(buckets), buckets), buckets + offsets,
                        ops.fill(ops.shape(buckets), ops.to_tensor(-1, "int32")))
        n = num_labels * num_t

        def counts(labels):
            b = ops.reshape(ops.unsorted_segment_sum(ops.reshape(labels, [-1]),
                                                     ops.reshape(ids, [-1]), n),
                            [num_labels, num_t])
            return ops.reverse(ops.cumsum(ops.reverse(b, [1]), axis=1), [1])
        tp = counts(true_labels)
        fp = counts(false_labels)
        tp, fp = _transpose(tp), _transpose(fp)
        total_true = ops.reduce_sum(true_labels, axis=0)
        total_false = ops.reduce_sum(false_labels, axis=0)
    else:
        def counts(labels):
            b = ops.unsorted_segment_sum(labels, buckets, num_t)
            return ops.reverse(ops.cumsum(ops.reverse(b, [0])), [0])
        tp, fp = counts(true_labels), counts(false_labels)
        total_true, total_false = ops.reduce_sum(true_labels), ops.reduce_sum(false_labels)
    if TP in variables:
        variables[TP].assign_add(tp)
    if FP in variables:
        variables[FP].assign_add(fp)
    if TN in variables:
        variables[TN].assign_add(total_false - fp)
    if FN in variables:
        variables[FN].assign_add(total_true - tp)


def _transpose(x):
    from featherflow._src.api.array_ops import transpose  # noqa: PLC0415

    return transpose(x)


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, thresholds_distributed_evenly=False):
    """Adds this batch's per-threshold counts to `variables` ({"tp"|"fp"|"tn"|"fn": var})."""
    if multi_label and label_weights is not None:
        raise ValueError("`label_weights` for multilabel data should be handled outside of "
                         "`update_confusion_matrix_variables` when `multi_label` is True.")
    dtype = next(iter(variables.values())).dtype
    y_true = ops.to_tensor(y_true, dtype)
    y_pred = ops.to_tensor(y_pred, dtype)
    with_epsilon = bool(thresholds[0] < 0.0 or thresholds[-1] > 1.0)
    thresholds = ops.to_tensor(np.asarray(thresholds, dtype=np.float64), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = ops.expand_dims(ops.to_tensor(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if ops.ndim(y_pred) == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    if thresholds_distributed_evenly:
        return _update_bucketed(variables, y_true, y_pred, thresholds, multi_label,
                                sample_weight, label_weights, with_epsilon)
    if multi_label:
        preds = ops.expand_dims(y_pred, 0)                       # [1, N, L]
        labels = ops.expand_dims(ops.cast(y_true, "bool"), 0)
        thr = ops.reshape(thresholds, [-1, 1, 1])                # [T, 1, 1]
    else:
        preds = ops.reshape(y_pred, [1, -1])                     # [1, N*L]
        labels = ops.reshape(ops.cast(y_true, "bool"), [1, -1])
        thr = ops.reshape(thresholds, [-1, 1])                   # [T, 1]
    pred_pos = ops.greater(preds, thr)
    weights = None
    if sample_weight is not None:
        weights = ops.broadcast_to(ops.cast(sample_weight, y_pred.dtype), ops.shape(y_pred))
        weights = ops.reshape(weights, ops.shape(preds))
    if label_weights is not None and not multi_label:
        lw = ops.broadcast_to(ops.expand_dims(label_weights, 0), ops.shape(y_pred))
        lw = ops.reshape(lw, ops.shape(preds))
        weights = lw if weights is None else weights * lw
    pred_pos_full = pred_pos
    label_pos = ops.logical_and(labels, ops.ones_like(pred_pos))  # broadcast to [T, ...]

    def add(label, pred, var):
        hit = ops.logical_and(label, pred)
        if weights is not None:
            w = ops.broadcast_to(ops.cast(weights, var.dtype), ops.shape(hit))
            val = ops.where(hit, w, ops.zeros_like(w))
        else:
            val = ops.cast(hit, var.dtype)
        var.assign_add(ops.reduce_sum(val, axis=1))

    pred_neg = ops.logical_not(pred_pos_full)
    label_neg = ops.logical_not(label_pos)
    pairs = {TP: (label_pos, pred_pos_full), FN: (label_pos, pred_neg),
             FP: (label_neg, pred_pos_full), TN: (label_neg, pred_neg)}
    for key in (TP, FN, FP, TN):
        if key in variables:
            add(*pairs[key], variables[key])


class _ConfusionMatrixConditionCount(Metric):
    _cond = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),),
                                             initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {self._cond: self.accumulator}, y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight)

    def result(self):
        value = ops.to_tensor(self.accumulator)
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives per threshold."""
    _cond = TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives per threshold."""
    _cond = FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives per threshold."""
    _cond = TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives per threshold."""
    _cond = FN


class _PrecisionRecall(Metric):
    _second = None  # "false_positives" (precision) or "false_negatives" (recall)

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros",
                                                name="true_positives")
        setattr(self, self._second, self.add_variable(shape=(n,), initializer="zeros",
                                                      name=self._second))

    def update_state(self, y_true, y_pred, sample_weight=None):
        key = FP if self._second == "false_positives" else FN
        update_confusion_matrix_variables(
            {TP: self.true_positives, key: getattr(self, self._second)}, y_true, y_pred,
            thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        tp = ops.to_tensor(self.true_positives)
        value = ops.divide_no_nan(tp, tp + ops.to_tensor(getattr(self, self._second)))
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """TP / (TP + FP) at each threshold (or among the top-k predictions / one class).

    >>> import featherflow as tf
    >>> m = tf.keras.metrics.Precision()
    >>> float(m([0, 1, 1, 1], [1., 0., 1., 1.]))
    0.6666666865348816
    """
    _second = "false_positives"


class Recall(_PrecisionRecall):
    """TP / (TP + FN) at each threshold (or among the top-k predictions / one class)."""
    _second = "false_negatives"


class AUC(Metric):
    """Area under the ROC or PR curve, approximated with a Riemann sum over thresholds.

    >>> import featherflow as tf
    >>> m = tf.keras.metrics.AUC(num_thresholds=3)
    >>> float(m([0, 0, 1, 1], [0., 0.5, 0.3, 0.9]))
    0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1)
                          for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + list(thresholds) + [1.0 + EPSILON])
        curves = {"pr": "PR", "PR": "PR", "roc": "ROC", "ROC": "ROC", "prgain": "PRGAIN",
                  "PRGAIN": "PRGAIN"}
        curve = getattr(curve, "value", curve)
        if curve not in curves:
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC", "PRGAIN"]')
        self.curve = curves[curve]
        methods = {"interpolation": "interpolation", "Interpolation": "interpolation",
                   "majoring": "majoring", "Majoring": "majoring", "minoring": "minoring",
                   "Minoring": "minoring"}
        summation_method = getattr(summation_method, "value", summation_method)
        if summation_method not in methods:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self.summation_method = methods[summation_method]
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else ops.to_tensor(label_weights, self.dtype))
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list:
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                                 f"{len(shape)}. Full shape received for `y_pred`: {shape}")
            self._num_labels = shape[1]
            vshape = (self.num_thresholds, self._num_labels)
        else:
            vshape = (self.num_thresholds,)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, name, self.add_variable(shape=vshape, initializer="zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.to_tensor(y_pred)
        if not self._built:
            self._build(list(y_pred.shape))
        if self._from_logits:
            y_pred = ops.sigmoid(y_pred)
        update_confusion_matrix_variables(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives,
             FN: self.false_negatives}, y_true, y_pred, self._thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights)

    def _by_label(self, terms):
        if not self.multi_label:
            return ops.reduce_sum(terms)
        by_label = ops.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return ops.reduce_mean(by_label)
        return ops.divide_no_nan(ops.reduce_sum(by_label * self.label_weights),
                                 ops.reduce_sum(self.label_weights))

    def interpolate_pr_auc(self):
        n = self.num_thresholds
        tp, fp = ops.to_tensor(self.true_positives), ops.to_tensor(self.false_positives)
        fn = ops.to_tensor(self.false_negatives)
        zero = ops.zeros((), tp.dtype)
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        slope = ops.divide_no_nan(dtp, ops.maximum(dp, zero))
        intercept = tp[1:] - slope * p[1:]
        both = ops.logical_and(ops.greater(p[:n - 1], zero), ops.greater(p[1:], zero))
        ratio = ops.where(both, ops.divide_no_nan(p[:n - 1], ops.maximum(p[1:], zero)),
                          ops.ones_like(p[1:]))
        increment = ops.divide_no_nan(slope * (dtp + intercept * ops.log(ratio)),
                                      ops.maximum(tp[1:] + fn[1:], zero))
        return self._by_label(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp = ops.to_tensor(self.true_positives), ops.to_tensor(self.false_positives)
        tn, fn = ops.to_tensor(self.true_negatives), ops.to_tensor(self.false_negatives)
        recall = ops.divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = ops.divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, ops.divide_no_nan(tp, tp + fp)
        else:
            one, zero = ops.ones_like(tp), ops.zeros_like(tp)
            scale = ops.divide_no_nan(tp + fn, tn + fp)
            rgain = one - scale * ops.divide_no_nan(fn, tp)
            pgain = one - scale * ops.divide_no_nan(fp, tp)
            no_tp = ops.equal(tp, zero)
            x = ops.maximum(ops.where(no_tp, zero, rgain), zero)
            y = ops.where(no_tp, one, pgain)
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / ops.to_tensor(2.0, y.dtype)
        elif self.summation_method == "minoring":
            heights = ops.minimum(y[:n - 1], y[1:])
        else:
            heights = ops.maximum(y[:n - 1], y[1:])
        return self._by_label((x[:n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        lw = self.label_weights
        config = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if lw is None else [float(v) for v in lw.numpy()],
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config}

