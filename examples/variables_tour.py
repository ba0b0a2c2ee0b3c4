"""A short tour of featherflow: TensorFlow 2's variables and core, on NumPy.

Run it with `make demo` (or `python examples/variables_tour.py` from the repository root). Every
line is plain TensorFlow 2 code; only the import differs.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import featherflow as tf  # noqa: E402


def section(title):
    print(f"\n== {title} " + "=" * (60 - len(title)))


section("dtypes")
print(tf.as_dtype("float32"), tf.as_dtype(float), tf.int32.max, tf.bfloat16.is_floating)
print("a Python int is int32, a float is float32:", tf.constant(1).dtype, tf.constant(1.0).dtype)
try:
    tf.constant(1) + tf.constant(1.0)  # no implicit promotion between two tensors
except tf.errors.InvalidArgumentError as e:
    print("int32 + float32 ->", type(e).__name__)

section("tensors")
x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
print(x)
print("x * 2 + 1 =", (x * 2 + 1).numpy().tolist())
print("reduce_sum:", tf.reduce_sum(x).numpy(), " matmul:", tf.matmul(x, x).numpy().tolist())
print("tf.zeros([1., 2., 3.]).shape =", tf.zeros([1., 2., 3.]).shape)

section("devices and placement")
print("logical devices:", [d.name for d in tf.config.list_logical_devices()])
with tf.device("/device:GPU:1"):  # soft placement: falls back when there is no GPU:1
    y = tf.constant(1.0) + 1.0
print("under tf.device('/device:GPU:1') the value lives on", y.device)
with tf.device("/CPU:0"):
    z = tf.ones([256, 256])
print("CPU:0 memory in use:", tf.config.experimental.get_memory_info("CPU:0"))

section("variables and in-place updates")
v = tf.Variable(0.0, name="step")
print(v)
w = v + 1  # a tf.Tensor, not a Variable
print("v + 1 ->", type(w).__name__, w.numpy())
before = v.read_value()
for _ in range(3):
    v.assign_add(1.0)  # writes into the variable's own buffer
print(f"after three assign_add: {v.numpy()} (a value read before them is still "
      f"{before.numpy()})")
m = tf.Variable(tf.zeros([2, 3]), trainable=False)
m[0, 1].assign(5.0)
print("sliced assignment:", m.numpy().tolist(), "trainable:", m.trainable)


section("modules")


class Dense(tf.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.w = tf.Variable(tf.ones([n_in, n_out]), name="w")
            self.b = tf.Variable(tf.zeros([n_out]), name="b")

    @tf.Module.with_name_scope
    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class MLP(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.layers = [Dense(2, 3), Dense(3, 1, name="head")]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


mlp = MLP()
print("name:", mlp.name, " submodules:", [s.name for s in mlp.submodules])
print("variables:", [v.name for v in mlp.variables])
print("mlp([[1, 2]]) =", mlp(tf.constant([[1.0, 2.0]])).numpy().tolist())
