import gc

import pytest


@pytest.fixture
def quiet_gc():
    """Byte counts compared across a call: no collection of earlier tests' garbage meanwhile."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
