"""Pipelines shared by tools/record_data_fixtures.py (run with TensorFlow) and the tests (run with
featherflow): each case is an expression over `tf`, `D` (tf.data.Dataset), `np` and the helper
generators below. Imports neither library."""
import collections

import numpy as np

Point = collections.namedtuple("Point", ["x", "y"])


def helpers(tf):
    def gen_ints():
        yield from [1, 2, 3]

    def gen_ragged():
        yield from [[1], [1, 2], [3, 3, 3]]

    def gen_str():
        yield "a"

    def gen_pair():
        yield from [(1, "a"), (2, "b")]

    def gen_raises():
        yield 1.0
        raise ZeroDivisionError("division by zero")

    def gen_n(n):
        yield from range(int(n))

    return dict(gen_ints=gen_ints, gen_ragged=gen_ragged, gen_str=gen_str, gen_pair=gen_pair,
                gen_raises=gen_raises, gen_n=gen_n, Point=Point)


I32 = "tf.TensorSpec((), tf.int32)"
CASES = [
    # sources
    ("slices_list", "D.from_tensor_slices([1, 2])"),
    ("slices_tuple", "D.from_tensor_slices(([1, 2], [3.0, 4.0]))"),
    ("slices_dict", "D.from_tensor_slices({'b': [1, 2], 'a': [[1, 2], [3, 4]]})"),
    ("slices_nested", "D.from_tensor_slices(({'a': [1, 2]}, ([True, False], [1.5, 2.5])))"),
    ("slices_namedtuple", "D.from_tensor_slices(Point([1, 2], [3, 4]))"),
    ("slices_list_of_lists", "D.from_tensor_slices([[1, 2], [3, 4]])"),
    ("slices_list_of_tuples", "D.from_tensor_slices([(1, 2), (3, 4)])"),
    ("slices_float64", "D.from_tensor_slices(np.arange(6, dtype=np.float64).reshape(3, 2))"),
    ("slices_uint8", "D.from_tensor_slices(np.arange(3, dtype=np.uint8))"),
    ("slices_strings", "D.from_tensor_slices(['a', 'bc'])"),
    ("slices_tensor", "D.from_tensor_slices(tf.constant([[1.0], [2.0]]))"),
    ("slices_empty", "D.from_tensor_slices(np.zeros((0, 2), np.float32))"),
    ("tensors", "D.from_tensors([1, 2])"),
    ("tensors_tuple", "D.from_tensors((1, 'a'))"),
    ("range1", "D.range(3)"),
    ("range2", "D.range(2, 5)"),
    ("range3_neg", "D.range(5, 1, -2)"),
    ("range_empty", "D.range(5, 1)"),
    ("range_int32", "D.range(3, output_type=tf.int32)"),
    ("gen_sig", f"D.from_generator(gen_ints, output_signature={I32})"),
    ("gen_types", "D.from_generator(gen_ints, output_types=tf.int64)"),
    ("gen_types_shapes", "D.from_generator(gen_ints, output_types=tf.int64, output_shapes=())"),
    ("gen_ragged", "D.from_generator(gen_ragged, "
                   "output_signature=tf.TensorSpec((None,), tf.int32))"),
    ("gen_pair", f"D.from_generator(gen_pair, output_signature=({I32}, "
                 "tf.TensorSpec((), tf.string)))"),
    ("gen_args", "D.from_generator(gen_n, output_signature=tf.TensorSpec((), tf.int64), "
                 "args=(3,))"),
    ("gen_int_to_float", "D.from_generator(gen_ints, "
                         "output_signature=tf.TensorSpec((), tf.float32))"),
    # transformations
    ("batch3", "D.range(10).batch(3)"),
    ("batch3_drop", "D.range(10).batch(3, drop_remainder=True)"),
    ("batch_slices", "D.from_tensor_slices((np.arange(10.0).reshape(5, 2), [1, 2, 3, 4, 5]))"
                     ".batch(2)"),
    ("batch_slices_drop", "D.from_tensor_slices(np.arange(10)).batch(4, drop_remainder=True)"),
    ("batch_strings", "D.from_tensor_slices(['a', 'bc', 'd']).batch(2)"),
    ("batch_dict", "D.from_tensor_slices({'a': [1, 2, 3]}).batch(2)"),
    ("batch_repeat", "D.from_tensor_slices([1, 2, 3]).repeat(2).batch(4)"),
    ("padded", "D.from_generator(gen_ragged, output_signature=tf.TensorSpec((None,), tf.int32))"
               ".padded_batch(2)"),
    ("padded_shapes", "D.from_generator(gen_ragged, "
                      "output_signature=tf.TensorSpec((None,), tf.int32))"
                      ".padded_batch(2, padded_shapes=[4], padding_values=-1)"),
    ("unbatch", "D.range(5).batch(2).unbatch()"),
    ("unbatch_tuple", "D.from_tensors(([1, 2], [[1.0], [2.0]])).unbatch()"),
    ("repeat2", "D.range(3).repeat(2)"),
    ("repeat0", "D.range(3).repeat(0)"),
    ("repeat_inf_take", "D.range(3).repeat().take(7)"),
    ("repeat_empty", "D.range(0).repeat()"),
    ("take3", "D.range(10).take(3)"),
    ("take20", "D.range(10).take(20)"),
    ("take_all", "D.range(10).take(-1)"),
    ("skip3", "D.range(10).skip(3)"),
    ("skip20", "D.range(10).skip(20)"),
    ("skip_all", "D.range(10).skip(-1)"),
    ("slices_take_skip", "D.from_tensor_slices(np.arange(10)).skip(2).take(5).batch(2)"),
    ("map_tuple", "D.from_tensor_slices(([1, 2], [3, 4])).map(lambda a, b: a + b)"),
    ("map_dict", "D.from_tensor_slices({'a': [1, 2]}).map(lambda d: d['a'] * 2)"),
    ("map_list", "D.range(2).map(lambda x: [x, x + 1])"),
    ("map_py_int", "D.range(2).map(lambda x: 1)"),
    ("map_py_float", "D.range(2).map(lambda x: 1.5)"),
    ("map_cast", "D.range(3).map(lambda x: tf.cast(x, tf.float32) / 2)"),
    ("map_parallel", "D.range(20).map(lambda x: x * x, num_parallel_calls=4)"),
    ("map_namedtuple", "D.from_tensor_slices(Point([1, 2], [3, 4])).map(lambda p: p.x - p.y)"),
    ("filter", "D.range(10).filter(lambda x: x % 3 == 0)"),
    ("filter_tuple", "D.from_tensor_slices(([1, 2], [3, 4])).filter(lambda a, b: a > 1)"),
    ("filter_batch", "D.range(10).filter(lambda x: x > 2).batch(3)"),
    ("zip", "D.zip((D.range(3), D.range(10, 12)))"),
    ("zip_varargs", "D.zip(D.range(3), D.from_tensor_slices([1.0, 2.0]))"),
    ("zip_dict", "D.zip({'a': D.range(2), 'b': D.range(2)})"),
    ("zip_inf", "D.zip((D.range(2).repeat(), D.range(3)))"),
    ("concat", "D.range(3).concatenate(D.range(5, 7))"),
    ("concat_shapes", "D.from_tensors([1, 2]).concatenate(D.from_tensors([1, 2, 3]))"),
    ("enumerate", "D.range(3, 6).enumerate(5)"),
    ("enumerate_str", "D.from_tensor_slices(['a', 'b']).enumerate()"),
    ("cache", "D.range(4).map(lambda x: x + 1).cache()"),
    ("prefetch", "D.range(5).prefetch(2)"),
    ("prefetch_auto", "D.range(5).batch(2).prefetch(tf.data.AUTOTUNE)"),
    ("shuffle_len", "D.range(10).shuffle(3).batch(20).map(lambda b: tf.sort(b))"),
    # cardinality only (infinite or order-dependent)
    ("card_repeat", "D.range(10).repeat()"),
    ("card_repeat_skip", "D.range(10).repeat().skip(5)"),
    ("card_repeat_batch", "D.range(10).repeat().batch(3)"),
    ("card_filter_repeat", "D.range(10).filter(lambda x: True).repeat()"),
    ("card_filter_repeat2", "D.range(10).filter(lambda x: True).repeat(2)"),
    ("card_filter_skip", "D.range(10).filter(lambda x: True).skip(2)"),
    ("card_filter_take0", "D.range(10).filter(lambda x: True).take(0)"),
    ("card_concat_inf", "D.range(10).repeat().concatenate(D.range(3))"),
    ("card_concat_unk", "D.range(10).filter(lambda x: True).concatenate(D.range(3))"),
    ("card_concat_unk_inf", "D.range(3).filter(lambda x: True).concatenate(D.range(3).repeat())"),
    ("card_zip_unk", "D.zip((D.range(3).filter(lambda x: True), D.range(2)))"),
    ("card_inf_repeat0", "D.range(3).repeat().repeat(0)"),
    ("card_shuffle", "D.range(10).shuffle(4)"),
]

