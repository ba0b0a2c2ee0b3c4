"""tf.data.Dataset semantics against NumPy: values, dtypes, placement, fusion, shuffling."""
import numpy as np
import pytest

import featherflow as tf

D = tf.data.Dataset


def _np(ds):
    return list(ds.as_numpy_iterator())


def _identity(*x):
    return x if len(x) > 1 else x[0]


def test_slices_batch_values_dtypes_and_placement():
    x = np.random.rand(50, 3).astype(np.float32)
    y = np.random.randint(0, 10, 50)
    ds = D.from_tensor_slices((x, y)).batch(16)
    got = list(ds)
    assert len(got) == 4
    for k, (bx, by) in enumerate(got):
        np.testing.assert_array_equal(bx.numpy(), x[16 * k:16 * k + 16])
        np.testing.assert_array_equal(by.numpy(), y[16 * k:16 * k + 16])
        assert bx.dtype == tf.float32 and by.dtype == tf.int64
        assert bx.device.endswith("CPU:0") and by.device.endswith("CPU:0")


def test_source_is_copied_from_user_array():
    x = np.arange(4)
    ds = D.from_tensor_slices(x)
    x[:] = -1
    assert [int(v) for v in ds] == [0, 1, 2, 3]


@pytest.mark.parametrize("drop", [False, True])
def test_fused_batch_equals_generic_batch(drop):
    x = np.random.rand(23, 2).astype(np.float32)
    fused = D.from_tensor_slices(x).skip(1).repeat(2).take(40).batch(6, drop_remainder=drop)
    generic = D.from_tensor_slices(x).map(_identity).skip(1).repeat(2).take(40) \
        .batch(6, drop_remainder=drop)
    assert fused._input._plan is not None and generic._input._plan is None
    a, b = _np(fused), _np(generic)
    assert len(a) == len(b) == len(fused)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    want = np.concatenate([x[1:], x[1:]])[:40]
    np.testing.assert_array_equal(np.concatenate(a), want[:len(np.concatenate(a))])


def test_fused_shuffle_batch_equals_generic_shuffle_batch():
    x = np.arange(300)
    fused = D.from_tensor_slices(x).shuffle(50, seed=7).batch(32)
    generic = D.from_tensor_slices(x).map(_identity).shuffle(50, seed=7).batch(32)
    for u, v in zip(_np(fused), _np(generic)):
        np.testing.assert_array_equal(u, v)


def test_shuffle_is_a_permutation_and_seeded():
    x = np.arange(100)
    a = np.concatenate(_np(D.from_tensor_slices(x).shuffle(100, seed=3).batch(7)))
    b = np.concatenate(_np(D.from_tensor_slices(x).shuffle(100, seed=3).batch(7)))
    np.testing.assert_array_equal(np.sort(a), x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)
    c = np.concatenate(_np(D.from_tensor_slices(x).shuffle(100, seed=4).batch(7)))
    assert not np.array_equal(a, c)


def test_shuffle_global_seed_gives_same_order():
    tf.random.set_seed(11)
    a = _np(D.range(50).shuffle(50))
    tf.random.set_seed(11)
    b = _np(D.range(50).shuffle(50))
    assert a == b and sorted(a) == list(range(50))


@pytest.mark.parametrize("reshuffle", [True, False])
def test_reshuffle_each_iteration(reshuffle):
    ds = D.range(64).shuffle(64, seed=5, reshuffle_each_iteration=reshuffle)
    first, second = _np(ds), _np(ds)
    assert sorted(first) == sorted(second) == list(range(64))
    assert (first != second) == reshuffle
    # repeat() starts a new pass of the shuffle for every epoch
    epochs = _np(ds.repeat(2))
    assert (epochs[:64] != epochs[64:]) == reshuffle


def test_shuffle_buffer_bounds_displacement():
    buffer = 4
    order = _np(D.range(200).shuffle(buffer, seed=1))
    assert sorted(order) == list(range(200))
    for i, v in enumerate(order):
        assert v <= i + buffer - 1  # only the first i + buffer inputs can have been read
    assert _np(D.range(10).shuffle(1, seed=1)) == list(range(10))


def test_shuffle_of_infinite_input_streams():
    got = _np(D.from_tensor_slices(np.arange(5)).repeat().shuffle(3, seed=2).take(12))
    assert len(got) == 12 and set(got) <= set(range(5))


def test_datasets_are_reiterable_and_iterators_end():
    ds = D.range(3).map(lambda x: x * 2)
    assert _np(ds) == _np(ds) == [0, 2, 4]
    it = iter(ds)
    assert [int(next(it)) for _ in range(3)] == [0, 2, 4]
    with pytest.raises(StopIteration):
        next(it)
    it = iter(ds)
    for _ in range(3):
        it.get_next()
    with pytest.raises(tf.errors.OutOfRangeError):
        it.get_next()


def test_map_parallel_keeps_order():
    import time

    def slow(x):
        time.sleep(0.001 * float((int(x) * 7) % 5))
        return x * 3

    ordered = _np(D.range(40).map(slow, num_parallel_calls=8))
    assert ordered == [3 * i for i in range(40)]
    loose = _np(D.range(40).map(slow, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False))
    assert sorted(loose) == [3 * i for i in range(40)]


def test_map_runs_on_host_and_unpacks_tuples():
    seen = []

    def f(a, b):
        seen.append((a.device, b.device))
        return {"sum": a + b, "a": a}

    out = _np(D.from_tensor_slices(([1, 2], [10, 20])).map(f))
    assert out == [{"sum": 11, "a": 1}, {"sum": 22, "a": 2}]
    assert all(d.endswith("CPU:0") for pair in seen for d in pair)


