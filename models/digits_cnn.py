"""Handwritten digits by a small convolutional network: Conv2d -> ReLU -> MaxPool2d ->
Flatten -> Linear.

32 filters of 3x3 slide over each 8x8 image (padded by one pixel, so 32 maps of 8x8),
ReLU, a 2x2 max pooling halves each map to 4x4, and a Linear layer reads the 32*4*4 = 512
values as 10 class scores; softmax cross-entropy, mini-batch SGD with momentum, as
``models.digits_mlp``. ``manual_train`` beside it is the same network with its backward
pass written out in numpy: the convolution as a matrix product over the image's windows
(``im2col``), its gradient by the same product transposed, and the pooling's gradient sent
back to each window's maximum and put back in place with ``col2im``. Fed the same batches,
the two runs agree bit for bit after every step: the hand-written pass makes the numpy
calls the ops make, on arrays laid out as theirs are (a sum over rows adds in memory order,
so the layout decides its last bit). ``python -m models.digits_cnn`` trains it and
compares the two.

>>> model = build(seed=0)
>>> model
Sequential(
  (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
  (1): ReLU()
  (2): MaxPool2d(kernel_size=(2, 2), stride=(2, 2))
  (3): Flatten(start_dim=1, end_dim=-1)
  (4): Linear(in_features=512, out_features=10, bias=True)
)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy import dot, exp, maximum
from numpy.lib.stride_tricks import sliding_window_view

from models import digits, minibatch
from models.minibatch import accuracy, predict  # noqa: F401 (module.accuracy(model, ...))
from tinygrad_lite import nn, optim

INPUT_SHAPE = (1, 8, 8)  # of one sample: channels, height, width
CHANNELS = 32  # filters of the convolution
KERNEL = 3
POOL = 2
EPOCHS = 20
LR = 0.1
MOMENTUM = 0.9
BATCH_SIZE = 32


def build(seed: int = 0, channels: int = CHANNELS) -> nn.Sequential:
    """The network, with PyTorch's default init for each layer (weight then bias, layer by
    layer) drawn from ``numpy.random.RandomState(seed)``."""
    rng = np.random.RandomState(seed)
    side = INPUT_SHAPE[1] // POOL  # 8x8 maps (padding 1 keeps the size), pooled to 4x4
    return nn.Sequential(
        nn.Conv2d(INPUT_SHAPE[0], channels, KERNEL, padding=KERNEL // 2, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(POOL),
        nn.Flatten(),
        nn.Linear(channels * side * side, digits.N_CLASSES, rng=rng),
    )


def make_optimizer(model: nn.Module, lr: float = LR, momentum: float = MOMENTUM) -> optim.SGD:
    """SGD with momentum over the model's parameters, as ``models.digits_mlp``'s."""
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def steps_per_epoch(batch_size: int = BATCH_SIZE) -> int:
    """Updates in an epoch: one per batch, the last one smaller."""
    return math.ceil(digits.N_TRAIN / batch_size)


def images(rows: np.ndarray) -> np.ndarray:
    """Rows of 64 pixels as a batch of 8x8 images of one channel, NCHW."""
    return rows.reshape(-1, *INPUT_SHAPE)


def train(
    model: nn.Module,
    epochs: int = EPOCHS,
    lr: float = LR,
    momentum: float = MOMENTUM,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
    on_step: Callable[[], None] | None = None,
) -> np.ndarray:
    """Mini-batch SGD with momentum on ``nn.cross_entropy`` over the training digits of the
    fixed split, in batches shuffled by ``numpy.random.default_rng(seed)``; returns the mean
    loss of each epoch. ``on_step()`` is called after each step."""
    split = digits.load_split()
    optimizer = make_optimizer(model, lr, momentum)
    rng = np.random.default_rng(seed)
    return minibatch.train(
        model, optimizer, images(split.x_train), split.y_train, epochs, batch_size, rng, on_step
    )


# ------------------------------------------------------------------------- by hand


def im2col(x: np.ndarray, kernel: int, stride: int, padding: int) -> np.ndarray:
    """Every kernel x kernel window of the images x (N, C, H, W) as a row of a matrix.

    ``cols[(n, i, j), (c, di, dj)] = xp[n, c, i*stride + di, j*stride + dj]``, xp being x
    padded with zeros: shape (N*OH*OW, C*kernel*kernel). A convolution is then one matrix
    product, ``cols @ w.reshape(O, -1).T``: each window against each filter.
    """
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(x, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kernel * kernel)


def col2im(
    cols: np.ndarray, shape: tuple[int, ...], kernel: int, stride: int, padding: int
) -> np.ndarray:
    """The way back: an image of ``shape`` (N, C, H, W), each row of ``cols`` added where its
    window lies (overlapping windows add up; the padding is cut off)."""
    n, c, h, w = shape
    oh = (h + 2 * padding - kernel) // stride + 1
    ow = (w + 2 * padding - kernel) // stride + 1
    windows = cols.reshape(n, oh, ow, c, kernel, kernel)
    out = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for di in range(kernel):  # pixel (di, dj) of every window at once
        for dj in range(kernel):
            rows = slice(di, di + (oh - 1) * stride + 1, stride)
            columns = slice(dj, dj + (ow - 1) * stride + 1, stride)
            out[:, :, rows, columns] += windows[:, :, :, :, di, dj].transpose(0, 3, 1, 2)
    return out[:, :, padding : padding + h, padding : padding + w] if padding else out


def fp(
    x: np.ndarray, wc: np.ndarray, bc: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Forward: the convolution's windows and output, the pooling's windows and the share
    of each pixel in its window's maximum, the flattened maps, the logits."""
    n, channels = len(x), len(wc)
    cols = im2col(x, KERNEL, 1, KERNEL // 2)  # (N*8*8, 9): a row per window
    z_rows = dot(cols, wc.reshape(channels, -1).T) + bc  # (N*8*8, O): every window, filter
    z = z_rows.reshape(n, 8, 8, channels).transpose(0, 3, 1, 2)  # (N, O, 8, 8), NCHW
    a = maximum(z, 0)
    pool_rows = im2col(a, POOL, POOL, 0)  # (N*4*4, O*4): a row per position, all channels
    windows = pool_rows.reshape(n, 4, 4, channels, POOL * POOL)
    pooled = windows.max(axis=4, keepdims=True)
    # The gradient of a max goes to the maximum; pixels that tie share it evenly.
    share = (windows == pooled).astype(float)
    share /= share.sum(axis=4, keepdims=True)
    flat = pooled.reshape(n, 4, 4, channels).transpose(0, 3, 1, 2).reshape(n, -1)  # (c, i, j)
    logits = dot(flat, w) + b
    return cols, z, share, flat, logits


def bp(
    labels: np.ndarray,
    cols: np.ndarray,
    z: np.ndarray,
    share: np.ndarray,
    flat: np.ndarray,
    logits: np.ndarray,
    wc: np.ndarray,
    w: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward: the gradients of the mean cross-entropy for wc, bc, w, b."""
    n, channels = len(labels), len(wc)
    # The loss: softmax(logits) - onehot, over the rows of the batch (digits_mlp.bp).
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(p)
    onehot[np.arange(n), labels] = 1.0
    d_logits = (p - onehot) * (1.0 / n)
    # The Linear layer.
    dw = dot(flat.T, d_logits)
    db = d_logits.sum(axis=0)
    d_flat = dot(d_logits, w.T)
    # The pooling: each position's gradient to its window's maximum, windows back in place.
    d_pooled = d_flat.reshape(n, channels, 4, 4).transpose(0, 2, 3, 1)  # (N, 4, 4, O)
    d_windows = d_pooled.reshape(n, 4, 4, channels, 1) * share
    d_a = col2im(d_windows.reshape(n * 16, channels * POOL * POOL), z.shape, POOL, POOL, 0)
    # ReLU: the gradient passes where the convolution's output was positive.
    d_z = d_a * (z > 0)
    # The convolution: the gradient of cols @ wc_matrix.T, as a Linear layer's.
    d_z_rows = d_z.transpose(0, 2, 3, 1).reshape(-1, channels)  # (N*8*8, O)
    dwc = dot(cols.T, d_z_rows).T.reshape(wc.shape)
    dbc = d_z_rows.sum(axis=0)
    return dwc, dbc, dw, db


def conv_input_gradient(
    d_z_rows: np.ndarray, wc: np.ndarray, shape: tuple[int, ...], padding: int = KERNEL // 2
) -> np.ndarray:
    """The gradient of a convolution's input, which this network does not need (its input
    is the data), for a layer deeper in a network: ``d_cols = d_z_rows @ wc_matrix``, each
    window's gradient, then ``col2im`` adds the windows back where they lay."""
    d_cols = dot(d_z_rows, wc.reshape(len(wc), -1))
    return col2im(d_cols, shape, KERNEL, 1, padding)


def manual_steps(
    state: dict[str, np.ndarray],
    epochs: int = EPOCHS,
    lr: float = LR,
    momentum: float = MOMENTUM,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> Iterator[int]:
    """The hand-written training, updating ``state`` (a state dict of ``build()``'s model)
    in place; yields the number of each step after its update."""
    split = digits.load_split()
    weights = [state[name] for name in ("0.weight", "0.bias", "4.weight", "4.bias")]

    def gradients(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
        cols, z, share, flat, logits = fp(x, *weights)
        return bp(labels, cols, z, share, flat, logits, weights[0], weights[2])

    return minibatch.manual_sgd(
        gradients,
        weights,
        images(split.x_train),
        split.y_train,
        epochs,
        lr,
        momentum,
        batch_size,
        seed,
    )


def manual_train(
    state: dict[str, np.ndarray],
    epochs: int = EPOCHS,
    lr: float = LR,
    momentum: float = MOMENTUM,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``manual_steps`` run to the end; returns ``state``, trained."""
    for _ in manual_steps(state, epochs, lr, momentum, batch_size, seed):
        pass
    return state


def main() -> None:
    """Train with the defaults beside the hand-written twin, step by step, and report the
    accuracy and whether the two stayed bit-identical."""
    model = build(seed=0)
    steps, differing = minibatch.lockstep(model, train, manual_steps, EPOCHS)
    split = digits.load_split()
    print(model)
    print(f"{EPOCHS} epochs of SGD(lr={LR}, momentum={MOMENTUM}), batches of {BATCH_SIZE}:")
    print(f"train accuracy: {accuracy(model, images(split.x_train), split.y_train):.2%}")
    print(f"test accuracy: {accuracy(model, images(split.x_test), split.y_test):.2%}")
    print(
        f"the hand-written twin, compared after each of the {steps} steps: "
        f"{'bit-identical' if differing == 0 else f'different after {differing} steps'}"
    )


if __name__ == "__main__":
    main()
