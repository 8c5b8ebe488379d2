"""Matrix multiplication, the primitive behind ``@``, ``matmul`` and ``dot``."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from tinygrad_lite.function import Function, summed

# ------------------------------------------------------------------------------- matmul


class Matmul(Function):
    """out = x @ y    dx = grad @ y.mT    dy = x.mT @ grad
    out_t = x_t @ y + x @ y_t

    For operands of two or more dimensions whose batch dimensions broadcast (the Tensor
    method expands an operand that needs a gradient, and handles 1-D operands); ``mT``
    swaps the last two axes. Matrices take :func:`matrix_product`.
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if x.ndim == 2 == y.ndim and x.size != 1 != y.size:
            return x.dot(y)  # matrix_product, written out on the hot path
        return x @ y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        # (the flags read directly: needs_input_grad builds a list, and this is every step)
        inputs: Any = self.inputs  # (a node whose rule runs is not freed: the engine checked)
        x_needs, y_needs = inputs[0].requires_grad, inputs[1].requires_grad
        # The data operand of a layer (X in X @ W) needs no gradient: skip its matmul.
        if x.ndim == 2 == y.ndim:
            dx = matrix_product(grad, y.T) if x_needs else None
            dy = matrix_product(x.T, grad) if y_needs else None
        else:
            dx = grad @ y.mT if x_needs else None
            dy = x.mT @ grad if y_needs else None
        return dx, dy

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        product = matrix_product if x.ndim == 2 == y.ndim else operator.matmul
        return summed(
            None if x_t is None else product(x_t, y),
            None if y_t is None else product(x, y_t),
        )


def matrix_product(x: Any, y: Any) -> Any:
    """x @ y for two matrices (arrays, or Tensors under create_graph), by numpy's ``dot``
    wherever that follows IEEE.

    ``dot`` is the seed's own call (np.dot(X, w), np.dot(X.T, delta)) and quicker than ``@``
    on small arrays (docs/performance.md). But for an operand of one element, numpy's dot
    scales the other operand by it with BLAS's axpy, which skips a scale of 0 altogether:
    nan * 0 and inf * 0 come out 0 instead of nan. ``@`` (numpy's matmul) multiplies every
    pair, and takes those products; with one element on one side each result is a single
    product, so the two agree on every other value (up to the sign of a zero).
    """
    if x.size != 1 != y.size:
        return x.dot(y)
    return x @ y
