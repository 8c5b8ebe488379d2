"""Handwritten digits by a multilayer perceptron: 64 pixels -> 256 ReLU units -> 10 scores.

The 8x8 digits shipped with the package (``models.digits``), learned with softmax
cross-entropy by mini-batch SGD with momentum. ``manual_train`` beside it is the same
network with its backward pass written out in numpy (the deltas of a ReLU MLP under
softmax cross-entropy, and momentum's update), fed the same batches from the same
generator: the two runs agree bit for bit after every step.
``python -m models.digits_mlp`` trains it and compares the two.

>>> model = build(seed=0)
>>> model
Sequential(
  (0): Linear(in_features=64, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy import dot, exp, maximum

from models import digits, minibatch
from models.minibatch import accuracy, predict  # noqa: F401 (module.accuracy(model, ...))
from tinygrad_lite import nn, optim

PIXELS = 64  # inputs: the 8x8 image, row by row
INPUT_SHAPE = (PIXELS,)  # of one sample
HIDDEN = 256
EPOCHS = 20
LR = 0.1
MOMENTUM = 0.9
BATCH_SIZE = 32


def build(seed: int = 0, hidden: int = HIDDEN) -> nn.Sequential:
    """64 inputs -> ``hidden`` ReLU units -> 10 logits, with nn.Linear's default init
    (PyTorch's U(+-1/sqrt(in_features)), weight then bias, layer by layer) drawn from
    ``numpy.random.RandomState(seed)``, as a TOML network's ``init = "default"``."""
    rng = np.random.RandomState(seed)
    return nn.Sequential(
        nn.Linear(PIXELS, hidden, rng=rng),
        nn.ReLU(),
        nn.Linear(hidden, digits.N_CLASSES, rng=rng),
    )


def make_optimizer(model: nn.Module, lr: float = LR, momentum: float = MOMENTUM) -> optim.SGD:
    """SGD with momentum over the model's parameters: ``v = momentum*v + grad``, then
    ``p -= lr * v`` (``optim.SGD``; v starts as the first gradient)."""
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def steps_per_epoch(batch_size: int = BATCH_SIZE) -> int:
    """Updates in an epoch: one per batch, the last one smaller (1438 = 44*32 + 30)."""
    return math.ceil(digits.N_TRAIN / batch_size)


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
        model, optimizer, split.x_train, split.y_train, epochs, batch_size, rng, on_step
    )


# ------------------------------------------------------------------------- by hand
# The same network with its derivatives written out, in the order the ops compute them,
# so that every rounding is the same: nn.Linear's forward is x.dot(w) + b (ops.Affine),
# ReLU's is maximum(z, 0), and the loss's backward is cross_entropy's fused rule.


def fp(
    x: np.ndarray, w0: np.ndarray, b0: np.ndarray, w1: np.ndarray, b1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward: the hidden layer before and after ReLU, and the logits."""
    z0 = dot(x, w0) + b0
    h = maximum(z0, 0)
    logits = dot(h, w1) + b1
    return z0, h, logits


def bp(
    x: np.ndarray,
    labels: np.ndarray,
    z0: np.ndarray,
    h: np.ndarray,
    logits: np.ndarray,
    w1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward: the gradients of the mean cross-entropy for w0, b0, w1, b1.

    The loss of one row is ``-log(softmax(logits)[label])``; its gradient for the logits is
    ``softmax(logits) - onehot(label)`` (docs/tutorial.md derives it), divided by the rows
    of the batch for the mean. Back through the second layer, through ReLU (a unit passes
    the gradient on where it was positive), and through the first layer.
    """
    n = len(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)  # softmax, safe from overflow
    e = exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(p)
    onehot[np.arange(n), labels] = 1.0
    d_logits = (p - onehot) * (1.0 / n)
    dw1 = dot(h.T, d_logits)
    db1 = d_logits.sum(axis=0)
    dh = dot(d_logits, w1.T)
    dz0 = dh * (z0 > 0)
    dw0 = dot(x.T, dz0)
    db0 = dz0.sum(axis=0)
    return dw0, db0, dw1, db1


def manual_steps(
    state: dict[str, np.ndarray],
    epochs: int = EPOCHS,
    lr: float = LR,
    momentum: float = MOMENTUM,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
) -> Iterator[int]:
    """The hand-written training, updating ``state`` (a state dict of ``build()``'s model)
    in place; yields the number of each step after its update, so that a comparison can
    look at the weights between steps."""
    split = digits.load_split()
    weights = [state[name] for name in ("0.weight", "0.bias", "2.weight", "2.bias")]

    def gradients(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
        z0, h, logits = fp(x, *weights)
        return bp(x, labels, z0, h, logits, weights[2])

    return minibatch.manual_sgd(
        gradients, weights, split.x_train, split.y_train, epochs, lr, momentum, batch_size, seed
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
    print(f"train accuracy: {accuracy(model, split.x_train, split.y_train):.2%}")
    print(f"test accuracy: {accuracy(model, split.x_test, split.y_test):.2%}")
    print(
        f"the hand-written twin, compared after each of the {steps} steps: "
        f"{'bit-identical' if differing == 0 else f'different after {differing} steps'}"
    )


if __name__ == "__main__":
    main()
