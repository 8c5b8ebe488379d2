"""The workloads on real data, each written as tinygrad_lite, its hand-written numpy twin
(the one in ``models/``), tinygrad_lite compiled, and PyTorch.

W4  digits-mlp: one epoch (45 batches of 32, the last of 30) of models.digits_mlp,
    64-256-10 with ReLU, cross_entropy, SGD lr 0.1 momentum 0.9
W5  digits-cnn: one epoch of models.digits_cnn, Conv2d(1, 32, 3) ReLU MaxPool2d(2)
    Linear(512, 10), the same loss and optimizer
W6  char-rnn: one iteration of models.char_rnn, 25 steps of a 100-unit tanh RNNCell
    over 58 characters, summed cross_entropy, clip_grad_value_(5), Adagrad lr 0.1

Each side starts from the same weights and draws the same batches (W4, W5: a
``default_rng(0)`` of its own, as the twins do) or reads the same chunks of text (W6), and
trains on from block to block; the tinygrad_lite and hand-written weights stay equal bit for
bit. The tinygrad_lite step is the loop a user writes (zero_grad, forward, loss, backward,
step); the compiled one is the same per-batch step under ``tl.compile``, called from the
same loop (an epoch's short last batch has a program of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lite as tl
from benchmarks.workloads import Implementation, Workload
from models import char_rnn, digits, digits_cnn, digits_mlp
from tinygrad_lite import Tensor, nn

BATCH = 32
ITERATIONS = 10**9  # the hand-written generators run for as long as they are asked


# ---------------------------------------------------------------------- W4, W5: digits


class HandDigits(Implementation):
    """A twin's ``manual_steps`` generator, advanced one epoch per ``step()``."""

    def __init__(self, module: Any, names: tuple[str, ...]) -> None:
        state = module.build(seed=0).state_dict()
        super().__init__([state[name] for name in names])
        self.w = [state[name] for name in names]
        self.steps = module.manual_steps(state, epochs=ITERATIONS, seed=0)
        self.per_epoch = module.steps_per_epoch(BATCH)

    def step(self) -> None:
        for _ in range(self.per_epoch):
            next(self.steps)

    def weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.w]


class FrameworkDigits(Implementation):
    """The model of ``module`` trained as a user writes it: ``tl.data.batches``, then
    zero_grad, the model, ``nn.cross_entropy``, backward, ``optim.SGD`` with momentum."""

    def __init__(self, module: Any, inputs: np.ndarray, compiled: bool = False) -> None:
        self.model = module.build(seed=0)
        super().__init__([p.numpy() for p in self.model.parameters()])
        self.optimizer = module.make_optimizer(self.model)
        self.inputs, self.labels = inputs, digits.load_split().y_train
        self.rng = np.random.default_rng(0)
        self.train_step: Callable[[Tensor, Tensor], None] = self.batch_step
        if compiled:
            self.train_step = tl.compile(self.batch_step)

    def batch_step(self, x: Tensor, y: Tensor) -> None:
        self.optimizer.zero_grad()
        loss = nn.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    def step(self) -> None:
        for x, y in tl.data.batches(self.inputs, self.labels, batch_size=BATCH, rng=self.rng):
            self.train_step(x, y)

    def weights(self) -> list[np.ndarray]:
        return [p.numpy() for p in self.model.parameters()]


MLP_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")
CNN_NAMES = ("0.weight", "0.bias", "4.weight", "4.bias")


def hand_digits_mlp() -> HandDigits:
    return HandDigits(digits_mlp, MLP_NAMES)


def hand_digits_cnn() -> HandDigits:
    return HandDigits(digits_cnn, CNN_NAMES)


def digits_mlp_step(compiled: bool = False) -> FrameworkDigits:
    return FrameworkDigits(digits_mlp, digits.load_split().x_train, compiled)


def digits_cnn_step(compiled: bool = False) -> FrameworkDigits:
    return FrameworkDigits(digits_cnn, digits_cnn.images(digits.load_split().x_train), compiled)


