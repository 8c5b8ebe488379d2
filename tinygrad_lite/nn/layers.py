"""Layers, each a Module: Linear and Conv2d, the pooling layers, Flatten, Dropout, the
elementwise activations and Softmax and LogSoftmax."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.nn import init
from tinygrad_lite.nn.functional import (
    _check_size,
    _pair,
    _probability,
    avg_pool2d,
    conv2d,
    dropout,
    max_pool2d,
)
from tinygrad_lite.nn.module import Module
from tinygrad_lite.ops import Affine, Matmul
from tinygrad_lite.tensor import Tensor

# ----------------------------------------------------------------------------- layers


class Linear(Module):
    """out = x @ weight + bias, with weight of shape (in_features, out_features).

    The weight is stored as (in_features, out_features), the transpose of PyTorch's
    layout, so that the forward is the seed's ``dot(X, w)``: the same numpy matmul on the
    same operands, which reproduces the seed's numbers bit for bit. The gradients are
    ``weight.grad = x.T @ grad`` (the seed's ``dot(X.T, delta)``) and
    ``bias.grad = grad.sum(0)``.

    Default init, as PyTorch's: weight and bias from U[-1/sqrt(in_features),
    1/sqrt(in_features)), drawn (weight first) from ``rng``, a numpy Generator or
    RandomState; ``rng=None`` takes a fresh ``numpy.random.default_rng()``. For exact
    values, use ``Linear.from_weights(weight, bias)``.
    """

    weight: Tensor
    bias: Tensor | None

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, rng: Any = None
    ) -> None:
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            _check_size("Linear", name, n)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {bias!r}")
        rng = np.random.default_rng() if rng is None else init.check_rng("Linear", rng)
        bound = 1.0 / math.sqrt(in_features)
        weight = init.uniform((in_features, out_features), -bound, bound, rng=rng)
        self._set(weight, init.uniform((out_features,), -bound, bound, rng=rng) if bias else None)

    @classmethod
    def from_weights(cls, weight: Any, bias: Any = None) -> Linear:
        """A Linear layer holding exactly these values (copied): weight of shape
        (in_features, out_features), bias of shape (out_features,) or None for no bias.

        >>> Linear.from_weights([[1.0], [2.0]])
        Linear(in_features=2, out_features=1, bias=False)
        """
        layer = cls.__new__(cls)
        layer._set(weight, bias)
        return layer

    def _set(self, weight: Any, bias: Any) -> None:
        weight = Tensor(weight, requires_grad=True)
        if weight.ndim != 2 or 0 in weight.shape:
            raise ValueError(
                f"Linear: weight must be 2-D (in_features, out_features), got shape {weight.shape}"
            )
        self.in_features, self.out_features = weight.shape
        self.weight = weight
        self.bias = None if bias is None else Tensor(bias, requires_grad=True, dtype=weight.dtype)
        if self.bias is not None and self.bias.shape != (self.out_features,):
            raise ValueError(
                f"Linear: bias must have shape ({self.out_features},) to fit a weight of shape "
                f"{weight.shape}, got {self.bias.shape}"
            )

    def forward(self, x: Any) -> Tensor:
        if isinstance(x, Tensor) and x.data.shape[1:] == (self.in_features,):
            # A batch of rows, the usual input: one node, without the general matmul's
            # handling of 1-D and batched operands.
            if self.bias is None:
                return Matmul.apply(x, self.weight)
            return Affine.apply(x, self.weight, self.bias)
        out: Tensor = x @ self.weight  # an array or list x is taken as a constant
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """out = conv2d(x, weight, bias, stride, padding): a 2-D convolution over NCHW images.

    ``weight`` has PyTorch's shape (out_channels, in_channels, kh, kw) and ``bias``
    (out_channels,); see ``nn.conv2d``. ``kernel_size``, ``stride`` and ``padding`` are an
    int or a pair (height, width).

    Default init, as PyTorch's (``kaiming_uniform`` with ``a = sqrt(5)``): weight and bias
    from U[-b, b) with ``b`` about ``1/sqrt(fan_in)``, ``fan_in = in_channels * kh * kw``,
    drawn (weight first) from ``rng``, a numpy Generator or RandomState; ``rng=None`` takes
    a fresh ``numpy.random.default_rng()``.
    """

    weight: Tensor
    bias: Tensor | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        bias: bool = True,
        rng: Any = None,
    ) -> None:
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            _check_size("Conv2d", name, n)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Conv2d: bias must be True or False, got {bias!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding = _pair("Conv2d", "padding", padding, 0)
        rng = np.random.default_rng() if rng is None else init.check_rng("Conv2d", rng)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        weight = init.kaiming_uniform(shape, a=math.sqrt(5), rng=rng)  # PyTorch's default
        self.weight = Tensor(weight, requires_grad=True)
        self.bias = None
        if bias:
            bound = 1 / math.sqrt(init.fan_in_and_fan_out(shape)[0])
            values = init.uniform((self.out_channels,), -bound, bound, rng=rng)
            self.bias = Tensor(values, requires_grad=True)

    def forward(self, x: Any) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(Module):
    """out = max_pool2d(x, kernel_size, stride): the maximum of each window (see
    ``nn.max_pool2d``); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None) -> None:
        self.kernel_size = _pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = (
            self.kernel_size if stride is None else _pair("MaxPool2d", "stride", stride, 1)
        )

    def forward(self, x: Any) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(Module):
    """out = avg_pool2d(x, kernel_size, stride): the mean of each window (see
    ``nn.avg_pool2d``); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: Any, stride: Any = None) -> None:
        self.kernel_size = _pair("AvgPool2d", "kernel_size", kernel_size, 1)
        self.stride = (
            self.kernel_size if stride is None else _pair("AvgPool2d", "stride", stride, 1)
        )

    def forward(self, x: Any) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Flatten(Module):
    """out = x.flatten(start_dim, end_dim); by default every axis but the first (the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        for name, axis in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"Flatten: {name} must be an int, got {axis!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """out = dropout(x, p, training, rng): in training mode, each element zeroed with
    probability ``p`` and the others scaled by 1/(1-p); in evaluation mode (``eval()``),
    x itself. Draws from ``rng`` (a numpy Generator or RandomState, kept by the layer; None:
    a fresh ``numpy.random.default_rng()``)."""

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        self.p = _probability("Dropout", p)
        self.rng = np.random.default_rng() if rng is None else init.check_rng("Dropout", rng)

    def forward(self, x: Any) -> Tensor:
        return dropout(x, self.p, training=self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Softmax(Module):
    """out = x.softmax(axis): along ``axis``, positive numbers that sum to 1."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = _axis("Softmax", axis)

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).softmax(self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """out = x.log_softmax(axis): the log of the softmax, finite for every finite x."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = _axis("LogSoftmax", axis)

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).log_softmax(self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Sigmoid(Module):
    """out = 1/(1+exp(-x)), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).sigmoid()


class ReLU(Module):
    """out = max(x, 0), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).relu()


class Tanh(Module):
    """out = tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return _tensor(x).tanh()


def _tensor(x: Any) -> Tensor:
    """x itself if it is a Tensor, else x as a constant Tensor (which checks what x is)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _axis(layer: str, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{layer}: axis must be an int, got {axis!r}")
    return int(axis)
