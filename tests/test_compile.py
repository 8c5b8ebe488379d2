"""tl.compile: the recorded program gives the eager step's numbers bit for bit (and so the
seed's hand-written loops'), its guards hold, its source runs on its own and reads as
docs/compile.md shows."""

from __future__ import annotations

import functools
import gc
import importlib.util
import re
import shutil
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from models import cli, compare, single_neuron, xor_modern, xor_net
from tinygrad_lite import Tensor, nn, optim
from tinygrad_lite.compile import CompiledStep, DataDependentError, UnsupportedError
from tinygrad_lite.compile import tape as tape_module
from tinygrad_lite.function import clock
from tinygrad_lite.grad_mode import Observer

ROOT = Path(__file__).resolve().parent.parent
Setup = tuple[Callable[..., Any], list[Tensor], tuple[Any, ...]]


def bits(value: Any) -> tuple[Any, ...]:
    """An array's shape, dtype and bytes: equal only if every bit is (-0.0 is not 0.0)."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    return array.shape, array.dtype.str, array.tobytes()


def xor_step(opt: Callable[[list[Tensor]], optim.Optimizer] | None = None) -> Setup:
    """The seed's XOR net and a step as docs/compile.md writes it (the step has .model)."""
    model = xor_net.build(seed=1)
    optimizer = (opt or (lambda p: optim.SGD(p, lr=1.0)))(model.parameters())

    def step(X: Tensor, y: Tensor) -> Tensor:  # noqa: N803 (the seed's names)
        optimizer.zero_grad()
        loss = nn.sse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        return loss

    step.model = model  # type: ignore[attr-defined]
    return step, model.parameters(), (Tensor(xor_net.X), Tensor(xor_net.y))


def momentum_step() -> Setup:
    return xor_step(lambda p: optim.SGD(p, lr=0.5, momentum=0.9))


