"""The TensorFlow guide's variable and module example, run verbatim after `import featherflow as
tf`. Each top-level statement runs in one shared namespace, and expression statements keep their
value, so the checks can see objects that the text later rebinds (the GPU:1 `v`)."""
import ast

import numpy as np

import featherflow as tf

GUIDE = '''\
my_variable = tf.Variable(tf.zeros([1., 2., 3.]))   # shape (1, 2, 3), float32: integral floats are valid dims
with tf.device("/device:GPU:1"):
  v = tf.Variable(tf.zeros([10, 10]))               # GPU:1 if present, else soft placement
v = tf.Variable(0.0)
w = v + 1        # w is a tf.Tensor with value 1.0
v.assign(1.0); v.read_value()  # 1.0
class MyModuleOne(tf.Module):
  def __init__(self):
    self.v0 = tf.Variable(1.0)
    self.vs = [tf.Variable(x) for x in range(10)]
class MyOtherModule(tf.Module):
  def __init__(self):
    self.m = MyModuleOne()
    self.v = tf.Variable(10.0)
m = MyOtherModule()
len(m.variables)  # 12
'''


def _run(text):
    """Runs `text` statement by statement; returns the namespace after each one and the values
    of the expression statements, in order."""
    ns = {"tf": tf}
    snapshots, values = [], []
    for stmt in ast.parse(text).body:
        if isinstance(stmt, ast.Expr):
            values.append(eval(compile(ast.Expression(stmt.value), "<guide>", "eval"), ns))
        else:
            exec(compile(ast.Module([stmt], []), "<guide>", "exec"), ns)
        snapshots.append(dict(ns))
    return snapshots, values


def test_guide_runs_verbatim_with_tensorflows_results():
    snapshots, values = _run(GUIDE)
    ns = snapshots[-1]

    my_variable = ns["my_variable"]
    assert tuple(my_variable.shape) == (1, 2, 3)
    assert my_variable.dtype is tf.float32
    np.testing.assert_array_equal(my_variable.numpy(), np.zeros((1, 2, 3), np.float32))

    gpu_v = snapshots[1]["v"]  # the variable made under tf.device("/device:GPU:1")
    assert gpu_v.device.endswith("/device:GPU:1")  # two simulated GPUs exist in the suite
    assert tuple(gpu_v.shape) == (10, 10) and gpu_v.dtype is tf.float32

    w = ns["w"]
    assert isinstance(w, tf.Tensor) and w.dtype is tf.float32
    assert w.numpy() == np.float32(1.0)

    v = ns["v"]
    assert v.dtype is tf.float32
    assert v.numpy() == np.float32(1.0)
    # Expression statements: v.assign(1.0), v.read_value(), len(m.variables).
    assert values[1].numpy() == np.float32(1.0)
    assert values[2] == 12

    m = ns["m"]
    assert len(m.variables) == 12
    assert [float(x.numpy()) for x in m.variables] == [10.0, 1.0] + [float(i) for i in range(10)]
    assert [x.dtype for x in m.variables] == [tf.float32, tf.float32] + [tf.int32] * 10
