"""The three workloads, each written three ways: tinygrad_lite, hand-written numpy, PyTorch;
and tinygrad_lite's step compiled with ``tl.compile``.

W1  the seed's single neuron: out = sigmoid(X @ w), sse_loss, SGD with lr 1
W2  the seed's XOR net: 3-4-1, two sigmoids, sse_loss, SGD with lr 1
W3  an MLP 784-256-256-10, sigmoid hidden layers, sse_loss, batch 128, SGD with lr 0.01

Every implementation is an object with ``step()`` (one training step: forward, loss,
backward, update), ``reset()`` (the initial weights again) and ``weights()`` (the current
weights as numpy arrays, in one order for all three, so that they can be compared).

W1 and W2 start from the seed's own weights (``RandomState(1)``, ``2*r - 1``) and train on,
as the seed does; the tinygrad_lite and hand-written runs stay equal bit for bit. The
hand-written steps are the seed's delta formulas (with the seed's ``* lr`` in W2), given
float64 arrays: the seed's integer X would make numpy convert it on every ``dot``.

W3's summed loss with lr 0.01 diverges after a couple of steps (sigmoids saturate, exp
overflows), which is not the regime a real run is in; so every timed step of W3 starts
from the same initial weights (``reset()`` before it, untimed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim

# The seed's data, as float64.
X1 = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)  # single neuron
X2 = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)  # XOR
Y = np.array([[0, 1, 1, 0]], dtype=np.float64).T


def seed_weights(*shapes: tuple[int, int]) -> list[np.ndarray]:
    """The seed's initialisation: one RandomState(1), drawn in order, ``2*r - 1``."""
    random = np.random.RandomState(1)
    return [2 * random.random(shape) - 1 for shape in shapes]


