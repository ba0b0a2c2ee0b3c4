"""The `>>>` examples in the tf.nn / segment public functions run and are correct."""
import doctest

import pytest

from featherflow._src.api import nn_ops, segment_ops


@pytest.mark.parametrize("module", [nn_ops, segment_ops], ids=lambda m: m.__name__)
def test_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
