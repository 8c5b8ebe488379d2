"""Matrix multiplication, the primitive behind ``@``, ``matmul`` and ``dot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, summed

# ------------------------------------------------------------------------------- matmul


class Matmul(Function):
    """out = x @ y    dx = grad @ y.mT    dy = x.mT @ grad
    out_t = x_t @ y + x @ y_t

    For operands of two or more dimensions whose batch dimensions broadcast (the Tensor
    method expands an operand that needs a gradient, and handles 1-D operands); ``mT``
    swaps the last two axes.
    """

    __slots__ = ()

    # For matrices, ``dot``: the seed's own call (np.dot(X, w), np.dot(X.T, delta)), and
    # quicker than ``@`` on small arrays (docs/performance.md). Arrays and Tensors both have
    # it; numpy's dot differs from matmul beyond 2-D, so batches take ``@``.

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return product(x, y)

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        x_needs, y_needs = self.needs_input_grad
        # The data operand of a layer (X in X @ W) needs no gradient: skip its matmul.
        if x.ndim == 2 == y.ndim:
            dx = grad.dot(y.T) if x_needs else None
            dy = x.T.dot(grad) if y_needs else None
        else:
            dx = grad @ y.mT if x_needs else None
            dy = x.mT @ grad if y_needs else None
        return dx, dy

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else product(x_t, y),
            None if y_t is None else product(x, y_t),
        )


def product(x: Any, y: Any) -> Any:
    """x @ y, with numpy's dot for two matrices (see Matmul), arrays or Tensors."""
    return x.dot(y) if x.ndim == 2 == y.ndim else x @ y
