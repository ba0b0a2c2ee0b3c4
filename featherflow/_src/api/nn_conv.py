"""tf.nn convolutions and pooling: conv1d, conv2d, depthwise_conv2d, conv2d_transpose,
max_pool/avg_pool (1-D and 2-D), with TensorFlow's argument rules and messages."""
from __future__ import annotations

import numbers

import numpy as np

from featherflow._src.api._args import pair, tensor
from featherflow._src.framework import errors
from featherflow._src.framework.tensor import is_tensor
from featherflow._src.ops import dispatch
from featherflow._src.ops.defs import conv as C
from featherflow._src.ops.defs import pooling as P

_execute = dispatch.execute


def _channel_index(data_format, n=2):
    return 1 if data_format is not None and data_format.startswith("NC") else n + 1


def _sequence(value, n, channel_index, name):
    """TF's `_get_sequence`: an int or a list of 1, n or n+2 values as a full n+2 list."""
    if value is None:
        value = 1
    if isinstance(value, numbers.Integral):
        value = [int(value)]
    elif is_tensor(value):
        value = tensor(value).numpy().reshape(-1).tolist()
    elif not isinstance(value, (list, tuple)):
        value = list(value)
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * n
    elif len(value) == n + 2:
        return tuple(value)
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: "
                         f"{name}={list(value)} of length {len(value)}")
    return tuple([1, 1] + value if channel_index == 1 else [1] + value + [1])


def _padding(padding, data_format, n=2):
    """(padding string, explicit_paddings) from a string or a list of n+2 [before, after]."""
    if isinstance(padding, (list, tuple)):
        if len(padding) != n + 2:
            raise ValueError(f"When padding is a list, it must be of size {n + 2}. Received: "
                             f"padding={list(padding)} of size {len(padding)}")
        flat = []
        for p in padding:
            flat.extend(int(v) for v in p)
        return "EXPLICIT", tuple(flat)
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    return padding, ()


def _string_padding(padding):
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    return padding


def _shape(t):
    return tuple(int(d) for d in t._value.shape)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    """2-D convolution (cross-correlation) of a 4-D `input` with a [KH, KW, C/groups, O]
    filter; inputs of rank > 4 are batched over their leading dimensions.

    >>> import featherflow as tf
    >>> tf.nn.conv2d(tf.ones([1, 3, 3, 1]), tf.ones([2, 2, 1, 1]), 1, "VALID").shape
    TensorShape([1, 2, 2, 1])
    """
    x, w = pair(input, filters)
    ci = _channel_index(data_format)
    pad, explicit = _padding(padding, data_format)
    attrs = {"strides": _sequence(strides, 2, ci, "strides"), "padding": pad,
             "explicit_paddings": explicit, "data_format": data_format,
             "dilations": _sequence(dilations, 2, ci, "dilations")}
    shape = _shape(x)
    if len(shape) > 4:
        from featherflow._src.api.array_ops import reshape  # noqa: PLC0415

        y = _execute(C.Conv2D, (reshape(x, (-1,) + shape[-3:]), w), attrs)
        return reshape(y, shape[:-3] + _shape(y)[1:])
    return _execute(C.Conv2D, (x, w), attrs)


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None,  # noqa: A002
           name=None):
    """1-D convolution, computed as a 2-D convolution over a height of 1 (as TF does).

    >>> import featherflow as tf
    >>> tf.nn.conv1d(tf.ones([1, 5, 2]), tf.ones([3, 2, 4]), 1, "SAME").shape
    TensorShape([1, 5, 4])
    """
    from featherflow._src.api.array_ops import expand_dims, squeeze  # noqa: PLC0415

    if data_format is None or data_format in ("NHWC", "NWC"):
        data_format, spatial, ci = "NHWC", -3, 2
    elif data_format in ("NCHW", "NCW"):
        data_format, spatial, ci = "NCHW", -2, 1
    else:
        raise ValueError(f'`data_format` must be "NWC" or "NCW". Received: '
                         f"data_format={data_format}")
    padding = _string_padding(padding)
    strides = (1,) + _sequence(stride, 1, ci, "stride")
    dils = (1,) + _sequence(dilations, 1, ci, "dilations")
    x, w = pair(input, filters)
    y = _execute(C.Conv2D, (expand_dims(x, spatial), expand_dims(w, 0)),
                 {"strides": strides, "padding": padding, "explicit_paddings": (),
                  "data_format": data_format, "dilations": dils})
    return squeeze(y, [spatial])


