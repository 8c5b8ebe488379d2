"""Sliding windows: the primitives behind convolution and pooling.

``Im2col`` lays every window of an image out as a row of a matrix, so that a convolution
is one matrix product with the kernels and a pooling a reduction over each row's elements.
Its backward is ``Col2im``, which adds each row back where its window lay; and the
backward of ``Col2im`` is ``Im2col``, so both can be differentiated any number of times.
``MaxPool`` is the common max pooling, windows side by side that tile the image, without
the im2col copy: the image's own memory, seen as windows, and a maximum across them.

Images are NCHW: (batch, channels, height, width). A window is ``kernel = (kh, kw)``
pixels, windows start every ``stride = (sh, sw)`` pixels, and the image is first padded
with ``padding = (ph, pw)`` zeros on each side; so there are ``OH = (H + 2*ph - kh) // sh
+ 1`` rows of windows and ``OW`` columns (the last pixels are left out when the strides
do not divide evenly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lite.function import Function, apply_to

Pair = tuple[int, int]


def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many windows fit along one axis: (size + 2*padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


class Im2col(Function):
    """out[(n, i, j), (c, di, dj)] = xp[n, c, i*sh + di, j*sw + dj]    dx = col2im(grad)
    out_t = im2col(x_t)

    ``xp`` is x padded with zeros. The result has one row per window, in the order (n, i,
    j), and one column per pixel of a window, in the order (c, di, dj): shape (N*OH*OW,
    C*kh*kw), the "im2col" matrix. A convolution's weight of shape (O, C, kh, kw),
    reshaped to (O, C*kh*kw), multiplies it from the right, transposed.
    """

    __slots__ = ("in_shape", "kernel", "stride", "padding")

    def forward(self, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
        self.in_shape, self.kernel, self.stride, self.padding = x.shape, kernel, stride, padding
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        if ph or pw:  # zeros with x inside: np.pad's result, without its Python overhead
            n, c, h, w = x.shape
            padded = np.zeros_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))
            padded[:, :, ph : ph + h, pw : pw + w] = x
            x = padded
        # A view, copying nothing: windows[n, c, i, j] is the window at row i, column j.
        windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
        n, c, oh, ow = windows.shape[:4]
        # The one copy: the windows laid out as rows (n, i, j) of pixels (c, di, dj).
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(
            Col2im,
            grad,
            shape=self.in_shape,
            kernel=self.kernel,
            stride=self.stride,
            padding=self.padding,
        )

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents  # linear: the tangent takes the value's path
        return apply_to(Im2col, x_t, kernel=self.kernel, stride=self.stride, padding=self.padding)


class Col2im(Function):
    """out = zeros(shape), with each row of x added where its window lies    dx = im2col(grad)
    out_t = col2im(x_t)

    The adjoint of ``Im2col``: x has the im2col layout, shape (N*OH*OW, C*kh*kw), and the
    result is an image of ``shape`` (N, C, H, W). Where windows overlap (a stride smaller
    than the kernel), their pixels add up; pixels that no window covers stay 0, and so does
    the padding, which is cut off.
    """

    __slots__ = ("kernel", "stride", "padding")

    def forward(
        self, x: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair
    ) -> np.ndarray:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        (n, c, h, w), (kh, kw), (sh, sw), (ph, pw) = shape, kernel, stride, padding
        oh, ow = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
        windows = x.reshape(n, oh, ow, c, kh, kw)
        out = np.zeros_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))
        # One loop step per pixel of the window (kh * kw of them), each adding that pixel
        # of every window at once: pixel (di, dj) of window (i, j) lies at
        # (i*sh + di, j*sw + dj), so it covers rows di, di + sh, ..., di + (oh-1)*sh.
        for di in range(kh):
            for dj in range(kw):
                rows = slice(di, di + (oh - 1) * sh + 1, sh)
                columns = slice(dj, dj + (ow - 1) * sw + 1, sw)
                covered = out[:, :, rows, columns]  # a view: += adds into out
                covered += windows[:, :, :, :, di, dj].transpose(0, 3, 1, 2)
        return out[:, :, ph : ph + h, pw : pw + w] if ph or pw else out

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return apply_to(Im2col, grad, kernel=self.kernel, stride=self.stride, padding=self.padding)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents  # linear: the tangent takes the value's path
        return apply_to(
            Col2im,
            x_t,
            shape=out.shape,
            kernel=self.kernel,
            stride=self.stride,
            padding=self.padding,
        )


class MaxPool(Function):
    """out = max(windows, axis=(3, 5))    dx = (grad * inverse)[..., None, :, None] * is_max
    out_t = sum(windows_t * is_max, axis=(3, 5)) * inverse

    For windows side by side that tile the image (stride = kernel, H and W multiples of
    the kernel): ``windows = x.reshape(N, C, OH, kh, OW, kw)`` is x itself, seen as a grid
    of windows, so ``windows[n, c, i, di, j, dj] = x[n, c, i*kh + di, j*kw + dj]``
    (``windows_t`` alike for x_t, and dx is reshaped back to x's shape). The
    maximum is taken pixel by pixel of the window (``np.maximum`` of kh*kw views), which
    numpy does fast in any memory layout, where a reduction over a short axis is slow.

    ``is_max`` marks the pixels equal to their window's maximum, and ``inverse`` is
    1 / (how many they are) for each window: the gradient goes to the maximum, and where
    pixels tie they share it evenly, as ``Max`` does (a NaN maximum came from the NaNs,
    which get it). ``grad * inverse`` is ``Max``'s ``grad * share`` at the maxima, to the
    bit, without an array of shares as large as the image.
    """

    __slots__ = ("is_max", "inverse")

    def forward(self, x: np.ndarray, kernel: Pair) -> np.ndarray:
        (n, c, h, w), (kh, kw) = x.shape, kernel
        windows = x.reshape(n, c, h // kh, kh, w // kw, kw)  # a view: splits two axes
        pixels = [windows[:, :, :, di, :, dj] for di in range(kh) for dj in range(kw)]
        out = np.maximum(pixels[0], pixels[-1])  # (a 1x1 kernel: the pixel itself)
        for pixel in pixels[1:-1]:
            np.maximum(out, pixel, out=out)
        # A NaN pixel makes its window's maximum NaN (np.maximum propagates it): the NaNs
        # are the maxima there, and np.isnan(windows) finds them.
        self.is_max = windows == out[:, :, :, None, :, None]
        self.is_max |= np.isnan(windows)
        # How many pixels equal the maximum, counted in x's dtype (the arrays here keep
        # x's memory layout, so that the elementwise calls run through memory in order).
        ties = np.zeros_like(out)
        for di in range(kh):
            for dj in range(kw):
                ties += self.is_max[:, :, :, di, :, dj]
        self.inverse = np.divide(1, ties, out=ties)
        return out

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        n, c, oh, ow = out.shape
        grad = _laid_out_like(grad, out) * self.inverse
        return (grad.reshape(n, c, oh, 1, ow, 1) * self.is_max).reshape(x.shape)

    def jvp(self, tangents: tuple[Any], x: Any, out: Any) -> Any:
        (x_t,) = tangents
        windows_t = x_t.reshape(self.is_max.shape)
        # (an array's or a Tensor's sum)
        return (windows_t * self.is_max).sum(axis=(3, 5)) * self.inverse


def _laid_out_like(grad: Any, like: np.ndarray) -> Any:
    """grad (the same numbers) in the memory layout of ``like``, which x's layout gave ``out``
    and ``is_max``: numpy multiplies two arrays laid out alike in one pass through memory,
    and arrays laid out differently far slower. A Tensor (under create_graph) as it is."""
    if not isinstance(grad, np.ndarray):
        return grad
    copy = np.empty_like(like)
    np.copyto(copy, grad)
    return copy