class TorchDigits(Implementation):
    """The same network in PyTorch eager mode (float64), torch.optim.SGD with momentum, fed
    the same batches (the rows ``tl.data.batches`` draws from its own ``default_rng(0)``)."""

    def __init__(self, module: Any, layers: list[Any], inputs: np.ndarray) -> None:
        import torch

        ours = module.build(seed=0)
        super().__init__([p.numpy() for p in ours.parameters()])
        self.torch = torch
        self.model = torch.nn.Sequential(*layers).double()
        with torch.no_grad():  # a Linear weight is stored transposed in PyTorch
            for p, w in zip(self.model.parameters(), self.initial):
                p.copy_(torch.from_numpy(w.T.copy() if p.ndim == 2 else w))
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=module.LR, momentum=module.MOMENTUM
        )
        self.inputs = torch.from_numpy(inputs.astype(np.float64))
        self.labels = torch.from_numpy(digits.load_split().y_train.astype(np.int64))
        self.rng = np.random.default_rng(0)

    def step(self) -> None:
        torch = self.torch
        order = torch.from_numpy(self.rng.permutation(len(self.inputs)))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            self.optimizer.zero_grad()
            out = self.model(self.inputs[rows])
            loss = torch.nn.functional.cross_entropy(out, self.labels[rows])
            loss.backward()
            self.optimizer.step()

    def weights(self) -> list[np.ndarray]:
        return [
            p.detach().numpy().T.copy() if p.ndim == 2 else p.detach().numpy().copy()
            for p in self.model.parameters()
        ]


def torch_digits_mlp() -> TorchDigits:
    import torch.nn as tnn

    layers = [tnn.Linear(64, 256), tnn.ReLU(), tnn.Linear(256, 10)]
    return TorchDigits(digits_mlp, layers, digits.load_split().x_train)


def torch_digits_cnn() -> TorchDigits:
    import torch.nn as tnn

    layers = [
        tnn.Conv2d(1, 32, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(512, 10),
    ]
    return TorchDigits(digits_cnn, layers, digits_cnn.images(digits.load_split().x_train))


# ----------------------------------------------------------------------- W6: char-rnn


class HandCharRnn(Implementation):
    """``char_rnn.manual_steps``, one iteration per ``step()``."""

    def __init__(self) -> None:
        state = char_rnn.build().state_dict()
        super().__init__([state[name] for name in char_rnn.NAMES])
        self.w = [state[name] for name in char_rnn.NAMES]
        self.steps = char_rnn.manual_steps(state, iterations=ITERATIONS)

    def step(self) -> None:
        next(self.steps)

    def weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.w]


class FrameworkCharRnn(Implementation):
    """``char_rnn.Trainer``: the model's own training loop, one iteration per ``step()``."""

    def __init__(self) -> None:
        self.model = char_rnn.build()
        super().__init__([p.numpy() for p in self.model.parameters()])
        self.trainer = char_rnn.Trainer(self.model)

    def step(self) -> None:
        self.trainer.step()

    def weights(self) -> list[np.ndarray]:
        return [p.numpy() for p in self.model.parameters()]


class CompiledCharRnn(FrameworkCharRnn):
    """The same iteration with its tensors passed in (the one-hot rows, the targets, the
    carried hidden state), so that ``tl.compile`` can replay it."""

    def __init__(self) -> None:
        super().__init__()
        self.compiled = tl.compile(self.iteration)
        self.h = Tensor(np.zeros((1, char_rnn.HIDDEN)))

    def iteration(self, x: Tensor, targets: Tensor, h: Tensor) -> Tensor:
        model, optimizer = self.model, self.trainer.optimizer
        optimizer.zero_grad()
        states = model.unroll([x[t : t + 1] for t in range(len(x))], h)
        loss = nn.cross_entropy(model.head(tl.cat(states)), targets, reduction="sum")
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), char_rnn.CLIP)
        optimizer.step()
        return states[-1].detach()

    def step(self) -> None:
        inputs, targets, reset = next(self.trainer.chunks)
        if reset:
            self.h = Tensor(np.zeros((1, char_rnn.HIDDEN)))
        x = nn.one_hot(inputs, self.model.vocab_size)
        self.h = self.compiled(x, Tensor(targets), self.h)


