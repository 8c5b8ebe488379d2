"""Fused primitives for what nearly every training step runs: a dense layer with a bias
(``Affine``) and the sum-of-squares loss (``SSELoss``), each one node where the composition
would be several, with the composition's results to the bit; and a classifier's softmax
cross-entropy (``CrossEntropy``), whose fused rule is ``p - y``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, apply_to, summed
from tinygrad_lite.ops.matmul import matrix_product
from tinygrad_lite.ops.movement import Expand
from tinygrad_lite.ops.reductions import LogSoftmax, Softmax, Sum, _shifted


class Affine(Function):
    """out = x @ w + b    dx = grad @ w.T    dw = x.T @ grad    db = grad summed over the rows
    out_t = x_t @ w + x @ w_t + b_t (b_t added to every row)

    A dense layer with a bias, on a batch of rows (x of shape (batch, in_features)), as one
    node rather than three: Matmul, the Expand that broadcasts b to every row, and Add. Its
    results are the three's to the bit: ``x @ w + b`` adds b to each row as the Expand
    and the Add do, and the gradients are the same products and the same sum over the rows
    that Expand's rule makes. It saves two nodes a layer and a broadcast copy of b each
    step, and numpy adds b into the product in place, as in a hand-written ``x @ w + b``.
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        return matrix_product(x, w) + b  # (numpy's dot where it follows IEEE: see there)

    def backward(self, grad: Any, x: Any, w: Any, b: Any, out: Any) -> tuple[Any, Any, Any]:
        x_needs, w_needs, b_needs = self.needs_input_grad
        dx = matrix_product(grad, w.T) if x_needs else None  # the data of a first layer: skipped
        dw = matrix_product(x.T, grad) if w_needs else None
        db = grad.sum(axis=0) if b_needs else None
        return dx, dw, db

    def jvp(self, tangents: tuple[Any, Any, Any], x: Any, w: Any, b: Any, out: Any) -> Any:
        x_t, w_t, b_t = tangents
        return summed(
            None if x_t is None else matrix_product(x_t, w),
            None if w_t is None else matrix_product(x, w_t),
            None if b_t is None else apply_to(Expand, b_t, shape=out.shape),
        )


class SSELoss(Function):
    """out = 0.5 * sum((target - pred)**2)    dpred = -grad * (target - pred)    dtarget = -dpred
    out_t = sum((target - pred) * (target_t - pred_t))

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

    def jvp(self, tangents: tuple[Any, Any], pred: Any, target: Any, out: Any) -> Any:
        pred_t, target_t = tangents
        error = target - pred
        return summed(
            None if pred_t is None else -(error * pred_t).sum(),
            None if target_t is None else (error * target_t).sum(),
        )


class CrossEntropy(Function):
    """out = -sum(y * log_softmax(x)) / N    dx = (softmax(x) - y) * grad / N
    out_t = sum((softmax(x) - y) * x_t - log_softmax(x) * y_t) / N

    The loss of a classifier, with reduction="mean" (the first line above): ``x`` holds the
    logits, one row of C class scores for each of N samples; ``y`` the target, one row of C
    class probabilities for each sample, or, given as ``labels`` (N class indices, a
    constant), the rows of the one-hot matrix. In numpy, in this order (the hand-written
    backprop can repeat it to the bit)::

        z = x - max(x, axis=1, keepdims=True)
        s = sum(exp(z), axis=1, keepdims=True)
        loss = log(s)[:, 0] - z[arange(N), labels]       # class indices
        loss = sum(y * (log(s) - z), axis=1)             # class probabilities y
        out = sum(loss) / N    # reduction="mean";  sum(loss) for "sum";  loss for "none"

        p = exp(z) / sum(exp(z), axis=1, keepdims=True)  # softmax(x), as Softmax computes it
        dx = (p - onehot) * (grad / N)                   # "mean"; grad for "sum",
                                                         # grad[:, None] for "none"
        dx = (p * sum(y, axis=1, keepdims=True) - y) * (grad / N)   # probabilities y
        dy = (log(s) - z) * (grad / N)                   # = -log_softmax(x) * (grad / N)

    ``onehot`` is 1.0 at ``[i, labels[i]]`` and 0.0 elsewhere. For probabilities that sum to
    1 in each row (a one-hot row included), ``p * 1 - y`` is ``p - y`` to the bit; for other
    rows the rule stays the exact derivative of the loss, as PyTorch's does. One node rather
    than the composition ``-(y * x.log_softmax()).sum(1).mean()``: its rule is the textbook
    ``p - y``, which cannot lose the gradient of a confident prediction (where softmax rounds
    to 0 or 1) and costs one softmax.
    """

    __slots__ = ("labels", "onehot", "reduction")

    def forward(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        *,
        labels: np.ndarray | None = None,
        reduction: str,
    ) -> np.ndarray:
        self.labels, self.reduction = labels, reduction
        z, s = _shifted(x, (1,))
        log_s = np.log(s)
        if labels is not None:
            self.onehot = np.zeros_like(x)
            self.onehot[np.arange(len(x)), labels] = 1.0
            loss = log_s[:, 0] - z[np.arange(len(x)), labels]
        else:
            assert y is not None
            loss = (y * (log_s - z)).sum(axis=1)
        if reduction == "none":
            return loss
        total = np.asanyarray(loss.sum())  # (see ops.reductions.Sum.forward)
        return total / len(x) if reduction == "mean" else total

    def backward(self, grad: Any, x: Any, *target_and_out: Any) -> Any:
        if self.reduction == "mean":
            scale = grad / len(x)
        elif self.reduction == "sum":
            scale = grad
        else:
            scale = grad.reshape(len(x), 1)
        p = apply_to(Softmax, x, axis=(1,))
        if self.labels is not None:
            return (p - self.onehot) * scale
        y = target_and_out[0]
        x_needs, y_needs = self.needs_input_grad
        dx = (p * apply_to(Sum, y, axis=(1,), keepdim=True) - y) * scale if x_needs else None
        dy = -apply_to(LogSoftmax, x, axis=(1,)) * scale if y_needs else None
        return dx, dy

    def jvp(self, tangents: tuple[Any, ...], x: Any, *target_and_out: Any) -> Any:
        # The backward's two slopes, times the tangents, summed over each sample's classes.
        x_t, *target_t = tangents
        y_t = target_t[0] if target_t else None
        dx = None
        if x_t is not None:
            p = apply_to(Softmax, x, axis=(1,))
            if self.labels is not None:
                dx = (p - self.onehot) * x_t
            else:
                y = target_and_out[0]
                dx = (p * apply_to(Sum, y, axis=(1,), keepdim=True) - y) * x_t
        dy = None if y_t is None else -apply_to(LogSoftmax, x, axis=(1,)) * y_t
        loss_t = apply_to(Sum, summed(dx, dy), axis=(1,), keepdim=False)
        if self.reduction == "none":
            return loss_t
        total = apply_to(Sum, loss_t, axis=(0,), keepdim=False)
        return total / len(x) if self.reduction == "mean" else total
