"""Train a handwritten-digit classifier end to end with featherflow's tf.keras.

The data: the UCI handwritten digits set (1,797 images of 8x8 pixels, 10 classes), shipped in
examples/data/ (see its README for the source and license). The model: a small MLP, trained with
Adam on a train split, watched on a validation split, scored on a held-out test split.

Run it with `make demo` (or `python examples/train_digits.py` from the repository root). Apart
from the import, this is plain TensorFlow 2 / Keras 3 code.
"""
import gzip
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import featherflow as tf  # noqa: E402


def load_digits():
    with gzip.open(os.path.join(HERE, "data", "digits.csv.gz"), "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    images = table[:, :-1].reshape(-1, 8, 8).astype("float32") / 16.0
    labels = table[:, -1].astype("int64")
    return images, labels


def main():
    tf.keras.utils.set_random_seed(42)
    images, labels = load_digits()
    order = np.random.permutation(len(images))
    images, labels = images[order], labels[order]
    n_test = 360
    x_train, y_train = images[:-n_test], labels[:-n_test]
    x_test, y_test = images[-n_test:], labels[-n_test:]
    print(f"digits: {len(x_train)} for training (of which 15% for validation), "
          f"{len(x_test)} for testing; images {images.shape[1:]}, {labels.max() + 1} classes")

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(8, 8)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ], name="digits_mlp")
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    start = time.time()
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=15, validation_split=0.15,
        callbacks=[tf.keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=4,
                                                    restore_best_weights=True)])
    print(f"trained {len(history.epoch)} epochs in {time.time() - start:.1f}s; best validation "
          f"accuracy {max(history.history['val_accuracy']):.4f}")

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")
    predictions = model.predict(x_test[:10], verbose=0).argmax(axis=1)
    print("first test images:", " ".join(str(p) for p in predictions),
          "(predicted)\n                  ", " ".join(str(t) for t in y_test[:10]), "(true)")
    if test_accuracy < 0.9:
        sys.exit("test accuracy below 90%: something is wrong")


if __name__ == "__main__":
    main()
