"""Optimizer updates: one Adam / one SGD-with-momentum step over many variables (the
multi-tensor paths).

`adam_many_vars`: 200 float32 variables of 50,000 elements (10M parameters), gradients given.
featherflow runs `multi_apply_adam` (one FeatherMultiApplyAdam primitive, chunked and threaded);
NumPy runs the straightforward in-place Adam a user would write (m *= b1; m += (1 - b1) * g; ...);
"NumPy alt." is the same per-variable body with preallocated scratch (no temporaries), to show
what chunking and threads add on top of avoiding allocations. TensorFlow runs
tf.raw_ops.ResourceApplyAdam per variable (what tf.keras' Adam does without XLA); PyTorch runs
torch.optim.Adam with foreach=True.

Effective bandwidth: each step reads var, m, v, grad and writes var, m, v: 7 * 4 bytes per
parameter (280 MB). `python -m benchmarks.cases_training` prints times and GB/s.

`sgd_many_vars`: the same variables, one Keras SGD(momentum=0.9) step: featherflow runs
`multi_apply_keras_momentum` (FeatherMultiApplyKerasMomentum), NumPy the in-place per-variable
`m *= mu; m -= lr * g; x += m`, TensorFlow tf.raw_ops.ResourceApplyKerasMomentum per variable,
PyTorch torch.optim.SGD(momentum=0.9, foreach=True) (its formula, m = mu * m + g; x -= lr * m,
moves the same bytes). Each step reads var, m, grad and writes var, m: 5 * 4 bytes per parameter.
"""
from benchmarks.harness import Case

N_VARS, SIZE = 200, 50_000
BYTES_PER_STEP = 7 * 4 * N_VARS * SIZE
HYPER = dict(lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7)


def _data(np_):
    rng = np_.random.default_rng(0)
    var = [rng.standard_normal(SIZE, dtype=np_.float32) for _ in range(N_VARS)]
    grads = [rng.standard_normal(SIZE, dtype=np_.float32) for _ in range(N_VARS)]
    return var, grads


def _ff_adam(tf):
    import numpy as np  # noqa: PLC0415

    from featherflow._src.train import updates  # noqa: PLC0415

    var, grads = _data(np)
    with tf.device("/CPU:0"):
        vs = [tf.Variable(x) for x in var]
        ms = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
        vv = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
        gs = [tf.constant(g) for g in grads]
    h = HYPER

    def step():
        updates.multi_apply_adam(vs, ms, vv, gs, 0.9, 0.999, h["lr"], h["beta1"], h["beta2"],
                                 h["epsilon"])

    return step


def _np_adam(np_):
    var, grads = _data(np_)
    m = [np_.zeros(SIZE, np_.float32) for _ in var]
    v = [np_.zeros(SIZE, np_.float32) for _ in var]
    f = np_.float32
    b1, b2, eps = f(HYPER["beta1"]), f(HYPER["beta2"]), f(HYPER["epsilon"])
    lr_t = f(HYPER["lr"]) * np_.sqrt(f(1) - f(0.999)) / (f(1) - f(0.9))

    def step():
        for x, mm, vv, g in zip(var, m, v, grads):
            mm *= b1
            mm += (1 - b1) * g
            vv *= b2
            vv += (1 - b2) * g * g
            x -= lr_t * mm / (np_.sqrt(vv) + eps)

    return step


def _np_adam_scratch(np_):
    var, grads = _data(np_)
    m = [np_.zeros(SIZE, np_.float32) for _ in var]
    v = [np_.zeros(SIZE, np_.float32) for _ in var]
    t, u = np_.empty(SIZE, np_.float32), np_.empty(SIZE, np_.float32)
    f = np_.float32
    b1, b2, eps = f(HYPER["beta1"]), f(HYPER["beta2"]), f(HYPER["epsilon"])
    lr_t = f(HYPER["lr"]) * np_.sqrt(f(1) - f(0.999)) / (f(1) - f(0.9))

    def step(t=t, u=u):
        for x, mm, vv, g in zip(var, m, v, grads):
            np_.subtract(g, mm, out=t)
            t *= 1 - b1
            mm += t
            np_.multiply(g, g, out=t)
            t -= vv
            t *= 1 - b2
            vv += t
            np_.multiply(mm, lr_t, out=t)
            np_.sqrt(vv, out=u)
            u += eps
            t /= u
            x -= t

    return step


