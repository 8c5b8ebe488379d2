"""The seed's first network: one sigmoid neuron, three inputs, trained 10 000 epochs.

The seed's story: three friends ("Ruhua, Damei, Xiaoming") and whether a fourth
("Xiaoqiang") comes along. Here it is declared with ``nn.Sequential`` and trained with
``backward()``; ``manual_train`` keeps the seed's own hand-written loop beside it, and the
two agree bit for bit. ``python -m models.single_neuron`` trains it and compares the two.

>>> model = build(seed=1)
>>> model
Sequential(
  (0): Linear(in_features=3, out_features=1, bias=False)
  (1): Sigmoid()
)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy import array, dot, exp

from models import sgd
from models.sgd import predict  # the seed networks share it: module.predict(model, inputs)
from tinygrad_lite import nn

# The seed's data, exactly: ints, as the seed writes them (the model sees them as float64).
X = array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
y = array([[0, 1, 1, 0]]).T  # T means "transposition"
EPOCHS = 10_000


def build(seed: int = 1) -> nn.Sequential:
    """One neuron, initialised as the seed does: ``random.seed(1)``, then
    ``weights = 2*random.random((3, 1)) - 1`` (uniform in [-1, 1))."""
    random = np.random.RandomState(seed)  # the generator behind the seed's random.seed(1)
    return nn.Sequential(
        nn.Linear.from_weights(2 * random.random((3, 1)) - 1),  # weights
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


def manual_train(state: dict[str, np.ndarray], epochs: int = EPOCHS) -> dict[str, np.ndarray]:
    """The seed's own loop, its delta written by hand, updating ``state`` in place.

    ``state`` is a state dict of ``build()``'s model (``{"0.weight": weights}``), so both
    runs can start from the same weights. The seed has no learning rate: it is 1.
    """
    weights = state["0.weight"]
    for _ in range(epochs):
        output = 1 / (1 + exp(-dot(X, weights)))  # 'dot' plays the role of "dot product"
        error = y - output
        slope = output * (1 - output)
        delta = error * slope
        weights += dot(X.T, delta)
    return state


def main() -> None:
    """Train as the seed does and print what the seed prints, then the comparison with the
    seed's own loop (run in lockstep, then each timed alone)."""
    from models.compare import compare  # here, so that importing this module stays light

    result = compare(build, train, manual_train, EPOCHS, seed=1, name="single_neuron")
    model, losses = result.model, result.losses
    print(f"single neuron, seed 1, {EPOCHS} epochs of SGD(lr=1) on sse_loss:")
    print(model)
    print(f"loss: {losses[0]:.6f} at the start, {losses[-1]:.6g} at the end")
    print(repr(model[0].weight.numpy()))  # the seed prints weights ~ [9.673, -0.208, -4.630]
    print(repr(predict(model, [[1, 0, 0]])))  # the seed prints array([[0.99993704]])
    print()
    print(result.report())


if __name__ == "__main__":
    main()
