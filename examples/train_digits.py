"""Train a handwritten-digit classifier end to end with featherflow's tf.keras.

The data: the UCI handwritten digits set (1,797 images of 8x8 pixels, 10 classes), shipped in
examples/data/ (see its README for the source and license). The model: a small MLP, trained with
Adam on a train split, watched on a validation split, scored on a held-out test split.

Run it with `make demo` (or `python examples/train_digits.py` from the repository root). Apart
from the import, this is plain TensorFlow 2 / Keras 3 code.

Training state (model, optimizer and epoch counter) is checkpointed in TensorFlow's format under
`.demo_checkpoints/` after every epoch: run the demo again and it resumes where it stopped and
trains further (`--fresh` starts over). The best weights by validation accuracy are kept with
`ModelCheckpoint(save_weights_only=True)` and loaded with `load_weights` for the test score.
"""
import gzip
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT_DIR = os.environ.get("FEATHERFLOW_DEMO_CHECKPOINTS") or \
    os.path.join(os.path.dirname(HERE), ".demo_checkpoints", "digits")
EPOCHS_PER_RUN = 10
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
    optimizer = tf.keras.optimizers.Adam(learning_rate=3e-3)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.summary()

    # Resume: model weights, optimizer slots and the epoch counter come back from the latest
    # checkpoint (restored lazily: the optimizer's slots get their values when first created).
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch)
    manager = tf.train.CheckpointManager(checkpoint, CKPT_DIR, max_to_keep=3)
    if "--fresh" not in sys.argv and manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        print(f"resuming from {manager.latest_checkpoint} (epoch {int(epoch.numpy())})")
    initial_epoch = int(epoch.numpy())

    def save_epoch(epoch_index, logs):
        epoch.assign(epoch_index + 1)
        manager.save(checkpoint_number=epoch_index + 1)

    best_path = os.path.join(CKPT_DIR, "best.weights.h5")
    start = time.time()
    history = model.fit(
        x_train, y_train, batch_size=32, initial_epoch=initial_epoch,
        epochs=initial_epoch + EPOCHS_PER_RUN, validation_split=0.15,
        callbacks=[tf.keras.callbacks.ModelCheckpoint(best_path, monitor="val_accuracy",
                                                      save_best_only=True,
                                                      save_weights_only=True),
                   tf.keras.callbacks.LambdaCallback(on_epoch_end=save_epoch)])
    print(f"trained epochs {initial_epoch + 1}-{initial_epoch + len(history.epoch)} in "
          f"{time.time() - start:.1f}s; best validation accuracy this run "
          f"{max(history.history['val_accuracy']):.4f}; checkpoints in {CKPT_DIR}")
    model.load_weights(best_path)

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")
    predictions = model.predict(x_test[:10], verbose=0).argmax(axis=1)
    print("first test images:", " ".join(str(p) for p in predictions),
          "(predicted)\n                  ", " ".join(str(t) for t in y_test[:10]), "(true)")
    if test_accuracy < 0.9:
        sys.exit("test accuracy below 90%: something is wrong")


if __name__ == "__main__":
    main()