def accumulating_step() -> Setup:
    """No zero_grad: each step adds to .grad (the program reads .grad)."""
    model = xor_net.build(seed=2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(x: Tensor, y: Tensor) -> None:
        nn.mse_loss(model(x), y).backward()
        optimizer.step()

    return step, model.parameters(), (Tensor(xor_net.X), Tensor(xor_net.y))


def modern_step() -> Setup:
    """Biases (broadcast), tanh, logits and binary_cross_entropy_with_logits; no arguments."""
    model = xor_modern.build(seed=0)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    inputs, targets = Tensor(xor_modern.X), Tensor(xor_modern.y)

    def step() -> Tensor:
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step, model.parameters(), ()


def many_ops_step() -> Setup:
    """relu, tanh, abs, max, mean, indexing (basic and by array), pow, exp, log, sqrt,
    transpose, reshape; the update written out under no_grad."""
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b = Tensor(rng.standard_normal(5), requires_grad=True)
    x = Tensor(rng.standard_normal((6, 3)))

    def step() -> Tensor:
        h = x @ w + b
        z = h.relu().sum(axis=1) + h.tanh().max(axis=1) + h.abs().mean()
        z = z + (h[1:4, [0, 2, 2]] ** 2).sum() + (h * h + 1).log().sqrt().exp().sum()
        loss = (z + h.T.reshape(-1)[3:5].sum()).sum()
        w.grad = b.grad = None
        loss.backward()
        with tl.no_grad():
            w.sub_(0.01 * w.grad.data)  # type: ignore[union-attr]
            b.sub_(0.01 * b.grad.data)  # type: ignore[union-attr]
        return loss

    return step, [w, b], ()


def float32_step() -> Setup:
    weight = np.float32([[0.5, -0.3], [0.2, 0.1]])
    model = nn.Sequential(nn.Linear.from_weights(weight, np.float32([0.1, -0.2])), nn.Tanh())
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    x, t = Tensor(np.float32([[1, 2], [3, 4]])), Tensor(np.float32([[0, 1], [1, 0]]))

    def step() -> tuple[Tensor, Tensor]:
        optimizer.zero_grad()
        out = model(x)
        loss = nn.mse_loss(out, t)
        loss.backward()
        optimizer.step()
        return loss, out

    return step, model.parameters(), ()


def method_step() -> Setup:
    """A bound method, its tensors found through self."""

    class Trainer:
        def __init__(self) -> None:
            self.model = xor_net.build(seed=3)
            self.optimizer = optim.SGD(self.model.parameters(), lr=1.0)
            self.inputs, self.targets = Tensor(xor_net.X), Tensor(xor_net.y)

        def step(self) -> None:
            self.optimizer.zero_grad()
            nn.sse_loss(self.model(self.inputs), self.targets).backward()
            self.optimizer.step()

    trainer = Trainer()
    return trainer.step, trainer.model.parameters(), ()


def convolution_step() -> Setup:
    """Two convolutions (the second sends its gradient back through col2im), ReLU, max and
    average pooling, flatten, cross-entropy on class indices, SGD with momentum."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=rng),
        nn.MaxPool2d(2),
        nn.AvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 5, rng=rng),
    )
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, labels = Tensor(rng.standard_normal((6, 1, 8, 8))), Tensor(rng.integers(0, 5, 6))

    def step() -> Tensor:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step, model.parameters(), ()


def classifier_step() -> Setup:
    """An MLP with softmax cross-entropy on class labels (a Tensor of whole floats)."""
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Linear(5, 8, rng=rng), nn.ReLU(), nn.Linear(8, 3, rng=rng))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x: Tensor, labels: Tensor) -> Tensor:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss

    x, labels = Tensor(rng.standard_normal((7, 5))), Tensor(rng.integers(0, 3, 7).astype(float))
    return step, model.parameters(), (x, labels)


def conv_step() -> Setup:
    """A small CNN: padded and strided convolutions, both poolings, Flatten, Dropout (in
    evaluation mode), cross-entropy."""
    rng = np.random.default_rng(5)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 2, 2, stride=(1, 2), rng=rng),
        nn.AvgPool2d((2, 1), stride=1),
        nn.Flatten(),
        nn.Dropout(0.5, rng=rng),  # in evaluation mode: the identity, which compiles
        nn.Linear(2, 4, rng=rng),
    ).eval()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(images: Tensor, labels: Tensor) -> Tensor:
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    images = Tensor(rng.standard_normal((5, 1, 6, 6)))
    return step, model.parameters(), (images, Tensor(rng.integers(0, 4, 5).astype(float)))


SETUPS = [
    xor_step,
    momentum_step,
    accumulating_step,
    modern_step,
    many_ops_step,
    float32_step,
    method_step,
    classifier_step,
    conv_step,
    convolution_step,
]


@pytest.mark.parametrize("setup", SETUPS, ids=lambda s: s.__name__)
def test_the_compiled_step_equals_the_eager_step_bit_for_bit(setup: Callable[[], Setup]) -> None:
    eager, eager_params, args = setup()
    step, params, compiled_args = setup()
    compiled = tl.compile(step)
    for _ in range(6):
        versions = [(mine._version, theirs._version) for mine, theirs in zip(params, eager_params)]
        expected = eager(*args)
        tick = next(clock)  # later than every change the eager step made
        got = compiled(*compiled_args)
        for (mine, theirs), (was_mine, was_theirs) in zip(zip(params, eager_params), versions):
            assert bits(mine) == bits(theirs)
            assert (mine.grad is None) == (theirs.grad is None)
            if mine.grad is not None:
                assert bits(mine.grad) == bits(theirs.grad)
            # Changed in place by both steps or by neither; the compiled change dated now.
            assert (mine._version != was_mine) == (theirs._version != was_theirs)
            assert mine._version == was_mine or mine._version > tick
        returned = [got] if not isinstance(got, tuple) else list(got)
        for mine_out, their_out in zip(
            returned, [expected] if not isinstance(expected, tuple) else list(expected)
        ):
            assert (mine_out is None) == (their_out is None)
            if mine_out is not None:
                assert bits(mine_out) == bits(their_out)
    assert compiled.compiled  # the last calls ran the program


@pytest.mark.parametrize("module", [single_neuron, xor_net], ids=["single_neuron", "xor_net"])
def test_compiled_training_equals_the_seeds_loop_every_epoch_at_full_length(module: Any) -> None:
    result = compare.compare(
        module.build,
        functools.partial(module.train, compiled=True),
        module.manual_train,
        module.EPOCHS,
        timing=False,
    )
    assert result.bit_identical, result.report()
    # The losses it returned are the eager step's (the first 2 000: the same program after).
    eager_losses = module.train(module.build(), 2_000)
    assert result.losses[:2_000].tobytes() == eager_losses.tobytes()


def test_the_program_runs_instead_of_the_step_from_the_third_call() -> None:
    step, params, args = xor_step()
    calls = []

    @tl.compile
    def counted(x: Tensor, y: Tensor) -> Tensor:
        calls.append(1)  # a Python side effect: only the recording calls make it
        return step(x, y)

    for _ in range(5):
        counted(*args)
    assert len(calls) == 2
    assert counted.compiled


def test_values_the_step_computes_from_new_data_are_computed_again() -> None:
    """A teacher's detached output and the masks binary_cross_entropy_with_logits reads off
    the logits are values of the program, not constants of the recording."""

    def setup() -> Setup:
        rng = np.random.default_rng(5)
        teacher, student = nn.Linear(3, 1, rng=rng), nn.Linear(3, 1, rng=rng)
        optimizer = optim.SGD(student.parameters(), lr=0.5)

        def step(x: Tensor) -> Tensor:
            optimizer.zero_grad()
            target = teacher(x).detach().sigmoid()
            loss = nn.binary_cross_entropy_with_logits(student(x), target.numpy())
            loss.backward()
            optimizer.step()
            return loss

        return step, student.parameters(), ()

    eager, eager_params, _ = setup()
    step, params, _ = setup()
    compiled = tl.compile(step)
    batches = np.random.default_rng(6).standard_normal((8, 16, 3)) * 3
    for batch in batches:  # logits of both signs, another mask at every call
        assert bits(compiled(Tensor(batch))) == bits(eager(Tensor(batch)))
    assert compiled.compiled
    assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))


def test_a_compiled_step_keeps_its_buffers_not_its_recordings(monkeypatch: Any) -> None:
    """The tapes (every array of a recorded step) go once the program is made, though the
    optimizer keeps a momentum buffer that was Traced while recording."""
    tapes: list[weakref.ref[Any]] = []
    record = tape_module.Tape.__init__

    def remembered(self: Any) -> None:
        record(self)
        tapes.append(weakref.ref(self))

    monkeypatch.setattr(tape_module.Tape, "__init__", remembered)
    step, _, args = momentum_step()
    compiled = tl.compile(step)
    for _ in range(5):
        compiled(*args)
    gc.collect()
    assert compiled.compiled and len(tapes) == 3
    assert all(tape() is None for tape in tapes)


# ---------------------------------------------------------------------------- guards


def test_arguments_of_another_shape_or_dtype_record_again_and_keep_both_programs() -> None:
    step, params, (x, y) = xor_step()
    eager, eager_params, _ = xor_step()
    compiled = tl.compile(step)
    batches = [(x, y), (Tensor(xor_net.X[:3]), Tensor(xor_net.y[:3]))]
    batches.append((Tensor(xor_net.X, dtype=np.float32), Tensor(xor_net.y, dtype=np.float32)))
    for _ in range(3):
        for inputs, targets in batches:
            assert bits(compiled(inputs, targets)) == bits(eager(inputs, targets))
    assert len(compiled.entries) == 3
    assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))


def test_an_epoch_whose_last_batch_is_short_runs_compiled_with_a_second_program() -> None:
    # The digits CNN (convolution, max pooling, SGD with momentum) over 70 rows in batches
    # of 32: 32, 32, then 6. The short batch has a signature of its own, so a program of its
    # own, recorded on the calls that first meet it; from the fourth epoch on both run.
    from models import digits, digits_cnn

    split = digits.load_split()
    inputs, labels = digits_cnn.images(split.x_train[:70]), split.y_train[:70]

    def setup() -> tuple[Callable[[Tensor, Tensor], None], nn.Module]:
        model = digits_cnn.build(seed=0)
        optimizer = digits_cnn.make_optimizer(model)

        def step(x: Tensor, y: Tensor) -> None:
            optimizer.zero_grad()
            nn.cross_entropy(model(x), y).backward()
            optimizer.step()

        return step, model

    step, model = setup()
    eager, eager_model = setup()
    compiled = tl.compile(step)
    rng, eager_rng = np.random.default_rng(0), np.random.default_rng(0)
    for epoch in range(5):
        ran_compiled = []
        for (x, y), (ex, ey) in zip(
            tl.data.batches(inputs, labels, batch_size=32, rng=rng),
            tl.data.batches(inputs, labels, batch_size=32, rng=eager_rng),
        ):
            compiled(x, y)
            eager(ex, ey)
            ran_compiled.append((len(x), compiled.compiled))
        for p, q in zip(model.parameters(), eager_model.parameters()):
            assert bits(p) == bits(q), f"epoch {epoch}"
    assert ran_compiled == [(32, True), (32, True), (6, True)]
    assert len(compiled.entries) == 2
    assert all(entry.fast is not None for entry in compiled.entries.values())


def test_a_parameter_of_another_shape_or_a_replaced_parameter_is_refused() -> None:
    step, params, args = xor_step()
    compiled = tl.compile(step)
    for _ in range(3):
        compiled(*args)
    model_weight = params[0]
    original = model_weight.data
    model_weight.data = np.zeros((3, 5))
    with pytest.raises(RuntimeError, match=r"model_0_weight has shape \(3, 5\).*\(3, 4\)"):
        compiled(*args)
    model_weight.data = original
    compiled(*args)  # back to the compiled shape: fine
    step.model[0].weight = Tensor(original.copy(), requires_grad=True)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="model_0_weight is no longer the Tensor"):
        compiled(*args)
    compiled.reset()
    compiled(*args)  # compiled again, for the new tensor


def test_changes_to_the_parameters_between_calls_are_read() -> None:
    step, params, args = xor_step()
    eager, eager_params, _ = xor_step()
    compiled = tl.compile(step)
    for i in range(6):
        if i == 3:
            state = {k: v + 0.25 for k, v in xor_net.build(seed=7).state_dict().items()}
            for model_params in (params, eager_params):  # in place, versions bumped
                with tl.no_grad():
                    for p, value in zip(model_params, state.values()):
                        p.copy_(value)
        if i == 4:
            for p, q in zip(params, eager_params):  # a new array of the same shape
                p.data = p.data.copy()
                q.data = q.data.copy()
        assert bits(compiled(*args)) == bits(eager(*args))
    assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))


def test_data_found_in_an_object_is_read_where_it_is_at_every_call() -> None:
    """trainer.inputs = the next batch: the program reads the new tensor (another shape
    records the step again); a parameter put in its module's place is refused (above)."""
    step, params, _ = method_step()
    eager, eager_params, _ = method_step()
    compiled = tl.compile(step)
    trainers = [step.__self__, eager.__self__]  # type: ignore[attr-defined]
    batches = np.random.default_rng(8).integers(0, 2, (8, 4, 3)).astype(float)
    for i, batch in enumerate(batches):
        for trainer in trainers:
            trainer.inputs = Tensor(batch if i != 2 else batch[:3])
            trainer.targets = Tensor(batch[: len(trainer.inputs.data), :1])
        compiled()
        eager()
        assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))
    assert compiled.compiled


