"""The reductions: sum and max over axes, and softmax and log-softmax, which normalise along
one; each a Function with its backward and jvp beside it."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, apply_to
from tinygrad_lite.ops.elementwise import Exp
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
        # subclass (a KeptArray) stays itself. So in the other ops.
        return np.asanyarray(x.sum(axis=axis, keepdims=keepdim))

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        # grad has out's shape; put back the summed axes as size 1, then broadcast. A sum
        # over every axis (a loss) leaves a 0-d grad, which broadcasts as it is.
        if grad.ndim:
            grad = grad.reshape([1 if i in self.axis else n for i, n in enumerate(x.shape)])
        return apply_to(Expand, grad, shape=x.shape)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Sum, x_t, axis=self.axis, keepdim=self.keepdim)


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
        return apply_to(Sum, x_t * self.share, axis=self.axis, keepdim=self.keepdim)


# --------------------------------------------------------- normalising along one axis


def _shifted(x: np.ndarray, axis: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """z = x - max(x, axis) and s = sum(exp(z), axis), both keeping the reduced axis.

    Subtracting the maximum changes nothing in softmax's value (the factor exp(-max) cancels)
    and keeps exp from overflowing: every z <= 0, and the largest is exactly 0, so 1 <= s.
    """
    z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)  # (initial: an empty axis)
    return z, np.exp(z).sum(axis=axis, keepdims=True)


class Softmax(Function):
    """out = exp(x) / sum(exp(x), axis)    dx = out * (grad - sum(grad * out, axis))
    out_t = out * (x_t - sum(x_t * out, axis))

    Computed as ``z = x - max(x, axis); e = exp(z); out = e / sum(e, axis)``, finite for
    every finite x. ``axis`` is a tuple of one axis (or none, for a 0-d tensor, whose softmax
    is 1). The rule is the Jacobian-vector product of softmax, ``diag(out) - out outᵀ``.
    """

    __slots__ = ("axis",)

    def forward(self, x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
        self.axis = axis
        z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)  # (initial: see _shifted)
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return out * (grad - apply_to(Sum, grad * out, axis=self.axis, keepdim=True))

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        # The same product with diag(out) - out outᵀ, which is symmetric.
        (x_t,) = tangents
        return out * (x_t - apply_to(Sum, x_t * out, axis=self.axis, keepdim=True))


class LogSoftmax(Function):
    """out = x - log(sum(exp(x), axis))    dx = grad - exp(out) * sum(grad, axis)
    out_t = x_t - sum(exp(out) * x_t, axis)

    Computed as ``z = x - max(x, axis); out = z - log(sum(exp(z), axis))``, finite for every
    finite x (where log(softmax(x)) would take the log of an underflowed 0). ``exp(out)`` is
    the softmax.
    """

    __slots__ = ("axis",)

    def forward(self, x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
        self.axis = axis
        z, s = _shifted(x, axis)
        return z - np.log(s)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad - apply_to(Exp, out) * apply_to(Sum, grad, axis=self.axis, keepdim=True)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t - apply_to(Sum, apply_to(Exp, out) * x_t, axis=self.axis, keepdim=True)
