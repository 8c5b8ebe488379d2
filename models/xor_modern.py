"""XOR as one would write it today: biases, a tanh hidden layer, logits, cross-entropy, Adam.

The seed's XOR net fakes its biases with a constant third input, squashes with sigmoids
and descends the squared error with plain gradient descent for 100 000 epochs. Here the
layers carry their own biases (so the inputs are just the two bits), the hidden layer is
tanh (zero-centred, steeper), the output is a logit scored by
``binary_cross_entropy_with_logits`` (stable, and its gradient does not vanish when the
output saturates), and Adam adapts the step per weight: a few hundred epochs suffice,
from any seed tried (300 of them reach 100% accuracy and a loss below 0.01 in under 150).

>>> model = build(seed=0)
>>> losses = train(model)
>>> bool(losses[-1] < 0.01), accuracy(model)
(True, 1.0)
"""

from __future__ import annotations

import numpy as np

from tinygrad_lite import Tensor, nn, no_grad, optim

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])  # the seed's XOR inputs, without the constant 1
y = np.array([[0, 1, 1, 0]]).T
EPOCHS = 500


def build(seed: int = 0, hidden: int = 8) -> nn.Sequential:
    """2 inputs -> ``hidden`` tanh units -> 1 logit, PyTorch's default init from ``seed``."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, hidden, rng=rng),
        nn.Tanh(),
        nn.Linear(hidden, 1, rng=rng),
    )


def train(model: nn.Module, epochs: int = EPOCHS, lr: float = 0.05) -> np.ndarray:
    """Adam on binary cross-entropy with logits; returns the loss of every epoch."""
    inputs, targets = Tensor(X), Tensor(y)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = np.empty(epochs)
    for epoch in range(epochs):
        optimizer.zero_grad()
        logits = model(inputs)
        loss = nn.binary_cross_entropy_with_logits(logits, targets)
        loss.backward()
        optimizer.step()
        losses[epoch] = loss.item()
    return losses


def predict(model: nn.Module, inputs: object) -> np.ndarray:
    """The probability of a 1 for each row of ``inputs``: sigmoid of the logit."""
    with no_grad():
        return np.asarray(model(Tensor(inputs)).sigmoid().data)


def accuracy(model: nn.Module) -> float:
    """The fraction of the four XOR cases the model gets right (probability > 0.5 means 1)."""
    return float(((predict(model, X) > 0.5) == (y == 1)).mean())


def main() -> None:
    model = build(seed=0)
    print(model)
    losses = train(model)
    print(f"{EPOCHS} epochs of Adam(lr=0.05) on binary_cross_entropy_with_logits:")
    print(f"loss: {losses[0]:.6f} at the start, {losses[-1]:.3g} at the end")
    print(f"accuracy: {accuracy(model):.0%}")
    for row, p in zip(X.tolist(), predict(model, X)[:, 0]):
        print(f"  {row[0]} xor {row[1]} -> {p:.4f}")


if __name__ == "__main__":
    main()