def _tf_adam(tf):
    import numpy as np  # noqa: PLC0415

    var, grads = _data(np)
    vs = [tf.Variable(x) for x in var]
    ms = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
    vv = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
    gs = [tf.constant(g) for g in grads]
    c = {k: tf.constant(v, tf.float32) for k, v in HYPER.items()}
    b1p, b2p = tf.constant(0.9), tf.constant(0.999)
    apply = tf.raw_ops.ResourceApplyAdam

    def step():
        for x, m, v, g in zip(vs, ms, vv, gs):
            apply(var=x.handle, m=m.handle, v=v.handle, beta1_power=b1p, beta2_power=b2p,
                  lr=c["lr"], beta1=c["beta1"], beta2=c["beta2"], epsilon=c["epsilon"], grad=g)

    return step


def _torch_adam(torch):
    import numpy as np  # noqa: PLC0415

    var, grads = _data(np)
    params = [torch.nn.Parameter(torch.from_numpy(x)) for x in var]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)
    opt = torch.optim.Adam(params, lr=HYPER["lr"], eps=HYPER["epsilon"], foreach=True)
    return opt.step


MOMENTUM = 0.9
SGD_BYTES_PER_STEP = 5 * 4 * N_VARS * SIZE


def _ff_sgd(tf):
    import numpy as np  # noqa: PLC0415

    from featherflow._src.train import updates  # noqa: PLC0415

    var, grads = _data(np)
    with tf.device("/CPU:0"):
        vs = [tf.Variable(x) for x in var]
        ms = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
        gs = [tf.constant(g) for g in grads]

    def step():
        updates.multi_apply_keras_momentum(vs, ms, gs, HYPER["lr"], MOMENTUM)

    return step


def _np_sgd(np_):
    var, grads = _data(np_)
    m = [np_.zeros(SIZE, np_.float32) for _ in var]
    lr, mu = np_.float32(HYPER["lr"]), np_.float32(MOMENTUM)

    def step():
        for x, mm, g in zip(var, m, grads):
            mm *= mu
            mm -= lr * g
            x += mm

    return step


def _tf_sgd(tf):
    import numpy as np  # noqa: PLC0415

    var, grads = _data(np)
    vs = [tf.Variable(x) for x in var]
    ms = [tf.Variable(np.zeros(SIZE, np.float32)) for _ in var]
    gs = [tf.constant(g) for g in grads]
    lr, mu = tf.constant(HYPER["lr"]), tf.constant(MOMENTUM)
    apply = tf.raw_ops.ResourceApplyKerasMomentum

    def step():
        for x, m, g in zip(vs, ms, gs):
            apply(var=x.handle, accum=m.handle, lr=lr, grad=g, momentum=mu)

    return step


def _torch_sgd(torch):
    import numpy as np  # noqa: PLC0415

    var, grads = _data(np)
    params = [torch.nn.Parameter(torch.from_numpy(x)) for x in var]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g)
    opt = torch.optim.SGD(params, lr=HYPER["lr"], momentum=MOMENTUM, foreach=True)
    return opt.step


CASES = [
    Case("training", "adam_many_vars (200 x 50k f32)", _ff_adam, _np_adam,
         numpy_alt=_np_adam_scratch, numpy_alt_label="per-variable, preallocated scratch",
         tensorflow=_tf_adam, torch=_torch_adam, target=0.5),
    Case("training", "sgd_many_vars (200 x 50k f32, momentum)", _ff_sgd, _np_sgd,
         tensorflow=_tf_sgd, torch=_torch_sgd),
]


def main():
    """Times the case here (featherflow, NumPy, NumPy alt., PyTorch if importable) and prints
    medians and effective GB/s."""
    from benchmarks.harness import run  # noqa: PLC0415

    results = run(CASES, ("featherflow", "numpy", "numpy_alt", "torch"), repeat=9,
                  min_time=0.3)
    for name, row in results.items():
        print(name)
        moved = SGD_BYTES_PER_STEP if name.startswith("sgd") else BYTES_PER_STEP
        for fw, sec in row.items():
            if isinstance(sec, float):
                print(f"  {fw:<12} {sec * 1e3:8.2f} ms  {moved / sec / 1e9:6.2f} GB/s"
                      f"  ({sec / row['numpy']:.2f}x NumPy)")
            else:
                print(f"  {fw:<12} {sec}")


if __name__ == "__main__":
    main()
