"""The elementwise primitives: each a Function with its forward, backward and jvp side by side.

Each docstring states the op's math in the code's own names: ``out`` is the result,
``grad`` the gradient of the final output with respect to ``out``, and ``dx``, ``dy`` what
the backward returns for the inputs ``x``, ``y``. Its second line is forward mode's rule:
``x_t``, ``y_t`` are the inputs' tangents and ``out_t`` what the jvp returns. Both rules use
the same local derivatives: backward multiplies them by ``grad``, jvp by the tangents.

These ops never mention broadcasting: the Tensor methods broadcast their operands with
``Expand`` first, so that the Expand's backward (a sum) is the one place where broadcasting
is undone. Everything else the Tensor offers (``sub``-free ``mean``, ``sqrt``, ``dot``,
``transpose``, the losses in ``nn``) is composed from these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, apply_to, summed

# ---------------------------------------------------------------- elementwise, two inputs


class Add(Function):
    """out = x + y    dx = grad    dy = grad
    out_t = x_t + y_t
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, grad

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(x_t, y_t)


class Sub(Function):
    """out = x - y    dx = grad    dy = -grad
    out_t = x_t - y_t
    """

    # A primitive rather than x + (-y): one node instead of two, on every loss.
    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, -grad

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(x_t, None if y_t is None else -y_t)


class Mul(Function):
    """out = x * y    dx = grad * y    dy = grad * x
    out_t = x_t * y + x * y_t
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x * y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * y, grad * x

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(None if x_t is None else x_t * y, None if y_t is None else x * y_t)


class Div(Function):
    """out = x / y    dx = grad / y    dy = -grad * out / y
    out_t = x_t / y - y_t * out / y
    """

    # A primitive rather than x * y**-1, so that the forward is numpy's correctly rounded
    # division: t / 3 equals t.data / 3 to the last bit.
    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x / y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad / y, -grad * out / y

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(None if x_t is None else x_t / y, None if y_t is None else -y_t * out / y)


class Pow(Function):
    """out = x ** y    dx = grad * (y * x ** (y - 1))    dy = grad * (out * log(x))
    out_t = x_t * (y * x ** (y - 1)) + y_t * (out * log(x))
    """

    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x**y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        dx = grad * self.slope_x(x, y)
        # log(x) is only needed (and only defined for x > 0) when the exponent needs a gradient.
        if not self.needs_input_grad[1]:
            return dx, None
        return dx, grad * self.slope_y(x, y, out)

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else x_t * self.slope_x(x, y),
            None if y_t is None else y_t * self.slope_y(x, y, out),
        )

    @staticmethod
    def slope_x(x: Any, y: Any) -> Any:
        """d out / d x = y * x ** (y - 1), with PyTorch's value 0 at x = y = 0."""
        y_values = np.asarray(y)  # the values, of an array or of a Tensor
        if y_values.ndim == 0 and y_values:  # one exponent, not 0: the usual case
            return y * x ** (y - 1)
        # Where x and y are both 0, y * x**(y-1) is 0 * inf. PyTorch's d/dx x**0 = 0 is kept
        # instead: there the exponent y - 1 becomes y - 0, so y * x**0 = 0. The mask is a
        # constant, so elsewhere the rule and its own derivatives are untouched.
        return y * x ** (y - ((np.asarray(x) != 0) | (y_values != 0)))

    @staticmethod
    def slope_y(x: Any, y: Any, out: Any) -> Any:
        """d out / d y = out * log(x), with PyTorch's value 0 at x = 0 for y >= 0."""
        # There out * log(x) is 0 * -inf: log(x) becomes log(1).
        at_zero = (np.asarray(x) == 0) & (np.asarray(y) >= 0)
        return out * apply_to(Log, x + at_zero)


# ----------------------------------------------------------------- elementwise, one input


class Neg(Function):
    """out = -x    dx = -grad
    out_t = -x_t
    """

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return -grad

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return -x_t


class Exp(Function):
    """out = exp(x)    dx = grad * out
    out_t = x_t * out
    """

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * out

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * out


class Log(Function):
    """out = log(x)    dx = grad / x
    out_t = x_t / x
    """

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad / x

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t / x


class Sigmoid(Function):
    """out = 1/(1+exp(-x))    dx = grad * (out*(1-out))
    out_t = x_t * (out*(1-out))
    """

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        # The seed's own formula, so that a network built from it reproduces the seed's
        # hand-written training bit for bit. For x < -709, exp(-x) overflows to inf and
        # the result is 1/inf = 0, the correctly rounded answer; the overflow warning
        # numpy would print is silenced around every op (grad_mode.fp_quiet).
        return 1 / (1 + np.exp(-x))

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        # The seed's `output*(1-output)`, multiplied in the seed's order. Written with out
        # rather than x, it stays finite for every x: out*(1-out) is 0 at both ends.
        return grad * (out * (1 - out))

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * (out * (1 - out))


class Tanh(Function):
    """out = tanh(x)    dx = grad * (1 - out*out)
    out_t = x_t * (1 - out*out)
    """

    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * (1 - out * out)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * (1 - out * out)


class Relu(Function):
    """out = max(x, 0)    dx = grad * (x > 0)
    out_t = x_t * (x > 0)
    """

    # At the kink x = 0 the gradient is 0, as in PyTorch.
    __slots__ = ("mask",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.maximum(x, 0)  # not x * mask, which gives -0.0 for negative x and drops NaN

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * self.mask

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * self.mask


class Abs(Function):
    """out = |x|    dx = grad * sign(x)
    out_t = x_t * sign(x)
    """

    # At the kink x = 0 the gradient is sign(0) = 0, as in PyTorch.
    __slots__ = ("sign",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * self.sign

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * self.sign


# ------------------------------------------------------------------- choosing elements


class Where(Function):
    """out = where(cond, x, y)    dx = grad * cond    dy = grad * ~cond
    out_t = where(cond, x_t, y_t)

    ``cond`` is a boolean array, a constant: each element of the result is x's where it is
    True and y's where it is False, and the gradient goes to the operand it came from.
    """

    __slots__ = ("cond",)

    def forward(self, x: np.ndarray, y: np.ndarray, cond: np.ndarray) -> np.ndarray:
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        x_needs, y_needs = self.needs_input_grad
        dx = grad * self.cond if x_needs else None
        dy = grad * ~self.cond if y_needs else None
        return dx, dy

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else x_t * self.cond,
            None if y_t is None else y_t * ~self.cond,
        )


class Maximum(Function):
    """out = maximum(x, y)    dx = grad * x_share    dy = grad * y_share
    out_t = x_t * x_share + y_t * y_share

    ``x_share`` is 1 where x > y, 0 where x < y, and 1/2 where they tie (``y_share`` the
    other way round): the gradient goes to the larger operand and is split evenly at a tie,
    as PyTorch does (and as ``max`` splits it among tied elements). Where either is nan,
    the result is nan and both operands get the whole gradient, as in PyTorch. ``minimum``
    is composed from it.
    """

    # A primitive: the composition where(x > y, x, y) would give a tie's gradient to y
    # alone, and a weighted sum x*share + y*(1-share) would turn an inf into nan.
    __slots__ = ("x_share", "y_share")

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        tie = np.where(x == y, 0.5, 1.0).astype(x.dtype)  # (1 for nan: it ties nothing)
        self.x_share = tie * ~(x < y)
        self.y_share = tie * ~(x > y)
        return np.maximum(x, y)

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * self.x_share, grad * self.y_share

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else x_t * self.x_share,
            None if y_t is None else y_t * self.y_share,
        )
