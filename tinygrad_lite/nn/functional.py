"""Convolution, pooling and dropout as functions: what the layers ``Conv2d``, ``MaxPool2d``,
``AvgPool2d`` and ``Dropout`` apply, for a network written without modules.

Images are NCHW, as in PyTorch: (batch, channels, height, width). Convolution and pooling
are composed from ``ops.Im2col``, which lays out every window of the image as a row of a
matrix (the "im2col" matrix, shape (N*OH*OW, C*kh*kw)): a convolution is then one matrix
product with the weight, a pooling a max or a mean over each window's pixels. Their
backward passes come from the ops they are made of; the gradient of the image goes back
through ``Im2col``'s rule, ``ops.Col2im``, which adds each window's gradient back where the
window lay.

>>> import numpy as np
>>> from tinygrad_lite import Tensor, nn
>>> image = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
>>> nn.conv2d(image, Tensor(np.ones((1, 1, 2, 2))), stride=2)    # sums of 2x2 windows
Tensor([[[[10., 18.],
          [42., 50.]]]])
>>> nn.max_pool2d(image, 2)
Tensor([[[[ 5.,  7.],
          [13., 15.]]]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.hooks import draw
from tinygrad_lite.nn.init import check_rng
from tinygrad_lite.ops import Affine, Im2col, Matmul, MaxPool
from tinygrad_lite.ops.conv import out_size
from tinygrad_lite.shapes import short_repr
from tinygrad_lite.tensor import Tensor

Pair = tuple[int, int]

# ---------------------------------------------------------------------- convolution


@fp_quiet()
def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0
) -> Tensor:
    """out[n, o, i, j] = sum over c, di, dj of xp[n, c, i*sh + di, j*sw + dj] * weight[o, c, di, dj]
    (+ bias[o]), for x of shape (N, C, H, W) and weight of shape (O, C, kh, kw).

    ``xp`` is x with ``padding`` zeros on each side; ``stride`` and ``padding`` are an int
    or a pair (height, width). The output has shape (N, O, OH, OW), with ``OH = (H + 2*ph
    - kh) // sh + 1`` (and OW alike). Like PyTorch's, this is a cross-correlation: the
    kernel is not flipped.

    Composed: ``cols = Im2col(x)`` (N*OH*OW, C*kh*kw), then one matrix product
    ``cols @ weight.reshape(O, C*kh*kw).T`` (with the bias added, one ``Affine`` node, as a
    Linear layer), reshaped to (N, OH, OW, O) and permuted to NCHW. So ``dweight`` is
    ``cols.T @ grad`` reshaped, and ``dx`` is ``col2im(grad @ weight)``.
    """
    n, c, h, w = _image("conv2d", x).shape
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ValueError(
            f"conv2d: weight must be a Tensor of shape (out_channels, in_channels, kh, kw), "
            f"got {_describe(weight)}"
        )
    o, weight_channels, kh, kw = weight.shape
    if weight_channels != c:
        raise ValueError(
            f"conv2d: the input has {c} channels (shape {x.shape}) but the weight expects "
            f"{weight_channels} (shape {weight.shape}); accepted: x of shape (N, "
            f"{weight_channels}, H, W)"
        )
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (o,)):
        raise ValueError(
            f"conv2d: bias must be None or a Tensor of shape ({o},), one per output channel, "
            f"got {_describe(bias)}"
        )
    stride = _pair("conv2d", "stride", stride, 1)
    padding = _pair("conv2d", "padding", padding, 0)
    oh, ow = _out_shape("conv2d", x.shape, (kh, kw), stride, padding)
    cols = Im2col.apply(x, kernel=(kh, kw), stride=stride, padding=padding)
    w_cols = weight.reshape(o, c * kh * kw).T  # (C*kh*kw, O): the weight as a Linear's
    out = Matmul.apply(cols, w_cols) if bias is None else Affine.apply(cols, w_cols, bias)
    return out.reshape(n, oh, ow, o).permute(0, 3, 1, 2)


# -------------------------------------------------------------------------- pooling


@fp_quiet()
def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """out[n, c, i, j] = max of x[n, c, i*sh : i*sh + kh, j*sw : j*sw + kw], for x of shape
    (N, C, H, W); ``stride`` defaults to ``kernel_size`` (windows side by side).

    The gradient goes to each window's maximum; where pixels of a window tie, they share
    it evenly, as ``max`` does (PyTorch gives it all to one of them), and where windows
    overlap, a pixel gets the sum. Windows side by side (stride = kernel, the usual case)
    are one ``ops.MaxPool``, after cutting off the rows and columns no window covers;
    other strides are composed: ``Im2col``, then ``max`` over each window's pixels.
    """
    n, c, h, w = _image("max_pool2d", x).shape
    kernel = _pair("max_pool2d", "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair("max_pool2d", "stride", stride, 1)
    if stride != kernel:
        return _pool("max_pool2d", x, kernel, stride).max(axis=4).permute(0, 3, 1, 2)
    oh, ow = _out_shape("max_pool2d", x.shape, kernel, stride, (0, 0))
    if (oh * kernel[0], ow * kernel[1]) != (h, w):
        x = x[:, :, : oh * kernel[0], : ow * kernel[1]]
    return MaxPool.apply(x, kernel=kernel)


@fp_quiet()
def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """out[n, c, i, j] = mean of x[n, c, i*sh : i*sh + kh, j*sw : j*sw + kw], for x of shape
    (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    Composed: ``Im2col``, then ``mean`` over each window's pixels; each pixel of a window
    gets ``grad / (kh*kw)``.
    """
    return _pool("avg_pool2d", x, kernel_size, stride).mean(axis=4).permute(0, 3, 1, 2)


def _pool(op: str, x: Tensor, kernel_size: Any, stride: Any) -> Tensor:
    """The windows of a pooling, shape (N, OH, OW, C, kh*kw)."""
    n, c, h, w = _image(op, x).shape
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(op, "stride", stride, 1)
    oh, ow = _out_shape(op, x.shape, kernel, stride, (0, 0))
    cols = Im2col.apply(x, kernel=kernel, stride=stride, padding=(0, 0))
    return cols.reshape(n, oh, ow, c, kernel[0] * kernel[1])


# -------------------------------------------------------------------------- dropout


@fp_quiet()
def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: Any = None) -> Tensor:
    """out = x * keep / (1 - p), with ``keep = rng.random(x.shape) >= p``, when training;
    x itself when not (or when p is 0).

    Each element is zeroed with probability ``p`` and the others are scaled by 1/(1-p), so
    the expected value is unchanged and evaluation needs no rescaling; p = 1 zeroes every
    element. ``rng`` is a numpy Generator or RandomState (None: a fresh
    ``numpy.random.default_rng()``): the same generator, drawn in the same order, drops
    the same elements. Composed: one ``Mul`` by the constant ``keep / (1 - p)``.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: x must be a Tensor, got {type(x).__name__}")
    p = _probability("dropout", p)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"dropout: training must be True or False, got {short_repr(training)}")
    if not training or p == 0:
        return x
    rng = np.random.default_rng() if rng is None else check_rng("dropout", rng)
    # (Through the hook, which shows the draw to the observers: tl.compile records it.)
    uniform = draw("nn.dropout", rng, "random", x.shape)
    keep = (uniform >= p).astype(x.dtype)
    scale = keep / (1 - p) if p < 1 else keep  # p = 1: nothing is kept, keep is all 0
    return x * scale


