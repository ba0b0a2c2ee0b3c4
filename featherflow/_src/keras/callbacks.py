"""tf.keras.callbacks (Keras 3): hooks called by `fit`, `evaluate` and `predict`.

`CallbackList` calls a hook only on the callbacks that override it, and computes batch logs
(metric results: a few ops and a device-to-host read) only when one of them will read them, so
the training loop does no work for callbacks that only look at epochs.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.keras.progbar import Progbar, print_msg

_HOOKS = ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
          "on_predict_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need; `self.model` and `self.params` are set by fit.

    >>> import featherflow as tf
    >>> class Count(tf.keras.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print("epoch", epoch)
    >>> Count().params
    {}
    """

    def __init__(self):
        self.params = {}
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """A backwards-compatible alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards-compatible alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


def _overrides(cb, hook):
    if hook in ("on_train_batch_begin", "on_train_batch_end"):
        alias = "on_batch_begin" if hook.endswith("begin") else "on_batch_end"
        if getattr(type(cb), alias, None) is not getattr(Callback, alias):
            return True
    return getattr(type(cb), hook, None) is not getattr(Callback, hook, None)


class CallbackList(Callback):
    """Calls each hook on a list of callbacks; adds `History` and `ProgbarLogger` on request."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = list(callbacks) if callbacks else []
        self._history = self._progbar = None
        for cb in self.callbacks:
            if isinstance(cb, ProgbarLogger):
                self._progbar = cb
            elif isinstance(cb, History):
                self._history = cb
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self._plan()
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def _plan(self):
        self._who = {hook: [cb for cb in self.callbacks if _instance_overrides(cb, hook)]
                     for hook in _HOOKS}

    def append(self, callback):
        self.callbacks.append(callback)
        self._plan()

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self._model = model
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _call(self, hook, args, logs):
        who = self._who[hook]
        if not who:
            return
        if callable(logs):  # batch logs are computed on first need
            logs = logs() if any(getattr(cb, "wants_batch_logs", _always)() for cb in who) \
                else None
        for cb in who:
            getattr(cb, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", (), logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", (), logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", (), logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", (), logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", (), logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", (), logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", (epoch,), logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", (epoch,), logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", (batch,), logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", (batch,), logs)

    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", (batch,), logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", (batch,), logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", (batch,), logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", (batch,), logs)


def _always():
    return True


class History(Callback):
    """Records epoch logs in `history` (key -> list); `fit` returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar (`verbose=1`) or one line per epoch (`verbose=2`)."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False
        self._mode = "train"

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def wants_batch_logs(self):
        if self._mode == "test" and self._called_in_fit:
            return False
        return self.progbar is not None and self.progbar.wants_update(self.seen + 1)

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        self._mode = "test"
        if not self._called_in_fit:
            self._reset()

    def on_predict_begin(self, logs=None):
        self._mode = "predict"
        self._reset()

    def on_epoch_begin(self, epoch, logs=None):
        self._mode = "train"
        self._reset()
        if self.verbose and self.epochs > 1:
            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)
        self._mode = "train"

    def on_predict_end(self, logs=None):
        self._finalize(logs)

    def _reset(self):
        self.seen = 0
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step",
                               stateless_metrics=set())

    def _update(self, batch, logs):
        if self.progbar is None:
            self._reset()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs):
        if self.progbar is None:
            self._reset()
        if self.target is None:
            self.target = self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)


class TerminateOnNaN(Callback):
    """Stops training (or raises, with `raise_error=True`) when the loss is NaN or Inf."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                                   f"{loss}. Terminating training immediately.")
            print_msg(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions: `on_epoch_begin(epoch, logs)`,
    `on_batch_end(batch, logs)`, `on_train_begin(logs)`, ... (any hook, as keyword)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
        self._given = {n for n, fn in hooks.items() if fn is not None}
        if "on_batch_begin" in self._given:
            self._given.add("on_train_batch_begin")
            self.on_train_batch_begin = lambda batch, logs=None: self.on_batch_begin(batch, logs)
        if "on_batch_end" in self._given:
            self._given.add("on_train_batch_end")
            self.on_train_batch_end = lambda batch, logs=None: self.on_batch_end(batch, logs)


def _instance_overrides(cb, hook):
    given = getattr(cb, "_given", None)
    return hook in given if given is not None else _overrides(cb, hook)