# Expressions that raise (at construction or while iterating).
ERROR_CASES = [
    ("slices_mismatch", "D.from_tensor_slices(([1, 2], [3, 4, 5]))"),
    ("slices_scalar", "D.from_tensor_slices(1)"),
    ("slices_empty_tuple", "D.from_tensor_slices(())"),
    ("range_none", "D.range()"),
    ("range_float", "D.range(0.5, 3)"),
    ("range_step0", "D.range(0, 3, 0)"),
    ("batch0", "D.range(3).batch(0)"),
    ("shuffle0", "D.range(3).shuffle(0)"),
    ("take_float", "D.range(3).take(1.5)"),
    ("unbatch_scalar", "D.range(3).unbatch()"),
    ("concat_dtype", "D.range(3).concatenate(D.from_tensor_slices([1.0]))"),
    ("zip_not_dataset", "D.zip((D.range(3), 1))"),
    ("filter_not_bool", "D.range(3).filter(lambda x: x)"),
    ("batch_ragged", "D.from_generator(gen_ragged, output_signature=tf.TensorSpec((None,), "
                     "tf.int32)).batch(2)"),
    ("gen_none", "D.from_generator(gen_ints)"),
    ("gen_both", f"D.from_generator(gen_ints, output_types=tf.int32, output_signature={I32})"),
    ("gen_not_callable", "D.from_generator([1, 2], output_types=tf.int32)"),
    ("gen_str_into_int", f"D.from_generator(gen_str, output_signature={I32})"),
    ("gen_shape", "D.from_generator(gen_ragged, output_signature=tf.TensorSpec((1,), tf.int32))"),
    ("gen_structure", f"D.from_generator(gen_ints, output_signature=({I32}, {I32}))"),
    ("gen_raises", "D.from_generator(gen_raises, output_types=tf.float32)"),
    ("len_inf", "len(D.range(3).repeat())"),
    ("len_unknown", "len(D.range(3).filter(lambda x: x > 0))"),
    ("single_empty", "D.range(0).get_single_element()"),
    ("single_two", "D.range(2).get_single_element()"),
    ("reduce_dtype", "D.range(3).reduce(np.int64(0), lambda s, x: tf.cast(s, tf.int32))"),
]


def encode(value):
    """A JSON-able description of an element: structure, dtypes, shapes and values."""
    if isinstance(value, dict):
        return {"dict": {k: encode(v) for k, v in sorted(value.items())}}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    a = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    if a.dtype.kind in "OS":
        a = a.astype(object)
        flat = [b.decode("utf-8") for b in a.reshape(-1)]
        a = np.array(flat, dtype=object).reshape(a.shape)
    vals = a.tolist()
    return {"dtype": value.dtype.name, "shape": list(a.shape), "value": vals}
