"""tf.keras.layers."""
# ruff: noqa: F401
from featherflow._src.keras.layers.base import InputSpec as InputSpec
from featherflow._src.keras.layers.base import Layer as Layer
from featherflow._src.keras.layers.core import (
    Activation as Activation, Dense as Dense, Dropout as Dropout, Embedding as Embedding,
    Flatten as Flatten, Input as Input, InputLayer as InputLayer, Reshape as Reshape)
from featherflow._src.keras.layers.normalization import (
    BatchNormalization as BatchNormalization, LayerNormalization as LayerNormalization)
from featherflow._src.keras.layers.conv import Conv1D as Conv1D, Conv2D as Conv2D
from featherflow._src.keras.layers.conv import Conv1D as Convolution1D
from featherflow._src.keras.layers.conv import Conv2D as Convolution2D
from featherflow._src.keras.layers.pooling import (
    AveragePooling2D as AveragePooling2D, GlobalAveragePooling2D as GlobalAveragePooling2D,
    MaxPooling2D as MaxPooling2D)
from featherflow._src.keras.layers.pooling import AveragePooling2D as AvgPool2D
from featherflow._src.keras.layers.pooling import MaxPooling2D as MaxPool2D
from featherflow._src.keras.layers.pooling import GlobalAveragePooling2D as GlobalAvgPool2D
from featherflow._src.keras.layers.merge import Add as Add, Concatenate as Concatenate
from featherflow._src.keras.layers.rnn import (
    GRU as GRU, GRUCell as GRUCell, LSTM as LSTM, LSTMCell as LSTMCell, SimpleRNN as SimpleRNN,
    SimpleRNNCell as SimpleRNNCell)
from featherflow._src.keras.layers.attention import (
    EinsumDense as EinsumDense, MultiHeadAttention as MultiHeadAttention)
