"""What `compile(loss=..., metrics=...)` turns into: one loss and a list of metrics per output.

Outputs are handled flat: a model's outputs (a tensor, a list or a dict) become a list with one
name per output (the producing layer's name, or the dict key), and `loss`, `loss_weights`,
`metrics`, targets and sample weights given as a single value, a list or a dict are matched to
that list, as Keras does. Names in logs: single output `accuracy`; several outputs
`<output>_accuracy`, and one `<output>_loss` tracker per output when there is more than one loss.
"""
from __future__ import annotations

from featherflow._src.keras import losses as _losses
from featherflow._src.keras.metrics import base as _mbase
from featherflow._src.framework.public import tf as _tf

_UP_WORDS = ("accuracy", "auc", "precision", "recall", "true_positives", "true_negatives",
             "cosine_similarity")


def flatten_outputs(y, names=None):
    """(flat list, keys) of a model's outputs or targets: dict values in sorted-key order."""
    if isinstance(y, dict):
        keys = sorted(y)
        return [y[k] for k in keys], keys
    if isinstance(y, (list, tuple)):
        return list(y), names
    return [y], names


def _object_name(obj):
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def _rank_info(y_true, y_pred):
    t_shape, p_shape = tuple(y_true.shape), tuple(y_pred.shape)
    is_binary = bool(p_shape) and p_shape[-1] == 1
    is_sparse = len(t_shape) < len(p_shape) or (
        bool(t_shape) and t_shape[-1] == 1 and bool(p_shape) and p_shape[-1] not in (1, None))
    return is_binary, is_sparse


def get_metric(identifier, y_true, y_pred):
    """A metric object for `identifier`; "accuracy"/"acc" picks binary, sparse categorical or
    categorical accuracy from the shapes, as Keras does."""
    from featherflow._src.keras import metrics as _metrics  # noqa: PLC0415
    from featherflow._src.keras.metrics import accuracy as _acc  # noqa: PLC0415
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = _rank_info(y_true, y_pred)
        cls = (_acc.BinaryAccuracy if is_binary else
               _acc.SparseCategoricalAccuracy if is_sparse else _acc.CategoricalAccuracy)
        metric = cls(name=str(identifier))
    else:
        metric = _metrics.get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, _mbase.Metric):
        metric = _mbase.MeanMetricWrapper(metric)
    metric.name = name
    return metric


def get_loss(identifier, y_true, y_pred):
    """A Loss object for `identifier` ("crossentropy"/"ce" picks the fitting crossentropy)."""
    from featherflow._src.keras import loss_functions as F  # noqa: PLC0415
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _rank_info(y_true, y_pred)
        loss = (F.binary_crossentropy if is_binary else
                F.sparse_categorical_crossentropy if is_sparse else F.categorical_crossentropy)
    else:
        loss = _losses.get(identifier)
    if not isinstance(loss, _losses.Loss):
        name = identifier if isinstance(identifier, str) else _object_name(loss)
        loss = _losses.LossFunctionWrapper(loss, name=name)
    return loss