class TorchCharRnn(Implementation):
    """The same RNN in PyTorch eager mode (float64): nn.RNNCell unrolled, nn.Linear,
    cross_entropy summed, clip_grad_value_, torch.optim.Adagrad."""

    def __init__(self) -> None:
        import torch

        ours = char_rnn.build()
        super().__init__([p.numpy() for p in ours.parameters()])
        self.torch = torch
        vocab = ours.vocab_size
        self.cell = torch.nn.RNNCell(vocab, char_rnn.HIDDEN).double()
        self.head = torch.nn.Linear(char_rnn.HIDDEN, vocab).double()
        self.params = [*self.cell.parameters(), *self.head.parameters()]  # ih, hh, b_ih, b_hh
        wih, whh, bih, bhh, why, by = self.initial
        with torch.no_grad():
            for p, w in zip(self.params, (wih.T, whh.T, bih, bhh, why.T, by)):
                p.copy_(torch.from_numpy(np.ascontiguousarray(w)))
        self.optimizer = torch.optim.Adagrad(self.params, lr=char_rnn.LR, eps=char_rnn.EPS)
        self.chunks = char_rnn.chunks(ours.encode(char_rnn.load_text()))
        self.eye = torch.eye(vocab, dtype=torch.float64)
        self.h = torch.zeros(1, char_rnn.HIDDEN, dtype=torch.float64)

    def step(self) -> None:
        torch = self.torch
        inputs, targets, reset = next(self.chunks)
        if reset:
            self.h = torch.zeros(1, char_rnn.HIDDEN, dtype=torch.float64)
        xs = self.eye[torch.from_numpy(inputs)]
        self.optimizer.zero_grad()
        h, states = self.h, []
        for t in range(len(xs)):
            h = self.cell(xs[t : t + 1], h)
            states.append(h)
        logits = self.head(torch.cat(states))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets), reduction="sum")
        loss.backward()
        torch.nn.utils.clip_grad_value_(self.params, char_rnn.CLIP)
        self.optimizer.step()
        self.h = states[-1].detach()

    def weights(self) -> list[np.ndarray]:
        arrays = [p.detach().numpy() for p in self.params]
        return [a.T.copy() if a.ndim == 2 else a.copy() for a in arrays]


# ---------------------------------------------------------------------------- the table

# PyTorch sums in other orders, so its weights differ in the last bits, which training on
# grows: over epochs of momentum to about 1e-4 relatively; Adagrad, whose first step on a
# gradient is lr * sign(g) whatever its size, turns a gradient that is 1e-17 on one side
# and 0 on the other into a whole step, so W6 is compared after three iterations.
REAL_WORKLOADS = [
    Workload(
        "W4",
        "digits-mlp: one epoch of 64-256-10 ReLU, cross_entropy, SGD momentum, batch 32",
        hand_digits_mlp,
        digits_mlp_step,
        torch_digits_mlp,
        steps_per_block=1,
        reset_each_block=False,
        target=3.0,
        bit_for_bit=True,
        compiled_target=1.10,
        compiled=lambda: digits_mlp_step(compiled=True),
        tolerance=1e-4,
    ),
    Workload(
        "W5",
        "digits-cnn: one epoch of Conv2d-ReLU-MaxPool2d-Linear, SGD momentum, batch 32",
        hand_digits_cnn,
        digits_cnn_step,
        torch_digits_cnn,
        steps_per_block=1,
        reset_each_block=False,
        target=1.3,
        bit_for_bit=True,
        compiled_target=1.10,
        compiled=lambda: digits_cnn_step(compiled=True),
        tolerance=1e-4,
    ),
    Workload(
        "W6",
        "char-rnn: one BPTT iteration, 25 steps, hidden 100, clipping, Adagrad",
        HandCharRnn,
        FrameworkCharRnn,
        TorchCharRnn,
        steps_per_block=20,
        reset_each_block=False,
        target=3.0,
        bit_for_bit=True,
        compiled_target=1.10,
        compiled=CompiledCharRnn,
        tolerance=1e-6,
        torch_check_steps=3,
    ),
]
