"""tf.keras.losses: Keras 3's losses on featherflow ops (re-exports only)."""
# ruff: noqa: F401
from featherflow._src.keras.losses import (
    BinaryCrossentropy as BinaryCrossentropy,
    BinaryFocalCrossentropy as BinaryFocalCrossentropy,
    CategoricalCrossentropy as CategoricalCrossentropy, CategoricalHinge as CategoricalHinge,
    CosineSimilarity as CosineSimilarity, Hinge as Hinge, Huber as Huber,
    KLDivergence as KLDivergence, LogCosh as LogCosh, Loss as Loss,
    MeanAbsoluteError as MeanAbsoluteError,
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
    MeanSquaredError as MeanSquaredError,
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError, Poisson as Poisson,
    SparseCategoricalCrossentropy as SparseCategoricalCrossentropy,
    SquaredHinge as SquaredHinge, deserialize as deserialize, get as get,
    serialize as serialize)
from featherflow._src.keras.loss_functions import (
    binary_crossentropy as binary_crossentropy,
    binary_focal_crossentropy as binary_focal_crossentropy,
    categorical_crossentropy as categorical_crossentropy,
    categorical_hinge as categorical_hinge, cosine_similarity as cosine_similarity,
    hinge as hinge, huber as huber, poisson as poisson,
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
    squared_hinge as squared_hinge)
# TF 2.21's tf.keras.losses spells the regression functions by their short names.
from featherflow._src.keras.loss_functions import (
    kl_divergence as KLD, kl_divergence as kld, kl_divergence as kullback_leibler_divergence,
    log_cosh as logcosh, mean_absolute_error as MAE, mean_absolute_error as mae,
    mean_absolute_percentage_error as MAPE, mean_absolute_percentage_error as mape,
    mean_squared_error as MSE, mean_squared_error as mse,
    mean_squared_logarithmic_error as MSLE, mean_squared_logarithmic_error as msle)
# Keras 3's own long names (keras.losses.mean_squared_error, ...), not in tf.keras 2.21.
from featherflow._src.keras.loss_functions import (
    kl_divergence as kl_divergence, log_cosh as log_cosh,
    mean_absolute_error as mean_absolute_error,
    mean_absolute_percentage_error as mean_absolute_percentage_error,
    mean_squared_error as mean_squared_error,
    mean_squared_logarithmic_error as mean_squared_logarithmic_error)
