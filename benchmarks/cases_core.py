"""Core dispatch cost: tiny tensor arithmetic, where per-op Python overhead is everything."""
import numpy as np

from benchmarks.harness import Case


def _ff_on_cpu(tf, make):
    # Inputs live on CPU:0 so the op takes the CPU fast path (placement follows the inputs); a
    # tf.device scope around the timed call would measure the slow path instead.
    with tf.device("/CPU:0"):
        return make()


def _ff_scalar_add(tf):
    a, b = _ff_on_cpu(tf, lambda: (tf.constant(1.0), tf.constant(2.0)))
    return lambda: a + b


def _np_scalar_add(np_):
    a, b = np_.asarray(1.0, np_.float32), np_.asarray(2.0, np_.float32)
    return lambda: a + b


def _np_scalar_add_scalars(np_):
    a, b = np_.float32(1.0), np_.float32(2.0)
    return lambda: a + b


def _tf_scalar_add(tf):
    a, b = tf.constant(1.0), tf.constant(2.0)
    return lambda: a + b


def _torch_scalar_add(torch):
    a, b = torch.tensor(1.0), torch.tensor(2.0)
    return lambda: a + b


_VEC = np.arange(4, dtype=np.float32)


def _ff_vec_add(tf):
    a, b = _ff_on_cpu(tf, lambda: (tf.constant(_VEC), tf.constant(_VEC)))
    return lambda: a + b


def _np_vec_add(np_):
    a, b = _VEC.copy(), _VEC.copy()
    return lambda: a + b


def _tf_vec_add(tf):
    a, b = tf.constant(_VEC), tf.constant(_VEC)
    return lambda: a + b


def _torch_vec_add(torch):
    a, b = torch.tensor(_VEC), torch.tensor(_VEC)
    return lambda: a + b


CASES = [
    Case("core", "scalar a + b (float32)", _ff_scalar_add, _np_scalar_add,
         numpy_alt=_np_scalar_add_scalars, numpy_alt_label="np.float32 scalars",
         tensorflow=_tf_scalar_add, torch=_torch_scalar_add, target=3.0),
    Case("core", "4-vector a + b (float32)", _ff_vec_add, _np_vec_add,
         tensorflow=_tf_vec_add, torch=_torch_vec_add),
]
