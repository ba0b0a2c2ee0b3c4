"""Progress output of fit/evaluate/predict: Keras 3's bar on a terminal, one line per epoch in
a log file (no control characters), verbose=2 lines, verbose=0 silence."""
import io
import re
import sys

import numpy as np

import featherflow as tf

X = np.random.RandomState(0).rand(64, 4).astype("float32")
Y = np.random.RandomState(1).randint(0, 3, 64)


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def _model():
    m = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _run(monkeypatch, stream, **kw):
    monkeypatch.setattr(sys, "stdout", stream)
    h = _model().fit(X, Y, batch_size=16, **kw)
    return stream.getvalue(), h


LINE = re.compile(r"^4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$")


def test_log_file_gets_one_plain_line_per_epoch(monkeypatch):
    out, h = _run(monkeypatch, io.StringIO(), epochs=2, verbose=1)
    assert "\r" not in out and "\x1b" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert LINE.match(lines[1]) and LINE.match(lines[3])
    assert f"loss: {h.history['loss'][1]:.4f}" in lines[3]


def test_terminal_redraws_in_place_with_keras_codes(monkeypatch):
    monkeypatch.setattr("featherflow._src.keras.progbar.Progbar.__init__.__defaults__",
                        (20, 1, 0.0, None, None, "step"))  # redraw at every step
    out, h = _run(monkeypatch, FakeTTY(), epochs=1, verbose="auto")
    assert "Epoch" not in out  # only printed when epochs > 1
    frames = out.split("\r")[1:]
    assert len(frames) == 5  # 4 steps + the final frame with the epoch's values
    assert frames[0].startswith("\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━\x1b[0m")
    assert out.endswith("\n")
    plain = re.sub(r"\x1b\[\d+m", "", frames[-1].rstrip("\n").rstrip("\b").rstrip())
    assert LINE.match(plain), plain


def test_verbose_2_and_0(monkeypatch):
    out, _ = _run(monkeypatch, FakeTTY(), epochs=2, verbose=2,
                  validation_data=(X[:8], Y[:8]))
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and len(lines) == 4
    assert re.match(r"^4/4 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} "
                    r"- val_accuracy: [\d.e+-]+ - val_loss: \d\.\d{4}$", lines[1]), lines[1]
    out, _ = _run(monkeypatch, FakeTTY(), epochs=2, verbose=0)
    assert out == ""


def test_evaluate_and_predict_bars(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    m = _model()
    m.evaluate(X, Y, batch_size=32)
    m.predict(X, batch_size=32)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert re.match(r"^2/2 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: "
                    r"\d\.\d{4}$", lines[0])
    assert re.match(r"^2/2 ━{20} \d+s \d+(us|ms|s)/step$", lines[1])


def test_progbar_class(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    bar = tf.keras.utils.Progbar(10, verbose=2)
    bar.update(5, [("loss", 1.0)])
    bar.update(8, [("loss", 3.0)])  # averaged, weighted by steps: (5 * 1 + 3 * 3) / 8
    bar.update(10)
    assert re.match(r"^10/10 - \d+s - \d+(us|ms|s)/step - loss: 1\.7500\n$", stream.getvalue())
    unknown = tf.keras.utils.Progbar(None, verbose=1)
    unknown.update(3, finalize=True)
    assert stream.getvalue().splitlines()[-1].startswith("      3/Unknown")
