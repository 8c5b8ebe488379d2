"""Every error the core raises: its type, and a message that says what was given and what
is accepted."""

from __future__ import annotations

import pytest

from tinygrad_lite import Tensor

# ------------------------------------------------------------------------- construction


@pytest.mark.parametrize("dtype", ["nonsense", 5, "int32", "float16", object, complex])
def test_bad_dtype(dtype: object) -> None:
    with pytest.raises(TypeError, match=r"dtype must be float32, float64 or None, got"):
        Tensor([1.0], dtype=dtype)