def test_a_new_learning_rate_or_a_frozen_parameter_records_the_step_again() -> None:
    """Values the program takes as given (the optimizer's settings, each parameter's
    requires_grad) are checked at every call; a change records the step again."""
    step, params, args = xor_step()
    eager, eager_params, _ = xor_step()
    compiled = tl.compile(step)
    optimizers = [p.__closure__ for p in (step, eager)]  # type: ignore[attr-defined]
    for i in range(10):
        if i == 4:  # a schedule
            for cells in optimizers:
                next(
                    c.cell_contents for c in cells if isinstance(c.cell_contents, optim.SGD)
                ).lr = 0.5
        if i == 7:  # the first layer frozen
            params[0].requires_grad = eager_params[0].requires_grad = False
        assert bits(compiled(*args)) == bits(eager(*args))
        assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))
    assert compiled.compiled


@pytest.mark.parametrize(
    "read, what",
    [
        (lambda loss: loss.item() > 1, r"item\(\)"),
        (lambda loss: bool(loss), r"bool\(\)"),
        (lambda loss: float(loss) > 1, r"item\(\)"),
    ],
    ids=["item", "bool", "float"],
)
def test_python_that_looks_at_a_value_of_the_step_is_refused(read: Any, what: str) -> None:
    model = xor_net.build()
    optimizer = optim.SGD(model.parameters(), lr=1.0)

    @tl.compile
    def step(X: Tensor, y: Tensor) -> Tensor:  # noqa: N803 (the seed's names)
        optimizer.zero_grad()
        loss = nn.sse_loss(model(X), y)
        if read(loss):
            return loss
        loss.backward()
        optimizer.step()
        return loss

    with pytest.raises(DataDependentError, match=rf"{what}, at .*test_compile.py:\d+\)"):
        step(Tensor(xor_net.X), Tensor(xor_net.y))
    # The recording was undone: the parameters hold plain arrays again.
    assert all(type(p.data) is np.ndarray for p in model.parameters())


