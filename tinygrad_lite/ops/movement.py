"""Shape and movement primitives: broadcast, reshape, permute, index, their backwards and jvps.

A tangent moves as its value does: each jvp applies the op's own forward to the tangent.

``Expand`` is the one place where broadcasting is undone: binary ops expand their operands
with it before they meet, and its backward sums the gradient back to the operand's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.function import Function, apply_to

# ------------------------------------------------------------------- shape and movement


class Expand(Function):
    """out = x broadcast to shape    dx = grad summed over the broadcast axes
    out_t = x_t broadcast to shape

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

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Expand, x_t, shape=out.shape)


class Reshape(Function):
    """out = x.reshape(shape)    dx = grad.reshape(x.shape)
    out_t = x_t.reshape(shape)
    """

    __slots__ = ("in_shape",)

    def forward(self, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        self.in_shape = x.shape
        return x.reshape(shape)  # numpy's view where it can (see Tensor._view)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad.reshape(self.in_shape)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return x_t.reshape(out.shape)


class Permute(Function):
    """out = x with its axes reordered by order    dx = grad with the inverse order
    out_t = x_t with its axes reordered by order
    """

    __slots__ = ("order", "inverse")

    def forward(self, x: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
        self.order = order
        self.inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
        return x.transpose(order)  # a view (see Tensor._view)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(Permute, grad, order=self.inverse)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Permute, x_t, order=self.order)


class Index(Function):
    """out = x[index]    dx = zeros like x, with grad added at index (repeats accumulate)
    out_t = x_t[index]
    """

    __slots__ = ("index", "in_shape")

    def forward(self, x: np.ndarray, index: Any) -> np.ndarray:
        self.index = index
        self.in_shape = x.shape
        return np.array(x[index], subok=True)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(IndexAdd, grad, index=self.index, shape=self.in_shape)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(Index, x_t, index=self.index)


class IndexAdd(Function):
    """out = zeros(shape), with x added at index    dx = grad[index]
    out_t = zeros(shape), with x_t added at index

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
        return apply_to(Index, grad, index=self.index)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        return apply_to(IndexAdd, x_t, index=self.index, shape=out.shape)


class Cat(Function):
    """out = concatenate(xs, axis)    dxs = grad cut back into the inputs' pieces along axis
    out_t = concatenate(xs_t, axis), with zeros for an input without a tangent

    Takes any number of inputs, of one shape but for their sizes along ``axis``.
    """

    __slots__ = ("axis", "bounds")

    def forward(self, *xs: np.ndarray, axis: int) -> np.ndarray:
        self.axis = axis
        ends = np.cumsum([x.shape[axis] for x in xs]).tolist()
        self.bounds = list(zip([0] + ends[:-1], ends))
        return np.concatenate(xs, axis=axis)

    def backward(self, grad: Any, *xs_and_out: Any) -> tuple[Any, ...]:
        before = (slice(None),) * self.axis  # the axes in front of the cut
        return tuple(
            grad[before + (slice(start, end),)] if needs else None
            for (start, end), needs in zip(self.bounds, self.needs_input_grad)
        )

    def jvp(self, tangents: tuple[Any, ...], *xs_and_out: Any) -> Any:
        xs = xs_and_out[:-1]
        pieces = [
            np.zeros(x.shape, dtype=x.dtype) if t is None else t for t, x in zip(tangents, xs)
        ]
        given = [t for t in tangents if t is not None and not isinstance(t, np.ndarray)]
        if not given:  # arrays: the plain forward
            return Cat().forward(*pieces, axis=self.axis)
        # Tensors, to be differentiated: the zeros become constants of the same kind.
        tensor_type: Any = type(given[0])
        tensors = [tensor_type._from_op(p) if isinstance(p, np.ndarray) else p for p in pieces]
        return Cat.apply(*tensors, axis=self.axis)