def depthwise_conv2d(input, filter, strides, padding, data_format=None,  # noqa: A002
                     dilations=None, name=None):
    """Depthwise 2-D convolution: each input channel convolved with its own `channel_multiplier`
    filters ([KH, KW, C, M]), giving C*M output channels.

    >>> import featherflow as tf
    >>> tf.nn.depthwise_conv2d(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 2]), [1, 1, 1, 1],
    ...                        "VALID").shape
    TensorShape([1, 2, 2, 4])
    """
    if not isinstance(strides, (list, tuple)):
        raise TypeError(f"Expected list for 'strides' argument to 'depthwise_conv2d_native' Op, "
                        f"not {strides!r}.")
    data_format = data_format or "NHWC"
    rate = (1, 1) if dilations is None else tuple(int(d) for d in dilations)
    if len(rate) != 2:
        raise ValueError(f"`dilations` must be a list of 2 integers. Received: "
                         f"dilations={dilations}")
    dils = (1, 1) + rate if data_format == "NCHW" else (1,) + rate + (1,)
    pad, explicit = _padding(padding, data_format)
    x, w = pair(input, filter)
    return _execute(C.DepthwiseConv2dNative, (x, w),
                    {"strides": tuple(int(s) for s in strides), "padding": pad,
                     "explicit_paddings": explicit, "data_format": data_format,
                     "dilations": dils})


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None):
    """The transpose (gradient) of conv2d: maps a conv2d output back to `output_shape`.

    >>> import featherflow as tf
    >>> tf.nn.conv2d_transpose(tf.ones([1, 2, 2, 1]), tf.ones([3, 3, 1, 1]), [1, 4, 4, 1], 1,
    ...                        "VALID").shape
    TensorShape([1, 4, 4, 1])
    """
    dy, w = pair(input, filters)
    ci = _channel_index(data_format)
    if is_tensor(output_shape):
        sizes = tuple(int(v) for v in tensor(output_shape).numpy().reshape(-1))
    else:
        sizes = tuple(int(v) for v in np.asarray(output_shape).reshape(-1))
    if len(sizes) == 2:
        n, c = _shape(dy)[0], _shape(w)[2]
        sizes = (n, c) + sizes if ci == 1 else (n,) + sizes + (c,)
    elif len(sizes) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"Conv2DBackpropInput requires input_sizes to contain 4 values or 2 "
            f"values, but got: {len(sizes)} [Op:Conv2DBackpropInput]")
    pad, explicit = _padding(padding, data_format)
    return _execute(C.Conv2DBackpropInput, (w, dy),
                    {"input_sizes": sizes, "strides": _sequence(strides, 2, ci, "strides"),
                     "padding": pad, "explicit_paddings": explicit, "data_format": data_format,
                     "dilations": _sequence(dilations, 2, ci, "dilations")})


