"""Records TensorFlow's exception classes and messages for the array ops' error cases.

Run with TensorFlow installed:  /work/tfenv/bin/python tools/record_array_fixtures.py
Writes tests/fixtures/array_ops.json; tests/ops/test_array_fixtures.py replays every case on
featherflow. Each case is a Python expression over `tf`, `np` and `x` (a 3x4 int32 tensor).
"""
import json
import pathlib
import re

CASES = {
    "reshape_size": "tf.reshape(tf.zeros([2, 3]), [4])",
    "reshape_multiple": "tf.reshape(tf.zeros([2, 3]), [-1, 4])",
    "reshape_two_unknown": "tf.reshape(tf.zeros([2, 3]), [-1, -1])",
    "reshape_negative": "tf.reshape(tf.zeros([2, 3]), [-2, 3])",
    "expand_dims_high": "tf.expand_dims(tf.zeros([2, 3]), 3)",
    "expand_dims_low": "tf.expand_dims(tf.zeros([2, 3]), -4)",
    "squeeze_not_one": "tf.squeeze(tf.zeros([2, 1]), 0)",
    "squeeze_range": "tf.squeeze(tf.zeros([2, 1]), 2)",
    "broadcast_incompatible": "tf.broadcast_to(tf.zeros([2, 3]), [3, 3])",
    "broadcast_rank": "tf.broadcast_to(tf.zeros([2, 3]), [3])",
    "transpose_size": "tf.transpose(tf.zeros([2, 3]), [0])",
    "transpose_missing": "tf.transpose(tf.zeros([2, 3]), [0, 0])",
    "transpose_range": "tf.transpose(tf.zeros([2, 3]), [2, 0])",
    "zeros_non_integral": "tf.zeros([1.5])",
    "zeros_negative": "tf.zeros([-1])",
    "ones_string": "tf.ones([2], dtype=tf.string)",
    "fill_non_scalar": "tf.fill([2], [1, 2])",
    "ones_like_string": "tf.ones_like(tf.constant(['a']))",
    "shape_out_type": "tf.shape(tf.zeros([2]), out_type=tf.float32)",
    "eye_negative": "tf.eye(-1)",
    "range_delta_zero": "tf.range(1, 5, 0)",
    "range_up": "tf.range(5, 1)",
    "range_down": "tf.range(1, 5, -1)",
    "concat_rank": "tf.concat([tf.zeros([2, 3]), tf.zeros([3])], 0)",
    "concat_shape": "tf.concat([tf.zeros([2, 3]), tf.zeros([2, 4])], 0)",
    "concat_axis": "tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3])], 2)",
    "concat_dtype": "tf.concat([tf.zeros([2, 3]), tf.zeros([2, 3], tf.int32)], 0)",
    "stack_shape": "tf.stack([tf.zeros([2]), tf.zeros([3])])",
    "stack_axis": "tf.stack([tf.zeros([2]), tf.zeros([2])], axis=3)",
    "unstack_num": "tf.unstack(tf.zeros([2, 3]), num=3)",
    "unstack_axis": "tf.unstack(tf.zeros([2, 3]), axis=2)",
    "split_uneven": "tf.split(tf.zeros([5]), 2)",
    "split_sizes": "tf.split(tf.zeros([5]), [1, 2])",
    "split_two_unknown": "tf.split(tf.zeros([5]), [-1, -1])",
    "split_axis": "tf.split(tf.zeros([5]), 1, axis=1)",
    "tile_length": "tf.tile(tf.zeros([2, 3]), [1])",
    "tile_negative": "tf.tile(tf.zeros([2, 3]), [1, -1])",
    "pad_shape": "tf.pad(tf.zeros([2, 3]), [[1, 1]])",
    "pad_negative": "tf.pad(tf.zeros([2, 3]), [[1, -1], [0, 0]])",
    "pad_mode": "tf.pad(tf.zeros([2, 3]), [[1, 1], [0, 0]], mode='foo')",
    "pad_reflect_big": "tf.pad(tf.zeros([2, 3]), [[2, 0], [0, 0]], mode='REFLECT')",
    "pad_symmetric_big": "tf.pad(tf.zeros([2, 3]), [[3, 0], [0, 0]], mode='SYMMETRIC')",
    "gather_out_of_range": "tf.gather(tf.constant([1, 2, 3]), [5])",
    "gather_negative": "tf.gather(tf.constant([1, 2, 3]), [-1])",
    "gather_2d_position": "tf.gather(x, [[0, 7]], axis=1)",
    "gather_axis": "tf.gather(x, [0], axis=2)",
    "gather_float_indices": "tf.gather(x, [0.])",
    "gather_nd_out_of_range": "tf.gather_nd(x, [[0, 7]])",
    "gather_nd_deep": "tf.gather_nd(x, [[0, 1, 2]])",
    "boolean_mask_shape": "tf.boolean_mask(x, [True, False])",
    "boolean_mask_scalar": "tf.boolean_mask(x, True)",
    "one_hot_dtypes": "tf.one_hot([0], 3, on_value=1, off_value=0.0)",
    "reverse_axis": "tf.reverse(x, [2])",
    "reverse_twice": "tf.reverse(x, [0, 0])",
    "slice_size": "tf.slice(x, [0, 1], [4, -1])",
    "slice_rank": "tf.slice(x, [0], [4])",
    "scatter_nd_out_of_range": "tf.scatter_nd([[5]], [1], [3])",
    "tensor_scatter_update_out_of_range": "tf.tensor_scatter_nd_update(tf.zeros([3]), [[5]], [1.])",
    "tensor_scatter_add_shapes": "tf.tensor_scatter_nd_add(tf.zeros([3]), [[1]], [1., 2.])",
    "unique_2d": "tf.unique([[3, 1]])",
    "getitem_out_of_bounds": "x[5]",
    "getitem_negative_out_of_bounds": "x[-4]",
    "getitem_dim1_out_of_bounds": "x[:, 4]",
    "getitem_scalar": "tf.constant(1)[0]",
    "getitem_scalar_slice": "tf.constant(1)[:]",
    "getitem_tensor_indices": "x[tf.constant([0, 1])]",
    "getitem_float": "x[1.0]",
    "getitem_ndarray": "x[np.array([0, 1])]",
    "getitem_string": "x['a']",
    "getitem_two_ellipses": "x[..., ...]",
    "getitem_step_zero": "x[::0]",
    "getitem_too_many": "x[0, 0, 0]",
    "getitem_bool_scalar": "x[True]",
    "strided_slice_lengths": "tf.strided_slice(x, [0, 0], [1], [1])",
}


def normalize(message: str) -> str:
    """Drops TF's graph-function prefix, node-name suffix and NodeDef detail."""
    message = re.sub(r"^\{\{function_node [^}]*\}\} ", "", message)
    message = re.sub(r" name: \S*$", "", message)
    message = message.split("\n\t; NodeDef")[0]
    return message.strip()


def main():
    import numpy as np
    import tensorflow as tf

    x = tf.reshape(tf.range(12), [3, 4])
    out = {}
    for name, expr in CASES.items():
        try:
            eval(expr, {"tf": tf, "np": np, "x": x})  # noqa: S307 - fixed expressions above
            out[name] = {"expr": expr, "error": None, "message": None}
        except Exception as e:  # noqa: BLE001
            out[name] = {"expr": expr, "error": type(e).__name__, "message": normalize(str(e))}
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "array_ops.json"
    path.write_text(json.dumps({"tensorflow": tf.__version__, "cases": out}, indent=1) + "\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