def counting_step() -> Setup:
    """A step whose loss is scaled by a number Python computes from a call counter: a
    constant of the program that is different at every call."""
    model = xor_net.build(seed=1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    calls = [0]

    def step(X: Tensor, y: Tensor) -> Tensor:  # noqa: N803 (the seed's names)
        calls[0] += 1
        optimizer.zero_grad()
        loss = nn.sse_loss(model(X), y) * (1.0 / calls[0])
        loss.backward()
        optimizer.step()
        return loss

    return step, model.parameters(), (Tensor(xor_net.X), Tensor(xor_net.y))


def test_a_step_whose_program_changes_at_every_call_is_refused() -> None:
    step, params, args = counting_step()
    eager, eager_params, _ = counting_step()
    compiled = tl.compile(step)
    for _ in range(2):
        assert bits(compiled(*args)) == bits(eager(*args))
    with pytest.raises(RuntimeError, match=r"(?s)different program at each.*step counter.*before:"):
        compiled(*args)
    eager(*args)
    assert all(bits(a) == bits(b) for a, b in zip(params, eager_params))  # each ran eagerly


def dropout_step(rng: Any, shared: bool = True) -> tuple[Callable[[Tensor], Tensor], nn.Sequential]:
    """A net with two dropouts, drawing from ``rng`` (a RandomState or a Generator: both,
    or the second from a Generator of its own seeded from it), trained with Adam."""
    second = rng if shared else np.random.default_rng(int(rng.random() * 1e9))
    model = nn.Sequential(
        nn.Linear(3, 8, rng=rng),
        nn.Dropout(0.5, rng=rng),
        nn.Tanh(),
        nn.Linear(8, 4, rng=rng),
        nn.Dropout(0.25, rng=second),
        nn.Linear(4, 1, rng=rng),
    )
    optimizer = optim.Adam(model.parameters(), lr=0.01)

    def step(x: Tensor) -> Tensor:
        optimizer.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss

    return step, model


@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState])
@pytest.mark.parametrize("shared", [True, False])
def test_dropout_in_training_mode_draws_as_the_eager_step_draws(
    make_rng: Callable[[int], Any], shared: bool
) -> None:
    # The program calls the same generators with the same arguments in the same order as
    # the eager step: the weights are bit-identical after every step, and the generators
    # end in the same state (the check run of the program consumed no draws).
    rng, eager_rng = make_rng(6), make_rng(6)
    step, model = dropout_step(rng, shared)
    eager, eager_model = dropout_step(eager_rng, shared)
    compiled = tl.compile(step)
    x = Tensor(np.linspace(-1, 1, 15).reshape(5, 3))
    for _ in range(6):
        assert bits(compiled(x)) == bits(eager(x))
        for a, b in zip(model.parameters(), eager_model.parameters()):
            assert bits(a) == bits(b)
        assert tape_module.same_state(tape_module.state_of(rng), tape_module.state_of(eager_rng))
    assert compiled.compiled
    assert compiled.source.count(".random((5, 8))") == 1
    assert compiled.source.count(".random((5, 4))") == 1
    for mine, theirs in ((rng, eager_rng), (model[4].rng, eager_model[4].rng)):
        assert tape_module.same_state(tape_module.state_of(mine), tape_module.state_of(theirs))
    model.eval()  # dropout is then the identity: a program of its own, without draws
    eager_model.eval()
    for _ in range(3):
        assert bits(compiled(x)) == bits(eager(x))
    assert compiled.compiled
    assert ".random(" not in compiled.source
    assert tape_module.same_state(tape_module.state_of(rng), tape_module.state_of(eager_rng))


