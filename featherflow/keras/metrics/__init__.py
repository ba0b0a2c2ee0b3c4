"""tf.keras.metrics: Keras 3's metrics on featherflow variables (re-exports only)."""
# ruff: noqa: F401
from featherflow._src.keras.metrics import (deserialize as deserialize, get as get,
                                            serialize as serialize)
from featherflow._src.keras.metrics.accuracy import (
    Accuracy as Accuracy, BinaryAccuracy as BinaryAccuracy,
    CategoricalAccuracy as CategoricalAccuracy,
    SparseCategoricalAccuracy as SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy as TopKCategoricalAccuracy, binary_accuracy as binary_accuracy,
    categorical_accuracy as categorical_accuracy,
    sparse_categorical_accuracy as sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy as top_k_categorical_accuracy)
from featherflow._src.keras.metrics.base import (Mean as Mean,
                                                 MeanMetricWrapper as MeanMetricWrapper,
                                                 Metric as Metric, Sum as Sum)
from featherflow._src.keras.metrics.confusion import (
    AUC as AUC, FalseNegatives as FalseNegatives, FalsePositives as FalsePositives,
    Precision as Precision, Recall as Recall, TrueNegatives as TrueNegatives,
    TruePositives as TruePositives)
from featherflow._src.keras.metrics.regression import (
    BinaryCrossentropy as BinaryCrossentropy, CategoricalCrossentropy as CategoricalCrossentropy,
    CategoricalHinge as CategoricalHinge, CosineSimilarity as CosineSimilarity, Hinge as Hinge,
    KLDivergence as KLDivergence, LogCoshError as LogCoshError,
    MeanAbsoluteError as MeanAbsoluteError,
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
    MeanSquaredError as MeanSquaredError,
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError, Poisson as Poisson,
    RootMeanSquaredError as RootMeanSquaredError,
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
    SquaredHinge as SquaredHinge)
from featherflow._src.keras.loss_functions import (
    binary_crossentropy as binary_crossentropy,
    binary_focal_crossentropy as binary_focal_crossentropy,
    categorical_crossentropy as categorical_crossentropy,
    categorical_hinge as categorical_hinge, hinge as hinge, huber as huber,
    kl_divergence as KLD, kl_divergence as kld, mean_absolute_error as MAE,
    mean_absolute_percentage_error as MAPE, mean_squared_error as MSE,
    mean_squared_logarithmic_error as MSLE, kl_divergence as kullback_leibler_divergence, log_cosh as logcosh,
    mean_absolute_error as mae, mean_absolute_percentage_error as mape,
    mean_squared_error as mse, mean_squared_logarithmic_error as msle, poisson as poisson,
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
    squared_hinge as squared_hinge)
