"""tf.test."""
# ruff: noqa: F401
from featherflow._src.testing.gradient_check import compute_gradient as compute_gradient
