"""Records tf.Variable behaviours from real TensorFlow into tests/fixtures/variable_behaviour.json.

Each case is a snippet run with `tf` and `np` bound; it sets `out` (compared by value) or raises
(the exception class and message are recorded). tests/variables/test_variable_fixture.py replays the
same snippets with featherflow. Run: /work/tfenv/bin/python tools/record_variable_fixtures.py
"""
import copy
import json
import os

import numpy as np
import tensorflow as tf

CASES = {
    "repr_scalar": "v = tf.Variable(1.0, name='v'); out = repr(v)",
    "repr_matrix": "v = tf.Variable([[1., 2.], [3., 4.]], name='m'); out = repr(v)",
    "str_equals_repr": "v = tf.Variable([1, 2]); out = str(v) == repr(v)",
    "repr_string": "out = repr(tf.Variable(['a', 'b'], name='s'))",
    "hash": "hash(tf.Variable(1.0))",
    "none_initial": "tf.Variable(None)",
    "default_name": "out = tf.Variable(1.0).name",
    "explicit_name": "out = tf.Variable(1.0, name='a:0').name",
    "empty_name": "out = tf.Variable(1.0, name='').name",
    "name_scope": "with tf.name_scope('outer'):\n    out = [tf.Variable(1.0).name, tf.Variable(1., name='x').name]",
    "shared_name": "out = tf.Variable(1.0, name='w')._shared_name",
    "assign_shape_mismatch": "v = tf.Variable(1.0, name='v'); v.assign([1., 2.])",
    "assign_add_shape_mismatch": "v = tf.Variable(1.0); v.assign_add([1., 2.])",
    "assign_sub_shape_mismatch": "v = tf.Variable([1., 2.]); v.assign_sub(1.0)",
    "assign_wrong_tensor_dtype": "v = tf.Variable(1.0); v.assign(tf.constant(1, tf.int32))",
    "assign_add_wrong_tensor_dtype": "v = tf.Variable(1.0); v.assign_add(tf.constant(1.0, tf.float64))",
    "assign_python_int": "v = tf.Variable(1.0); v.assign(3); out = v.numpy()",
    "assign_string_to_float": "v = tf.Variable(1.0); v.assign('a')",
    "assign_float_to_int": "v = tf.Variable(1); v.assign(1.5)",
    "assign_numpy_float64": "v = tf.Variable(1.0); v.assign(np.float64(2.5)); out = v.numpy()",
    "assign_list_ints_to_float": "v = tf.Variable([1., 2.]); v.assign([3, 4]); out = v.numpy()",
    "assign_read_value_false": "out = tf.Variable(1.0).assign(2.0, read_value=False)",
    "assign_chain": "v = tf.Variable(1.0); out = v.assign(2.0).numpy()",
    "iadd": "v = tf.Variable(1.0)\nv += 1",
    "isub": "v = tf.Variable(1.0)\nv -= 1",
    "imul": "v = tf.Variable(1.0)\nv *= 2",
    "itruediv": "v = tf.Variable(1.0)\nv /= 2",
    "ipow": "v = tf.Variable(1.0)\nv **= 2",
    "initial_value_property": "tf.Variable(1.0).initial_value",
    "init_dtype_python_float_to_int": "tf.Variable(1.0, dtype=tf.int32)",
    "init_dtype_python_int_to_float": "out = tf.Variable(1, dtype=tf.float32).numpy()",
    "init_dtype_tensor_mismatch": "tf.Variable(tf.constant(1), dtype=tf.float32)",
    "init_callable": "out = tf.Variable(lambda: [1., 2.]).numpy()",
    "init_from_variable": "a = tf.Variable([1., 2.]); b = tf.Variable(a); b.assign([5., 5.]); out = [a.numpy(), b.numpy()]",
    "init_shape_incompatible": "tf.Variable([1.0], shape=[3])",
    "init_shape_unknown_dim_scalar": "tf.Variable(1.0, shape=tf.TensorShape([None]))",
    "unknown_dim_assign": "v = tf.Variable([1., 2.], shape=[None]); v.assign([1., 2., 3.]); out = [str(v.shape), v.numpy()]",
    "unknown_dim_assign_bad_rank": "v = tf.Variable([1., 2.], shape=[None]); v.assign([[1.]])",
    "unknown_shape_assign": "v = tf.Variable([1.], shape=tf.TensorShape(None)); v.assign([[1., 2.]]); out = [str(v.shape), v.numpy()]",
    "set_shape_incompatible": "v = tf.Variable([1., 2.]); v.set_shape([3])",
    "set_shape_ok": "v = tf.Variable([1., 2.]); v.set_shape([2]); out = str(v.shape)",
    "trainable_default": "out = tf.Variable(1.0).trainable",
    "trainable_on_read": "out = tf.Variable(1.0, synchronization=tf.VariableSynchronization.ON_READ).trainable",
    "trainable_true_on_read": "out = tf.Variable(1.0, trainable=True, synchronization=tf.VariableSynchronization.ON_READ).trainable",
    "bad_aggregation": "tf.Variable(1.0, aggregation='sum')",
    "bad_synchronization": "tf.Variable(1.0, synchronization='x')",
    "bad_constraint": "tf.Variable(1.0, constraint=3)",
    "sync_enum": "out = [[m.name, m.value] for m in tf.VariableSynchronization]",
    "agg_enum": "out = [[m.name, m.value] for m in tf.VariableAggregation]",
    "defaults_sync_agg": "v = tf.Variable(1.0); out = [v.synchronization.name, v.aggregation.name]",
    "handle_dtype_shape": "v = tf.Variable([1., 2.]); out = [v.handle.dtype.name, str(v.handle.shape)]",
    "len": "len(tf.Variable([1., 2.]))",
    "iter": "out = [float(x) for x in tf.Variable([1., 2.])]",
    "iter_scalar": "list(tf.Variable(1.0))",
    "bool": "out = bool(tf.Variable(1.0))",
    "bool_vector": "bool(tf.Variable([1.0, 2.0]))",
    "int": "out = int(tf.Variable(3))",
    "float_vector": "float(tf.Variable([1.0, 2.0]))",
    "index": "[1, 2, 3][tf.Variable(1)]",
    "ndim": "tf.Variable(1.0).ndim",
    "array": "out = np.asarray(tf.Variable([1., 2.]))",
    "is_tensor": "out = tf.is_tensor(tf.Variable(1.0))",
    "copy_is_same": "v = tf.Variable([1., 2.]); out = copy.copy(v) is v",
    "deepcopy_independent": "v = tf.Variable([1., 2.], name='d'); w = copy.deepcopy(v); w.assign([9., 9.]); out = [v.numpy(), w.numpy(), w.name, w is v]",
    "operators": "v = tf.Variable(2.0); out = [(v + 1).numpy(), (1 - v).numpy(), (v * v).numpy(), (v == 2.0).numpy()]",
    "convert_to_tensor": "v = tf.Variable([1, 2]); t = tf.convert_to_tensor(v); out = [t.dtype.name, t.numpy()]",
    "convert_to_tensor_wrong_dtype": "tf.convert_to_tensor(tf.Variable([1, 2]), dtype=tf.float32)",
    "ref_equal": "v = tf.Variable(1.0); out = v.ref() == v.ref() and v.ref().deref() is v",
    "scatter_update": "v = tf.Variable([1., 2., 3.]); v.scatter_update(tf.IndexedSlices(tf.constant([9., 8.]), tf.constant([2, 0]))); out = v.numpy()",
    "scatter_add_dupes": "v = tf.Variable([1., 2., 3.]); v.scatter_add(tf.IndexedSlices(tf.constant([1., 1.]), tf.constant([1, 1]))); out = v.numpy()",
    "scatter_sub": "v = tf.Variable([[1., 2.], [3., 4.]]); v.scatter_sub(tf.IndexedSlices(tf.constant([[1., 1.]]), tf.constant([1]))); out = v.numpy()",
    "scatter_mul": "v = tf.Variable([1., 2., 3.]); v.scatter_mul(tf.IndexedSlices(tf.constant([3.]), tf.constant([2]))); out = v.numpy()",
    "scatter_div_int_trunc": "v = tf.Variable([7, -7, 7]); v.scatter_div(tf.IndexedSlices(tf.constant([2, 2, -2]), tf.constant([0, 1, 2]))); out = v.numpy()",
    "scatter_div_int_zero": "v = tf.Variable([1, 2]); v.scatter_div(tf.IndexedSlices(tf.constant([0]), tf.constant([0])))",
    "scatter_min_max": "v = tf.Variable([1., 5.]); v.scatter_min(tf.IndexedSlices(tf.constant([0., 0.]), tf.constant([0, 1]))); v.scatter_max(tf.IndexedSlices(tf.constant([3.]), tf.constant([0]))); out = v.numpy()",
    "scatter_scalar_update": "v = tf.Variable([[1., 2.], [3., 4.]]); v.scatter_update(tf.IndexedSlices(tf.constant(7.), tf.constant([0, 1]))); out = v.numpy()",
    "scatter_out_of_range": "v = tf.Variable([1., 2.]); v.scatter_update(tf.IndexedSlices(tf.constant([1.]), tf.constant([5])))",
    "scatter_negative": "v = tf.Variable([[1., 2.]]); v.scatter_add(tf.IndexedSlices(tf.constant([[1., 1.]]), tf.constant([-1])))",
    "scatter_bad_updates_shape": "v = tf.Variable([1., 2.]); v.scatter_update(tf.IndexedSlices(tf.constant([1., 2.]), tf.constant([0])))",
    "scatter_wrong_dtype": "v = tf.Variable([1., 2.]); v.scatter_update(tf.IndexedSlices(tf.constant([1]), tf.constant([0])))",
    "scatter_nd_update": "v = tf.Variable([[1., 2.], [3., 4.]]); v.scatter_nd_update([[0, 1], [1, 0]], [9., 8.]); out = v.numpy()",
    "scatter_nd_add_dupes": "v = tf.Variable([1., 2.]); v.scatter_nd_add([[0], [0]], [1., 1.]); out = v.numpy()",
    "scatter_nd_sub_rows": "v = tf.Variable([[1., 2.], [3., 4.]]); v.scatter_nd_sub([[1]], [[1., 1.]]); out = v.numpy()",
    "scatter_nd_max_min": "v = tf.Variable([1., 2.]); v.scatter_nd_max([[0]], [5.]); v.scatter_nd_min([[1]], [0.]); out = v.numpy()",
    "scatter_nd_out_of_range": "v = tf.Variable([[1., 2.]]); v.scatter_nd_update([[0, 5]], [1.])",
    "scatter_nd_bad_updates": "v = tf.Variable([[1., 2.], [3., 4.]]); v.scatter_nd_update([[0, 1]], [1., 2.])",
    "scatter_nd_bad_inner": "v = tf.Variable([1., 2.]); v.scatter_nd_update([[0]], [[1.]])",
    "batch_scatter_update": "v = tf.Variable([[1., 2.], [3., 4.]]); v.batch_scatter_update(tf.IndexedSlices(tf.constant([[9.], [8.]]), tf.constant([[1], [0]]))); out = v.numpy()",
    "sparse_read": "v = tf.Variable([[1., 2.], [3., 4.], [5., 6.]]); out = v.sparse_read([[2, 0]]).numpy()",
    "sparse_read_out_of_range": "tf.Variable([1., 2.]).sparse_read([5])",
    "sparse_read_float_indices": "tf.Variable([1., 2.]).sparse_read([1.0])",
    "gather_nd": "v = tf.Variable([[1., 2.], [3., 4.]]); out = v.gather_nd([[1, 0], [0, 1]]).numpy()",
    "gather_nd_out_of_range": "tf.Variable([[1., 2.]]).gather_nd([[5, 0]])",
    "slice_assign": "v = tf.Variable(np.arange(12.).reshape(3, 4).astype(np.float32)); v[0:2, 1].assign([5., 6.]); out = v.numpy()",
    "slice_assign_broadcast": "v = tf.Variable(np.arange(12.).reshape(3, 4).astype(np.float32)); v[0:2, 1].assign(9.); out = v.numpy()",
    "slice_assign_step": "v = tf.Variable(np.arange(6.).astype(np.float32)); v[::2].assign([0., 0., 0.]); out = v.numpy()",
    "slice_assign_bad_shape": "v = tf.Variable(np.arange(12.).reshape(3, 4).astype(np.float32)); v[0:2, 1].assign([5., 6., 7.])",
    "slice_assign_out_of_range": "v = tf.Variable(np.zeros((3, 4), np.float32)); v[5].assign([1., 1., 1., 1.])",
    "slice_assign_tensor_index": "v = tf.Variable(np.zeros((3, 4), np.float32)); v[tf.constant(1)].assign([1., 2., 3., 4.]); out = v.numpy()",
    "slice_assign_newaxis": "v = tf.Variable(np.zeros((3, 4), np.float32)); v[..., None, 1].assign([[1.], [2.], [3.]]); out = v.numpy()",
    "slice_read_type": "v = tf.Variable([1., 2.]); out = v[0].numpy()",
    "count_up_to": "v = tf.Variable(1); a = v.count_up_to(3); out = [int(a), int(v.numpy())]",
    "count_up_to_limit": "v = tf.Variable(2); v.count_up_to(2)",
    "count_up_to_float": "tf.Variable(1.0).count_up_to(3)",
    "assign_add_bool": "tf.Variable(True).assign_add(True)",
    "assign_string": "v = tf.Variable('a'); v.assign('b'); out = v.numpy()",
    "is_initialized": "out = bool(tf.Variable(1.0).is_initialized())",
    "get_shape": "out = str(tf.Variable([[1.]]).get_shape())",
    "dtype": "out = tf.Variable(1.0, dtype=tf.float64).dtype.name",
}


def _plain(x):
    if isinstance(x, np.ndarray):
        return {"ndarray": x.tolist(), "dtype": str(x.dtype)}
    if isinstance(x, np.generic):
        return {"ndarray": x.item() if x.dtype.kind != "O" else repr(x), "dtype": str(x.dtype)}
    if isinstance(x, bytes):
        return {"bytes": x.decode()}
    if isinstance(x, (list, tuple)):
        return [_plain(y) for y in x]
    return x


def run(code, tf_module):
    env = {"tf": tf_module, "np": np, "copy": copy}
    try:
        exec(code, env)  # noqa: S102 - our own snippets
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__, "message": str(e)}
    return {"out": _plain(env.get("out"))}


def main():
    rows = {name: dict(code=code, **run(code, tf)) for name, code in CASES.items()}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                        "variable_behaviour.json")
    with open(path, "w") as f:
        json.dump({"tensorflow": tf.__version__, "cases": rows}, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
