"""What the digit classifiers share: mini-batch training with autodiff, and their accuracy.

One step is the loop of every PyTorch tutorial (zero_grad, forward, loss, backward, step),
run on each batch of an epoch that ``tl.data.batches`` draws from an explicit generator:
the same generator in the same state gives the same batches, which is how the
hand-written twins of ``models.digits_mlp`` and ``models.digits_cnn`` see the very same
rows in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim
from tinygrad_lite.grad_mode import fp_quiet

LossFunction = Callable[[Tensor, Tensor], Tensor]


def train(
    model: nn.Module,
    optimizer: optim.Optimizer,
    inputs: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    on_step: Callable[[], None] | None = None,
    loss_fn: LossFunction = nn.cross_entropy,
) -> np.ndarray:
    """``epochs`` passes over ``inputs`` and ``labels`` in shuffled mini-batches; returns the
    mean loss of each epoch (``train_epoch``)."""
    losses = np.empty(epochs)
    with fp_quiet():  # one np.errstate for the whole run, not one per call inside it
        for epoch in range(epochs):
            losses[epoch] = train_epoch(
                model, optimizer, inputs, labels, batch_size, rng, on_step, loss_fn
            )
    return losses


def train_epoch(
    model: nn.Module,
    optimizer: optim.Optimizer,
    inputs: Any,
    targets: Any,
    batch_size: int,
    rng: np.random.Generator,
    on_step: Callable[[], None] | None = None,
    loss_fn: LossFunction = nn.cross_entropy,
) -> float:
    """One epoch: an optimizer step on each batch of ``tl.data.batches(inputs, targets,
    batch_size=batch_size, rng=rng)``, in training mode. Returns the epoch's loss: the mean
    over its samples of the loss each batch had before its own step. ``on_step()``, if
    given, is called after each step (a comparison checks the weights there)."""
    model.train()
    total = 0.0
    for x, y in tl.data.batches(inputs, targets, batch_size=batch_size, rng=rng):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(x.data)
        if on_step is not None:
            on_step()
    return total / len(inputs)


def predict(model: nn.Module, inputs: Any) -> np.ndarray:
    """The class each row of ``inputs`` is given (the largest output), in evaluation mode
    and without a graph; the model's mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with tl.no_grad():
            return np.asarray(model(Tensor(inputs)).data.argmax(axis=1))
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, inputs: Any, labels: Any) -> float:
    """The fraction of the rows of ``inputs`` whose class ``predict`` gets right."""
    return float((predict(model, inputs) == np.asarray(labels)).mean())


def lockstep(
    model: nn.Module,
    train: Callable[..., np.ndarray],
    manual_steps: Callable[..., Any],
    epochs: int,
    seed: int = 0,
) -> tuple[int, int]:
    """``train(model, epochs, seed=seed, on_step=...)`` and, on a copy of the model's
    weights, the hand-written ``manual_steps(state, epochs, seed=seed)``, one step of each
    in turn; after each, every weight is compared with its twin by its bytes. Returns the
    number of steps and the number after which some weight differed. (``tinygrad-lite
    compare`` does the same and reports the differences.)"""
    state = model.state_dict()  # copies: the twin starts where the model does
    twin = manual_steps(state, epochs, seed=seed)
    named = model.named_parameters()
    steps = differing = 0

    def check() -> None:
        nonlocal steps, differing
        next(twin)
        steps += 1
        if any(p.data.tobytes() != state[name].tobytes() for name, p in named):
            differing += 1

    train(model, epochs, seed=seed, on_step=check)
    return steps, differing


def manual_sgd(
    gradients: Callable[[np.ndarray, np.ndarray], Sequence[np.ndarray]],
    weights: list[np.ndarray],
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int,
    lr: float,
    momentum: float,
    batch_size: int,
    seed: int,
) -> Iterator[int]:
    """Mini-batch SGD with momentum by hand, as ``optim.SGD`` and ``tl.data.batches`` do it:
    each epoch a permutation of the rows from ``np.random.default_rng(seed)``, cut into
    batches; ``gradients(x, labels)`` gives one gradient per array of ``weights`` (the
    twin's own backward), and each weight is updated in place (``v = momentum * v + g``,
    the first ``v`` being the first gradient; ``w -= lr * v``). Yields the number of each
    step after its update, so that a comparison can look at the weights between steps."""
    velocities: list[np.ndarray | None] = [None] * len(weights)
    rng = np.random.default_rng(seed)
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x_train))  # as tl.data.batches draws it
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            for i, (w, g) in enumerate(zip(weights, gradients(x_train[rows], y_train[rows]))):
                v = velocities[i]
                if v is None:  # momentum's velocity starts as the first gradient
                    v = velocities[i] = g.copy()
                else:
                    v *= momentum
                    v += g
                w -= lr * v
            step += 1
            yield step
