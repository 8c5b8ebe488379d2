"""The elementwise primitives: each a Function with its forward, backward and jvp side by side.

Each docstring states the op's math in the code's own names: ``out`` is the result,
``grad`` the gradient of the final output with respect to ``out``, and ``dx``, ``dy`` what
the backward returns for the inputs ``x``, ``y``. Its second line is forward mode's rule:
``x_t``, ``y_t`` are the inputs' tangents and ``out_t`` what the jvp returns. Both rules use
the same local derivatives: backward multiplies them by ``grad``, jvp by the tangents.

These ops never mention broadcasting: the Tensor methods broadcast their operands with
``Expand`` first, so that the Expand's backward (a sum) is the one place where broadcasting
is undone. Everything else the Tensor offers (``sub``-free ``mean``, ``dot``,
``transpose``, the losses in ``nn``) is composed from these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_lite.function import Function, apply_to, summed, values

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
    """out = x / y    dx = grad / y    dy = -grad * (out / y)
    out_t = x_t / y - y_t * (out / y)
    """

    # A primitive rather than x * y**-1, so that the forward is numpy's correctly rounded
    # division: t / 3 equals t.data / 3 to the last bit.
    __slots__ = ()

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x / y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        # out / y first, as PyTorch: -grad * out could overflow where out / y does not.
        return grad / y, -grad * (out / y)

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
        """d out / d x = y * x ** (y - 1), with PyTorch's value 0 wherever y is 0."""
        y_values = values(y)
        if y_values.ndim == 0 and y_values:  # one exponent, not 0: the usual case
            return y * x ** (y - 1)
        # Where y is 0, y * x**(y-1) is 0 * x**-1, which is nan where x**-1 is not finite:
        # at x = 0, at a subnormal x (whose inverse overflows), at nan. PyTorch's d/dx x**0
        # = 0 is kept there instead: the exponent y - 1 becomes y - 0, so y * x**0 = 0.
        # The mask is a constant, so elsewhere (y = 0 included) the rule and its own
        # derivatives are untouched: d/dy of the slope at y = 0 is still 1/x.
        finite = np.isfinite(1 / values(x))
        return y * x ** (y - ((y_values != 0) | finite))

    @staticmethod
    def slope_y(x: Any, y: Any, out: Any) -> Any:
        """d out / d y = out * log(x), with PyTorch's value 0 at x = 0 for y >= 0."""
        # There out * log(x) is 0 * -inf: log(x) becomes log(1).
        at_zero = (values(x) == 0) & (values(y) >= 0)
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


class Sqrt(Function):
    """out = sqrt(x)    dx = grad / (2 * out)
    out_t = x_t / (2 * out)
    """

    # A primitive rather than x ** 0.5: the rule written with out is PyTorch's, nan wherever
    # the value is (below 0, -inf included), where the power's rule gives 0.5 * (-inf)**-0.5
    # = 0; and np.sqrt is one correctly rounded call.
    __slots__ = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad / (2 * out)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t / (2 * out)


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


