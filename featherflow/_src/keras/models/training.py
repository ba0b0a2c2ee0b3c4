"""`compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` methods of tf.keras.Model.

The training step is the hot loop: forward under a GradientTape, the compiled loss plus the
layers' regularization losses, `optimizer.apply(grads, variables)`, then the loss tracker and
compiled metrics. Everything it needs (resolved losses and metrics, the trainable variable list,
the layers that can hold losses) is worked out once per `compile`/`fit`, not per step, and batch
logs (metric results read to the host) are only computed when a callback will look at them.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.keras.models import data_adapter as _data
from featherflow._src.framework.public import tf as _tf


def _pythonify(logs):
    out = {}
    for k in sorted(logs):
        v = logs[k]
        if isinstance(v, dict):
            out.update(_pythonify(v))
            continue
        try:
            out[k] = float(np.asarray(v))
        except (TypeError, ValueError):
            out[k] = v
    return out


def _concat(batches):
    first = batches[0]
    if isinstance(first, dict):
        return {k: _concat([b[k] for b in batches]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concat([b[i] for b in batches]) for i in range(len(first)))
    return np.concatenate([np.asarray(b) for b in batches], axis=0)


def _to_numpy(x):
    return _data.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else np.asarray(t), x)


class Trainer:
    """The training half of `Model` (mixed in before Layer)."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._train_cache = None
        self.stop_training = False
        self.history = None
        self.loss = None
        self.steps_per_execution = 1
        self._run_eagerly = False
        self._jit_compile = False

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures the model for training: optimizer, loss(es) and metrics.

        Strings are resolved with `tf.keras.optimizers.get`, `tf.keras.losses.get` and
        `tf.keras.metrics.get`; `"accuracy"` becomes binary, sparse categorical or categorical
        accuracy from the shapes of the targets and outputs, as in Keras.
        """
        from featherflow._src.keras.metrics.base import Mean  # noqa: PLC0415
        from featherflow._src.keras.models import compile_utils  # noqa: PLC0415
        from featherflow._src.keras.optimizers import registry  # noqa: PLC0415
        self.optimizer = registry.get(optimizer)
        names = getattr(self, "output_names", None)
        self._compile_loss = (compile_utils.CompileLoss(loss, loss_weights, names)
                              if loss is not None else None)
        self._compile_metrics = (compile_utils.CompileMetrics(metrics, weighted_metrics,
                                                              output_names=names)
                                 if metrics or weighted_metrics else None)
        self._loss_tracker = Mean(name="loss")
        self.loss = loss
        self.steps_per_execution = steps_per_execution
        self._run_eagerly = bool(run_eagerly)
        # NOTE: there is no XLA here; "auto" resolves to False as TF does on CPU.
        self._jit_compile = False if jit_compile == "auto" else bool(jit_compile)
        self.stop_training = False
        self.compiled = True
        self._train_cache = None

    run_eagerly = property(lambda self: self._run_eagerly,
                           lambda self, v: setattr(self, "_run_eagerly", bool(v)))
    jit_compile = property(lambda self: self._jit_compile,
                           lambda self, v: setattr(self, "_jit_compile", bool(v)))

    def _assert_compile_called(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")

    # -- metrics -------------------------------------------------------------------------------
    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, per-output loss trackers, then metrics held as
        attributes of the model."""
        from featherflow._src.keras.metrics.base import Metric  # noqa: PLC0415
        out = []
        if self.compiled:
            if self._loss_tracker is not None:
                out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        for key, value in vars(self).items():
            if isinstance(value, Metric) and value not in out and key not in (
                    "_loss_tracker", "_compile_metrics"):
                out.append(value)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self):
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """The metrics' values as a dict (a compiled-metrics dict is merged in)."""
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = result
        return out

    def _logs(self):
        return _pythonify(self.get_metrics_result())

    def _flatten_metrics_in_order(self, logs):
        names = []
        for m in self.metrics:
            names.extend([s.name for s in m.flat_metrics] if hasattr(m, "flat_metrics")
                         else [m.name])
        out = [logs[n] for n in names if n in logs]
        out += [logs[k] for k in sorted(logs) if k not in names]
        return out[0] if len(out) == 1 else out

    # -- loss ----------------------------------------------------------------------------------
    def _flat(self, y, y_pred, sample_weight):
        """Flat lists of targets, outputs and sample weights, and the output names."""
        from featherflow._src.keras.models.compile_utils import flatten_outputs  # noqa: PLC0415
        names = getattr(self, "output_names", None)
        flat_pred, keys = flatten_outputs(y_pred, names)
        n = len(flat_pred)
        if keys is None or len(keys) != n:
            keys = [f"output_{i}" for i in range(n)] if n > 1 else [None]

        def spread(v, what):
            if v is None:
                return [None] * n
            if isinstance(v, dict):
                missing = [k for k in keys if k not in v]
                if missing and n > 1:
                    raise ValueError(f"Missing {what} for outputs {missing}. Received {what} "
                                     f"keys: {sorted(v)}")
                return [v.get(k) for k in keys] if n > 1 else list(v.values())
            if isinstance(v, (list, tuple)):
                if len(v) != n:
                    raise ValueError(f"y_true and y_pred have different structures: the model "
                                     f"has {n} output(s), but {len(v)} {what} were given.")
                return list(v)
            return [v] * n if what == "sample weights" else ([v] if n == 1 else None)
        flat_true = spread(y, "targets")
        if flat_true is None:
            raise ValueError(f"The model has {n} outputs, so `y` must be a list or dict of "
                             f"{n} targets. Received: a single array.")
        return flat_true, flat_pred, spread(sample_weight, "sample weights"), keys

    def _build_compiled(self, flat_true, flat_pred, keys):
        if self._compile_loss is not None and not self._compile_loss.built:
            self._compile_loss.build(flat_true, flat_pred, keys)
        if self._compile_metrics is not None and not self._compile_metrics.built:
            self._compile_metrics.build(flat_true, flat_pred, keys)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of (y, y_pred) plus the model's `losses` (regularization)."""
        flat_true, flat_pred, flat_sw, keys = self._flat(y, y_pred, sample_weight)
        self._build_compiled(flat_true, flat_pred, keys)
        return self._total_loss(flat_true, flat_pred, flat_sw, self.losses)

    def _total_loss(self, flat_true, flat_pred, flat_sw, extra):
        tf = _tf()
        total = None
        if self._compile_loss is not None:
            total = self._compile_loss(flat_true, flat_pred, flat_sw)
        for loss in extra:
            if loss.dtype != tf.float32:
                loss = tf.cast(loss, tf.float32)
            total = loss if total is None else total + loss
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def _layer_losses(self):
        cache = self._train_cache
        if cache is None or cache.get("layers") is None:
            return self.losses
        out = []
        for layer in cache["layers"]:
            if layer._losses or layer._regularized:
                out.extend(layer._own_losses())
        return out

    # -- steps ---------------------------------------------------------------------------------
    def _cache(self):
        if self._train_cache is None:
            self._train_cache = {"vars": None, "layers": None}
        return self._train_cache

    def _track_loss(self, loss, n):
        tracker = self._loss_tracker
        tracker.total.assign_add(loss * float(n))
        tracker.count.assign_add(float(n))

    def _train_batch(self, x, y, sample_weight):
        tf = _tf()
        cache = self._cache()
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            flat_true, flat_pred, flat_sw, keys = self._flat(y, y_pred, sample_weight)
            if self._compile_loss is not None and not self._compile_loss.built or \
                    self._compile_metrics is not None and not self._compile_metrics.built:
                self._build_compiled(flat_true, flat_pred, keys)
            loss = self._total_loss(flat_true, flat_pred, flat_sw, self._layer_losses())
        variables = cache["vars"]
        if variables is None:
            # NOTE: a subclassed model creates its variables in the first call, so the list is
            # taken after the forward pass and kept until the next compile/fit.
            variables = cache["vars"] = self.trainable_weights
            cache["layers"] = self._flatten_layers()
        if variables:
            grads = tape.gradient(loss, variables)
            self.optimizer.apply(grads, variables)
        self._track_loss(loss, _batch_size(x))
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(flat_true, flat_pred, flat_sw)

    def _test_batch(self, x, y, sample_weight):
        y_pred = self(x, training=False)
        flat_true, flat_pred, flat_sw, keys = self._flat(y, y_pred, sample_weight)
        self._build_compiled(flat_true, flat_pred, keys)
        loss = self._total_loss(flat_true, flat_pred, flat_sw, self.losses)
        self._track_loss(loss, _batch_size(x))
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(flat_true, flat_pred, flat_sw)

    def train_step(self, data):
        """One training step on `data` ((x, y[, sample_weight])); returns the metric results.
        Override it to customize `fit`."""
        x, y, sample_weight = _data.unpack_x_y_sample_weight(data)
        self._train_batch(x, y, sample_weight)
        return self.get_metrics_result()

    def test_step(self, data):
        x, y, sample_weight = _data.unpack_x_y_sample_weight(data)
        self._test_batch(x, y, sample_weight)
        return self.get_metrics_result()

    def predict_step(self, data):
        x, _, _ = _data.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _step_runner(self, kind):
        """A `run(batch) -> logs` for the loop: the lean built-in step with lazily computed logs,
        or the user's overridden `train_step`/`test_step`."""
        cls = type(self)
        if kind == "train":
            if cls.train_step is Trainer.train_step:
                def run(batch):
                    self._train_batch(*batch)
                    return self._logs
                return run
            return lambda batch: _pythonify(self.train_step(_pack(batch)))
        if cls.test_step is Trainer.test_step:
            def run(batch):
                self._test_batch(*batch)
                return self._logs
            return run
        return lambda batch: _pythonify(self.test_step(_pack(batch)))

    # -- loops ---------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for `epochs` epochs; returns the `History` callback."""
        from featherflow._src.keras import callbacks as _cb  # noqa: PLC0415
        self._assert_compile_called()
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = _data.train_validation_split(
                (x, y, sample_weight), validation_split)
        handler = _data.DataHandler(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                    class_weight)
        val_handler = None
        if validation_data is not None:
            vx, vy, vsw = _data.unpack_x_y_sample_weight(validation_data)
            val_handler = _data.DataHandler(vx, vy, vsw, validation_batch_size or batch_size,
                                            validation_steps)
        if not isinstance(callbacks, _cb.CallbackList):
            callbacks = _cb.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                         verbose=verbose, epochs=epochs,
                                         steps=handler.num_batches, model=self)
        self._train_cache = None
        self.stop_training = False
        run = self._step_runner("train")
        callbacks.on_train_begin()
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = None
            for step, batch in handler.epoch():
                callbacks.on_train_batch_begin(step)
                logs = run(batch)
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = self._logs()
            if isinstance(logs, dict) and set(logs) != set(epoch_logs):
                epoch_logs = dict(logs)
            if val_handler is not None and _should_eval(epoch, validation_freq):
                val_logs = self.evaluate(callbacks=callbacks, return_dict=True,
                                         _handler=val_handler)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        callbacks.on_train_end(logs=training_logs)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """The loss and metrics on the data: a scalar, a list (`metrics_names` order), or a
        dict with `return_dict=True`."""
        from featherflow._src.keras import callbacks as _cb  # noqa: PLC0415
        self._assert_compile_called()
        handler = kwargs.pop("_handler", None)
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        if handler is None:
            handler = _data.DataHandler(x, y, sample_weight, batch_size, steps)
        if not isinstance(callbacks, _cb.CallbackList):
            callbacks = _cb.CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                         epochs=1, steps=handler.num_batches, model=self)
        run = self._step_runner("test")
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = None
        for step, batch in handler.epoch():
            callbacks.on_test_batch_begin(step)
            logs = run(batch)
            callbacks.on_test_batch_end(step, logs)
        result = self._logs()
        if isinstance(logs, dict) and set(logs) != set(result):
            result = dict(logs)
        callbacks.on_test_end(result)
        if return_dict:
            return result
        return self._flatten_metrics_in_order(result)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on `x`, batch by batch, concatenated into NumPy arrays."""
        from featherflow._src.keras import callbacks as _cb  # noqa: PLC0415
        handler = _data.DataHandler(x, None, None, batch_size, steps)
        if not isinstance(callbacks, _cb.CallbackList):
            callbacks = _cb.CallbackList(callbacks, add_progbar=verbose != 0, verbose=verbose,
                                         epochs=1, steps=handler.num_batches, model=self)
        callbacks.on_predict_begin()
        outputs = []
        for step, batch in handler.epoch():
            callbacks.on_predict_batch_begin(step)
            out = _to_numpy(self.predict_step(_pack(batch)))
            outputs.append(out)
            callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("Unexpected result of `predict_function` (Empty batch_outputs). "
                             "Please use `Model.compile(..., run_eagerly=True)`, or "
                             "`tf.config.run_functions_eagerly(True)` for more information of "
                             "where went wrong, or file a issue/bug to `tf.keras`.")
        return _concat(outputs)

    def _batch_data(self, x, y, sample_weight, class_weight=None):
        handler = _data.DataHandler(x, y, sample_weight, batch_size=None, shuffle=False,
                                    class_weight=class_weight)
        handler.batch_size = max(handler.num_samples, 1)
        return next(iter(handler.epoch()))[1]

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One training step on one batch; returns the (running) loss and metrics."""
        self._assert_compile_called()
        logs = self._step_runner("train")(self._batch_data(x, y, sample_weight, class_weight))
        logs = logs() if callable(logs) else logs
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss and metrics on one batch (running values, as Keras)."""
        self._assert_compile_called()
        logs = self._step_runner("test")(self._batch_data(x, y, sample_weight))
        logs = logs() if callable(logs) else logs
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """The model's outputs on one batch, as NumPy arrays."""
        batch = self._batch_data(x, None, None)
        return _to_numpy(self.predict_step(_pack(batch)))


def _pack(batch):
    x, y, sw = batch
    if y is None:
        return (x,)
    return (x, y) if sw is None else (x, y, sw)


def _batch_size(x):
    for leaf in _data.flatten(x):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


def _should_eval(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, (list, tuple, set)):
        return epoch + 1 in validation_freq
    raise ValueError("Expected `validation_freq` to be a list or int. Received: "
                     f"validation_freq={validation_freq} of the type {type(validation_freq)}.")
