"""What both seed networks share: training by gradient descent on ``sse_loss``, with
autodiff, and the model's predictions.

One step is the visible loop of every PyTorch tutorial: ``zero_grad``, forward, loss,
``backward``, ``step``. ``train`` runs it for a number of epochs on one batch, as the seed
does; ``models.single_neuron.train`` and ``models.xor_net.train`` call it with their data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim


def train(
    model: nn.Module,
    inputs: np.ndarray,
    targets: np.ndarray,
    epochs: int,
    lr: float = 1.0,
    on_epoch: Callable[[int], None] | None = None,
    compiled: bool = False,
) -> np.ndarray:
    """Gradient descent on ``sse_loss`` with autodiff, all of ``inputs`` and ``targets`` as
    one batch at every epoch (as the seed trains); returns the loss of every epoch.

    ``on_epoch(epoch)``, if given, is called after each update (the comparison uses it to
    check the weights epoch by epoch). ``compiled=True`` runs the step through
    ``tl.compile``: the same numbers to the bit, from a generated numpy program from the
    third epoch on (see ``step_function`` and docs/compile.md).
    """
    data, labels = Tensor(inputs), Tensor(targets)
    step = step_function(model, lr)
    run = tl.compile(step) if compiled else step
    losses = np.empty(epochs)
    for epoch in range(epochs):
        losses[epoch] = run(data, labels).item()
        if on_epoch is not None:
            on_epoch(epoch)
    return losses


def step_function(model: nn.Module, lr: float = 1.0) -> Callable[[Tensor, Tensor], Tensor]:
    """One training step of ``model`` with SGD(lr): ``step(inputs, targets)`` returns the
    loss before the update. The function ``train`` runs, and ``tl.compile`` records."""
    optimizer = optim.SGD(model.parameters(), lr=lr)

    def step(inputs: Tensor, targets: Tensor) -> Tensor:
        optimizer.zero_grad()
        output = model(inputs)
        loss = nn.sse_loss(output, targets)
        loss.backward()
        optimizer.step()
        return loss

    return step


def predict(model: nn.Module, inputs: object) -> np.ndarray:
    """The model's output for ``inputs`` (a nested list or array), as a numpy array."""
    with tl.no_grad():  # nothing to differentiate: record no graph
        return np.asarray(model(Tensor(inputs)).data)
