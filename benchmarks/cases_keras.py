"""Keras training: `model.fit` of an MLP, one epoch.

`mlp_fit`: an MLP 784-256-256-10 (relu, softmax output, sparse categorical crossentropy), Adam,
batch 128, one epoch over 60,000 synthetic samples of MNIST's shape (469 steps), verbose=0.
featherflow and TensorFlow run `tf.keras` `fit`; NumPy runs the same epoch written by hand (a
fresh shuffle, batch gathering, forward, backward, Adam update in place): the floor that a
framework's per-step overhead is measured against. One call is one epoch; divide by 469 for the
time per step (`python -m benchmarks.cases_keras` prints it).
"""
from benchmarks.harness import Case

N, DIM, HIDDEN, CLASSES, BATCH = 60_000, 784, 256, 10, 128
STEPS = -(-N // BATCH)


def _data(np_):
    rng = np_.random.default_rng(0)
    x = rng.random((N, DIM), dtype=np_.float32)
    y = rng.integers(0, CLASSES, N)
    return x, y


def _keras_fit(tf):
    import numpy as np  # noqa: PLC0415

    x, y = _data(np)
    model = tf.keras.Sequential([
        tf.keras.Input((DIM,)), tf.keras.layers.Dense(HIDDEN, activation="relu"),
        tf.keras.layers.Dense(HIDDEN, activation="relu"),
        tf.keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(tf.keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(x[:BATCH * 2], y[:BATCH * 2], batch_size=BATCH, verbose=0)  # build, warm up

    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    return epoch


def _np_fit(np_, scratch=False):
    x, y = _data(np_)
    rng = np_.random.default_rng(1)
    f = np_.float32

    def glorot(fan_in, fan_out):
        limit = np_.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(f)
    params = [glorot(DIM, HIDDEN), np_.zeros(HIDDEN, f), glorot(HIDDEN, HIDDEN),
              np_.zeros(HIDDEN, f), glorot(HIDDEN, CLASSES), np_.zeros(CLASSES, f)]
    ms = [np_.zeros_like(p) for p in params]
    vs = [np_.zeros_like(p) for p in params]
    tmp = [np_.empty_like(p) for p in params]
    b1, b2, lr, eps = f(0.9), f(0.999), f(1e-3), f(1e-7)
    state = {"t": 0}

    def step(xb, yb):
        w1, c1, w2, c2, w3, c3 = params
        h1 = np_.maximum(xb @ w1 + c1, 0)
        h2 = np_.maximum(h1 @ w2 + c2, 0)
        z = h2 @ w3 + c3
        z -= z.max(axis=1, keepdims=True)
        e = np_.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        n = xb.shape[0]
        loss = -np_.log(p[np_.arange(n), yb] + f(1e-7)).mean()
        dz = p
        dz[np_.arange(n), yb] -= 1
        dz /= n
        g3, gc3 = h2.T @ dz, dz.sum(0)
        dh2 = dz @ w3.T
        dh2 *= h2 > 0
        g2, gc2 = h1.T @ dh2, dh2.sum(0)
        dh1 = dh2 @ w2.T
        dh1 *= h1 > 0
        g1, gc1 = xb.T @ dh1, dh1.sum(0)
        state["t"] += 1
        t = state["t"]
        lr_t = lr * np_.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        grads = (g1, gc1, g2, gc2, g3, gc3)
        if scratch:  # Adam in place through preallocated scratch: no temporaries
            for w, m, v, g, s in zip(params, ms, vs, grads, tmp):
                m *= b1
                np_.multiply(g, 1 - b1, out=s)
                m += s
                v *= b2
                np_.multiply(g, g, out=s)
                s *= 1 - b2
                v += s
                np_.sqrt(v, out=s)
                s += eps
                np_.divide(m, s, out=s)
                s *= lr_t
                w -= s
            return loss
        for w, m, v, g in zip(params, ms, vs, grads):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            w -= lr_t * m / (np_.sqrt(v) + eps)
        return loss

    def epoch():
        order = rng.permutation(N)
        for start in range(0, N, BATCH):
            idx = order[start:start + BATCH]
            step(x[idx], y[idx])

    return epoch


CASES = [
    Case("keras", f"mlp_fit (784-256-256-10, Adam, batch {BATCH}, 1 epoch = {STEPS} steps)",
         _keras_fit, _np_fit, tensorflow=_keras_fit, target=1.25,
         numpy_alt=lambda np_: _np_fit(np_, scratch=True),
         numpy_alt_label="Adam in place via preallocated scratch"),
]


def main():
    """Times one epoch here (featherflow and NumPy) and prints ms per step."""
    from benchmarks.harness import run  # noqa: PLC0415

    results = run(CASES, ("featherflow", "numpy"), repeat=3, min_time=0.5)
    for name, row in results.items():
        print(name)
        for fw, sec in row.items():
            if isinstance(sec, float):
                print(f"  {fw:12s} {sec * 1e3 / STEPS:7.3f} ms/step  ({sec:.2f} s/epoch)")


if __name__ == "__main__":
    main()
