"""tf.keras.Model: a Layer with training (`Trainer`, in training.py).

`Model(inputs, outputs)` builds a functional model (functional.py); a subclass defines `call`.
"""
from __future__ import annotations

from featherflow._src.keras.layers.base import Layer
from featherflow._src.keras.layers.keras_tensor import KerasTensor
from featherflow._src.keras.models.training import Trainer

_LATER = ("`{}` is not implemented yet in featherflow: saving and restoring model weights "
          "comes with the checkpoint support. Until then, use `model.get_weights()` and "
          "`model.set_weights()`.")


def is_functional_args(args, kwargs) -> bool:
    if "inputs" in kwargs and "outputs" in kwargs:
        return True
    if len(args) == 2:
        return True
    return len(args) == 1 and "outputs" in kwargs


def _split_functional_args(args, kwargs):
    kwargs = dict(kwargs)
    if len(args) == 2:
        inputs, outputs = args
    elif len(args) == 1:
        inputs, outputs = args[0], kwargs.pop("outputs")
    else:
        inputs, outputs = kwargs.pop("inputs"), kwargs.pop("outputs")
    return inputs, outputs, kwargs


class Model(Trainer, Layer):
    """A model: layers plus `compile`/`fit`/`evaluate`/`predict`.

    >>> import featherflow as tf
    >>> inputs = tf.keras.Input(shape=(3,))
    >>> outputs = tf.keras.layers.Dense(2)(inputs)
    >>> model = tf.keras.Model(inputs, outputs)
    >>> model(tf.ones((4, 3))).shape
    TensorShape([4, 2])
    """

    _TF_MODULE_IGNORED_PROPERTIES = Layer._TF_MODULE_IGNORED_PROPERTIES.union((
        "optimizer", "history", "_compile_loss", "_compile_metrics", "_loss_tracker",
        "_train_cache", "inputs", "outputs", "_inputs_struct", "_outputs_struct",
        "_nodes_by_depth", "_exec_nodes", "_graph_inputs", "_graph_outputs"))
    _BOOKKEEPING = Layer._BOOKKEEPING.union((
        "optimizer", "history", "_compile_loss", "_compile_metrics", "_loss_tracker",
        "_train_cache", "inputs", "outputs", "_inputs_struct", "_outputs_struct",
        "_nodes_by_depth", "_exec_nodes", "_graph_inputs", "_graph_outputs"))

    def __new__(cls, *args, **kwargs):
        if cls is Model and is_functional_args(args, kwargs):
            from featherflow._src.keras.models.functional import Functional  # noqa: PLC0415
            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        if is_functional_args(args, kwargs):
            # A subclass passing `inputs`/`outputs` to `Model.__init__` becomes functional.
            from featherflow._src.keras.models import functional  # noqa: PLC0415
            inputs, outputs, kwargs = _split_functional_args(args, kwargs)
            functional.init_graph(self, inputs, outputs, **kwargs)
            return
        if args:
            raise TypeError(f"Model.__init__() takes no positional arguments besides `inputs` "
                            f"and `outputs`. Received: args={args}")
        Layer.__init__(self, **kwargs)
        Trainer.__init__(self)

    def call(self, *args, **kwargs):
        if getattr(self, "_exec_nodes", None) is not None:
            from featherflow._src.keras.models import functional  # noqa: PLC0415
            return functional.run_graph(self, *args, **kwargs)
        raise NotImplementedError(f"Model {type(self).__name__} does not have a `call()` "
                                  "method implemented.")

    # -- layers --------------------------------------------------------------------------------
    @property
    def layers(self):
        return self._layers

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. "
                             "Please use another name.")

    def get_layer(self, name=None, index=None):
        """A layer by `name` or by `index` (in `layers` order)."""
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in self.layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras' table: each layer's name (type), output shape and parameter count,
        then the total, trainable and non-trainable parameter counts."""
        from featherflow._src.keras.models import summary  # noqa: PLC0415
        summary.print_summary(self, line_length=line_length, positions=positions,
                              print_fn=print_fn, expand_nested=expand_nested,
                              show_trainable=show_trainable, layer_range=layer_range)

    # -- shapes of functional graphs -----------------------------------------------------------
    @property
    def input_shape(self):
        inputs = getattr(self, "inputs", None)
        if not inputs:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no "
                                 "defined input.")
        shapes = [tuple(t.shape) for t in inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        outputs = getattr(self, "outputs", None)
        if not outputs:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no "
                                 "defined output.")
        shapes = [tuple(t.shape) for t in outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # -- saving (a later task) -----------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Writes the model's variables as a TF-format object checkpoint at prefix `filepath`
        (featherflow keeps TF2's format, also for `.weights.h5` names; see docs/compat.md)."""
        from featherflow._src.train.checkpoint import save_model_weights  # noqa: PLC0415

        return save_model_weights(self, filepath, overwrite, kwargs.get("options"))

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Restores what `save_weights` wrote; variables made later get their values then."""
        from featherflow._src.train.checkpoint import load_model_weights  # noqa: PLC0415

        return load_model_weights(self, filepath, skip_mismatch, kwargs.get("options"))

    def save(self, filepath, overwrite=True, **kwargs):
        raise NotImplementedError(_LATER.format("save"))


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)
