"""featherflow benchmarks: `python -m benchmarks` (or `make bench`).

Each case group is one module in this package (`cases_*.py`) with a `CASES` list; the harness
(`harness.py`) times every case in featherflow, raw NumPy and, where importable, TensorFlow and
PyTorch, and prints medians and ratios beside the case's target.
"""
