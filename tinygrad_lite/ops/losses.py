"""Fused primitives for what nearly every training step runs: a dense layer with a bias
(``Affine``) and the sum-of-squares loss (``SSELoss``), each one node where the composition
would be several, with the composition's results to the bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function


class Affine(Function):
    """out = x @ w + b    dx = grad @ w.T    dw = x.T @ grad    db = grad summed over the rows

    A dense layer with a bias, on a batch of rows (x of shape (batch, in_features)), as one
    node rather than three: Matmul, the Expand that broadcasts b to every row, and Add. Its
    results are the three's to the bit: ``x.dot(w) + b`` adds b to each row as the Expand
    and the Add do, and the gradients are the same products and the same sum over the rows
    that Expand's rule makes. It saves two nodes a layer and a broadcast copy of b each
    step, and numpy adds b into the product in place, as in a hand-written ``x @ w + b``.
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        return x.dot(w) + b  # (dot: see ops.Matmul)

    def backward(self, grad: Any, x: Any, w: Any, b: Any, out: Any) -> tuple[Any, Any, Any]:
        x_needs, w_needs, b_needs = self.needs_input_grad
        dx = grad.dot(w.T) if x_needs else None  # the data, for a first layer: skipped
        dw = x.T.dot(grad) if w_needs else None
        db = grad.sum(axis=0) if b_needs else None
        return dx, dw, db


class SSELoss(Function):
    """out = 0.5 * sum((target - pred)**2)    dpred = -grad * (target - pred)    dtarget = -dpred

    ``target - pred`` is the seed's ``error``: through a sigmoid, the engine multiplies it
    by ``out*(1-out)``, the seed's ``slope``, and gets minus its ``delta``.

    One op rather than the composition 0.5 * sum(d * d) of four, because every training
    step runs it: as one node it saves three forward ops and three backward steps
    (docs/performance.md). The gradient is the composition's to the bit,
    signed zeros included: Mul's two halves 0.5*grad*d add up to grad*d exactly, and Sub
    negates it.
    """

    __slots__ = ()

    def forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        error = target - pred
        # vdot: the sum of the squares in one call (BLAS's dot product), where error*error
        # and sum() are two.
        return np.asanyarray(0.5 * np.vdot(error, error))  # (see ops.reductions.Sum.forward)

    def backward(self, grad: Any, pred: Any, target: Any, out: Any) -> tuple[Any, Any]:
        error = target - pred
        dtarget = grad * error if self.needs_input_grad[1] else None  # the data usually
        return -grad * error, dtarget
