"""Memory stays flat: each step's graph is freed, so a long run needs no more than a short one.

tracemalloc sees Python objects and numpy's array buffers alike. The run is the XOR net as a
user trains it (nn.Sequential, nn.sse_loss, optim.SGD); docs/performance.md has the figure
for the seed's full 100 000 epochs.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np

import tinygrad_lite as tl
from models import char_rnn, digits, digits_cnn, xor_net
from tinygrad_lite import Tensor, nn, optim

MiB = 1 << 20


def _xor_training() -> Callable[[int], None]:
    model = xor_net.build()
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    inputs, targets = Tensor(xor_net.X), Tensor(xor_net.y)

    def train(epochs: int) -> None:
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = nn.sse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()

    return train


def _peaks(train: Callable[[int], None], first: int, then: int) -> tuple[int, int]:
    """Peak traced bytes over ``first`` epochs, then over the ``then`` epochs after them."""
    tracemalloc.start()
    try:
        train(first)
        first_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        train(then)
        later_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return first_peak, later_peak


def test_a_long_xor_run_needs_no_more_memory_than_its_start() -> None:
    train = _xor_training()
    train(20)  # whatever is made once (interned shapes, caches inside numpy) is made here
    first_peak, later_peak = _peaks(train, 200, 2000)
    assert later_peak <= first_peak + MiB, (first_peak, later_peak)


def test_a_long_digits_cnn_run_needs_no_more_memory_than_its_start() -> None:
    """W5 of the benchmarks: epochs of mini-batches (the last one short) of the CNN."""
    model = digits_cnn.build(seed=0)
    optimizer = digits_cnn.make_optimizer(model)
    split = digits.load_split()
    inputs, labels = digits_cnn.images(split.x_train), split.y_train
    rng = np.random.default_rng(0)

    def train(epochs: int) -> None:
        for _ in range(epochs):
            for x, y in tl.data.batches(inputs, labels, batch_size=32, rng=rng):
                optimizer.zero_grad()
                nn.cross_entropy(model(x), y).backward()
                optimizer.step()

    train(1)
    first_peak, later_peak = _peaks(train, 1, 3)
    assert later_peak <= first_peak + MiB, (first_peak, later_peak)


def test_a_long_char_rnn_run_needs_no_more_memory_than_its_start() -> None:
    """W6 of the benchmarks: BPTT iterations, the hidden state carried between them."""
    trainer = char_rnn.Trainer(char_rnn.build())

    def train(iterations: int) -> None:
        for _ in range(iterations):
            trainer.step()

    train(5)
    first_peak, later_peak = _peaks(train, 50, 500)
    assert later_peak <= first_peak + MiB, (first_peak, later_peak)


def test_the_check_sees_a_leak() -> None:
    # The same measurement catches a run that keeps each step's graph (here, every loss):
    # a few hundred bytes per epoch add up to more than the MiB allowed.
    inputs, targets = Tensor(xor_net.X), Tensor(xor_net.y)
    model = xor_net.build()
    kept = []

    def leaking(epochs: int) -> None:
        for _ in range(epochs):
            kept.append(nn.sse_loss(model(inputs), targets))

    leaking(20)
    first_peak, later_peak = _peaks(leaking, 200, 2000)
    assert later_peak > first_peak + MiB, (first_peak, later_peak)
