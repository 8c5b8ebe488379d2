"""Layers: Linear and the elementwise activations, each a Module."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.nn import init
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
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise TypeError(f"Linear: {name} must be an int, got {n!r}")
            if n < 1:
                raise ValueError(f"Linear: {name} must be at least 1, got {n}")
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
