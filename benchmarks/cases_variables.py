"""Variable updates and reads: the steady state of a training loop's bookkeeping."""
from benchmarks.harness import Case


def _ff_var(tf):
    with tf.device("/CPU:0"):  # CPU:0 against NumPy; see cases_core._ff_on_cpu
        return tf.Variable(0.0)


def _ff_assign_add(tf):
    v = _ff_var(tf)
    return lambda: v.assign_add(1.0)


def _np_assign_add(np_):
    a = np_.asarray(0.0, np_.float32)
    return lambda: np_.add(a, 1.0, out=a)


def _tf_assign_add(tf):
    v = tf.Variable(0.0)
    return lambda: v.assign_add(1.0)


def _torch_assign_add(torch):
    t = torch.tensor(0.0)
    return lambda: t.add_(1.0)


def _ff_read_add(tf):
    v = _ff_var(tf)
    return lambda: v + 1.0


def _np_read_add(np_):
    a = np_.asarray(0.0, np_.float32)
    return lambda: a + 1.0


def _tf_read_add(tf):
    v = tf.Variable(0.0)
    return lambda: v + 1.0


def _torch_read_add(torch):
    t = torch.tensor(0.0)
    return lambda: t + 1.0


CASES = [
    Case("variables", "v.assign_add(1.0)", _ff_assign_add, _np_assign_add,
         tensorflow=_tf_assign_add, torch=_torch_assign_add, target=3.0),
    Case("variables", "v + 1.0", _ff_read_add, _np_read_add,
         tensorflow=_tf_read_add, torch=_torch_read_add),
]