# -- pooling ----------------------------------------------------------------------------------
def _pool2d(op, input, ksize, strides, padding, data_format, explicit_ok):  # noqa: A002
    x = tensor(input)
    data_format = data_format or "NHWC"
    ci = _channel_index(data_format)
    if explicit_ok:
        pad, explicit = _padding(padding, data_format)
    else:
        pad, explicit = _string_padding(padding), ()
    attrs = {"ksize": _sequence(ksize, 2, ci, "ksize"),
             "strides": _sequence(strides, 2, ci, "strides"), "padding": pad,
             "data_format": data_format}
    if explicit_ok:
        attrs["explicit_paddings"] = explicit
    return _execute(op, (x,), attrs)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D max pooling; the gradient goes to the first maximum of each window, as in TF.

    >>> import featherflow as tf
    >>> tf.nn.max_pool2d(tf.reshape(tf.range(16.0), [1, 4, 4, 1]), 2, 2, "VALID")[0, :, :, 0]
    ... # doctest: +NORMALIZE_WHITESPACE
    <tf.Tensor: shape=(2, 2), dtype=float32, numpy=
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)>
    """
    return _pool2d(P.MaxPool, input, ksize, strides, padding, data_format, True)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """2-D average pooling; with SAME padding each window is divided by the number of its
    in-bounds elements, as in TF.

    >>> import featherflow as tf
    >>> float(tf.nn.avg_pool2d(tf.ones([1, 3, 3, 1]), 2, 2, "SAME")[0, 1, 1, 0])
    1.0
    """
    return _pool2d(P.AvgPool, input, ksize, strides, padding, data_format, False)


def _pool1d(op, input, ksize, strides, padding, data_format, explicit_ok):  # noqa: A002
    from featherflow._src.api.array_ops import expand_dims, squeeze  # noqa: PLC0415

    if data_format in (None, "NWC"):
        fmt, spatial, ci = "NHWC", 1, 2
    elif data_format == "NCW":
        fmt, spatial, ci = "NCHW", 2, 1
    else:
        raise ValueError(f'`data_format` must be "NWC" or "NCW". Received: '
                         f"data_format={data_format}")
    k = (1,) + _sequence(ksize, 1, ci, "ksize")
    s = (1,) + _sequence(strides, 1, ci, "strides")
    if isinstance(padding, (list, tuple)) and explicit_ok:
        pad, ex = _padding(padding, fmt, 1)
        ex = ex[:2 * spatial] + (0, 0) + ex[2 * spatial:]
    else:
        pad, ex = _string_padding(padding), ()
    attrs = {"ksize": k, "strides": s, "padding": pad, "data_format": fmt}
    if explicit_ok:
        attrs["explicit_paddings"] = ex
    y = _execute(op, (expand_dims(tensor(input), spatial),), attrs)
    return squeeze(y, [spatial])


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D max pooling over a [N, W, C] (or NCW) tensor.

    >>> import featherflow as tf
    >>> tf.nn.max_pool1d(tf.constant([[[1.], [3.], [2.]]]), 2, 1, "VALID")[0, :, 0].numpy()
    array([3., 3.], dtype=float32)
    """
    return _pool1d(P.MaxPool, input, ksize, strides, padding, data_format, True)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """1-D average pooling over a [N, W, C] (or NCW) tensor.

    >>> import featherflow as tf
    >>> tf.nn.avg_pool1d(tf.constant([[[1.], [3.], [2.]]]), 2, 1, "VALID")[0, :, 0].numpy()
    array([2. , 2.5], dtype=float32)
    """
    return _pool1d(P.AvgPool, input, ksize, strides, padding, data_format, False)


def _pool_nd(op1, op2, input, ksize, strides, padding, data_format, explicit_ok,  # noqa: A002
             what):
    rank = len(tensor(input)._value.shape)
    if rank == 3:
        return _pool1d(op1, input, ksize, strides, padding, data_format or "NWC", explicit_ok)
    if rank == 4:
        return _pool2d(op2, input, ksize, strides, padding, data_format, explicit_ok)
    if rank == 5:
        raise NotImplementedError(f"3-D {what} pooling is not implemented in featherflow. "
                                  f"Received: input of rank 5")
    raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: "
                     f"input.shape={tuple(tensor(input)._value.shape)} of rank {rank}.")


def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling for 3-D (1-D pooling) or 4-D (2-D pooling) inputs.

    >>> import featherflow as tf
    >>> tf.nn.max_pool(tf.ones([1, 4, 4, 2]), 2, 2, "VALID").shape
    TensorShape([1, 2, 2, 2])
    """
    return _pool_nd(P.MaxPool, P.MaxPool, input, ksize, strides, padding, data_format, True,
                    "max")


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling for 3-D (1-D pooling) or 4-D (2-D pooling) inputs.

    >>> import featherflow as tf
    >>> tf.nn.avg_pool(tf.ones([1, 4, 4, 2]), 2, 2, "VALID").shape
    TensorShape([1, 2, 2, 2])
    """
    return _pool_nd(P.AvgPool, P.AvgPool, input, ksize, strides, padding, data_format, False,
                    "average")
