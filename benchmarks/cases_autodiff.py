"""GradientTape: recording cost, a tiny scalar gradient, and an MLP forward+backward."""
import numpy as np

from benchmarks.harness import Case


# -- recording: the same op with and without a tape --------------------------------------------
def _ff_pair(tf):
    rng = np.random.default_rng(0)
    with tf.device("/CPU:0"):
        return (tf.constant(rng.random(100, dtype=np.float32)),
                tf.constant(rng.random(100, dtype=np.float32)))


_OPS = 50  # ops per tape, so the tape's own set-up does not hide the per-op cost


def _ff_recorded_mul(tf):
    x, y = _ff_pair(tf)

    def run():
        with tf.GradientTape() as tape:
            tape.watch(x)
            for _ in range(_OPS):
                x * y
    return run


def _ff_untaped_mul_with_tape_setup(np_):
    # The baseline of this row is featherflow's own untaped op plus the same tape set-up, so the
    # ratio is the recording overhead of one op (target <= 2x).
    import featherflow as tf  # noqa: PLC0415

    x, y = _ff_pair(tf)
    z = tf.identity(x)

    def run():
        with tf.GradientTape() as tape:
            tape.watch(z)  # a watched tensor the ops do not touch: nothing is recorded
            for _ in range(_OPS):
                x * y
    return run


# -- tape_small: y = v*v + 3*v, dy/dv ------------------------------------------------------------
def _ff_tape_small(tf):
    with tf.device("/CPU:0"):
        v = tf.Variable(2.0)

    def run():
        with tf.GradientTape() as tape:
            y = v * v + 3.0 * v
        return tape.gradient(y, v)
    return run


def _np_tape_small(np_):
    v = np_.asarray(2.0, np_.float32)
    three = np_.asarray(3.0, np_.float32)
    one = np_.asarray(1.0, np_.float32)

    def run():
        a = v * v          # forward
        b = three * v
        y = a + b
        gy = one           # backward of the same expression, by hand
        ga, gb = gy, gy
        return ga * v + ga * v + gb * three, y
    return run


def _tf_tape_small(tf):
    v = tf.Variable(2.0)

    def run():
        with tf.GradientTape() as tape:
            y = v * v + 3.0 * v
        return tape.gradient(y, v)
    return run


def _torch_tape_small(torch):
    v = torch.tensor(2.0, requires_grad=True)

    def run():
        y = v * v + 3.0 * v
        (g,) = torch.autograd.grad(y, v)
        return g
    return run


# -- MLP 784-256-256-10, relu, softmax cross-entropy, batch 128 --------------------------------
_SIZES = (784, 256, 256, 10)
_BATCH = 128


def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((_BATCH, _SIZES[0])).astype(np.float32)
    y = rng.integers(0, _SIZES[-1], _BATCH).astype(np.int32)
    params = []
    for fan_in, fan_out in zip(_SIZES[:-1], _SIZES[1:]):
        w = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        params += [w, np.zeros(fan_out, np.float32)]
    return x, y, params


def _ff_mlp(tf):
    x, y, params = _mlp_data()
    with tf.device("/CPU:0"):
        xs, ys = tf.constant(x), tf.constant(y)
        vs = [tf.Variable(p) for p in params]

    def run():
        with tf.GradientTape() as tape:
            h = xs
            for i in range(0, len(vs) - 2, 2):
                h = tf.nn.relu(tf.matmul(h, vs[i]) + vs[i + 1])
            logits = tf.matmul(h, vs[-2]) + vs[-1]
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys, logits=logits))
        return tape.gradient(loss, vs)
    return run


def _np_mlp(np_):
    x, y, params = _mlp_data()
    onehot = np_.eye(_SIZES[-1], dtype=np_.float32)[y]

    def run():
        # forward
        acts, pre = [x], []
        h = x
        for i in range(0, len(params) - 2, 2):
            z = h @ params[i] + params[i + 1]
            pre.append(z)
            h = np_.maximum(z, 0)
            acts.append(h)
        logits = h @ params[-2] + params[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np_.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = np_.mean(np_.log(s)[:, 0] - (shifted * onehot).sum(axis=1))
        # backward
        g = (e / s - onehot) / _BATCH
        grads = [None] * len(params)
        grads[-2], grads[-1] = acts[-1].T @ g, g.sum(axis=0)
        for i in range(len(params) - 4, -1, -2):
            g = (g @ params[i + 2].T) * (pre[i // 2] > 0)
            grads[i], grads[i + 1] = acts[i // 2].T @ g, g.sum(axis=0)
        return loss, grads
    return run


def _tf_mlp(tf):
    x, y, params = _mlp_data()
    xs, ys = tf.constant(x), tf.constant(y)
    vs = [tf.Variable(p) for p in params]

    def run():
        with tf.GradientTape() as tape:
            h = xs
            for i in range(0, len(vs) - 2, 2):
                h = tf.nn.relu(tf.matmul(h, vs[i]) + vs[i + 1])
            logits = tf.matmul(h, vs[-2]) + vs[-1]
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ys, logits=logits))
        return tape.gradient(loss, vs)
    return run


def _torch_mlp(torch):
    x, y, params = _mlp_data()
    xs, ys = torch.tensor(x), torch.tensor(y, dtype=torch.int64)
    ps = [torch.tensor(p, requires_grad=True) for p in params]

    def run():
        h = xs
        for i in range(0, len(ps) - 2, 2):
            h = torch.relu(h @ ps[i] + ps[i + 1])
        logits = h @ ps[-2] + ps[-1]
        loss = torch.nn.functional.cross_entropy(logits, ys)
        return torch.autograd.grad(loss, ps)
    return run


CASES = [
    Case("autodiff", "50 x*y (100) recorded; base: unrecorded", _ff_recorded_mul,
         _ff_untaped_mul_with_tape_setup, target=2.0),
    Case("autodiff", "tape_small: d(v*v+3v)/dv", _ff_tape_small, _np_tape_small,
         tensorflow=_tf_tape_small, torch=_torch_tape_small, target=10.0),
    Case("autodiff", "MLP 784-256-256-10 fwd+bwd b128", _ff_mlp, _np_mlp,
         tensorflow=_tf_mlp, torch=_torch_mlp, target=1.3),
]
