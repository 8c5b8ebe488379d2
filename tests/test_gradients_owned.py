"""Each leaf's gradient is an array of its own, copied only when something else could hold it.

A rule may hand one array to several inputs (add), or return a view (reshape) or a numpy
scalar (arithmetic on 0-d arrays): the engine copies those. An array a rule made for one
input alone (a weight's ``x.T @ grad``) goes to ``.grad`` as it is: no copy per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor
from tinygrad_lite.grad_mode import Observer


class _Gradients(Observer):
    """Keeps every array a rule returned, by op name."""

    def __init__(self) -> None:
        self.returned: dict[str, tuple[Any, ...]] = {}

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        self.returned[fn.name] = input_grads


def _assert_own(*tensors: Tensor) -> None:
    arrays = [t.grad.data for t in tensors if t.grad is not None]
    assert len(arrays) == len(tensors)
    for i, a in enumerate(arrays):
        assert type(a) is np.ndarray and a.base is None and a.flags.writeable
        for b in arrays[i + 1 :]:
            assert not np.shares_memory(a, b)


def test_a_weights_gradient_is_the_array_its_rule_made() -> None:
    x = Tensor(np.ones((4, 3)))
    w = Tensor(np.full((3, 2), 0.5), requires_grad=True)
    gradients = _Gradients()
    with gradients:
        (x @ w).sigmoid().sum().backward()
    _, dw = gradients.returned["matmul"]
    assert w.grad is not None and w.grad.data is dw  # handed over, not copied


def test_one_array_given_to_two_leaves_is_copied() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    gradients = _Gradients()
    with gradients:
        (a + b).backward(Tensor([1.0, 1.0]))
    da, db = gradients.returned["add"]
    assert da is db  # add's rule hands its grad to both inputs
    _assert_own(a, b)
    a.grad.mul_(5.0)  # type: ignore[union-attr]
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])  # type: ignore[union-attr]


def test_views_and_numpy_scalars_are_copied_into_arrays() -> None:
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    s = Tensor(3.0, requires_grad=True)
    c = Tensor(2.0, requires_grad=True)
    loss = (w.reshape(2) * 2.0).sum() + s * c  # reshape's rule returns a view of its grad
    loss.backward()
    _assert_own(w, s, c)
    assert s.grad is not None and s.grad.data.shape == () and s.grad.item() == 2.0
    s.grad.add_(1.0)  # a 0-d gradient is an array that can be changed in place


def test_tl_grad_returns_arrays_of_their_own() -> None:
    da, db = tl.grad(lambda a, b: (a + b).sum(), argnums=(0, 1))(
        Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    )
    da.mul_(5.0)
    np.testing.assert_array_equal(db.numpy(), [1.0, 1.0])


class _ReturnsATensor(tl.Function):
    """out = 2*x    dx = 2*grad, returned as a Tensor (a rule may be written that way)"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return Tensor(2 * grad)


def test_a_gradient_that_is_not_an_array_becomes_one() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    _ReturnsATensor.apply(x).sum().backward()
    _assert_own(x)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])  # type: ignore[union-attr]
