"""SimpleRNN, LSTM, GRU (Keras 3): a cell stepped over time in a Python loop of featherflow ops,
so gradients come through the tape. Weights as Keras: `<rnn>/<cell>/kernel`, `recurrent_kernel`,
`bias` (gates LSTM i,f,c,o; GRU z,r,h with bias (2, 3*units) when reset_after)."""
from __future__ import annotations

from featherflow._src.keras import activations as _act
from featherflow._src.keras import constraints as _con
from featherflow._src.keras import initializers as _init
from featherflow._src.keras import regularizers as _reg
from featherflow._src.keras.layers.base import InputSpec, Layer
from featherflow._src.keras.layers.core import SeedGenerator, dropout_mask_apply, ser
from featherflow._src.framework.public import tf as _tf


class _Cell(Layer):
    n_gates = 1
    n_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a positive"
                             f" integer, got {units}.")
        self.units = int(units)
        self.activation = _act.get(activation)
        self.recurrent_activation = _act.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = _init.get(kernel_initializer)
        self.recurrent_initializer = _init.get(recurrent_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.recurrent_regularizer = _reg.get(recurrent_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel_constraint = _con.get(kernel_constraint)
        self.recurrent_constraint = _con.get(recurrent_constraint)
        self.bias_constraint = _con.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)

    def _bias_shape(self):
        return (self.n_gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        u, g = self.units, self.n_gates
        self.kernel = self.add_weight(shape=(input_shape[-1], g * u), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(shape=(u, g * u), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), name="bias",
                                        initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _act.serialize(self.activation),
                "recurrent_activation": _act.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": ser(self.kernel_initializer, "init"),
                "recurrent_initializer": ser(self.recurrent_initializer, "init"),
                "bias_initializer": ser(self.bias_initializer, "init"),
                "kernel_regularizer": ser(self.kernel_regularizer, "reg"),
                "recurrent_regularizer": ser(self.recurrent_regularizer, "reg"),
                "bias_regularizer": ser(self.bias_regularizer, "reg"),
                "kernel_constraint": ser(self.kernel_constraint, "con"),
                "recurrent_constraint": ser(self.recurrent_constraint, "con"),
                "bias_constraint": ser(self.bias_constraint, "con"),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


class SimpleRNNCell(_Cell):
    def call(self, x, states, training=None):
        tf = _tf()
        h = states[0]
        z = tf.matmul(x, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        h = self.activation(z + tf.matmul(h, self.recurrent_kernel))
        return h, [h]


class LSTMCell(_Cell):
    n_gates = 4
    n_states = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base = self.bias_initializer

        def init(shape, dtype=None):
            tf = _tf()
            u = self.units
            return tf.concat([base((u,), dtype=dtype), tf.ones((u,), dtype=dtype or "float32"),
                              base((2 * u,), dtype=dtype)], axis=0)
        return init

    def call(self, x, states, training=None):
        tf = _tf()
        h, c = states
        z = tf.matmul(x, self.kernel) + tf.matmul(h, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        zi, zf, zc, zo = tf.split(z, 4, axis=-1)
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        c = f * c + i * self.activation(zc)
        o = self.recurrent_activation(zo)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    n_gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, x, states, training=None):
        tf = _tf()
        h = states[0]
        if self.bias is not None:
            # NOTE: unstack/split rather than `variable[i]`: featherflow's sliced variable reads are
            # not seen by the tape (see the report), and these must carry gradients.
            b_in, b_rec = (tf.unstack(self.bias) if self.reset_after else (self.bias, None))
        else:
            b_in = b_rec = None
        xm = tf.matmul(x, self.kernel)
        if b_in is not None:
            xm = xm + b_in
        x_z, x_r, x_h = tf.split(xm, 3, axis=-1)
        rk = self.recurrent_kernel
        if self.reset_after:
            inner = tf.matmul(h, rk)
            if b_rec is not None:
                inner = inner + b_rec
            r_z, r_r, r_h = tf.split(inner, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            hh = self.activation(x_h + r * r_h)
        else:
            rk_z, rk_r, rk_h = tf.split(rk, 3, axis=-1)
            z = self.recurrent_activation(x_z + tf.matmul(h, rk_z))
            r = self.recurrent_activation(x_r + tf.matmul(h, rk_r))
            hh = self.activation(x_h + tf.matmul(r * h, rk_h))
        h = z * h + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class _RNN(Layer):
    cell_class = SimpleRNNCell
    cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        cell_kwargs = {k: kwargs.pop(k) for k in ("recurrent_activation", "unit_forget_bias",
                                                 "reset_after") if k in kwargs}
        kwargs.pop("use_cudnn", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if stateful:
            raise ValueError("featherflow's recurrent layers do not implement stateful=True.")
        self.cell = self.cell_class(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
            seed=seed, name=self.cell_name, dtype=self.dtype_policy, **cell_kwargs)
        self.units = int(units)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, unroll
        self.input_spec = InputSpec(min_ndim=3)
        self.supports_masking = True

    def build(self, input_shape):
        self.cell.build((input_shape[0], input_shape[-1]))

    def call(self, sequences, initial_state=None, mask=None, training=False):
        tf = _tf()
        cell = self.cell
        batch, steps = sequences.shape[0], sequences.shape[1]
        if initial_state is None:
            states = [tf.zeros((batch, self.units), dtype=sequences.dtype)
                      for _ in range(cell.n_states)]
        else:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
        xs = tf.unstack(sequences, axis=1)
        ms = None if mask is None else tf.unstack(tf.cast(mask, tf.bool), axis=1)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        dp = rdp = None
        if training and cell.dropout > 0:
            dp = dropout_mask_apply(tf.ones_like(xs[0]), cell.dropout, cell.seed_generator)
        if training and cell.recurrent_dropout > 0:
            rdp = dropout_mask_apply(tf.ones_like(states[0]), cell.recurrent_dropout,
                                     cell.seed_generator)
        outputs, prev = [], tf.zeros((batch, self.units), dtype=sequences.dtype)
        for t in order:
            x = xs[t] if dp is None else xs[t] * dp
            step_states = states if rdp is None else [states[0] * rdp] + states[1:]
            out, new = cell.call(x, step_states, training=training)
            if ms is not None:
                keep = tf.expand_dims(ms[t], -1)
                out = tf.where(keep, out, prev)
                new = [tf.where(keep, n, s) for n, s in zip(new, states)]
            states, prev = new, out
            outputs.append(out)
        result = tf.stack(outputs, axis=1) if self.return_sequences else prev
        if self.return_state:
            return [result] + list(states)
        return result

    def compute_mask(self, inputs, mask=None):
        if mask is None or not self.return_sequences:
            return None
        return mask

    def compute_output_shape(self, input_shape):
        b, t = input_shape[0], input_shape[1]
        out = (b, t, self.units) if self.return_sequences else (b, self.units)
        if self.return_state:
            return [out] + [(b, self.units)] * self.cell.n_states
        return out

    def get_config(self):
        cfg = {k: v for k, v in self.cell.get_config().items()
               if k not in ("name", "trainable", "dtype")}
        return {**super().get_config(), **cfg, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll}


class SimpleRNN(_RNN):
    """A fully connected RNN: h = activation(x @ kernel + h @ recurrent_kernel + bias)."""

    cell_class, cell_name = SimpleRNNCell, "simple_rnn_cell"


class LSTM(_RNN):
    """Long short-term memory; returns [output, h, c] with `return_state=True`.

    >>> import featherflow as tf
    >>> tf.keras.layers.LSTM(4, return_sequences=True)(tf.ones((2, 3, 5))).shape
    TensorShape([2, 3, 4])
    """

    cell_class, cell_name = LSTMCell, "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         unit_forget_bias=unit_forget_bias, **kwargs)


class GRU(_RNN):
    """Gated recurrent unit (Keras 3 default reset_after=True, bias shape (2, 3 * units))."""

    cell_class, cell_name = GRUCell, "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         reset_after=reset_after, **kwargs)