def mlp_data() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """W3's batch (inputs in [0, 1), one-hot targets) and initial weights and biases.

    The init is PyTorch's for Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (128, 784))
    y = np.eye(10)[rng.integers(0, 10, 128)]
    params = []
    for fan_in, fan_out in ((784, 256), (256, 256), (256, 10)):
        bound = 1 / np.sqrt(fan_in)
        params += [
            rng.uniform(-bound, bound, (fan_in, fan_out)),
            rng.uniform(-bound, bound, fan_out),
        ]
    return x, y, params


class Implementation:
    """One way of running a workload; subclasses define ``step``."""

    def __init__(self, initial: list[np.ndarray]) -> None:
        self.initial = [w.copy() for w in initial]

    def step(self) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def weights(self) -> list[np.ndarray]:
        raise NotImplementedError


# ------------------------------------------------------------------------ hand-written


class HandWritten(Implementation):
    """The weights as numpy arrays, updated in place by a step written out by hand."""

    def __init__(self, initial: list[np.ndarray]) -> None:
        super().__init__(initial)
        self.w = [w.copy() for w in initial]

    def reset(self) -> None:
        for w, w0 in zip(self.w, self.initial):
            w[...] = w0

    def weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.w]


class HandSingleNeuron(HandWritten):
    def step(self) -> None:
        (weights,) = self.w
        output = 1 / (1 + np.exp(-np.dot(X1, weights)))
        error = Y - output
        slope = output * (1 - output)
        delta = error * slope
        weights += np.dot(X1.T, delta)


class HandXor(HandWritten):
    def step(self) -> None:
        w0, w1 = self.w
        lr = 1
        l1 = 1 / (1 + np.exp(-np.dot(X2, w0)))
        l2 = 1 / (1 + np.exp(-np.dot(l1, w1)))
        l2_error = Y - l2
        l2_slope = l2 * (1 - l2)
        l1_delta = l2_error * l2_slope * lr
        l1_error = l1_delta.dot(w1.T)
        l1_slope = l1 * (1 - l1)
        l0_delta = l1_error * l1_slope * lr
        w1 += np.dot(l1.T, l1_delta)
        w0 += np.dot(X2.T, l0_delta)


class HandMlp(HandWritten):
    """Forward, the deltas of 0.5*sum((y - out)**2), and SGD, for three Linear layers."""

    def __init__(self, x: np.ndarray, y: np.ndarray, initial: list[np.ndarray]) -> None:
        super().__init__(initial)
        self.x, self.y = x, y

    def step(self) -> None:
        w1, b1, w2, b2, w3, b3 = self.w
        x, lr = self.x, 0.01
        with np.errstate(over="ignore"):  # as tinygrad_lite, IEEE without warnings
            h1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
            h2 = 1 / (1 + np.exp(-(h1 @ w2 + b2)))
        out = h2 @ w3 + b3
        d3 = out - self.y
        d2 = (d3 @ w3.T) * (h2 * (1 - h2))
        d1 = (d2 @ w2.T) * (h1 * (1 - h1))
        w3 -= lr * (h2.T @ d3)
        b3 -= lr * d3.sum(axis=0)
        w2 -= lr * (h1.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        w1 -= lr * (x.T @ d1)
        b1 -= lr * d1.sum(axis=0)


# ----------------------------------------------------------------------- tinygrad_lite


class Framework(Implementation):
    """The network as a user declares and trains it: nn.Sequential, nn.sse_loss, optim.SGD."""

    def __init__(self, initial: list[np.ndarray], layers: list[nn.Module], lr: float) -> None:
        super().__init__(initial)
        self.model = nn.Sequential(*layers)
        self.optimizer = optim.SGD(self.model.parameters(), lr=lr)
        self.state = self.model.state_dict()

    def step(self) -> None:
        self.optimizer.zero_grad()
        loss = nn.sse_loss(self.model(self.inputs), self.targets)
        loss.backward()
        self.optimizer.step()

    def reset(self) -> None:
        self.model.load_state_dict(self.state)

    def weights(self) -> list[np.ndarray]:
        return [p.numpy() for p in self.model.parameters()]


class FrameworkSingleNeuron(Framework):
    def __init__(self) -> None:
        (w,) = seed_weights((3, 1))
        super().__init__([w], [nn.Linear.from_weights(w), nn.Sigmoid()], lr=1.0)
        self.inputs, self.targets = Tensor(X1), Tensor(Y)


class FrameworkXor(Framework):
    def __init__(self) -> None:
        w0, w1 = seed_weights((3, 4), (4, 1))
        layers = [
            nn.Linear.from_weights(w0),
            nn.Sigmoid(),
            nn.Linear.from_weights(w1),
            nn.Sigmoid(),
        ]
        super().__init__([w0, w1], layers, lr=1.0)
        self.inputs, self.targets = Tensor(X2), Tensor(Y)


class FrameworkMlp(Framework):
    def __init__(self) -> None:
        x, y, initial = mlp_data()
        w1, b1, w2, b2, w3, b3 = initial
        layers = [
            nn.Linear.from_weights(w1, b1),
            nn.Sigmoid(),
            nn.Linear.from_weights(w2, b2),
            nn.Sigmoid(),
            nn.Linear.from_weights(w3, b3),
        ]
        super().__init__(initial, layers, lr=0.01)
        self.inputs, self.targets = Tensor(x), Tensor(y)


class Compiled(Implementation):
    """A Framework whose step is ``tl.compile(framework.step)``: the same training step,
    replayed as a generated numpy program from its third call on."""

    def __init__(self, framework: Framework) -> None:
        super().__init__(framework.initial)
        self.framework = framework
        self.compiled = tl.compile(framework.step)

    def step(self) -> None:
        self.compiled()

    def reset(self) -> None:
        self.framework.reset()

    def weights(self) -> list[np.ndarray]:
        return self.framework.weights()


# ----------------------------------------------------------------------------- PyTorch


class Torch(Implementation):
    """The same network in PyTorch eager mode (float64), with torch.optim.SGD."""

    def __init__(self, initial: list[np.ndarray], layers: list[Any], lr: float, data: Any) -> None:
        import torch

        super().__init__(initial)
        self.torch = torch
        self.model = torch.nn.Sequential(*layers).double()
        # PyTorch stores a Linear weight as (out_features, in_features): the transpose.
        self.params = list(self.model.parameters())
        self.reset()
        self.optimizer = torch.optim.SGD(self.params, lr=lr)
        self.inputs, self.targets = (torch.from_numpy(a.copy()) for a in data)

    def step(self) -> None:
        self.optimizer.zero_grad()
        out = self.model(self.inputs)
        loss = 0.5 * ((self.targets - out) ** 2).sum()
        loss.backward()
        self.optimizer.step()

    def reset(self) -> None:
        with self.torch.no_grad():
            for p, w0 in zip(self.params, self.initial):
                p.copy_(self.torch.from_numpy(w0.T.copy() if w0.ndim == 2 else w0))

    def weights(self) -> list[np.ndarray]:
        return [p.detach().numpy().T.copy() for p in self.params]


def torch_single_neuron() -> Torch:
    import torch.nn as nn

    layers = [nn.Linear(3, 1, bias=False), nn.Sigmoid()]
    return Torch(seed_weights((3, 1)), layers, 1.0, (X1, Y))


def torch_xor() -> Torch:
    import torch.nn as nn

    layers = [nn.Linear(3, 4, bias=False), nn.Sigmoid(), nn.Linear(4, 1, bias=False), nn.Sigmoid()]
    return Torch(seed_weights((3, 4), (4, 1)), layers, 1.0, (X2, Y))


def torch_mlp() -> Torch:
    import torch.nn as nn

    x, y, initial = mlp_data()
    layers = [
        nn.Linear(784, 256),
        nn.Sigmoid(),
        nn.Linear(256, 256),
        nn.Sigmoid(),
        nn.Linear(256, 10),
    ]
    return Torch(initial, layers, 0.01, (x, y))


# ---------------------------------------------------------------------------- the table


class Workload:
    """A workload: its implementations, how many steps make one timed block, the target.

    ``compiled`` builds the compiled implementation where ``tl.compile(framework.step)``
    cannot be it (a step that draws its own batches compiles its per-batch step instead)."""

    def __init__(
        self,
        name: str,
        description: str,
        hand: Callable[[], Implementation],
        framework: Callable[[], Implementation],
        torch: Callable[[], Implementation],
        steps_per_block: int,
        reset_each_block: bool,
        target: float,
        bit_for_bit: bool,
        compiled_target: float,
        compiled: Callable[[], Implementation] | None = None,
        tolerance: float = 1e-6,
        torch_check_steps: int = 0,
    ) -> None:
        self.name = name
        self.description = description
        self.builders = {
            "hand": hand,
            "tinygrad_lite": framework,
            "compiled": compiled or (lambda: Compiled(framework())),  # type: ignore[arg-type]
            "torch": torch,
        }
        self.steps_per_block = steps_per_block
        self.reset_each_block = reset_each_block
        self.target = target
        self.bit_for_bit = bit_for_bit
        self.compiled_target = compiled_target
        self.tolerance = tolerance  # relative, where the sums are not the same bit for bit
        # PyTorch's weights compared after this many steps of a fresh run (0: after the
        # timed run), where a long run lets its other rounding grow past any tolerance.
        self.torch_check_steps = torch_check_steps


WORKLOADS = [
    Workload(
        "W1",
        "single neuron 3-1, sigmoid, sse_loss, SGD lr 1 (the seed's)",
        lambda: HandSingleNeuron(seed_weights((3, 1))),
        FrameworkSingleNeuron,
        torch_single_neuron,
        steps_per_block=200,
        reset_each_block=False,
        target=4.0,
        bit_for_bit=True,
        compiled_target=1.2,
    ),
    Workload(
        "W2",
        "XOR net 3-4-1, two sigmoids, sse_loss, SGD lr 1 (the seed's)",
        lambda: HandXor(seed_weights((3, 4), (4, 1))),
        FrameworkXor,
        torch_xor,
        steps_per_block=200,
        reset_each_block=False,
        target=4.0,
        bit_for_bit=True,
        compiled_target=1.2,
    ),
    Workload(
        "W3",
        "MLP 784-256-256-10, sigmoid hidden, sse_loss, batch 128, SGD lr 0.01, float64",
        lambda: HandMlp(*mlp_data()),
        FrameworkMlp,
        torch_mlp,
        steps_per_block=1,
        reset_each_block=True,
        target=1.10,
        bit_for_bit=False,
        compiled_target=1.05,
    ),
]
