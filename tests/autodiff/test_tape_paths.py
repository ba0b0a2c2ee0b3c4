"""Which recorded nodes the reverse walk visits, and with which skipped inputs.

When the gradient's sources include everything the tape watched directly, the walk takes every
recorded node and what the tape watched as the reached set; otherwise it recomputes both
(`backprop._on_path`, the oracle). Expected values are the analytic derivatives (checked
against TensorFlow 2.21 when these tests were written).
"""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.autodiff import backprop


def _floats(grads):
    return [None if g is None else float(g) for g in grads]


def _skips(nodes, reach):
    return [backprop._skip(n[1], reach) for n in nodes]


def test_recorded_skips_match_the_walk_when_sources_cover_the_roots():
    x, y = tf.constant(2.0), tf.constant(3.0)
    k = tf.constant(4)
    v = tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        a = x * y + v          # y unwatched: skipped
        b = tf.cast(a, tf.int32) + k  # integer outputs end the path
        c = a * tf.cast(b, tf.float32)
    ids = {id(x), id(v.handle)}
    nodes, reach = backprop.path(t, ids)
    assert nodes is t._nodes and reach is t._watched  # no walk
    walked, walked_reach = backprop._on_path(t._nodes, ids)
    assert walked == nodes
    assert _skips(walked, walked_reach) == _skips(nodes, reach)
    assert (0, 1) not in _skips(nodes, reach)  # the test has something to skip
    assert (1,) in _skips(nodes, reach)
    gx, gv, gy = t.gradient(c, [x, v, y])
    b_val = float(b)
    assert (float(gx), float(gv), gy) == (3.0 * b_val, b_val, None)


def test_a_subset_of_the_sources_walks_the_path_again():
    x, y = tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, y])
        z = x * y + y
    assert backprop.path(t, {id(x)})[0] is not t._nodes
    assert float(t.gradient(z, x)) == 3.0
    assert float(t.gradient(z, y)) == 3.0
    assert _floats(t.gradient(z, [y, x])) == [3.0, 3.0]


def test_a_tensor_watched_after_an_op_consumed_it_still_gets_its_gradient():
    x, y = tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(y)
        z = x * y          # recorded for y; x is not watched yet
        t.watch(x)
        w = z * x
    ids = {id(x), id(y)}
    nodes, reach = backprop.path(t, ids)
    walked, walked_reach = backprop._on_path(t._nodes, ids)
    assert walked == nodes and _skips(walked, walked_reach) == _skips(nodes, reach)
    assert _floats(t.gradient(z, [x, y])) == [3.0, 2.0]
    assert _floats(t.gradient(w, [x, y])) == [12.0, 4.0]


def test_variables_read_several_times_and_one_of_two_variables():
    v, u = tf.Variable(2.0), tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as t:
        z = v * u + 3.0 * v + v * v
    assert _floats(t.gradient(z, [v, u])) == [5.0 + 3.0 + 4.0, 2.0]
    assert float(t.gradient(z, u)) == 2.0
    assert float(t.gradient(z, v)) == 12.0


def test_nested_tapes_record_their_own_skips():
    x, y = tf.constant(2.0), tf.constant(3.0)
    with tf.GradientTape() as outer:
        outer.watch(y)
        with tf.GradientTape() as inner:
            inner.watch(x)
            z = x * y * x
        gx = inner.gradient(z, x)  # 2xy, recorded on the outer tape
    assert inner._nodes is None
    assert float(gx) == 12.0
    assert float(outer.gradient(gx, y)) == 4.0  # d(2xy)/dy


@pytest.mark.parametrize("persistent", [False, True])
def test_gradient_matches_numpy_for_a_small_expression(persistent):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(4).astype(np.float32)
    with tf.device("/CPU:0"):
        v = tf.Variable(a)
        with tf.GradientTape(persistent=persistent) as t:
            y = tf.reduce_sum(v * v + 3.0 * v)
        g = t.gradient(y, v)
    np.testing.assert_allclose(g.numpy(), 2 * a + 3, rtol=1e-6)
    assert g.dtype == tf.float32
