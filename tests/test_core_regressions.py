"""Bugs in the core that the property tests found, each pinned by the smallest example."""

from __future__ import annotations

import numpy as np

from tinygrad_lite import Tensor


def test_a_gradient_through_a_0d_tensor_reaches_index_permute_and_sum() -> None:
    # Arithmetic on 0-d arrays gives numpy scalars (np.float64), not 0-d arrays; a backward
    # rule that passed one to function.run used to fail with an AttributeError.
    x = Tensor([2.0, 3.0], requires_grad=True)
    (x[0] * 2).backward()
    assert x.grad is not None and np.array_equal(x.grad.data, [2.0, 0.0])

    s = Tensor(2.0, requires_grad=True)
    (s.T * 3).backward()
    assert s.grad is not None and s.grad.item() == 3.0

    m = Tensor(5.0, requires_grad=True)
    m.mean().backward()
    assert m.grad is not None and m.grad.item() == 1.0


def test_a_0d_gradient_is_recorded_under_create_graph() -> None:
    s = Tensor(2.0, requires_grad=True)
    y = (s.T * s).sum()
    y.backward(create_graph=True)
    assert s.grad is not None and s.grad.item() == 4.0
    (g,) = [s.grad]
    s.grad = None
    g.backward()
    assert s.grad is not None and s.grad.item() == 2.0
