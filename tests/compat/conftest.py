"""tests/compat compares with TensorFlow's reference (Eigen) CPU kernels: oneDNN is switched off
before TensorFlow is imported. With oneDNN on, some of TF's results and error classes depend on
the CPU (a scalar softmax is an AbortedError from oneDNN's kernel on AVX-512 machines, the
reference kernel's InvalidArgumentError elsewhere); docs/compat.md has the details."""
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
