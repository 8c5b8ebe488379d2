"""The backward pass: graph shapes (reuse, diamonds, long chains), accumulation, freeing,
grad mode, the functional API and higher-order gradients."""

from __future__ import annotations

import numpy as np

from tinygrad_lite import Tensor

# --------------------------------------------------------------------------- accumulation


def test_accumulating_into_grad_follows_ieee_without_warnings() -> None:
    # The second backward adds to the .grad of the first: 1e308 + 1e308 overflows to inf,
    # and inf + -inf is nan; neither may print a RuntimeWarning (pytest makes it an error).
    x = Tensor([1.0, 1.0], requires_grad=True)
    (x * Tensor([1e308, np.inf])).sum().backward()
    (x * Tensor([1e308, -np.inf])).sum().backward()
    assert x.grad is not None
    assert x.grad.data[0] == np.inf
    assert np.isnan(x.grad.data[1])
