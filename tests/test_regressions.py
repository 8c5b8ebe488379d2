"""Each bug the bad-input sweep (test_sweep.py) found, pinned down as a plain test."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lite import Tensor


@pytest.mark.parametrize("dtype", [1.5, "abc", [1], 3])
def test_a_dtype_numpy_cannot_read_is_refused(dtype: object) -> None:
    # np.dtype(dtype) fails, and numpy compares the None that stood for the failure equal
    # to float64: the junk dtype was silently taken as float64.
    with pytest.raises(TypeError, match="dtype must be float32, float64 or None"):
        Tensor([1.0], dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be"):
        Tensor.zeros(2, dtype=dtype)
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32


def _nested(depth: int) -> object:
    value: object = 1.0
    for _ in range(depth):
        value = [value]
    return value


def test_a_list_nested_deeper_than_the_recursion_limit_gets_our_error() -> None:
    # The error message described the data with repr(), which recursed once per level.
    deep = _nested(10_000)
    with pytest.raises(ValueError, match="^Tensor: cannot make an array of list"):
        Tensor(deep)
    with pytest.raises(TypeError, match="^add: "):
        Tensor([1.0]) + deep
