import numpy as np
import pytest

import featherflow as tf


def test_scalar_add_value_dtype_device():
    c = tf.constant(1.0) + tf.constant(2.0)
    assert c.dtype is tf.float32
    assert c.numpy() == np.float32(3.0)
    assert c.device.endswith("GPU:0")  # numeric values default to the first (simulated) GPU


def test_mixed_dtypes_raise_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
        tf.constant(1) + tf.constant(1.0)


def test_python_float_into_int_tensor_is_type_error():
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        tf.constant(1) * 2.5
