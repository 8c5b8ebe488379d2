"""The seed's second network: XOR, which one neuron cannot learn, with a hidden layer of 4.

Declared with ``nn.Sequential`` and trained with ``backward()`` for 100 000 epochs;
``manual_train`` keeps the seed's hand-written ``fp``/``bp`` beside it, and the two agree
bit for bit. ``python -m models.xor_net`` trains it and compares the two.

>>> model = build(seed=1)
>>> model
Sequential(
  (0): Linear(in_features=3, out_features=4, bias=False)
  (1): Sigmoid()
  (2): Linear(in_features=4, out_features=1, bias=False)
  (3): Sigmoid()
)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy import array, dot, exp

from models import sgd
from models.sgd import predict  # the seed networks share it: module.predict(model, inputs)
from tinygrad_lite import nn

# The seed's data, exactly. The third input is always 1: it stands in for a bias.
X = array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
y = array([[0, 1, 1, 0]]).T  # T means "transposition"
EPOCHS = 100_000


def build(seed: int = 1) -> nn.Sequential:
    """3 inputs -> 4 sigmoid units -> 1 sigmoid output, no biases, initialised as the seed
    does: ``random.seed(1)``, then ``w0 = 2*random.random((3, 4)) - 1`` and
    ``w1 = 2*random.random((4, 1)) - 1``, drawn in that order."""
    random = np.random.RandomState(seed)  # the generator behind the seed's random.seed(1)
    return nn.Sequential(
        nn.Linear.from_weights(2 * random.random((3, 4)) - 1),  # w0, input layer
        nn.Sigmoid(),
        nn.Linear.from_weights(2 * random.random((4, 1)) - 1),  # w1, hidden layer
        nn.Sigmoid(),
    )


def train(
    model: nn.Module,
    epochs: int = EPOCHS,
    lr: float = 1.0,
    on_epoch: Callable[[int], None] | None = None,
    compiled: bool = False,
) -> np.ndarray:
    """Gradient descent on ``sse_loss`` with autodiff on the seed's data; returns the loss of
    every epoch. The loop itself (zero_grad, forward, loss, backward, step) is
    ``models.sgd.train``, shared with the other seed network."""
    return sgd.train(model, X, y, epochs, lr, on_epoch, compiled)


# The seed's hand-written forward and backward passes, with its names. The seed reads w0,
# w1 and lr as globals; here they are arguments.


def fp(input: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    l1 = 1 / (1 + exp(-dot(input, w0)))  # 4x4
    l2 = 1 / (1 + exp(-dot(l1, w1)))  # 4x1
    return l1, l2


def bp(
    l1: np.ndarray, l2: np.ndarray, y: np.ndarray, w1: np.ndarray, lr: float
) -> tuple[np.ndarray, np.ndarray]:
    l2_error = y - l2
    l2_slope = l2 * (1 - l2)
    l1_delta = l2_error * l2_slope * lr  # 4x1
    l1_error = l1_delta.dot(w1.T)  # the output's error sent back through w1
    l1_slope = l1 * (1 - l1)
    l0_delta = l1_error * l1_slope * lr
    return l0_delta, l1_delta


def manual_train(
    state: dict[str, np.ndarray], epochs: int = EPOCHS, lr: float = 1.0
) -> dict[str, np.ndarray]:
    """The seed's own loop, updating ``state`` (a state dict of ``build()``'s model) in place.

    As in the seed, lr scales ``l1_delta``, which then also enters ``l0_delta``: w0 moves by
    lr**2 times its gradient, w1 by lr times its own. At the seed's lr = 1 this is plain
    gradient descent, and ``train`` matches it bit for bit; at any other lr it is not
    ``SGD(lr)`` (a test shows the lr**2).
    """
    w0, w1 = state["0.weight"], state["2.weight"]
    for _ in range(epochs):
        l0 = X
        l1, l2 = fp(l0, w0, w1)
        l0_delta, l1_delta = bp(l1, l2, y, w1, lr)
        w1 += dot(l1.T, l1_delta)  # 4x4 4x1  # adjust w1 according to loss
        w0 += dot(l0.T, l0_delta)
    return state


def main() -> None:
    """Train as the seed does and print what the seed prints, then the comparison with the
    seed's own loop (run in lockstep, then each timed alone)."""
    from models.compare import compare  # here, so that importing this module stays light

    result = compare(build, train, manual_train, EPOCHS, seed=1, name="xor_net")
    model, losses = result.model, result.losses
    print(f"XOR net, seed 1, {EPOCHS} epochs of SGD(lr=1) on sse_loss:")
    print(model)
    print(f"loss: {losses[0]:.6f} at the start, {losses[-1]:.6g} at the end")
    print(repr(predict(model, [[1, 0, 0]])))  # the seed prints array([[0.54443872]])
    print(repr(model[0].weight.numpy()))  # w0
    print(repr(model[2].weight.numpy()))  # w1
    print()
    print(result.report())


if __name__ == "__main__":
    main()