def test_draws_are_neither_merged_nor_dropped() -> None:
    # The same draw twice, and a draw whose values nothing uses: three calls in the program,
    # since each moves the generator.
    def setup() -> tuple[Callable[[Tensor], Tensor], Tensor, np.random.Generator]:
        rng = np.random.default_rng(3)
        w = Tensor(np.linspace(-1, 1, 16).reshape(4, 4), requires_grad=True)
        optimizer = optim.SGD([w], lr=0.1)

        def step(x: Tensor) -> Tensor:
            optimizer.zero_grad()
            h = x @ w
            a = nn.dropout(h, 0.5, rng=rng)
            b = nn.dropout(h, 0.5, rng=rng)
            nn.dropout(h, 0.3, rng=rng)
            loss = (a * b).sum()
            loss.backward()
            optimizer.step()
            return loss

        return step, w, rng

    step, w, rng = setup()
    eager, eager_w, eager_rng = setup()
    compiled = tl.compile(step)
    x = Tensor(np.ones((2, 4)))
    for _ in range(5):
        assert bits(compiled(x)) == bits(eager(x))
        assert bits(w) == bits(eager_w)
    assert compiled.compiled
    assert compiled.source.count("rng.random((2, 4))") == 3
    assert rng.bit_generator.state == eager_rng.bit_generator.state


