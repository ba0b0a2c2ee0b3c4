"""Cross-entropies of a Keras `softmax`/`sigmoid` output use the cached logits (Keras 3's
TensorFlow backend): no clipping of probabilities at 1e-7, as TensorFlow's `fit` reports."""
import numpy as np
import pytest

import featherflow as tf

Z = np.array([[-50.0, 50.0]], np.float32)


def _nll(logits, label):  # -log_softmax(logits)[label], in float64
    z = logits.astype(np.float64)
    return float(np.log(np.exp(z - z.max()).sum()) + z.max() - z[0, label])


@pytest.mark.parametrize("loss, labels", [
    (tf.keras.losses.sparse_categorical_crossentropy, np.array([0])),
    (tf.keras.losses.categorical_crossentropy, np.array([[1.0, 0.0]], np.float32)),
])
def test_softmax_output_uses_logits(loss, labels):
    p = tf.keras.activations.softmax(tf.constant(Z))
    got = float(loss(tf.constant(labels), p)[0])
    assert got == pytest.approx(_nll(Z, 0), rel=1e-6)  # 100, not -log(1e-7) = 16.1


def test_nn_softmax_output_is_clipped():
    p = tf.nn.softmax(tf.constant(Z))  # not a Keras activation: no logits cached
    got = float(tf.keras.losses.sparse_categorical_crossentropy(tf.constant([0]), p)[0])
    assert got == pytest.approx(-np.log(1e-7), rel=1e-5)


def test_sigmoid_output_uses_logits():
    x = np.array([[-50.0]], np.float32)
    p = tf.keras.activations.sigmoid(tf.constant(x))
    got = float(tf.keras.losses.binary_crossentropy(tf.constant([[1.0]]), p)[0])
    assert got == pytest.approx(float(np.logaddexp(0.0, 50.0)), rel=1e-6)


def test_fit_loss_from_dense_softmax_logits():
    m = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Dense(
        2, activation="softmax", kernel_initializer=tf.keras.initializers.Constant(Z))])
    m.compile(tf.keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    h = m.fit(np.ones((1, 1), np.float32), np.array([0]), verbose=0)
    assert h.history["loss"][0] == pytest.approx(_nll(Z, 0), rel=1e-6)
    with tf.GradientTape() as tape:
        y = m(np.ones((1, 1), np.float32))
        loss = tf.keras.losses.sparse_categorical_crossentropy(tf.constant([0]), y)
    g = tape.gradient(loss, m.trainable_weights[0]).numpy()
    # d/dz of -log_softmax(z)[0] = softmax(z) - onehot: finite, not cut off by the clip
    np.testing.assert_allclose(g, [[-1.0, 1.0]], rtol=1e-6)


def test_logits_cache_entry_dies_with_output():
    from featherflow._src.keras import activations as act
    p = tf.keras.activations.softmax(tf.constant(Z))
    key = id(p)
    assert key in act._LOGITS
    del p
    assert key not in act._LOGITS


def test_losses_cleared_by_next_top_level_call_only_for_own_layers():
    # The entry call skips the sublayer walk when no layer holds losses; a layer outside the
    # called model keeps its losses until its own next call.
    class AddsLoss(tf.keras.layers.Layer):
        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x
    inner, outer = AddsLoss(), AddsLoss()
    m = tf.keras.Sequential([tf.keras.Input((2,)), inner])
    x = tf.constant([[1.0, 2.0]])
    m(x)
    outer(x)
    assert len(m.losses) == 1 and len(outer.losses) == 1
    m(x)  # clears m's layers (then adds one), leaves `outer` alone
    assert len(m.losses) == 1 and len(outer.losses) == 1
    outer(x * 2.0)
    assert [float(v) for v in outer.losses] == [6.0]
