"""tf.keras.Sequential: a plain stack of layers.

With a known input shape (a `tf.keras.Input` first, or `input_shape=` on the first layer) the
stack is built at once by calling the layers on a KerasTensor, so `summary()` has output shapes;
otherwise it is built on the first call. A call runs the layers one after the other.
"""
from __future__ import annotations

from featherflow._src.keras.layers.base import Layer
from featherflow._src.keras.layers.core import InputLayer
from featherflow._src.keras.layers.keras_tensor import KerasTensor
from featherflow._src.keras.models.model import Model
from featherflow._src.keras.models.training import Trainer


class Sequential(Model):
    """Groups a linear stack of layers into a Model.

    >>> import featherflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2)])
    >>> model.output_shape
    (None, 2)
    """

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, layers=None, trainable=True, name=None):
        Layer.__init__(self, trainable=trainable, name=name)
        Trainer.__init__(self)
        self._stack = []
        self._graph_inputs = self._graph_outputs = None
        for layer in layers or ():
            self.add(layer, rebuild=False)
        if layers:
            self._maybe_rebuild()

    # -- the stack -------------------------------------------------------------------------
    def add(self, layer, rebuild=True):
        """Appends a layer (or a `tf.keras.Input` tensor) to the stack."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            layer = layer._keras_history.operation
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer} (of type {type(layer)})")
        if isinstance(layer, InputLayer) and self._stack and \
                isinstance(self._stack[0], InputLayer):
            raise ValueError(f"Sequential model '{self.name}' has already been configured to "
                             f"use input shape {self._stack[0].batch_shape}. You cannot add a "
                             "different Input layer to it.")
        self._stack.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self.built = False
        self._graph_inputs = self._graph_outputs = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self.built = False
        self._graph_inputs = self._graph_outputs = None
        self._train_cache = None
        if not self._stack:
            return
        first = self._stack[0]
        if isinstance(first, InputLayer) and len(self._stack) > 1:
            self.build(first.batch_shape)
        elif not isinstance(first, InputLayer) and getattr(first, "_build_shapes", None):
            self.build(tuple(first._build_shapes))

    @property
    def layers(self):
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def build(self, input_shape=None):
        if not self._stack:
            raise ValueError(f"Sequential model {self.name} cannot be built because it has no "
                             "layers. Call `model.add(layer)`.")
        if isinstance(self._stack[0], InputLayer):
            input_layer = self._stack[0]
        else:
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
            if isinstance(input_shape, dict) or (
                    isinstance(input_shape, list) and input_shape and
                    isinstance(input_shape[0], (tuple, list))):
                # A stack whose first layer takes several inputs is built on its first call.
                self.built = True
                return
            shape = (None,) + tuple(input_shape)[1:]
            input_layer = InputLayer(batch_shape=shape)
            self._stack.insert(0, input_layer)
        x = inputs = input_layer.output
        for layer in self._stack[1:]:
            x = layer(x)
        self._graph_inputs, self._graph_outputs = [inputs], [x]
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    # -- functional-like views -------------------------------------------------------------
    @property
    def inputs(self):
        return self._graph_inputs

    @property
    def outputs(self):
        return self._graph_outputs

    @property
    def output_names(self):
        layers = self.layers
        return [layers[-1].name] if layers else []

    def get_config(self):
        config = super().get_config()
        config["layers"] = [{"class_name": type(layer).__name__, "config": layer.get_config()}
                            for layer in self._stack]
        return config
