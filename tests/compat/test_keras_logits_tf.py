"""Keras cross-entropies of a softmax/sigmoid output use the cached logits, in TF and here."""
import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")

import featherflow as tf  # noqa: E402


@pytest.mark.parametrize("act, loss, units, y", [
    ("softmax", "sparse_categorical_crossentropy", 2, np.array([0, 1])),
    ("softmax", "categorical_crossentropy", 2, np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)),
    ("sigmoid", "binary_crossentropy", 1, np.array([[1.0], [0.0]], np.float32)),
])
def test_fit_loss_matches_tf_for_saturated_outputs(act, loss, units, y):
    w = np.array([[-50.0, 50.0][:units]], np.float32) if units == 2 else np.array([[-50.0]],
                                                                                  np.float32)
    x = np.array([[1.0], [0.5]], np.float32)
    out = []
    for lib in (tf_real, tf):
        m = lib.keras.Sequential([lib.keras.Input((1,)), lib.keras.layers.Dense(
            units, activation=act, kernel_initializer=lib.keras.initializers.Constant(w))])
        m.compile(lib.keras.optimizers.SGD(0.0), loss)
        out.append(m.fit(x, y, batch_size=2, shuffle=False, verbose=0).history["loss"][0])
    assert out[1] == pytest.approx(out[0], rel=1e-6)
    assert out[0] > 17.0  # beyond -log(1e-7): the logits were used, not clipped probabilities
