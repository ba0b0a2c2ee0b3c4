"""`python -m featherflow.train COMMAND ...`: checkpoint tools.

    python -m featherflow.train inspect PATH   lists a checkpoint's keys, dtypes and shapes
"""
import sys

from featherflow._src.train.inspect import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
