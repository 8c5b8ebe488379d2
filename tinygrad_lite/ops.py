"""The primitive operations: each a Function with its forward and its backward side by side.

Each docstring states the op's math in the code's own names: ``out`` is the result,
``grad`` the gradient of the final output with respect to ``out``, and ``dx``, ``dy`` what
the backward returns for the inputs ``x``, ``y``.

These ops never mention broadcasting: the Tensor methods broadcast their operands with
``Expand`` first, so that the Expand's backward (a sum) is the one place where broadcasting
is undone. Everything else the Tensor offers (``sub``-free ``mean``, ``sqrt``, ``dot``,
``transpose``, the losses in ``nn``) is composed from these.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.function import Function, run

# ---------------------------------------------------------------- elementwise, two inputs


class Add(Function):
    """out = x + y    dx = grad    dy = grad"""

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, grad


class Sub(Function):
    """out = x - y    dx = grad    dy = -grad"""

    # A primitive rather than x + (-y): one node instead of two, on every loss.
    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, -grad


class Mul(Function):
    """out = x * y    dx = grad * y    dy = grad * x"""

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x * y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * y, grad * x


class Div(Function):
    """out = x / y    dx = grad / y    dy = -grad * out / y"""

    # A primitive rather than x * y**-1, so that the forward is numpy's correctly rounded
    # division: t / 3 equals t.data / 3 to the last bit.
    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x / y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad / y, -grad * out / y


class Pow(Function):
    """out = x ** y    dx = grad * (y * x ** (y - 1))    dy = grad * (out * log(x))"""

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x**y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        y_values = np.asarray(y)  # the values, of an array or of a Tensor (create_graph)
        if y_values.ndim == 0 and y_values:  # one exponent, not 0: the usual case
            dx = grad * (y * x ** (y - 1))
        else:
            # Where x and y are both 0, y * x**(y-1) is 0 * inf. PyTorch's d/dx x**0 = 0 is
            # kept instead: there the exponent y - 1 becomes y - 0, so y * x**0 = 0. The mask
            # is a constant, so elsewhere the rule and its own derivatives are untouched.
            dx = grad * (y * x ** (y - ((np.asarray(x) != 0) | (y_values != 0))))
        # log(x) is only needed (and only defined for x > 0) when the exponent needs a gradient.
        if not self.needs_input_grad[1]:
            return dx, None
        # d/dy 0**y = 0 for y >= 0 (PyTorch's value, where out * log(x) is 0 * -inf): log(x)
        # becomes log(1) there.
        at_zero = (np.asarray(x) == 0) & (y_values >= 0)
        return dx, grad * (out * run(Log, x + at_zero))


# ----------------------------------------------------------------- elementwise, one input


class Neg(Function):
    """out = -x    dx = -grad"""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return -grad


class Exp(Function):
    """out = exp(x)    dx = grad * out"""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * out


class Log(Function):
    """out = log(x)    dx = grad / x"""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad / x


class Sigmoid(Function):
    """out = 1/(1+exp(-x))    dx = grad * (out*(1-out))"""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        # The seed's own formula, so that a network built from it reproduces the seed's
        # hand-written training bit for bit. For x < -709, exp(-x) overflows to inf and
        # the result is 1/inf = 0, the correctly rounded answer; the overflow warning
        # numpy would print is silenced around every op (mode.fp_quiet).
        return 1 / (1 + np.exp(-x))

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        # The seed's `output*(1-output)`, multiplied in the seed's order. Written with out
        # rather than x, it stays finite for every x: out*(1-out) is 0 at both ends.
        return grad * (out * (1 - out))


class Tanh(Function):
    """out = tanh(x)    dx = grad * (1 - out*out)"""

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * (1 - out * out)


class Relu(Function):
    """out = max(x, 0)    dx = grad * (x > 0)"""

    # At the kink x = 0 the gradient is 0, as in PyTorch.
    __slots__ = ("mask",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.maximum(x, 0)  # not x * mask, which gives -0.0 for negative x and drops NaN

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * self.mask


class Abs(Function):
    """out = |x|    dx = grad * sign(x)"""

    # At the kink x = 0 the gradient is sign(0) = 0, as in PyTorch.
    __slots__ = ("sign",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * self.sign


# ------------------------------------------------------------------------------ reductions


class Sum(Function):
    """out = sum(x, axis)    dx = grad, broadcast back over the summed axes"""

    __slots__ = ("axis",)

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdim: bool) -> np.ndarray:
        self.axis = axis
        # asanyarray: a full sum gives a numpy scalar, which becomes a 0-d array; an ndarray
        # subclass (tl.compile's Traced) stays itself. So in the rest of this file.
        return np.asanyarray(x.sum(axis=axis, keepdims=keepdim))

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        # grad has out's shape; put back the summed axes as size 1, then broadcast. A sum
        # over every axis (a loss) leaves a 0-d grad, which broadcasts as it is.
        if grad.ndim:
            grad = grad.reshape([1 if i in self.axis else n for i, n in enumerate(x.shape)])
        return run(Expand, grad, shape=x.shape)


class Max(Function):
    """out = max(x, axis)    dx = grad * (x == out) / count(x == out)

    The gradient goes to the maximum; where several elements tie, they share it evenly.
    """

    __slots__ = ("kept_shape", "share")

    def forward(self, x: np.ndarray, axis: tuple[int, ...], keepdim: bool) -> np.ndarray:
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


# ------------------------------------------------------------------- shape and movement


class Expand(Function):
    """out = x broadcast to shape    dx = grad summed over the broadcast axes

    The one place where broadcasting is undone: binary ops expand their operands with this
    before they meet, and this backward sums the gradient back to the operand's shape.
    """

    __slots__ = ("in_shape",)

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return np.broadcast_to(x, shape)  # a read-only view: no copying (see Tensor._view)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        lead = grad.ndim - len(self.in_shape)
        stretched = tuple(i + lead for i, n in enumerate(self.in_shape) if n == 1)
        summed = grad.sum(axis=tuple(range(lead)) + stretched) if lead or stretched else grad
        return summed.reshape(self.in_shape)


class Reshape(Function):
    """out = x.reshape(shape)    dx = grad.reshape(x.shape)"""

    __slots__ = ("in_shape",)

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(shape)  # numpy's view where it can (see Tensor._view)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad.reshape(self.in_shape)


class Permute(Function):
    """out = x with its axes reordered by order    dx = grad with the inverse order"""

    __slots__ = ("inverse",)

    def forward(self, x: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
        self.inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return x.transpose(order)  # a view (see Tensor._view)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return run(Permute, grad, order=self.inverse)


class Index(Function):
    """out = x[index]    dx = zeros like x, with grad added at index (repeats accumulate)"""

    __slots__ = ("index", "in_shape")

    def forward(self, x: np.ndarray, index: Any) -> np.ndarray:
        self.index = index
        self.in_shape = x.shape
        return np.array(x[index], subok=True)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return run(IndexAdd, grad, index=self.index, shape=self.in_shape)


class IndexAdd(Function):
    """out = zeros(shape), with x added at index    dx = grad[index]

    The backward of Index, as an op of its own so that it can be differentiated again.
    """

    __slots__ = ("index",)

    def forward(self, x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        self.index = index
        if len(shape) > 32 or x.ndim > 32:
            # np.add.at crashes the interpreter on arrays of more than 32 dimensions (numpy
            # 2.4). Scatter through flat positions instead; bincount adds repeats the same way.
            positions = np.arange(math.prod(shape)).reshape(shape)[index]
            weights = np.broadcast_to(x, positions.shape).ravel()
            flat = np.bincount(positions.ravel(), weights, minlength=math.prod(shape))
            return flat.reshape(shape).astype(x.dtype, copy=False)
        out = np.zeros_like(x, shape=shape, order="C")  # np.zeros, asking an ndarray subclass
        np.add.at(out, index, x)  # unlike out[index] += x, adds every repeat of an index
        return out

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return run(Index, grad, index=self.index)


# ------------------------------------------------------------------------------- matmul


class Matmul(Function):
    """out = x @ y    dx = grad @ y.mT    dy = x.mT @ grad

    For operands of two or more dimensions whose batch dimensions broadcast (the Tensor
    method expands an operand that needs a gradient, and handles 1-D operands); ``mT``
    swaps the last two axes.
    """

    __slots__ = ()

    # For matrices, ``dot`` is the seed's own call (np.dot(X, w), np.dot(X.T, delta)), and
    # numpy's fastest: about 0.15 us less than ``@`` per call on the seed's small arrays.
    # Arrays and Tensors both have it; numpy's dot differs from matmul beyond 2-D, so
    # batches take ``@``.

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x.dot(y) if x.ndim == 2 == y.ndim else x @ y

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