def _per_output(spec, names, what, nested_ok):
    """Spreads a compile argument over the outputs: one value for all (single output), a list
    in output order, or a dict keyed by output name."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"Expected keys {names} in {what} dict, but found "
                             f"{what}.keys()={list(spec)}")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)) and (n > 1 or nested_ok):
        if len(spec) != n:
            raise ValueError(f"Invalid `{what}`. `{what}` should contain metrics objects and "
                             "either be a dict or a list matching the output names of the "
                             f"functional model {names} or match the output structure of the "
                             f"model: {['X'] * n}.\nReceived: {what}={spec}")
        return list(spec)
    return [spec] * n


class CompileMetrics(_mbase.Metric):
    """The metrics given to `compile`, for every output; `result()` is a dict of their values."""

    def __init__(self, metrics, weighted_metrics, name="compile_metrics", output_names=None):
        super().__init__(name=name)
        for arg, what in ((metrics, "metrics"), (weighted_metrics, "weighted_metrics")):
            if arg and not isinstance(arg, (list, tuple, dict)):
                raise ValueError(f"Expected `{what}` argument to be a list, tuple, or dict. "
                                 f"Received instead: {what}={arg} of type {type(arg)}")
        self._user_metrics, self._user_weighted = metrics, weighted_metrics
        self.output_names = output_names
        self.built = False
        self._plan = []  # (output index, metric, weighted)
        self._log_names = []

    @property
    def flat_metrics(self):
        return [m for _, m, _ in self._plan]

    metrics = flat_metrics

    @property
    def variables(self):
        out = []
        for m in self.flat_metrics:
            out.extend(m.variables)
        return out

    def build(self, flat_true, flat_pred, names):
        multi = len(flat_pred) > 1
        seen = {}
        for user, weighted in ((self._user_metrics, False), (self._user_weighted, True)):
            if not user:
                continue
            per = _per_output(user, names, "weighted_metrics" if weighted else "metrics",
                              nested_ok=False) if multi else [user]
            for i, spec in enumerate(per):
                if spec is None:
                    continue
                specs = spec if isinstance(spec, (list, tuple)) else [spec]
                for s in specs:
                    m = get_metric(s, flat_true[i], flat_pred[i])
                    base = f"{names[i]}_{m.name}" if multi else m.name
                    name = base
                    if name in seen:  # same metric plain and weighted
                        name = (f"{names[i]}_weighted_{m.name}" if multi
                                else f"weighted_{m.name}")
                        if name in seen:
                            seen[name] += 1
                            name = f"{name}_{seen[name] - 1}"
                    seen.setdefault(name, 1)
                    self._plan.append((i, m, weighted))
                    self._log_names.append(name)
        self.built = True

    def update_state(self, flat_true, flat_pred, flat_weights):
        for i, m, weighted in self._plan:
            m.update_state(flat_true[i], flat_pred[i],
                           sample_weight=flat_weights[i] if weighted else None)

    def reset_state(self):
        for m in self.flat_metrics:
            m.reset_state()

    def result(self):
        return {name: m.result() for name, (_, m, _) in zip(self._log_names, self._plan)}


class CompileLoss:
    """The `loss` given to `compile` for every output, weighted and summed."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output "
                             "case) or a list, tuple, or dict (multiple output case). Received "
                             f"instead: loss_weights={loss_weights} of type "
                             f"{type(loss_weights)}")
        self._user_loss, self._user_weights = loss, loss_weights
        self.output_names = output_names
        self.built = False
        self._plan = []  # (output index, Loss, weight or None)
        self.metrics = []  # one Mean "<output>_loss" per output when there are several losses

    def build(self, flat_true, flat_pred, names):
        from featherflow._src.keras.metrics.base import Mean  # noqa: PLC0415
        n = len(flat_pred)
        losses = _per_output(self._user_loss, names, "loss", nested_ok=False) if n > 1 \
            else [self._user_loss[0] if isinstance(self._user_loss, (list, tuple)) and
                  len(self._user_loss) == 1 else
                  next(iter(self._user_loss.values())) if isinstance(self._user_loss, dict)
                  else self._user_loss]
        weights = self._user_weights
        if weights is None or isinstance(weights, (int, float)):
            weights = [weights] * n
        else:
            weights = _per_output(weights, names, "loss_weights", nested_ok=True)
        for i, spec in enumerate(losses):
            loss = get_loss(spec, flat_true[i], flat_pred[i])
            if loss is not None:
                self._plan.append((i, loss, weights[i]))
        if len(self._plan) > 1:
            self.metrics = [Mean(name=f"{names[i]}_loss") for i, _, _ in self._plan]
        self.built = True

    def __call__(self, flat_true, flat_pred, flat_weights):
        tf = _tf()
        total = None
        trackers = self.metrics
        for k, (i, loss, weight) in enumerate(self._plan):
            value = loss(flat_true[i], flat_pred[i], flat_weights[i])
            if value.dtype != tf.float32:
                value = tf.cast(value, tf.float32)
            if trackers:
                # NOTE: TF's compiled step sees an unknown batch size here, so each batch
                # counts once (not by its size) in the per-output loss means; done alike.
                trackers[k].update_state(value)
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total


def metric_direction(metric):
    """"up" or "down": Keras' `_direction`, else from the metric's kind."""
    direction = getattr(metric, "_direction", None)
    if direction:
        return direction
    kind = _losses.auto_name(type(metric).__name__)
    return "up" if any(w in kind for w in _UP_WORDS) else "down"
