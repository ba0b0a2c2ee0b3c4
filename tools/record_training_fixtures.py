"""Records Keras training trajectories from TensorFlow for tests/keras/test_fit.py.

Run with TensorFlow installed (e.g. /work/tfenv/bin/python tools/record_training_fixtures.py).
Each case builds a small model, sets fixed weights, runs `fit` for 2 epochs with shuffle=False
and stores the history (per-epoch loss/metrics), `evaluate` and the final weights. Also records
`summary()` text (80-column terminal) for a Sequential and a functional model.
"""
import json
import os
import sys

os.environ["COLUMNS"] = "80"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_training.npz")


def data():
    rng = np.random.RandomState(0)
    return {"x": rng.rand(40, 4).astype("float32"), "b": rng.rand(40, 2).astype("float32"),
            "y": rng.randint(0, 3, 40).astype("int64"),
            "r": rng.rand(40, 1).astype("float32"),
            "sw": rng.rand(40).astype("float32") + 0.5,
            "vx": rng.rand(12, 4).astype("float32"), "vy": rng.randint(0, 3, 12)}


def fixed_weights(model, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.get_weights()]


def sequential():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(5, activation="relu"),
                                tf.keras.layers.Dense(3, activation="softmax")])


def functional():
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((2,), name="b")
    h = tf.keras.layers.Concatenate()([a, b])
    h = tf.keras.layers.Dense(6, activation="tanh")(h)
    o1 = tf.keras.layers.Dense(1, name="out1")(h)
    o2 = tf.keras.layers.Dense(3, activation="softmax", name="out2")(h)
    return tf.keras.Model([a, b], [o1, o2])


def optimizer(name):
    return tf.keras.optimizers.SGD(0.1) if name == "sgd" else tf.keras.optimizers.Adam(0.01)


CASES = {
    # name: (builder, compile kwargs, fit kwargs builder)
    "seq_sgd": ("sequential", "sgd", {}),
    "seq_adam": ("sequential", "adam", {}),
    "seq_adam_val_sw": ("sequential", "adam", {"sample_weight": True, "validation": True}),
    "seq_sgd_class_weight": ("sequential", "sgd", {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}),
    "func_sgd": ("functional", "sgd", {}),
    "func_adam": ("functional", "adam", {}),
}


def run(name, spec, d):
    kind, opt, extra = spec
    model = sequential() if kind == "sequential" else functional()
    weights = fixed_weights(model, seed=len(name))
    model.set_weights(weights)
    if kind == "sequential":
        model.compile(optimizer(opt), "sparse_categorical_crossentropy", metrics=["accuracy"])
        x, y = d["x"], d["y"]
    else:
        model.compile(optimizer(opt), ["mse", "sparse_categorical_crossentropy"],
                      loss_weights=[1.0, 0.5], metrics=[["mae"], ["accuracy"]])
        x, y = [d["x"], d["b"]], [d["r"], d["y"]]
    kwargs = {"epochs": 2, "batch_size": 8, "shuffle": False, "verbose": 0}
    if extra.get("sample_weight"):
        kwargs["sample_weight"] = d["sw"]
    if extra.get("validation"):
        kwargs["validation_data"] = (d["vx"], d["vy"])
    if "class_weight" in extra:
        kwargs["class_weight"] = extra["class_weight"]
    hist = model.fit(x, y, **kwargs).history
    out = {f"{name}/init/{i}": w for i, w in enumerate(weights)}
    out.update({f"{name}/final/{i}": w for i, w in enumerate(model.get_weights())})
    out.update({f"{name}/history/{k}": np.asarray(v, "float64") for k, v in hist.items()})
    out[f"{name}/evaluate"] = np.asarray(model.evaluate(x, y, verbose=0), "float64")
    out[f"{name}/predict"] = np.concatenate(
        [np.asarray(p).reshape(40, -1) for p in tf.nest.flatten(model.predict(x, verbose=0))],
        axis=1)
    return out


def summaries():
    seq = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(8, name="d1"),
                               tf.keras.layers.Dense(3, name="d2")], name="seq")
    a = tf.keras.Input((4,), name="a")
    b = tf.keras.Input((2,), name="b")
    shared = tf.keras.layers.Dense(5, name="shared")
    c = tf.keras.layers.Concatenate(name="cat")([shared(a),
                                                 tf.keras.layers.Dense(5, name="db")(b)])
    o1 = tf.keras.layers.Dense(1, name="out1")(c)
    o2 = tf.keras.layers.Dense(3, name="out2")(c)
    func = tf.keras.Model([a, b], [o1, o2], name="func")
    out = {}
    for key, model in (("seq", seq), ("func", func)):
        lines = []
        model.summary(print_fn=lines.append)
        out[key] = lines[0]
        lines = []
        model.summary(print_fn=lines.append, line_length=60)
        out[key + "_60"] = lines[0]
    seq.compile("adam", "mse")
    seq.fit(np.ones((4, 4), "float32"), np.ones((4, 3), "float32"), verbose=0)
    lines = []
    seq.summary(print_fn=lines.append)
    out["seq_compiled"] = lines[0]
    return out


def main():
    d = data()
    arrays = {f"data/{k}": np.asarray(v) for k, v in d.items()}
    for name, spec in CASES.items():
        arrays.update(run(name, spec, d))
    arrays["summaries"] = np.asarray(json.dumps(summaries()))
    arrays["cases"] = np.asarray(json.dumps(CASES))
    arrays["versions"] = np.asarray(json.dumps({"tensorflow": tf.__version__,
                                                "keras": tf.keras.__version__}))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(arrays)} arrays)", file=sys.stderr)


if __name__ == "__main__":
    main()