def zero_where(mask: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.where(mask, 0, x)``, bit for bit, without a branch per element.

    np.where tests each element and jumps; on a mask that changes from call to call, as
    relu's does from batch to batch, the processor guesses about half of those jumps wrong,
    and the guesses cost more than the arithmetic. Here the mask becomes integers as wide
    as x's elements, mask - 1: all zeros where it is True, all ones (-1) where it is False,
    and x's bits are ANDed with them: +0.0 where masked, x's own bits elsewhere (nan, inf
    and -0.0 included).
    """
    bits = np.dtype(f"i{x.dtype.itemsize}")
    return np.bitwise_and(x.view(bits), np.subtract(mask, 1, dtype=bits)).view(x.dtype)


class Relu(Function):
    """out = max(x, 0)    dx = 0 where out == 0, else grad
    out_t = 0 where out == 0, else x_t
    """

    # PyTorch's values and rule. x < 0 decides, so relu(-0.0) = -0.0 and relu(nan) = nan
    # (np.maximum would leave the sign of a zero to the CPU's instruction). The gradient
    # passes where out is not 0, so it is 0 at the kink x = 0 and passes at NaN (relu'(nan)
    # = 1), and it is selected rather than multiplied by a mask: an infinite or nan gradient
    # where out is 0 gives 0, not nan.
    __slots__ = ("mask",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = zero_where(x < 0, x)
        self.mask = out == 0
        return out

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(Masked, grad, mask=self.mask)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Masked, x_t, mask=self.mask)


class Masked(Function):
    """out = 0 where mask, else x    dx = 0 where mask, else grad
    out_t = 0 where mask, else x_t
    """

    # relu's rule: a selection with a constant mask, differentiable again. The mask is True
    # where an element is masked out, as in numpy.ma. Unlike x * ~mask, an inf or nan where
    # the mask is True gives 0.
    __slots__ = ("mask",)

    def forward(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.mask = mask
        return zero_where(mask, x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(Masked, grad, mask=self.mask)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Masked, x_t, mask=self.mask)


class Abs(Function):
    """out = |x|    dx = grad * sign(x)
    out_t = x_t * sign(x)
    """

    # At the kink x = 0 the gradient is sign(0) = 0, and at NaN it is 0 too, as in PyTorch
    # (np.sign(nan) is nan): sign(x) = (x > 0) - (x < 0).
    __slots__ = ("sign",)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.sign = np.subtract(x > 0, x < 0, dtype=x.dtype)
        return np.abs(x)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * self.sign

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t * self.sign


# ------------------------------------------------------------------- choosing elements


class Where(Function):
    """out = where(cond, x, y)    dx = grad where cond, else 0    dy = grad where ~cond, else 0
    out_t = where(cond, x_t, y_t)

    ``cond`` is a boolean array, a constant: each element of the result is x's where it is
    True and y's where it is False, and the gradient goes to the operand it came from.
    """

    __slots__ = ("cond",)

    def forward(self, x: np.ndarray, y: np.ndarray, cond: np.ndarray) -> np.ndarray:
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        # Selected, not multiplied by the condition: an inf or nan gradient where the
        # element did not come from x (or y) gives it 0, as in PyTorch (see Masked).
        x_needs, y_needs = self.needs_input_grad
        dx = apply_to(Masked, grad, mask=~self.cond) if x_needs else None
        dy = apply_to(Masked, grad, mask=self.cond) if y_needs else None
        return dx, dy

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else apply_to(Masked, x_t, mask=~self.cond),
            None if y_t is None else apply_to(Masked, y_t, mask=self.cond),
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
        # grad * share where the share is not 0, and 0 (not inf * 0) where it is, as
        # PyTorch's rule selects (see Masked)
        dx = apply_to(Masked, grad * self.x_share, mask=self.x_share == 0)
        dy = apply_to(Masked, grad * self.y_share, mask=self.y_share == 0)
        return dx, dy

    def jvp(self, tangents: tuple[Any, Any], x: Any, y: Any, out: Any) -> Any:
        x_t, y_t = tangents
        return summed(
            None if x_t is None else apply_to(Masked, x_t * self.x_share, mask=self.x_share == 0),
            None if y_t is None else apply_to(Masked, y_t * self.y_share, mask=self.y_share == 0),
        )


# ---------------------------------------------------------------------------------- dtype


class Cast(Function):
    """out = x.astype(dtype)    dx = grad.astype(x.dtype)
    out_t = x_t.astype(dtype)
    """

    # A float32 input gets a float32 gradient even from float64 arithmetic (the engine casts
    # each gradient to its input's dtype with this), and a 0-d float64 tensor meeting a
    # float32 one with dimensions is cast to float32 first (PyTorch's rule).
    __slots__ = ()

    def forward(self, x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)  # a copy, to its own dtype too

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad.astype(x.dtype)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t.astype(out.dtype)
