"""tf.raw_ops is generated from the registry: every registered op has a callable there."""
import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.registry import REGISTRY


def test_every_registered_op_is_a_raw_op():
    names = dir(tf.raw_ops)
    assert names == sorted(REGISTRY)
    for name in names:
        assert callable(getattr(tf.raw_ops, name))


def test_raw_op_calls_run_the_primitive():
    out = tf.raw_ops.AddV2(x=tf.constant([1.0, 2.0]), y=tf.constant([3.0, 4.0]))
    np.testing.assert_array_equal(out.numpy(), np.array([4.0, 6.0], np.float32))
    total = tf.raw_ops.AddN(inputs=[tf.constant(1), tf.constant(2), tf.constant(3)])
    assert total.numpy() == 6 and total.dtype is tf.int32


def test_raw_op_argument_errors():
    with pytest.raises(TypeError, match="missing required argument 'y'"):
        tf.raw_ops.AddV2(x=tf.constant(1.0))
    with pytest.raises(TypeError, match="unexpected arguments"):
        tf.raw_ops.AddV2(x=tf.constant(1.0), y=tf.constant(1.0), bogus=1)
    with pytest.raises(AttributeError):
        tf.raw_ops.NoSuchOp  # noqa: B018
