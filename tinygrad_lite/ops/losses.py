"""Fused primitives for what every training step of the seed networks runs: a Linear layer
with a bias (``Affine``) and the sum-of-squares loss (``SSELoss``), each one node where the
composition would be several, with the composition's results to the bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, run, summed
from tinygrad_lite.ops.movement import Expand


class Affine(Function):
    """out = x @ w + b    dx = grad @ w.T    dw = x.T @ grad    db = grad summed over the rows
    out_t = x_t @ w + x @ w_t + b_t (b_t added to every row)

    A Linear layer with a bias, on a batch of rows (x of shape (batch, in_features)), as one
    node rather than three: Matmul, the Expand that broadcasts b to every row, and Add. Its
    results are the three's to the bit: ``x.dot(w) + b`` adds b to each row as the Expand
    and the Add do, and the gradients are the same products and the same sum over the rows
    that Expand's rule makes. On the MLP benchmark (W3) it saves six nodes a step and a
    broadcast copy of each bias; numpy can also add b into the product in place, as in a
    hand-written ``x @ w + b``.
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

    def jvp(self, tangents: tuple[Any, Any, Any], x: Any, w: Any, b: Any, out: Any) -> Any:
        x_t, w_t, b_t = tangents
        return summed(
            None if x_t is None else x_t.dot(w),
            None if w_t is None else x.dot(w_t),
            None if b_t is None else run(Expand, b_t, shape=out.shape),
        )


class SSELoss(Function):
    """out = 0.5 * sum((target - pred)**2)    dpred = -grad * (target - pred)    dtarget = -dpred
    out_t = sum((target - pred) * (target_t - pred_t))

    ``target - pred`` is the seed's ``error``: through a sigmoid, the engine multiplies it
    by ``out*(1-out)``, the seed's ``slope``, and gets minus its ``delta``.

    One op rather than the composition 0.5 * sum(d * d) of four: every training step of the
    seed networks runs it, and as one node it saves three forward ops and three backward
    steps (about a quarter of an XOR step). The gradient is the composition's to the bit,
    signed zeros included: Mul's two halves 0.5*grad*d add up to grad*d exactly, and Sub
    negates it.
    """

    __slots__ = ()

    def forward(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        error = target - pred
        # vdot: the sum of the squares in one call (BLAS's dot product), where error*error
        # and sum() are two; on the seed's four samples it is half the time of the loss.
        return np.asanyarray(0.5 * np.vdot(error, error))  # (see ops.reductions.Sum.forward)

    def backward(self, grad: Any, pred: Any, target: Any, out: Any) -> tuple[Any, Any]:
        error = target - pred
        dtarget = grad * error if self.needs_input_grad[1] else None  # the data usually
        return -grad * error, dtarget

    def jvp(self, tangents: tuple[Any, Any], pred: Any, target: Any, out: Any) -> Any:
        pred_t, target_t = tangents
        error = target - pred
        return summed(
            None if pred_t is None else -(error * pred_t).sum(),
            None if target_t is None else (error * target_t).sum(),
        )
