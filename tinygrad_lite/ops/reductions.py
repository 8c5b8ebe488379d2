"""The reductions: sum and max over axes, each a Function with its backward and jvp beside it."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, run
from tinygrad_lite.ops.movement import Expand

# ------------------------------------------------------------------------------ reductions


class Sum(Function):
    """out = sum(x, axis)    dx = grad, broadcast back over the summed axes
    out_t = sum(x_t, axis)
    """

    __slots__ = ("axis", "keepdim")

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.axis = axis
        self.keepdim = keepdim
        # asanyarray: a full sum gives a numpy scalar, which becomes a 0-d array; an ndarray
        # subclass (tl.compile's Traced) stays itself. So in the rest of this file.
        return np.asanyarray(x.sum(axis=axis, keepdims=keepdim))

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        # grad has out's shape; put back the summed axes as size 1, then broadcast. A sum
        # over every axis (a loss) leaves a 0-d grad, which broadcasts as it is.
        if grad.ndim:
            grad = grad.reshape([1 if i in self.axis else n for i, n in enumerate(x.shape)])
        return run(Expand, grad, shape=x.shape)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return run(Sum, x_t, axis=self.axis, keepdim=self.keepdim)


class Max(Function):
    """out = max(x, axis)    dx = grad * (x == out) / count(x == out)
    out_t = sum(x_t * (x == out) / count(x == out), axis)

    The gradient goes to the maximum; where several elements tie, they share it evenly, and
    the tangent is the mean of theirs (the same derivative, so that both modes agree).
    """

    __slots__ = ("kept_shape", "share", "axis", "keepdim")

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.axis = axis
        self.keepdim = keepdim
        kept = x.max(axis=axis, keepdims=True)
        # A NaN maximum came from the NaNs, so the gradient goes to them.
        is_max = (x == kept) | (np.isnan(x) & np.isnan(kept))
        self.share = is_max.astype(x.dtype)
        self.share /= self.share.sum(axis=axis, keepdims=True)
        self.kept_shape = kept.shape
        if keepdim:
            return kept
        return kept.reshape([n for i, n in enumerate(kept.shape) if i not in axis])

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad.reshape(self.kept_shape) * self.share

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return run(Sum, x_t * self.share, axis=self.axis, keepdim=self.keepdim)