# ----------------------------------------------------------------------- the checks


def _image(op: str, x: Any) -> Tensor:
    """x, checked to be a Tensor of shape (N, C, H, W)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: x must be a Tensor of shape (N, C, H, W), got {_describe(x)}")
    if x.ndim != 4:
        hint = " (for one image of shape (C, H, W), use x.unsqueeze(0))" if x.ndim == 3 else ""
        raise ValueError(
            f"{op}: x must have shape (N, C, H, W): a batch of images with channels, got "
            f"shape {x.shape}{hint}"
        )
    return x


def _check_size(layer: str, name: str, n: Any) -> None:
    """A layer's size argument (features, channels, embeddings): an int of at least 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{layer}: {name} must be an int, got {n!r}")
    if n < 1:
        raise ValueError(f"{layer}: {name} must be at least 1, got {n}")


def _pair(op: str, name: str, value: Any, least: int) -> Pair:
    """An int or a pair of ints (height, width), each at least ``least``, as a pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in pair
    ):
        raise TypeError(
            f"{op}: {name} must be an int or a pair of ints (height, width), got "
            f"{short_repr(value)}"
        )
    if min(pair) < least:
        raise ValueError(f"{op}: {name} must be at least {least}, got {short_repr(value)}")
    return int(pair[0]), int(pair[1])


def _out_shape(op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    """(OH, OW), or a clear error when the kernel does not fit the (padded) image."""
    padded = (shape[2] + 2 * padding[0], shape[3] + 2 * padding[1])
    if padded[0] < kernel[0] or padded[1] < kernel[1]:
        raise ValueError(
            f"{op}: a kernel of {kernel[0]}x{kernel[1]} does not fit an image of "
            f"{shape[2]}x{shape[3]} (padded: {padded[0]}x{padded[1]}); accepted: a kernel "
            f"no larger than the padded image"
        )
    return tuple(  # type: ignore[return-value]
        out_size(size, k, s, p) for size, k, s, p in zip(shape[2:], kernel, stride, padding)
    )


def _probability(op: str, p: Any) -> float:
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: p must be a number in [0, 1], got {short_repr(p)}")
    if not 0 <= p <= 1 or math.isnan(p):
        raise ValueError(f"{op}: p must be in [0, 1] (the probability of a zero), got {p}")
    return float(p)


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a Tensor of shape {value.shape}"
    return type(value).__name__