def test_a_generator_put_in_dropouts_place_is_drawn_from() -> None:
    rng, eager_rng = np.random.default_rng(2), np.random.default_rng(2)
    step, model = dropout_step(rng)
    eager, eager_model = dropout_step(eager_rng)
    compiled = tl.compile(step)
    x = Tensor(np.ones((2, 3)))
    for _ in range(3):
        compiled(x), eager(x)
    model[1].rng = np.random.default_rng(9)  # the step records again, and draws from it
    eager_model[1].rng = np.random.default_rng(9)
    for _ in range(4):
        assert bits(compiled(x)) == bits(eager(x))
    assert compiled.compiled
    assert all(bits(a) == bits(b) for a, b in zip(model.parameters(), eager_model.parameters()))


def test_draws_the_program_cannot_repeat_are_refused_before_the_draw() -> None:
    model = nn.Linear(3, 2, rng=np.random.default_rng(0))
    x = Tensor(np.ones((4, 3)))

    def fresh(x: Tensor) -> Tensor:  # a new generator at each call
        return nn.dropout(model(x), 0.5).sum()

    with pytest.raises(UnsupportedError, match=r"nn\.dropout draws from a generator the step"):
        tl.compile(fresh)(x)
    rng = np.random.default_rng(1)

    def also_drawn(x: Tensor) -> Tensor:  # the same generator, drawn from beside dropout
        noise = Tensor(rng.normal(size=(4, 2)))
        return nn.dropout(model(x) + noise, 0.5, rng=rng).sum()

    state = rng.bit_generator.state
    with pytest.raises(UnsupportedError, match=r"drew random numbers from rng.*other than"):
        tl.compile(also_drawn)(x)
    moved = rng.bit_generator.state
    rng.bit_generator.state = state
    rng.normal(size=(4, 2))
    assert rng.bit_generator.state == moved  # refused before dropout drew

    def drawn_after(x: Tensor) -> Tensor:  # caught at the end of the recording
        loss = nn.dropout(model(x), 0.5, rng=rng).sum()
        rng.random()
        return loss

    with pytest.raises(UnsupportedError, match=r"drew random numbers from rng.*other than"):
        tl.compile(drawn_after)(x)


def test_arguments_the_program_cannot_take_are_refused() -> None:
    step, _, (x, y) = xor_step()
    compiled = tl.compile(step)
    with pytest.raises(TypeError, match="argument X is a numpy array; pass it as a Tensor"):
        compiled(xor_net.X, y)
    with pytest.raises(TypeError, match="argument y is list"):
        compiled(x, [1.0])
    with pytest.raises(TypeError, match="expected a function"):
        tl.compile(3)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="call it once, then read .source"):
        _ = compiled.source


