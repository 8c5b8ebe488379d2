"""Large networks for the explainer's tests, built from the layers that exist today: a
recurrence unrolled over 25 steps (the char-RNN's shape) and a deep MLP (the digits
networks' depth and more)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygrad_lite import Tensor, nn, optim


class Cell(nn.Module):
    """h' = tanh(x @ W_ih + b + h @ W_hh): one step of a recurrence."""

    def __init__(self, inputs: int, hidden: int, rng: np.random.Generator) -> None:
        self.ih = nn.Linear(inputs, hidden, rng=rng)
        self.hh = nn.Linear(hidden, hidden, bias=False, rng=rng)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        return (self.ih(x) + self.hh(h)).tanh()


class Recurrence(nn.Module):
    """The cell applied at every step of a sequence, then a readout of the last state."""

    def __init__(self, inputs: int, hidden: int, outputs: int, rng: np.random.Generator) -> None:
        self.hidden = hidden
        self.cell = Cell(inputs, hidden, rng)
        self.out = nn.Linear(hidden, outputs, rng=rng)

    def forward(self, xs: Tensor) -> Tensor:
        h = Tensor.zeros(xs.shape[1], self.hidden)
        for t in range(xs.shape[0]):
            h = self.cell(xs[t], h)
        return self.out(h)


Network = tuple[Callable[[], Tensor], nn.Module, optim.Optimizer]


def recurrence(steps: int = 25, hidden: int = 16, seed: int = 0) -> Network:
    """A character-level recurrence: one-hot characters in, the next one's scores out."""
    rng = np.random.default_rng(seed)
    vocabulary, batch = 8, 2
    xs = Tensor(np.eye(vocabulary)[rng.integers(0, vocabulary, (steps, batch))])
    target = Tensor(np.eye(vocabulary)[rng.integers(0, vocabulary, batch)])
    model = Recurrence(vocabulary, hidden, vocabulary, rng)
    return (lambda: nn.mse_loss(model(xs), target)), model, optim.SGD(model.parameters(), 0.1)


def deep_mlp(layers: int = 30, width: int = 32, seed: int = 0) -> Network:
    """``layers`` Linear + ReLU pairs on a batch of 8, then a Linear to 10 classes."""
    rng = np.random.default_rng(seed)
    stack: list[nn.Module] = []
    for _ in range(layers):
        stack += [nn.Linear(width, width, rng=rng), nn.ReLU()]
    model = nn.Sequential(*stack, nn.Linear(width, 10, rng=rng))
    inputs, y = Tensor(rng.normal(size=(8, width))), Tensor(rng.normal(size=(8, 10)))
    return (lambda: nn.mse_loss(model(inputs), y)), model, optim.SGD(model.parameters(), 0.01)
