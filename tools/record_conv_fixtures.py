"""Records TensorFlow outputs for tests/nn/test_conv.py and tests/linalg (needs TensorFlow).

    /work/tfenv/bin/python tools/record_conv_fixtures.py

Writes tests/fixtures/conv_linalg.npz: inputs drawn from a fixed seed, and TF's results (values
and gradients) under keys named by the case.
"""
import os

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "conv_linalg.npz")

# (name, input shape, filter shape, strides, padding, dilations)
CONV_CASES = [
    ("conv_same_s1", (2, 5, 6, 3), (3, 3, 3, 4), 1, "SAME", 1),
    ("conv_valid_s2", (2, 7, 6, 3), (3, 2, 3, 4), 2, "VALID", 1),
    ("conv_same_s2_d1", (1, 7, 8, 2), (2, 3, 2, 3), [2, 3], "SAME", 1),
    ("conv_valid_dil2", (1, 7, 7, 2), (3, 3, 2, 2), 1, "VALID", 2),
    ("conv_explicit", (1, 5, 5, 2), (3, 3, 2, 2), 1, [[0, 0], [1, 2], [0, 1], [0, 0]], 1),
    ("conv_groups2", (1, 5, 5, 4), (3, 3, 2, 4), 1, "SAME", 1),
]
POOL_CASES = [
    ("pool_valid_k2s2", (2, 5, 6, 3), 2, 2, "VALID"),
    ("pool_same_k3s2", (1, 5, 6, 2), 3, 2, "SAME"),
    ("pool_same_k2s1", (1, 4, 4, 1), [2, 3], 1, "SAME"),
]


def main():
    rng = np.random.default_rng(1234)
    out = {}
    for name, xs, ws, s, p, d in CONV_CASES:
        x = rng.standard_normal(xs)
        w = rng.standard_normal(ws)
        xt, wt = tf.constant(x), tf.constant(w)
        with tf.GradientTape() as tape:
            tape.watch([xt, wt])
            y = tf.nn.conv2d(xt, wt, s, p, dilations=d)
        u = rng.standard_normal(y.shape)
        out.update({f"{name}/x": x, f"{name}/w": w, f"{name}/y": y.numpy(), f"{name}/u": u})
        if d == 1 and "groups" not in name:  # TF's CPU backprops reject these
            gx, gw = tape.gradient(y, [xt, wt], output_gradients=tf.constant(u))
            out.update({f"{name}/gx": gx.numpy(), f"{name}/gw": gw.numpy()})
    # depthwise and transpose
    x = rng.standard_normal((1, 6, 6, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    out["depthwise/x"], out["depthwise/w"] = x, w
    out["depthwise/y"] = tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME").numpy()
    out["depthwise_dil/y"] = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID",
                                                    dilations=[2, 2]).numpy()
    dy = rng.standard_normal((1, 3, 3, 2))
    wt = rng.standard_normal((3, 3, 3, 2))
    out["transpose/dy"], out["transpose/w"] = dy, wt
    out["transpose/y"] = tf.nn.conv2d_transpose(dy, wt, [1, 6, 6, 3], 2, "SAME").numpy()
    out["conv1d/x"] = x1 = rng.standard_normal((2, 7, 3))
    out["conv1d/w"] = w1 = rng.standard_normal((3, 3, 4))
    out["conv1d/y"] = tf.nn.conv1d(x1, w1, 2, "SAME").numpy()
    for name, xs, k, s, p in POOL_CASES:
        x = rng.standard_normal(xs)
        xt = tf.constant(x)
        out[f"{name}/x"] = x
        for kind, fn in (("max", tf.nn.max_pool2d), ("avg", tf.nn.avg_pool2d)):
            with tf.GradientTape() as tape:
                tape.watch(xt)
                y = fn(xt, k, s, p)
            u = rng.standard_normal(y.shape)
            out[f"{name}/{kind}/y"] = y.numpy()
            out[f"{name}/{kind}/u"] = u
            out[f"{name}/{kind}/gx"] = tape.gradient(y, xt, output_gradients=tf.constant(u)).numpy()
    # ties: the max-pool gradient goes to the first maximum
    ties = np.array([[1., 3., 3.], [3., 0., 1.], [2., 3., 3.]])[None, ..., None]
    tt = tf.constant(ties)
    with tf.GradientTape() as tape:
        tape.watch(tt)
        y = tf.nn.max_pool2d(tt, 2, 1, "VALID")
    out["ties/x"], out["ties/gx"] = ties, tape.gradient(y, tt).numpy()
    # linalg
    a = rng.standard_normal((2, 3, 3))
    spd = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    out["linalg/a"], out["linalg/spd"], out["linalg/b"] = a, spd, b
    at, st, bt = tf.constant(a), tf.constant(spd), tf.constant(b)
    cases = {
        "inv": lambda: tf.linalg.inv(at),
        "inv_adj": lambda: tf.linalg.inv(at, adjoint=True),
        "det": lambda: tf.linalg.det(at),
        "cholesky": lambda: tf.linalg.cholesky(st),
        "solve": lambda: tf.linalg.solve(at, bt),
        "solve_adj": lambda: tf.linalg.solve(at, bt, adjoint=True),
        "trisolve": lambda: tf.linalg.triangular_solve(st, bt),
        "trisolve_upper_adj": lambda: tf.linalg.triangular_solve(st, bt, lower=False,
                                                                 adjoint=True),
        "norm_fro": lambda: tf.norm(at, ord="fro", axis=[-2, -1]),
        "norm_2": lambda: tf.norm(at, ord=2, axis=[-2, -1]),
        "norm_1": lambda: tf.norm(at, ord=1, axis=[-2, -1]),
        "norm_inf": lambda: tf.norm(at, ord=np.inf, axis=[1, 2]),
        "norm_vec3": lambda: tf.norm(at, ord=3, axis=-1),
        "trace": lambda: tf.linalg.trace(at),
    }
    for name, fn in cases.items():
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([at, st, bt])
            y = fn()
        u = rng.standard_normal(y.shape)
        grads = tape.gradient(y, [at, st, bt], output_gradients=tf.constant(u))
        out[f"linalg/{name}/y"] = y.numpy()
        out[f"linalg/{name}/u"] = u
        for src, g in zip("asb", grads):
            if g is not None:
                out[f"linalg/{name}/g{src}"] = g.numpy()
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(out)} arrays to {OUT}")


if __name__ == "__main__":
    main()
