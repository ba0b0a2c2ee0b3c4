"""tf.raw_ops: one function per registered primitive, generated from the op registry.

Each function takes keyword arguments only, as TensorFlow's raw ops do: the op's inputs by their
kernel parameter names (a variadic input is one list argument), attributes by name, and `name`.

>>> import featherflow as tf
>>> tf.raw_ops.AddV2(x=tf.constant(1.0), y=tf.constant(2.0)).numpy()
np.float32(3.0)
"""
from featherflow._src.ops.raw import make_raw_op as _make
from featherflow._src.ops.registry import REGISTRY as _REGISTRY

# -- optimizer update primitives: importing registers them --
from featherflow._src.ops.defs import training_ops_multi as _training_multi  # noqa: F401,E402
from featherflow._src.ops.defs import training_ops_sparse as _training_sparse  # noqa: F401,E402


def __getattr__(name):
    if name in _REGISTRY:
        fn = _make(_REGISTRY[name])
        globals()[name] = fn
        return fn
    raise AttributeError(f"module 'featherflow.raw_ops' has no attribute '{name}'")


def __dir__():
    return sorted(_REGISTRY)
