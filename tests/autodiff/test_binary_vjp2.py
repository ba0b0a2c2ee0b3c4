"""Mul's and AddV2's direct vjp2 (the reverse walk's fast path) against the generic vjp2 built
from the registered gradient: same values, dtypes and shapes, for every skip pattern, with and
without broadcasting, on the host and on a simulated GPU; complex operands take the generic
path."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import elementwise_grad as eg

SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
SKIPS = [(), (0,), (1,), (0, 1)]


def _t(shape, dtype, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * np.random.default_rng(seed + 9).standard_normal(shape)
    return tf.constant(np.asarray(a, dtype))


@pytest.mark.parametrize("device", ["/CPU:0", "/GPU:0"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("skip", SKIPS)
@pytest.mark.parametrize("fast,generic,fn", [
    (eg._mul_vjp2, eg._mul_vjp2_generic, tf.multiply),
    (eg._add_vjp2, eg._add_vjp2_generic, tf.add)])
def test_direct_vjp2_equals_the_generic_one(device, dtype, shapes, skip, fast, generic, fn):
    with tf.device(device):
        x, y = _t(shapes[0], dtype, 1), _t(shapes[1], dtype, 2)
        z = fn(x, y)
        g = _t(z.shape, dtype, 3)
        got, want = fast(x, y, z, g, skip), generic(x, y, z, g, skip)
    for i, (a, b, src) in enumerate(zip(got, want, (x, y))):
        if i in skip:
            assert a is None and b is None
            continue
        assert a.dtype == b.dtype == src.dtype and a.shape == b.shape == src.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