def test_filter_reduce_enumerate_zip_concatenate_vs_numpy():
    x = np.random.randint(0, 100, 30).astype(np.int32)
    ds = D.from_tensor_slices(x)
    assert _np(ds.filter(lambda v: v % 2 == 0)) == [v for v in x if v % 2 == 0]
    total = ds.reduce(np.int32(0), lambda s, v: s + v)
    assert total.dtype == tf.int32 and int(total) == int(x.sum())
    pairs = _np(ds.enumerate(3))
    assert [int(i) for i, _ in pairs] == list(range(3, 33))
    z = _np(D.zip((ds, D.range(5))))
    assert [(int(a), int(b)) for a, b in z] == list(zip(x[:5].tolist(), range(5)))
    c = _np(ds.take(3).concatenate(ds.skip(28)))
    assert c == x[:3].tolist() + x[28:].tolist()


def test_cache_replays_first_pass():
    calls = []

    def f(v):
        calls.append(int(v))
        return v

    ds = D.range(4).map(f).cache()
    assert _np(ds) == _np(ds) == [0, 1, 2, 3]
    assert calls == [0, 1, 2, 3]
    with pytest.raises(NotImplementedError, match="in memory"):
        D.range(3).cache("/tmp/somefile")


def test_shuffle_then_cache_freezes_first_order():
    ds = D.from_tensor_slices(np.arange(30)).shuffle(30, seed=1).cache()
    assert _np(ds) == _np(ds)


def test_unbatch_and_padded_batch_vs_numpy():
    x = np.arange(12).reshape(4, 3)
    assert [a.tolist() for a in _np(D.from_tensor_slices(x).batch(3).unbatch())] == x.tolist()
    ragged = [np.arange(n) for n in (1, 3, 2)]
    ds = D.from_generator(lambda: iter(ragged), output_signature=tf.TensorSpec([None], tf.int64))
    (b0, b1) = _np(ds.padded_batch(2, padding_values=np.int64(-1)))
    np.testing.assert_array_equal(b0, [[0, -1, -1], [0, 1, 2]])
    np.testing.assert_array_equal(b1, [[0, 1]])


def test_len_and_cardinality_tensor():
    assert len(D.range(10).batch(4)) == 3
    c = D.range(10).repeat().cardinality()
    assert c.dtype == tf.int64 and int(c) == tf.data.INFINITE_CARDINALITY == -1
    assert int(D.range(3).filter(lambda v: True).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert tf.data.experimental.INFINITE_CARDINALITY == -1
    assert tf.data.experimental.UNKNOWN_CARDINALITY == -2
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1


def test_generator_refuses_lossy_casts():
    # TensorFlow casts these silently (1.5 -> 1, 2**40 -> 0); featherflow refuses (compat.md).
    sig = tf.TensorSpec((), tf.int32)
    for value in (1.5, 2 ** 40):
        ds = D.from_generator(lambda v=value: iter([v]), output_signature=sig)
        with pytest.raises(tf.errors.InvalidArgumentError, match="could not be converted"):
            list(ds)
    ok = D.from_generator(lambda: iter([np.float64(2.0), 3]), output_signature=sig)
    assert [(t.dtype, int(t)) for t in ok] == [(tf.int32, 2), (tf.int32, 3)]


def test_generator_args_are_numpy_and_called_per_pass():
    seen = []

    def gen(n, text):
        seen.append((type(n), text))
        yield from range(int(n))

    ds = D.from_generator(gen, output_types=tf.int64, args=(2, "ab"))
    assert _np(ds) == _np(ds) == [0, 1]
    assert seen == [(np.int32, b"ab")] * 2


def test_elements_from_gpu_tensor_land_on_cpu():
    with tf.device("/GPU:0"):
        t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert t.device.endswith("GPU:0")
    got = list(D.from_tensor_slices(t).batch(2))
    assert got[0].device.endswith("CPU:0")
    np.testing.assert_array_equal(got[0].numpy(), [[1.0, 2.0], [3.0, 4.0]])
    v = tf.Variable([1.0, 1.0])
    out = got[0] * v  # the op copies the host batch explicitly
    np.testing.assert_array_equal(out.numpy(), [[1.0, 2.0], [3.0, 4.0]])


def test_tensor_spec():
    s = tf.TensorSpec([2, None], tf.int32, name="x")
    assert repr(s) == "TensorSpec(shape=(2, None), dtype=tf.int32, name='x')"
    assert tf.TensorSpec([2]) == tf.TensorSpec((2,), "float32")
    assert hash(tf.TensorSpec([2])) == hash(tf.TensorSpec((2,), tf.float32))
    assert s.is_compatible_with(tf.constant([[1, 2, 3], [4, 5, 6]]))
    assert not s.is_compatible_with(tf.constant([[1.0]]))
    assert tf.TensorSpec.from_tensor(tf.constant([1, 2])) == tf.TensorSpec([2], tf.int32)


def test_map_results_that_are_reused_numpy_buffers_are_copied():
    # An eager map function may return the same NumPy buffer each time; every element must keep
    # the values it had when it was produced (as TF's traced map would).
    buf = np.zeros(2, np.float32)

    def fill(x):
        buf[:] = x.numpy()
        return buf

    with tf.device("/CPU:0"):
        ds = tf.data.Dataset.from_tensor_slices(np.array([[1, 2], [3, 4], [5, 6]], np.float32))
        got = list(ds.map(fill))
    np.testing.assert_array_equal(np.stack([g.numpy() for g in got]), [[1, 2], [3, 4], [5, 6]])
