"""tf.nn."""
# ruff: noqa: F401
# -- activations, losses, normalization, lookup --------------------------------------
from featherflow._src.api.nn_ops import (
    batch_normalization as batch_normalization, bias_add as bias_add, dropout as dropout,
    elu as elu, embedding_lookup as embedding_lookup, gelu as gelu, l2_loss as l2_loss,
    l2_normalize as l2_normalize, leaky_relu as leaky_relu, log_softmax as log_softmax,
    moments as moments, relu as relu, relu6 as relu6, selu as selu, sigmoid as sigmoid,
    sigmoid_cross_entropy_with_logits as sigmoid_cross_entropy_with_logits, silu as silu,
    softmax as softmax, softmax_cross_entropy_with_logits as softmax_cross_entropy_with_logits,
    softplus as softplus, softsign as softsign,
    sparse_softmax_cross_entropy_with_logits as sparse_softmax_cross_entropy_with_logits,
    swish as swish, tanh as tanh)

# -- conv and pooling ---------------------------------------------------------------
from featherflow._src.api.nn_conv import (
    avg_pool as avg_pool, avg_pool1d as avg_pool1d, avg_pool2d as avg_pool2d, conv1d as conv1d,
    conv2d as conv2d, conv2d_transpose as conv2d_transpose,
    depthwise_conv2d as depthwise_conv2d, max_pool as max_pool, max_pool1d as max_pool1d,
    max_pool2d as max_pool2d)