def test_a_partial_finds_its_tensors_and_a_method_is_compiled_bound() -> None:
    step, params, (x, y) = xor_step()
    compiled = tl.compile(functools.partial(step, x))
    for _ in range(3):
        compiled(y)
    assert compiled.compiled and "model_0_weight" in compiled.source

    class Trainer:
        @tl.compile
        def step(self, x: Tensor) -> None:
            pass

    with pytest.raises(TypeError, match=r"compile it bound to its object.*tl.compile\(trainer"):
        Trainer.step(Trainer(), x)


def test_keyword_arguments_defaults_and_returned_structures() -> None:
    step, _, (x, y) = xor_step()
    eager, _, _ = xor_step()

    def run(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(x: Tensor, y: Tensor, scale: float = 2.0) -> Any:
            loss = function(x, y)
            return loss, None, [loss], scale

        return wrapped

    compiled = tl.compile(run(step))
    for _ in range(4):
        got = compiled(x, y=y)
        expected = run(eager)(x, y)
        assert bits(got[0]) == bits(expected[0]) and bits(got[2][0]) == bits(expected[2][0])
        assert got[1] is None and got[3] == 2.0 and isinstance(got[2], list)


def test_under_an_observer_or_no_grad_the_step_runs_eagerly() -> None:
    step, _, args = xor_step()
    compiled = tl.compile(step)
    for _ in range(3):
        compiled(*args)

    class Counter(Observer):
        ops = 0

        def forward(self, fn: Any, inputs: Any, out: Any) -> None:
            self.ops += 1

    with Counter() as counter:
        compiled(*args)
    assert counter.ops > 0
    with tl.no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        compiled(*args)  # as the eager step: no graph to differentiate


def test_floating_point_errors_follow_ieee_without_warnings() -> None:
    x = Tensor([[1000.0, -1000.0]])
    w = Tensor([[1.0], [1.0]], requires_grad=True)

    @tl.compile
    def step(x: Tensor) -> Tensor:
        w.grad = None
        loss = ((x @ w) * 1000).sigmoid().log().sum()  # exp overflows, log(0) is -inf
        loss.backward()
        return loss

    results = [step(x) for _ in range(4)]  # filterwarnings=error: a warning would fail this
    assert step.compiled and all(bits(r) == bits(results[0]) for r in results)


# ---------------------------------------------------------------------------- source


def _xor_compiled() -> tuple[CompiledStep, tuple[Any, ...], list[Tensor]]:
    step, params, args = xor_step()
    compiled = tl.compile(step)
    compiled(*args)
    return compiled, args, params


def test_the_source_runs_on_its_own(tmp_path: Path) -> None:
    compiled, (x, y), params = _xor_compiled()
    path = tmp_path / "xor_step.py"
    path.write_text(compiled.source)
    spec = importlib.util.spec_from_file_location("xor_step", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w0, w1 = (p.data.copy() for p in params)
    eager, eager_params, args = xor_step()
    eager(*args)  # one step, as the compiled step's one recording call
    for _ in range(5):
        loss = module.step(x.data, y.data, w0, w1, np.array(1.0))  # (the lr)
        expected = eager(*args)
        assert bits(loss) == bits(expected)
        assert bits(w0) == bits(eager_params[0]) and bits(w1) == bits(eager_params[1])
        assert bits(module.d_model_0_weight) == bits(eager_params[0].grad)


def test_the_xor_program_reads_as_docs_compile_md_shows() -> None:
    text = (ROOT / "docs" / "compile.md").read_text()
    match = re.search(r"<!-- the XOR step's source -->\n```python\n(.+?)```", text, re.S)
    assert match, "docs/compile.md has no source block after <!-- the XOR step's source -->"
    compiled, _, _ = _xor_compiled()
    assert compiled.source == match.group(1)
    # ... and the step it shows is the step compiled here.
    assert "    loss = nn.sse_loss(model(X), y)\n" in text


def test_every_program_is_formatted_as_ruff_formats_python() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    for setup in SETUPS:
        step, _, args = setup()
        compiled = tl.compile(step)
        compiled(*args)
        result = subprocess.run(
            [ruff, "format", "--check", "--stdin-filename", "program.py", "-"],
            input=compiled.source,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{setup.__name__}: {result.stdout}{result.stderr}"


# ------------------------------------------------------------------------------- CLI


def test_train_compile_prints_what_train_prints(capsys: Any) -> None:
    assert cli.main(["train", "single-neuron", "--json"]) == 0
    eager = capsys.readouterr().out
    assert cli.main(["train", "single-neuron", "--json", "--compile"]) == 0
    assert capsys.readouterr().out == eager  # every loss, weight and prediction, to the digit


def test_the_compile_command_shows_the_seeds_code_and_the_program(
    capsys: Any, tmp_path: Path
) -> None:
    assert cli.main(["compile", "xor"]) == 0
    out = capsys.readouterr().out
    for seed_line in ("l1_delta = l2_error * l2_slope * lr", "w1 += dot(l1.T, l1_delta)"):
        assert seed_line in out
    compiled, _, _ = _xor_compiled()
    assert out.endswith(compiled.source)  # the program of docs/compile.md
    assert cli.main(["compile", "xor", "-o", str(tmp_path / "program.py")]) == 0
    assert (tmp_path / "program.py").read_text() == compiled.source


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "xor", "--compile", "--detect-anomaly"], "cannot go together"),
        (["compile", "xor", "-o", "program.txt"], "unknown file type '.txt'"),
    ],
)
def test_the_cli_refuses_in_one_line(capsys: Any, argv: list[str], message: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_names_of_fresh_values_are_the_same_at_every_recording() -> None:
    # A cross-entropy step makes two fresh arrays that both want the name "loss" (the
    # loss of each row, and the loss the step returns). Named in the order of a set of
    # Vars (their ids), the two recordings would often name them differently, and the
    # step would be refused as a program that changes; the returned value gets "loss".
    rng = np.random.default_rng(0)
    x, labels = Tensor(rng.random((8, 5))), Tensor(rng.integers(0, 3, 8))
    for _ in range(12):
        model = nn.Linear(5, 3, rng=rng)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        @tl.compile
        def step(x: Tensor, y: Tensor) -> Tensor:
            opt.zero_grad()  # noqa: B023 (each compiled step is used in its own iteration)
            loss = nn.cross_entropy(model(x), y)  # noqa: B023
            loss.backward()
            opt.step()  # noqa: B023
            return loss

        for _ in range(3):
            step(x, labels)
        assert step.compiled
        assert step.source.rstrip().endswith("return loss")


OPTIMIZERS = {
    "Adam": lambda p: optim.Adam(p, lr=0.1),
    "AdamW": lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.1),
    "Adam amsgrad, L2": lambda p: optim.Adam(p, lr=0.1, amsgrad=True, weight_decay=0.01),
    "RMSprop centered, momentum": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.1),
    "Adagrad lr_decay": lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01),
    "SGD momentum": lambda p: optim.SGD(p, lr=0.5, momentum=0.9, nesterov=True),
}
SCHEDULES = {
    "none": None,
    "StepLR": lambda o: optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "CosineAnnealingLR": lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=3),
}


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_and_schedule_compiles_bit_for_bit(optimizer: str, schedule: str) -> None:
    """The optimizers' changing numbers (a step count, a learning rate a schedule sets at
    every call) are inputs of the program: it runs from the third call on, and every loss,
    weight and gradient is the eager step's, bit for bit."""
    make, scheduled = OPTIMIZERS[optimizer], SCHEDULES[schedule]
    runs = []
    for _ in range(2):
        step, params, args = xor_step(make)
        opt = next(
            c.cell_contents
            for c in step.__closure__  # type: ignore[attr-defined]
            if isinstance(c.cell_contents, optim.Optimizer)
        )
        runs.append((step, params, args, scheduled(opt) if scheduled else None))
    (step, params, args, scheduler), (eager, eager_params, _, eager_scheduler) = runs
    compiled = tl.compile(step)
    for call in range(10):
        assert bits(compiled(*args)) == bits(eager(*args))
        assert compiled.compiled == (call >= 2)
        if scheduler is not None and eager_scheduler is not None:
            scheduler.step()
            eager_scheduler.step()
        for p, q in zip(params, eager_params):
            assert bits(p) == bits(q) and bits(p.grad) == bits(q.grad)
    assert len(compiled.entries) == 1
