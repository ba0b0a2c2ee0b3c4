"""Layer API, tracking through the one walker, initializers/activations/regularizers/constraints."""
import numpy as np
import pytest

import featherflow as tf

L = tf.keras.layers


class Block(L.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.first = L.Dense(3)
        self.second = L.Dense(2)
        self.plain = tf.Variable(1.0)
        self.mod = tf.Module()
        self.mod.w = tf.Variable(2.0)
        self.stack = [L.Dense(2), {"b": L.Dense(2)}]

    def build(self, shape):
        self.k = self.add_weight(shape=(1,), name="k")
        self.nt = self.add_weight(shape=(1,), name="nt", trainable=False)
        self.b = self.add_weight(shape=(1,), name="b")

    def call(self, x, training=None):
        y = self.second(self.first(x))
        return self.stack[1]["b"](self.stack[0](y))


def test_weights_order_is_keras_and_every_variable_is_reported_once():
    blk = Block(name="blk")
    blk(np.ones((2, 4), "float32"))
    paths = [getattr(v, "path", None) for v in blk.weights]
    assert paths[:3] == ["blk/k", "blk/b", "blk/nt"]
    assert paths[3] == f"blk/{blk.first.name}/kernel" and paths[5] == \
        f"blk/{blk.second.name}/kernel"
    assert len(blk.weights) == 3 + 8 + 2
    ids = [id(v) for v in blk.variables]
    assert len(ids) == len(set(ids)) == 13
    walker = tf.Module.variables.fget(blk)
    assert {id(v) for v in walker} == set(ids)
    outer = tf.Module()
    outer.layers = [blk, {"again": blk.first}]
    assert {id(v) for v in outer.variables} == set(ids)
    assert len(outer.trainable_variables) == 12


def test_isinstance_and_variable_names():
    d = L.Dense(2, name="dd")
    d.build((None, 3))
    assert isinstance(d, tf.Module) and isinstance(d.kernel, tf.Variable)
    assert d.kernel.path == "dd/kernel" and d.kernel.name == "kernel"
    assert d.built and repr(d) == "<Dense name=dd, built=True>"


def test_trainable_setter_propagates():
    blk = Block()
    blk(np.ones((1, 4), "float32"))
    blk.trainable = False
    assert blk.trainable_weights == [] and not blk.first.trainable
    assert not blk.first.kernel.trainable
    assert len(blk.non_trainable_weights) == len(blk.weights)


def test_set_weights_errors_and_roundtrip():
    d = L.Dense(2, name="dd")
    d.build((None, 3))
    with pytest.raises(ValueError, match="weight list of length 1, but the layer was expecting 2"):
        d.set_weights([np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"weight shape \(3, 2\) is not compatible with provided "
                                         r"weight shape \(3, 3\)"):
        d.set_weights([np.ones((3, 3)), np.ones(2)])
    w = [np.arange(6, dtype="float32").reshape(3, 2), np.ones(2, "float32")]
    d.set_weights(w)
    np.testing.assert_array_equal(d.get_weights()[0], w[0])


def test_add_weight_defaults_and_state_lock():
    lay = L.Layer()
    v = lay.add_weight(shape=(2, 2))
    assert v.dtype == tf.float32 and np.any(v.numpy() != 0)
    assert np.all(lay.add_weight(shape=(2,), dtype="int32").numpy() == 0)
    d = L.Dense(2)
    d.build((None, 3))
    with pytest.raises(ValueError, match="already built"):
        d.add_weight(shape=(1,))


def test_input_spec_errors():
    d = L.Dense(2, name="dd")
    d(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3, but "
                                         r"received input with shape \(2, 4\)"):
        d(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        L.Dense(2)(np.ones((4,), "float32"))


def test_call_converts_numpy_and_casts_floats():
    y = L.Activation("relu")(np.array([-1.0, 2.0]))
    assert y.dtype == tf.float32
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0])


def test_training_flag_reaches_sublayers():
    class Inner(L.Layer):
        def call(self, x, training=None):
            return x * (2.0 if training else 1.0)

    class Outer(L.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Inner()

        def call(self, x):
            return self.inner(x)
    o = Outer()
    assert float(o(np.ones(1), training=True)[0]) == 2.0
    assert float(o(np.ones(1))[0]) == 1.0


def test_losses_regularizers_and_add_loss():
    d = L.Dense(2, kernel_regularizer=tf.keras.regularizers.L2(0.1), kernel_initializer="ones")
    d(np.ones((1, 3), "float32"))
    assert len(d.losses) == 1
    np.testing.assert_allclose(float(d.losses[0]), 0.1 * 6, rtol=1e-6)

    class AddsLoss(L.Layer):
        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x
    a = AddsLoss()
    a(np.ones(2))
    a(np.ones(2))
    assert len(a.losses) == 1 and float(a.losses[0]) == 2.0


def test_get_config_roundtrip():
    d = L.Dense(3, activation="relu", kernel_regularizer="l2", name="x")
    cfg = d.get_config()
    assert cfg["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert cfg["dtype"]["config"] == {"name": "float32"}
    d2 = L.Dense.from_config(cfg)
    assert d2.units == 3 and d2.activation is tf.keras.activations.relu
    assert isinstance(d2.kernel_regularizer, tf.keras.regularizers.L2)


def test_dtype_properties():
    lay = L.Dense(2, dtype="float64")
    assert (lay.dtype, lay.compute_dtype, lay.variable_dtype) == ("float64",) * 3
    assert lay(np.ones((1, 2), "float32")).dtype == tf.float64


def test_compute_output_shape():
    assert L.Dense(4).compute_output_shape((None, 3)) == (None, 4)
    assert L.Conv2D(2, 3, padding="same", strides=2).compute_output_shape((1, 7, 7, 3)) == \
        (1, 4, 4, 2)
    assert L.Flatten().compute_output_shape((None, 2, 3)) == (None, 6)


def test_functional_input_records_nodes():
    x = tf.keras.Input(shape=(3,), name="inp")
    assert x.shape == (None, 3) and x.name == "inp"
    y = L.Dense(2)(x)
    z = L.Reshape((2, 1))(y)
    assert y.shape == (None, 2) and z.shape == (None, 2, 1)
    layer, node_index, tensor_index = z._keras_history
    assert isinstance(layer, L.Reshape) and (node_index, tensor_index) == (0, 0)
    node = layer._inbound_nodes[0]
    assert node.input_tensors == [y] and node.parent_nodes[0].output_tensors == [y]
    with pytest.raises(ValueError, match="shape"):
        tf.keras.Input()


def test_embedding_gradient_is_indexed_slices_and_mask():
    e = L.Embedding(5, 2, mask_zero=True)
    ids = np.array([[1, 0, 3]])
    with tf.GradientTape() as tape:
        y = e(ids)
    assert isinstance(tape.gradient(y, e.trainable_variables)[0], tf.IndexedSlices)
    np.testing.assert_array_equal(e.compute_mask(ids).numpy(), [[True, False, True]])


def test_dropout_training_vs_inference_and_seeded():
    x = np.ones((200, 50), "float32")
    d = L.Dropout(0.3, seed=7)
    np.testing.assert_array_equal(d(x).numpy(), x)
    y = d(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    y2 = L.Dropout(0.3, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(y, y2)
    assert len(d.variables) == 1 and d.weights == []


def test_batchnorm_frozen_runs_inference():
    bn = L.BatchNormalization()
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    bn(x)
    bn.trainable = False
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)


def test_merge_and_shape_layers_vs_numpy():
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    np.testing.assert_array_equal(L.Add()([a, b]).numpy(), a + b)
    np.testing.assert_array_equal(L.Concatenate(axis=0)([a, b]).numpy(), np.concatenate([a, b]))
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(L.Flatten()(x).numpy(), x.reshape(2, -1))
    np.testing.assert_array_equal(L.Flatten(data_format="channels_first")(x).numpy(),
                                  x.transpose(0, 2, 1).reshape(2, -1))
    np.testing.assert_array_equal(L.Reshape((4, -1))(x).numpy(), x.reshape(2, 4, 3))


def test_conv_groups_and_channels_first_match_dense_equivalent():
    x = np.random.default_rng(1).standard_normal((1, 5, 5, 4)).astype("float32")
    g = L.Conv2D(6, 3, groups=2)
    y = g(x).numpy()
    k = g.kernel.numpy()
    for grp in range(2):
        sub = L.Conv2D(3, 3)
        sub(x[..., 2 * grp:2 * grp + 2])
        sub.set_weights([k[..., 3 * grp:3 * grp + 3], g.bias.numpy()[3 * grp:3 * grp + 3]])
        np.testing.assert_allclose(y[..., 3 * grp:3 * grp + 3],
                                   sub(x[..., 2 * grp:2 * grp + 2]).numpy(), rtol=1e-5,
                                   atol=1e-5)
    cf = L.Conv2D(6, 3, data_format="channels_first")
    cf(x.transpose(0, 3, 1, 2))
    cf.set_weights([k.repeat(2, axis=2)[:, :, :4], g.bias.numpy()])
    cl = L.Conv2D(6, 3)
    cl(x)
    cl.set_weights(cf.get_weights())
    np.testing.assert_allclose(cf(x.transpose(0, 3, 1, 2)).numpy(),
                               cl(x).numpy().transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls,args,var", [
    ("GlorotUniform", (), lambda fi, fo: 2.0 / (fi + fo)),
    ("GlorotNormal", (), lambda fi, fo: 2.0 / (fi + fo)),
    ("HeUniform", (), lambda fi, fo: 2.0 / fi),
    ("HeNormal", (), lambda fi, fo: 2.0 / fi),
    ("LecunUniform", (), lambda fi, fo: 1.0 / fi),
    ("LecunNormal", (), lambda fi, fo: 1.0 / fi),
    ("RandomNormal", (), lambda fi, fo: 0.05 ** 2),
    ("RandomUniform", (), lambda fi, fo: 0.1 ** 2 / 12),
])
def test_initializer_statistics_and_seeding(cls, args, var):
    init = getattr(tf.keras.initializers, cls)(*args, seed=3)
    w = init((200, 300)).numpy()
    np.testing.assert_allclose(w.var(), var(200, 300), rtol=0.05)
    assert abs(w.mean()) < 0.01
    np.testing.assert_array_equal(w, init((200, 300)).numpy())
    if "Uniform" in cls:
        assert np.abs(w).max() <= np.sqrt(3 * var(200, 300)) + 1e-6
    again = type(init).from_config(init.get_config())
    np.testing.assert_array_equal(again((200, 300)).numpy(), w)


def test_orthogonal_identity_constant():
    q = tf.keras.initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(tf.keras.initializers.Identity(2.0)((2, 3)).numpy(),
                                  2 * np.eye(2, 3))
    assert tf.keras.initializers.get("zeros")((2,)).numpy().tolist() == [0, 0]
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: foo"):
        tf.keras.initializers.get("foo")


def _np_act():
    return {"relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
            "tanh": np.tanh, "softplus": lambda x: np.log1p(np.exp(x)),
            "softsign": lambda x: x / (1 + np.abs(x)), "exponential": np.exp,
            "linear": lambda x: x, "relu6": lambda x: np.clip(x, 0, 6),
            "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
            "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
            "silu": lambda x: x / (1 + np.exp(-x)), "swish": lambda x: x / (1 + np.exp(-x)),
            "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
            "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
            "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))}


@pytest.mark.parametrize("name", sorted(_np_act()))
def test_activations_vs_numpy(name):
    x = np.linspace(-5, 5, 12).reshape(3, 4).astype("float32")
    fn = tf.keras.activations.get(name)
    assert tf.keras.activations.serialize(fn) == {"swish": "silu"}.get(name, name)
    np.testing.assert_allclose(np.asarray(fn(tf.constant(x))), _np_act()[name](x), rtol=1e-5,
                               atol=1e-6)


def test_regularizers_and_constraints():
    w = tf.constant([[3.0, -1.0], [4.0, 0.5]])
    np.testing.assert_allclose(float(tf.keras.regularizers.L1(0.5)(w)), 0.5 * 8.5, rtol=1e-6)
    np.testing.assert_allclose(float(tf.keras.regularizers.L1L2(0.1, 0.2)(w)),
                               0.1 * 8.5 + 0.2 * 26.25, rtol=1e-6)
    assert tf.keras.regularizers.L2().get_config() == {"l2": 0.009999999776482582}
    np.testing.assert_allclose(tf.keras.constraints.NonNeg()(w).numpy(), np.maximum(w, 0))
    un = tf.keras.constraints.UnitNorm()(w).numpy()
    np.testing.assert_allclose(np.linalg.norm(un, axis=0), 1, rtol=1e-5)
    mm = tf.keras.constraints.MaxNorm(2.0)(w).numpy()
    np.testing.assert_allclose(mm[:, 0], [1.2, 1.6], rtol=1e-5)
    d = L.Dense(2, kernel_constraint="non_neg")
    d.build((None, 2))
    assert isinstance(d.kernel.constraint, tf.keras.constraints.NonNeg)


def test_eager_tensor_input_is_cast_to_the_compute_dtype():
    # One eager tensor takes the layer's shortcut: floats are cast, integers kept, same dtype
    # passed through untouched.
    seen = []

    class Probe(L.Layer):
        def call(self, x):
            seen.append(x)
            return x

    p64 = Probe(dtype="float64")
    x32 = tf.constant([1.5, 2.5], tf.float32)
    assert p64(x32).dtype == tf.float64
    xi = tf.constant([1, 2])
    assert p64(xi).dtype == tf.int32
    x64 = tf.constant([1.0], tf.float64)
    p64(x64)
    assert seen[-1] is x64
    # A Variable is converted through its read (a tensor of its dtype), then cast.
    v = tf.Variable([0.5, 1.5], dtype=tf.float32)
    out = p64(v)
    assert out.dtype == tf.float64
    np.testing.assert_array_equal(out.numpy(), [0.5, 1.5])
