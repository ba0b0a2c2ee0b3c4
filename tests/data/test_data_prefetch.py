"""Dataset.prefetch: a real background thread that runs ahead, hands errors over, and stops."""
import gc
import threading
import time

import pytest

import featherflow as tf

D = tf.data.Dataset


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "featherflow-prefetch" and t.is_alive()]


def _wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def test_prefetch_runs_ahead_in_a_background_thread():
    produced = []

    def gen():
        for i in range(20):
            produced.append((i, threading.get_ident()))
            yield i

    ds = D.from_generator(gen, output_types=tf.int64).prefetch(3)
    it = iter(ds)
    # Before the consumer asks for anything, the producer fills the buffer.
    assert _wait_for(lambda: len(produced) >= 3)
    assert int(next(it)) == 0
    assert _wait_for(lambda: len(produced) >= 4)
    time.sleep(0.05)
    # bounded: at most buffer_size queued + one being put + one taken
    assert len(produced) <= 1 + 3 + 1
    assert all(tid != threading.get_ident() for _, tid in produced)
    assert [int(x) for x in it] == list(range(1, 20))


def test_prefetch_reraises_producer_errors():
    def bad(x):
        if int(x) == 3:
            raise ValueError("element 3 is bad")
        return x

    it = iter(D.range(10).map(bad).prefetch(2))
    assert [int(next(it)) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="element 3 is bad"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_prefetch_thread_stops_when_iterator_dropped():
    before = len(_prefetch_threads())
    it = iter(D.range(1000).repeat().prefetch(2))
    next(it)
    assert _wait_for(lambda: len(_prefetch_threads()) == before + 1)
    del it
    gc.collect()
    assert _wait_for(lambda: len(_prefetch_threads()) == before)


def test_prefetch_thread_stops_at_end_and_when_closed():
    before = len(_prefetch_threads())
    assert [int(x) for x in D.range(5).prefetch(1)] == list(range(5))
    assert _wait_for(lambda: len(_prefetch_threads()) == before)
    it = iter(D.range(5).batch(2).prefetch(tf.data.AUTOTUNE).prefetch(1))
    next(it)
    it.close()
    assert _wait_for(lambda: len(_prefetch_threads()) == before)


def test_nested_prefetch_stops_when_dropped_midway():
    before = len(_prefetch_threads())
    ds = D.range(100).prefetch(2).map(lambda x: x + 1).prefetch(2)
    it = iter(ds)
    assert int(next(it)) == 1
    del it
    gc.collect()
    assert _wait_for(lambda: len(_prefetch_threads()) == before)


def test_prefetch_buffer_size_errors_and_zero():
    with pytest.raises(tf.errors.InvalidArgumentError):
        D.range(3).prefetch(-5)
    assert [int(x) for x in D.range(3).prefetch(0)] == [0, 1, 2]
