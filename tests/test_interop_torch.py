"""tinygrad_lite.interop against PyTorch itself: every layer that moves and every built-in
model, to PyTorch and back, give the same outputs and the same gradients of one backward
pass (to 1e-12 of the largest value, in float64); a run continued in PyTorch follows the
same run continued here; what cannot move is an error that names it.

Skipped where PyTorch is not installed (pip install torch==2.13.0); test_interop.py holds
what is checked without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from models.cli import jobs
from models.cli.cli import main
from tinygrad_lite import Tensor, interop, nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-12
Inputs = tuple[np.ndarray, ...]


def close(ours: Any, theirs: Any) -> bool:
    """Equal to RTOL of the largest magnitude in ``theirs`` (elementwise relative error is
    meaningless for an element that cancels to nearly 0)."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(float(np.max(np.abs(b), initial=0.0)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b), initial=0.0)) <= RTOL * scale


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------- one forward and backward, both sides


def run_ours(model: nn.Module, inputs: Inputs, upstream: np.ndarray) -> dict[str, np.ndarray]:
    """The output, and the gradients of ``sum(output * upstream)`` for each float input and
    every parameter (named as PyTorch names them: ``to_torch_state_dict`` lays them out).
    Integer inputs (class indices) go in as they are."""
    model.zero_grad()
    given = [Tensor(x, requires_grad=True) if x.dtype.kind == "f" else x for x in inputs]
    out = model(*given)
    out.backward(Tensor(upstream))
    grads = {name: p.grad.data for name, p in model.named_parameters()}
    theirs = interop.to_torch_state_dict(grads, model=model)
    return {
        "output": out.data,
        **{f"input {i}": x.grad.data for i, x in enumerate(given) if isinstance(x, Tensor)},
        **{name: g.numpy() for name, g in theirs.items()},
    }


def run_theirs(module: Any, inputs: Inputs, upstream: np.ndarray) -> dict[str, np.ndarray]:
    module.zero_grad()
    given = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    out = module(*given)
    out.backward(torch.tensor(upstream))
    return {
        "output": out.detach().numpy(),
        **{f"input {i}": x.grad.numpy() for i, x in enumerate(given) if x.requires_grad},
        # state_dict, as to_torch_state_dict: a shared layer under each of its names
        **{name: p.grad.numpy() for name, p in module.state_dict(keep_vars=True).items()},
    }


def assert_same(
    ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray], inputs: bool = True
) -> None:
    """Every array equal; ``inputs=False`` leaves the inputs' gradients out."""
    assert set(ours) == set(theirs)
    for name in ours:
        if inputs or not name.startswith("input"):
            assert close(ours[name], theirs[name]), (name, ours[name], theirs[name])


def both_ways(model: nn.Module, *inputs: np.ndarray, ties: bool = False) -> None:
    """``model`` moved to PyTorch, and a PyTorch model moved here, each against its original.

    ``ties``: the inputs make equal values inside a max pooling's window. Its gradient goes
    to one of them in PyTorch and is shared evenly here (docs/design.md), which moves the
    inputs' gradients, not the parameters' (they see the sum)."""
    with tl.no_grad():
        shape = model(*(Tensor(x) if x.dtype.kind == "f" else x for x in inputs)).shape
    upstream = rng(1).normal(size=shape)
    module = interop.to_torch(model)
    assert_same(run_ours(model, inputs, upstream), run_theirs(module, inputs, upstream), not ties)
    # The other way: a PyTorch module with weights of its own (a fresh init) brought here.
    fresh = interop.to_torch(model)
    with torch.no_grad():
        for p in fresh.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    back = interop.from_torch(fresh)
    assert_same(run_ours(back, inputs, upstream), run_theirs(fresh, inputs, upstream), not ties)
    # And there and back again gives the very same numbers.
    again = interop.from_torch(module)
    assert repr(again) == repr(model)
    for (name, p), (name_again, q) in zip(model.named_parameters(), again.named_parameters()):
        assert name == name_again
        np.testing.assert_array_equal(p.data, q.data)


# ----------------------------------------------------------------------- every layer

# (name, layer, inputs): each layer that moves, alone and as it can be set.
LAYERS: list[tuple[str, Callable[[], nn.Module], Callable[[], Inputs]]] = [
    ("Linear", lambda: nn.Linear(3, 4, rng=rng()), lambda: (normal(5, 3),)),
    ("Linear bias=False", lambda: nn.Linear(3, 4, bias=False, rng=rng()), lambda: (normal(5, 3),)),
    ("Linear 1->1", lambda: nn.Linear(1, 1, rng=rng()), lambda: (normal(2, 1),)),
    ("Sigmoid", nn.Sigmoid, lambda: (normal(4, 3),)),
    ("ReLU", nn.ReLU, lambda: (normal(4, 3),)),
    ("Tanh", nn.Tanh, lambda: (normal(4, 3),)),
    (
        "Sequential",
        lambda: nn.Sequential(nn.Linear(3, 4, rng=rng()), nn.Tanh()),
        lambda: (normal(5, 3),),
    ),
    (
        "nested Sequential",
        lambda: nn.Sequential(
            nn.Sequential(nn.Linear(3, 4, rng=rng(2)), nn.ReLU()),
            nn.Sequential(nn.Sequential(nn.Linear(4, 2, rng=rng(3))), nn.Sigmoid()),
        ),
        lambda: (normal(6, 3),),
    ),
    ("Conv2d", lambda: nn.Conv2d(2, 3, 3, rng=rng()), lambda: (normal(2, 2, 6, 5),)),
    (
        "Conv2d stride padding",
        lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 2), rng=rng()),
        lambda: (normal(2, 2, 7, 6),),
    ),
    (
        "Conv2d bias=False",
        lambda: nn.Conv2d(1, 2, 2, stride=2, bias=False, rng=rng()),
        lambda: (normal(3, 1, 4, 4),),
    ),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), lambda: (normal(2, 3, 6, 4),)),
    ("MaxPool2d stride", lambda: nn.MaxPool2d((3, 2), stride=1), lambda: (normal(1, 2, 5, 5),)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), lambda: (normal(2, 3, 6, 4),)),
    ("AvgPool2d stride", lambda: nn.AvgPool2d(3, stride=(1, 2)), lambda: (normal(1, 2, 5, 7),)),
    ("Flatten", nn.Flatten, lambda: (normal(2, 3, 4, 2),)),
    ("Flatten 0..2", lambda: nn.Flatten(0, 2), lambda: (normal(2, 3, 4, 2),)),
    ("Dropout eval", lambda: nn.Dropout(0.3).eval(), lambda: (normal(4, 5),)),
    ("Softmax", lambda: nn.Softmax(1), lambda: (normal(4, 5),)),
    ("Softmax -1", lambda: nn.Softmax(-1), lambda: (normal(2, 3, 5),)),
    ("LogSoftmax", lambda: nn.LogSoftmax(1), lambda: (normal(4, 5),)),
    (
        "Embedding",
        lambda: nn.Embedding(5, 3, rng=rng()),
        lambda: (np.array([[0, 3, 1, 3], [4, 4, 2, 0]]),),  # repeats add their gradients
    ),
    (
        "Embedding 1-D",
        lambda: nn.Embedding(4, 2, rng=rng()),
        lambda: (np.array([3, 0, 3]),),
    ),
    ("RNNCell", lambda: nn.RNNCell(3, 4, rng=rng()), lambda: (normal(5, 3), normal(5, 4))),
    ("RNNCell h=None", lambda: nn.RNNCell(3, 4, rng=rng()), lambda: (normal(5, 3),)),
    ("RNNCell unbatched", lambda: nn.RNNCell(3, 4, rng=rng()), lambda: (normal(3), normal(4))),
    (
        "RNNCell relu",
        lambda: nn.RNNCell(3, 4, nonlinearity="relu", rng=rng()),
        lambda: (normal(5, 3), normal(5, 4)),
    ),
    (
        "RNNCell bias=False",
        lambda: nn.RNNCell(3, 4, bias=False, rng=rng()),
        lambda: (normal(5, 3), normal(5, 4)),
    ),
    (
        "RNNCell relu bias=False",
        lambda: nn.RNNCell(2, 3, bias=False, nonlinearity="relu", rng=rng()),
        lambda: (normal(4, 2), normal(4, 3)),
    ),
    (
        "Embedding then Linear",
        lambda: nn.Sequential(
            nn.Embedding(6, 4, rng=rng(1)), nn.Tanh(), nn.Linear(4, 2, rng=rng(2))
        ),
        lambda: (np.array([[5, 0], [2, 2]]),),
    ),
    (
        "a small CNN",
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, rng=rng(1)),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.5).eval(),
            nn.Linear(4 * 4 * 4, 10, rng=rng(2)),
            nn.LogSoftmax(1),
        ),
        lambda: (normal(3, 1, 8, 8),),
    ),
]


def normal(*shape: int) -> np.ndarray:
    return rng(4).normal(size=shape) * 2


def test_every_layer_that_moves_is_tested() -> None:
    tested = {type(make()).__name__ for _, make, _ in LAYERS}
    assert tested >= {c.ours.__name__ for c in interop.COUNTERPARTS} | {"Sequential"}


@pytest.mark.parametrize(("name", "make", "inputs"), LAYERS, ids=[n for n, _, _ in LAYERS])
def test_each_layer_moves_both_ways_with_its_outputs_and_gradients(
    name: str, make: Callable[[], nn.Module], inputs: Callable[[], Inputs]
) -> None:
    both_ways(make(), *inputs())


def test_an_empty_sequential_moves() -> None:
    module = interop.to_torch(nn.Sequential())
    assert isinstance(module, torch.nn.Sequential) and len(module) == 0
    model = interop.from_torch(module)
    assert isinstance(model, nn.Sequential) and len(model) == 0


def test_the_weights_are_pytorchs_layout_and_the_same_values() -> None:
    layer = nn.Linear.from_weights([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [0.5, -0.5, 1.5])
    module = interop.to_torch(layer)
    assert isinstance(module, torch.nn.Linear)
    assert (module.in_features, module.out_features) == (2, 3)
    assert module.weight.tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert module.bias.tolist() == [0.5, -0.5, 1.5]
    assert module.weight.dtype == torch.float64
    assert module.weight.is_contiguous()
    # Copies: changing one side leaves the other alone.
    with torch.no_grad():
        module.weight.zero_()
    assert layer.weight.data[0, 0] == 1.0


def test_a_shared_layer_stays_shared_and_is_named_twice_as_in_pytorch() -> None:
    shared = nn.Linear(3, 3, rng=rng())
    model = nn.Sequential(shared, nn.Tanh(), shared)
    module = interop.to_torch(model)
    assert module[0] is module[2]
    state = interop.to_torch_state_dict(model)
    assert list(state) == list(module.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    module.load_state_dict(state)
    back = interop.from_torch(module)
    assert back[0] is back[2]
    both_ways(model, rng(5).normal(size=(4, 3)))
    # A state dict in which the two names of one parameter disagree cannot be ours.
    state["2.bias"] = state["2.bias"] + 1
    with pytest.raises(ValueError, match=r"'2.bias' and '0.bias' are one parameter"):
        interop.from_torch_state_dict(state, model)


def test_named_children_of_a_pytorch_sequential_come_here_by_position() -> None:
    from collections import OrderedDict

    module = torch.nn.Sequential(
        OrderedDict(
            [("hidden", torch.nn.Linear(3, 4, dtype=torch.float64)), ("act", torch.nn.ReLU())]
        )
    )
    model = interop.from_torch(module)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    x = rng().normal(size=(2, 3))
    assert close(model(Tensor(x)).data, module(torch.tensor(x)).detach().numpy())


# -------------------------------------------------------------------- built-in models


def example_networks() -> list[str]:
    return sorted(str(p) for p in (ROOT / "examples").glob("*.toml"))


@pytest.mark.parametrize("name", [*jobs.BUILT_IN, *example_networks()], ids=Path)
def test_every_built_in_model_moves_both_ways(name: str) -> None:
    job = jobs.make(name)
    inputs, targets = job.first_batch()  # all the rows, or the first mini-batch
    # The digits have blank borders: a window of zeros gives the convolution's bias in
    # every pixel, a tie for the max pooling after it.
    pools = any(isinstance(m, nn.MaxPool2d) for m in job.model.modules())
    both_ways(job.model, inputs.data, ties=pools)
    # ... and its loss's gradients agree too.
    module = interop.to_torch(job.model)
    job.model.zero_grad()
    loss = job.loss()
    loss.backward()
    ours = interop.to_torch_state_dict(
        {n: p.grad.data for n, p in job.model.named_parameters()}, model=job.model
    )
    theirs_loss = their_loss(job.loss_name, module(torch.tensor(inputs.data)), targets.data)
    theirs_loss.backward()
    assert close(loss.item(), theirs_loss.item())
    for n, p in module.named_parameters():
        assert close(ours[n].numpy(), p.grad.numpy()), n


def their_loss(loss_name: str, out: Any, targets: np.ndarray) -> Any:
    """A job's loss written with PyTorch's functions."""
    target = torch.tensor(targets)
    functional = torch.nn.functional
    if loss_name == "sse":
        return 0.5 * ((target - out) ** 2).sum()
    if loss_name == "mse":
        return functional.mse_loss(out, target)
    if loss_name == "bce":
        return functional.binary_cross_entropy(out, target)
    if loss_name == "cross_entropy":  # class indices, as whole floats in a Tensor here
        return functional.cross_entropy(out, target.long())
    assert loss_name == "bce_with_logits", loss_name
    return functional.binary_cross_entropy_with_logits(out, target)


# char-rnn is not a job (it reads a stream of text) and has a forward of its own: its class
# moves itself (CharRNN.__to_torch__), and its twin computes the same 25 steps in PyTorch.


def char_rnn_chunk() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chunk of 25 characters, its targets, and a carried hidden state (the second chunk
    of a run starts from the first one's last state, not from zeros)."""
    from models import char_rnn

    data = char_rnn.build().encode(char_rnn.load_text()[100:126])
    return data[:-1], data[1:], np.tanh(rng(3).normal(size=(1, char_rnn.HIDDEN)))


def run_char_rnn_ours(model: Any, inputs: np.ndarray, targets: np.ndarray, h: np.ndarray) -> Any:
    """The summed cross-entropy of the chunk, the logits, each hidden state, and the
    gradients of the loss for the carried state and every parameter (PyTorch's names)."""
    model.zero_grad()
    h0 = Tensor(h, requires_grad=True)
    logits, states = model(inputs, h0)
    loss = nn.cross_entropy(logits, targets, reduction="sum")
    loss.backward()
    grads = {name: p.grad.data for name, p in model.named_parameters()}
    return {
        "loss": loss.data,
        "logits": logits.data,
        **{f"state {t}": state.data for t, state in enumerate(states)},
        "h0": h0.grad.data,
        **{n: g.numpy() for n, g in interop.to_torch_state_dict(grads, model=model).items()},
    }


def run_char_rnn_theirs(module: Any, inputs: np.ndarray, targets: np.ndarray, h: np.ndarray) -> Any:
    module.zero_grad()
    h0 = torch.tensor(h, requires_grad=True)
    logits, states = module(inputs, h0)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="sum")
    loss.backward()
    return {
        "loss": loss.detach().numpy(),
        "logits": logits.detach().numpy(),
        **{f"state {t}": state.detach().numpy() for t, state in enumerate(states)},
        "h0": h0.grad.numpy(),
        **{name: p.grad.numpy() for name, p in module.named_parameters()},
    }


def test_char_rnn_moves_both_ways_with_its_loss_and_gradients_over_25_steps() -> None:
    from models import char_rnn

    # with the jobs above, every built-in model the command line names
    assert set(jobs.NAMES) == {*jobs.BUILT_IN, "char-rnn"}

    model = char_rnn.build(seed=0)
    chunk = char_rnn_chunk()
    module = interop.to_torch(model)
    assert type(module) is char_rnn.torch_class()
    assert type(module.rnn) is torch.nn.RNNCell and type(module.head) is torch.nn.Linear
    assert module.chars == model.chars
    assert list(module.state_dict()) == list(char_rnn.NAMES)
    assert module.rnn.weight_ih.dtype == torch.float64
    ours, theirs = run_char_rnn_ours(model, *chunk), run_char_rnn_theirs(module, *chunk)
    assert len(ours) == 2 + 25 + 1 + 6
    assert_same(ours, theirs)
    # A PyTorch twin with weights of its own, brought here. Their scale keeps the recurrence
    # contracting, as training does: with N(0, 0.3^2) weights the 100x100 matrix stretches
    # the state about 3 times a step, and any two roundings part over 25 steps.
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype) * 0.05)
    back = interop.from_torch(module)
    assert type(back) is char_rnn.CharRNN and back.chars == model.chars
    assert repr(back) == repr(model)
    assert_same(run_char_rnn_ours(back, *chunk), run_char_rnn_theirs(module, *chunk))
    # There and back again: the very same numbers.
    again = interop.from_torch(interop.to_torch(model))
    for (name, p), (name_again, q) in zip(model.named_parameters(), again.named_parameters()):
        assert name == name_again
        np.testing.assert_array_equal(p.data, q.data)
    # float32 on request, on both of its layers
    single = interop.to_torch(model, dtype="float32")
    assert {p.dtype for p in single.parameters()} == {torch.float32}


def test_char_rnn_training_continued_in_pytorch_follows_the_same_training_here() -> None:
    """The classic's loop, in PyTorch: 25 steps, the summed cross-entropy, gradients
    clipped to [-5, 5], the last state carried detached to the next chunk; with SGD here
    and there. Not with Adagrad: it divides each gradient by the root of its squares so
    far, so a gradient that cancels to almost nothing (a rare character's, 1e-11) still
    moves its weight by a good part of the rate, and its rounding (1e-16 of the largest
    gradient) becomes a difference of 1e-7 in the weight."""
    from models import char_rnn

    model = char_rnn.build(seed=1)
    trainer = char_rnn.Trainer(model)
    trainer.optimizer = tl.optim.SGD(model.parameters(), lr=char_rnn.LR)
    for _ in range(3):  # trained here first
        trainer.step()
    module = interop.to_torch(model)
    h = None if trainer.h is None else torch.from_numpy(trainer.h.numpy())
    their_optimizer = torch.optim.SGD(module.parameters(), lr=char_rnn.LR, foreach=False)
    chunks = char_rnn.chunks(trainer.data)
    for _ in range(3):  # the chunks the trainer has used already
        next(chunks)
    for _ in range(5):
        inputs, targets, reset = next(chunks)
        assert not reset
        their_optimizer.zero_grad()
        logits, states = module(inputs, h)
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="sum")
        loss.backward()
        torch.nn.utils.clip_grad_value_(module.parameters(), char_rnn.CLIP)
        their_optimizer.step()
        h = states[-1].detach()
        assert close(trainer.step(), loss.item())
        state = interop.to_torch_state_dict(model)
        for name, p in module.named_parameters():
            assert close(state[name].numpy(), p.detach().numpy()), name


def test_the_seed_nets_bias_free_sigmoid_layers_are_linear_without_bias_and_sigmoid() -> None:
    from models import single_neuron, xor_net

    module = interop.to_torch(xor_net.build())
    kinds = [(type(m).__name__, getattr(m, "bias", None)) for m in module]
    assert kinds == [("Linear", None), ("Sigmoid", None), ("Linear", None), ("Sigmoid", None)]
    # The seed's printed prediction, made by PyTorch from the weights trained here.
    model = single_neuron.build()
    single_neuron.train(model)
    moved = interop.to_torch(model)
    prediction = moved(torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)).item()
    assert f"{prediction:.8f}" == "0.99993704"


# ---------------------------------------------------------- training continues in PyTorch


def test_a_run_continued_in_pytorch_follows_the_same_run_continued_here() -> None:
    from models import digits

    split = digits.load_split()
    x, labels = split.x_train[:200], split.y_train[:200]
    targets = np.eye(10)[labels]
    model = nn.Sequential(
        nn.Linear(64, 32, rng=rng(0)), nn.ReLU(), nn.Linear(32, 10, rng=rng(1)), nn.Sigmoid()
    )
    opt = tl.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

    def step_here() -> float:
        opt.zero_grad()
        loss = nn.mse_loss(model(Tensor(x)), Tensor(targets))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(10):  # trained here first
        step_here()
    module = interop.to_torch(model)
    their_opt = torch.optim.SGD(module.parameters(), lr=0.5, momentum=0.9, foreach=False)
    opt = tl.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)  # both start afresh
    for _ in range(10):
        their_opt.zero_grad()
        their = torch.nn.functional.mse_loss(module(torch.tensor(x)), torch.tensor(targets))
        their.backward()
        their_opt.step()
        assert close(step_here(), their.item())
        state = interop.to_torch_state_dict(model)
        for name, p in module.named_parameters():
            assert close(state[name].numpy(), p.detach().numpy()), name


# --------------------------------------------------------------------- state dicts, files


def test_a_state_dict_crosses_through_a_file_pytorch_loads_with_weights_only(
    tmp_path: Path,
) -> None:
    from models import xor_modern

    model = xor_modern.build(seed=3)
    torch.save(interop.to_torch_state_dict(model), tmp_path / "m.pt")
    module = interop.to_torch(xor_modern.build(seed=4))  # the same architecture, other weights
    module.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    assert_same(
        run_ours(model, (xor_modern.X * 1.0,), np.ones((4, 1))),
        run_theirs(module, (xor_modern.X * 1.0,), np.ones((4, 1))),
    )
    # and back into a model here, from the file
    other = xor_modern.build(seed=5)
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    other.load_state_dict(interop.from_torch_state_dict(state, other))
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_state_dict_of_ours_from_a_file_with_the_model_it_belongs_to(tmp_path: Path) -> None:
    from models import xor_net

    model = xor_net.build()
    tl.save(model.state_dict(), tmp_path / "w.npz")
    state = interop.to_torch_state_dict(tl.load(tmp_path / "w.npz"), model=xor_net.build(seed=2))
    assert [tuple(t.shape) for t in state.values()] == [(4, 3), (1, 4)]
    np.testing.assert_array_equal(state["0.weight"].numpy(), model[0].weight.data.T)


class TwoHeads(nn.Module):
    """A model of the user's own class: a body, then two heads added."""

    def __init__(self) -> None:
        self.body = nn.Sequential(nn.Linear(3, 4, rng=rng(1)), nn.Tanh())
        self.heads = [nn.Linear(4, 2, rng=rng(2)), nn.Linear(4, 2, bias=False, rng=rng(3))]

    def forward(self, x: Any) -> Tensor:
        hidden = self.body(x)
        return self.heads[0](hidden) + self.heads[1](hidden)


class TheirTwoHeads(torch.nn.Module):
    """The same model written in PyTorch, with the same attribute names."""

    def __init__(self) -> None:
        super().__init__()
        linear = torch.nn.Linear
        self.body = torch.nn.Sequential(linear(3, 4, dtype=torch.float64), torch.nn.Tanh())
        self.heads = torch.nn.ModuleList(
            [linear(4, 2, dtype=torch.float64), linear(4, 2, bias=False, dtype=torch.float64)]
        )

    def forward(self, x: Any) -> Any:
        hidden = self.body(x)
        return self.heads[0](hidden) + self.heads[1](hidden)


def test_the_state_dict_of_a_model_of_ones_own_class_crosses_to_its_pytorch_twin() -> None:
    model = TwoHeads()
    with pytest.raises(TypeError, match=r"the model is TwoHeads, which has no counterpart"):
        interop.to_torch(model)
    twin = TheirTwoHeads()
    twin.load_state_dict(interop.to_torch_state_dict(model))  # strict: the very same names
    x = normal(5, 3)
    upstream = rng(1).normal(size=(5, 2))
    assert_same(run_ours(model, (x,), upstream), run_theirs(twin, (x,), upstream))
    # and back: PyTorch's weights in a fresh model of ours
    with torch.no_grad():
        for p in twin.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    model.load_state_dict(interop.from_torch_state_dict(twin.state_dict(), model))
    assert_same(run_ours(model, (x,), upstream), run_theirs(twin, (x,), upstream))


def test_save_torch_writes_a_checkpoint_pytorch_loads_with_weights_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from models import xor_net

    weights, checkpoint = tmp_path / "w.npz", tmp_path / "model.pt"
    args = ["train", "xor", "--epochs", "50", "--save", str(weights), "--save-torch"]
    assert main([*args, str(checkpoint)]) == 0
    assert f"wrote weights to {checkpoint}" in capsys.readouterr().err
    # The two lines of docs/pytorch.md: rebuild the architecture in PyTorch, load the weights.
    module = interop.to_torch(xor_net.build())
    module.load_state_dict(torch.load(checkpoint, weights_only=True))
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), tl.load(weights)[name].T)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "w.npz"]  # no temporary


def test_save_torch_writes_char_rnns_checkpoint_for_its_pytorch_twin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from models import char_rnn

    weights, checkpoint = tmp_path / "w.npz", tmp_path / "char-rnn.pt"
    args = ["train", "char-rnn", "--iterations", "3", "--quiet", "--save", str(weights)]
    assert main([*args, "--save-torch", str(checkpoint)]) == 0
    capsys.readouterr()
    module = interop.to_torch(char_rnn.build())  # the two lines: the architecture, then the file
    module.load_state_dict(torch.load(checkpoint, weights_only=True))
    trained = interop.to_torch_state_dict(tl.load(weights), model=char_rnn.build())
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), trained[name].numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["char-rnn.pt", "w.npz"]
    assert main([*args[:4], "--save-torch", str(checkpoint)]) == 0
    assert f"wrote weights to {checkpoint}" in capsys.readouterr().err
    assert main(["train", "char-rnn", "--save-torch", str(tmp_path / "m.npz")]) == 2
    assert "unknown file type '.npz'; accepted: .pt, .pth" in capsys.readouterr().err


def test_save_torch_refuses_other_file_types_and_models_that_cannot_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from models.cli.cli import UsageError, _check_movable

    assert main(["train", "xor", "--save-torch", str(tmp_path / "m.npz")]) == 2
    assert "unknown file type '.npz'; accepted: .pt, .pth" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    # Every network the command line trains can move; a model that cannot is refused
    # before training, in one line.
    scaled = nn.Sequential(nn.Linear(2, 2, rng=rng()), Scale())
    with pytest.raises(UsageError, match=r"^--save-torch: mine: to_torch_state_dict: param"):
        _check_movable(scaled, "mine")


# ------------------------------------------------------------------------- the settings


def test_dtype_float32_both_ways_and_half_precision_comes_as_float32() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=rng()), nn.Tanh())
    for dtype in ("float32", np.float32, torch.float32):
        module = interop.to_torch(model, dtype=dtype)
        assert module[0].weight.dtype == torch.float32
    assert interop.to_torch_state_dict(model, dtype="float32")["0.weight"].dtype == torch.float32
    assert model[0].weight.dtype == np.float64  # left as it was
    back = interop.from_torch(module)
    assert back[0].weight.dtype == np.float32 and back[0].bias.dtype == np.float32
    assert interop.to_torch(back)[0].weight.dtype == torch.float32  # None keeps float32
    assert interop.from_torch(module, dtype=torch.float64)[0].weight.dtype == np.float64
    for half in (torch.float16, torch.bfloat16):
        low = torch.nn.Linear(3, 2, dtype=half)
        layer = interop.from_torch(low)
        assert layer.weight.dtype == np.float32
        np.testing.assert_array_equal(layer.weight.data.T, low.weight.float().detach().numpy())
        state = interop.from_torch_state_dict(low.state_dict(), layer)
        assert state["weight"].dtype == np.float32


def test_training_mode_and_requires_grad_carry_over() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=rng()), nn.Sigmoid())
    model[0].bias.requires_grad = False
    model.eval()
    model[1].train()
    module = interop.to_torch(model)
    assert [module.training, module[0].training, module[1].training] == [False, False, True]
    assert [module[0].weight.requires_grad, module[0].bias.requires_grad] == [True, False]
    back = interop.from_torch(module)
    assert [back.training, back[0].training, back[1].training] == [False, False, True]
    assert [back[0].weight.requires_grad, back[0].bias.requires_grad] == [True, False]


def test_moving_draws_nothing_from_pytorchs_random_generator() -> None:
    before = torch.get_rng_state()
    interop.to_torch(nn.Sequential(nn.Linear(30, 20, rng=rng()), nn.ReLU()))
    assert torch.equal(before, torch.get_rng_state())


# ----------------------------------------------------------------------------- errors


class Square(nn.Module):
    """A layer of the user's own: it has no counterpart in PyTorch."""

    def forward(self, x: Any) -> Tensor:
        return Tensor(x) * Tensor(x) if not isinstance(x, Tensor) else x * x


class Scale(nn.Module):
    """A layer of the user's own, with a parameter whose layout only its forward knows."""

    def __init__(self) -> None:
        self.scale = Tensor([1.0, 2.0], requires_grad=True)

    def forward(self, x: Any) -> Tensor:
        return x * self.scale


class TheirNet(torch.nn.Module):
    """A PyTorch model with a forward of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)

    def forward(self, x: Any) -> Any:
        return self.fc(x) * 2


def test_a_layer_with_no_counterpart_is_an_error_naming_it() -> None:
    model = nn.Sequential(nn.Linear(2, 2, rng=rng()), nn.Sequential(nn.ReLU(), Square()))
    with pytest.raises(TypeError, match=r"layer '1.1' is Square, which has no counterpart"):
        interop.to_torch(model)
    with pytest.raises(TypeError, match=r"the model is Square, which has no counterpart"):
        interop.to_torch(Square())
    # A state dict has no forward to translate: a layer without parameters is no obstacle,
    # a parameter outside the layers of the table is.
    assert list(interop.to_torch_state_dict(model)) == ["0.weight", "0.bias"]
    scaled = nn.Sequential(nn.Linear(2, 2, rng=rng()), Scale())
    for move in (
        interop.to_torch_state_dict,
        lambda m: interop.from_torch_state_dict({}, m),
    ):
        with pytest.raises(TypeError, match=r"parameter '1.scale' is not in a layer that has a"):
            move(scaled)
    leaky = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.LeakyReLU())
    with pytest.raises(TypeError, match=r"layer '1' is torch.nn.LeakyReLU, which has no"):
        interop.from_torch(leaky)
    with pytest.raises(TypeError, match=r"the model is test_interop_torch.TheirNet, which has"):
        interop.from_torch(TheirNet())
    # a subclass of a layer that moves may do anything in its forward: it does not move
    with pytest.raises(
        TypeError, match=r"layer .0. is torch.nn.modules.linear.NonDynamicallyQuant"
    ):
        interop.from_torch(
            torch.nn.Sequential(torch.nn.modules.linear.NonDynamicallyQuantizableLinear(2, 2))
        )


def test_mismatched_names_and_shapes_are_errors_naming_them() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=rng()), nn.Sigmoid())
    theirs = interop.to_torch_state_dict(model)
    # PyTorch's layout given as ours: the transposed shape is named, with the way out.
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(2, 3\) in the state dict but"):
        interop.to_torch_state_dict({k: v.numpy() for k, v in theirs.items()}, model=model)
    # ours given as PyTorch's
    ours = {name: torch.from_numpy(a) for name, a in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(3, 2\) in the state dict but"):
        interop.from_torch_state_dict(ours, model)
    # another model's state dict
    other = interop.to_torch_state_dict(nn.Sequential(nn.Linear(3, 2, bias=False)))
    with pytest.raises(ValueError, match=r"missing \['0.bias'\], unexpected nothing"):
        interop.from_torch_state_dict(other, model)
    with pytest.raises(ValueError, match=r"missing nothing, unexpected \['1.weight'\]"):
        interop.from_torch_state_dict({**theirs, "1.weight": theirs["0.bias"]}, model)
    with pytest.raises(ValueError, match=r"missing \['0.weight'\]"):
        interop.to_torch_state_dict({"0.bias": np.zeros(2)}, model=model)


def test_bad_arguments_are_errors_saying_what_is_accepted() -> None:
    model = nn.Sequential(nn.Linear(3, 2, rng=rng()))
    with pytest.raises(TypeError, match=r"to_torch: expected a tinygrad_lite nn.Module, got"):
        interop.to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"from_torch: expected a torch.nn.Module, got Seq"):
        interop.from_torch(model)
    with pytest.raises(TypeError, match=r"dtype must be float32, float64 or None, got 'int32'"):
        interop.to_torch(model, dtype="int32")
    with pytest.raises(TypeError, match=r"dtype must be float32, float64 or None"):
        interop.from_torch(torch.nn.ReLU(), dtype=torch.int64)
    with pytest.raises(TypeError, match=r"a state dict needs model=, the Module it belongs to"):
        interop.to_torch_state_dict(model.state_dict())
    with pytest.raises(TypeError, match=r"give a model, or a state dict and model="):
        interop.to_torch_state_dict(model, model=model)
    with pytest.raises(TypeError, match=r"state must be a Module or a state dict"):
        interop.to_torch_state_dict([1, 2])
    with pytest.raises(TypeError, match=r"'0.weight' is list; accepted: a numeric numpy array"):
        interop.to_torch_state_dict({"0.weight": [[1.0]], "0.bias": np.zeros(2)}, model=model)
    with pytest.raises(TypeError, match=r"model must be the tinygrad_lite Module"):
        interop.from_torch_state_dict({}, torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"state must be a state dict \(name -> tensor\)"):
        interop.from_torch_state_dict([], model)
    ints = {"0.weight": torch.zeros(2, 3, dtype=torch.int64), "0.bias": torch.zeros(2)}
    with pytest.raises(TypeError, match=r"'0.weight' is Tensor of dtype torch.int64; accepted"):
        interop.from_torch_state_dict(ints, model)


def test_a_sequential_that_holds_itself_is_an_error() -> None:
    loop = nn.Sequential(nn.ReLU())
    loop.layers = (*loop.layers, loop)
    with pytest.raises(ValueError, match=r"to_torch: layer '1' holds itself"):
        interop.to_torch(loop)
    theirs = torch.nn.Sequential(torch.nn.ReLU())
    theirs.append(theirs)
    with pytest.raises(ValueError, match=r"from_torch: the model holds itself"):
        interop.from_torch(theirs)


# ---------------------------------------------------------- convolution, pooling, settings


def test_dropout_in_training_mode_keeps_p_and_draws_on_each_side() -> None:
    x = np.ones((200, 50))
    for layer in (nn.Dropout(0.3, rng=rng()), interop.from_torch(torch.nn.Dropout(0.3))):
        module = interop.to_torch(layer)
        assert module.p == layer.p == 0.3 and module.training and layer.training
        ours, theirs = layer(Tensor(x)).data, module(torch.tensor(x)).numpy()
        for out in (ours, theirs):  # each zeroes about 30% and scales the rest by 1/(1-p)
            assert set(np.unique(out)) == {0.0, 1 / 0.7}
            assert 0.27 < (out == 0).mean() < 0.33


# (PyTorch's layer, what the error says): settings ours does not have.
UNSUPPORTED = [
    (lambda: torch.nn.Conv2d(1, 2, 3, dilation=2), r"Conv2d\(dilation=\(2, 2\)\) has no"),
    (lambda: torch.nn.Conv2d(2, 2, 3, groups=2), r"Conv2d\(groups=2\) has no counterpart"),
    (lambda: torch.nn.Conv2d(1, 2, 3, padding="same"), r"Conv2d\(padding='same'\) has no"),
    (
        lambda: torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"),
        r"Conv2d\(padding_mode='reflect'\) has no counterpart here, whose Conv2d has "
        r"padding_mode='zeros' only",
    ),
    (lambda: torch.nn.MaxPool2d(2, padding=1), r"MaxPool2d\(padding=1\) has no"),
    (lambda: torch.nn.MaxPool2d(2, dilation=2), r"MaxPool2d\(dilation=2\) has no"),
    (lambda: torch.nn.MaxPool2d(2, ceil_mode=True), r"MaxPool2d\(ceil_mode=True\) has no"),
    (lambda: torch.nn.AvgPool2d(2, padding=1), r"AvgPool2d\(padding=1\) has no"),
    (lambda: torch.nn.AvgPool2d(2, divisor_override=3), r"AvgPool2d\(divisor_override=3\)"),
    (lambda: torch.nn.Softmax(), r"Softmax\(dim=None\) has no counterpart here"),
    (lambda: torch.nn.LogSoftmax(), r"LogSoftmax\(dim=None\) has no counterpart here"),
    (
        lambda: torch.nn.Embedding(4, 2, padding_idx=0),
        r"Embedding\(padding_idx=0\) has no counterpart here, whose Embedding has "
        r"padding_idx=None only",
    ),
    (lambda: torch.nn.Embedding(4, 2, max_norm=1.0), r"Embedding\(max_norm=1.0\) has no"),
    (
        lambda: torch.nn.Embedding(4, 2, scale_grad_by_freq=True),
        r"Embedding\(scale_grad_by_freq=True\) has no",
    ),
    (lambda: torch.nn.Embedding(4, 2, sparse=True), r"Embedding\(sparse=True\) has no"),
]


@pytest.mark.parametrize(("make", "message"), UNSUPPORTED, ids=[m for _, m in UNSUPPORTED])
def test_a_pytorch_setting_ours_lacks_is_an_error_naming_it(
    make: Callable[[], Any], message: str
) -> None:
    with pytest.raises(ValueError, match=r"from_torch: layer '1': " + message):
        interop.from_torch(torch.nn.Sequential(torch.nn.ReLU(), make()))


def test_embedding_and_rnn_cell_keep_their_settings_and_layouts() -> None:
    table = torch.nn.Embedding.from_pretrained(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    layer = interop.from_torch(table)  # frozen there, frozen here
    assert type(layer) is nn.Embedding and not layer.weight.requires_grad
    assert layer.weight.dtype == np.float32 and layer.weight.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert not interop.to_torch(layer).weight.requires_grad
    cell = nn.RNNCell(3, 5, bias=False, nonlinearity="relu", rng=rng())
    module = interop.to_torch(cell)
    assert (module.input_size, module.hidden_size, module.bias) == (3, 5, False)
    assert module.nonlinearity == "relu"
    assert tuple(module.weight_ih.shape) == (5, 3)  # PyTorch's (out, in): ours transposed
    np.testing.assert_array_equal(module.weight_ih.detach().numpy(), cell.weight_ih.data.T)
    np.testing.assert_array_equal(module.weight_hh.detach().numpy(), cell.weight_hh.data.T)
    state = interop.to_torch_state_dict(cell)
    assert list(state) == ["weight_ih", "weight_hh"]
    np.testing.assert_array_equal(
        interop.from_torch_state_dict(state, cell)["weight_hh"], cell.weight_hh.data
    )
    # a state dict in the other's layout is named, with both shapes
    theirs = {name: t.numpy() for name, t in state.items()}
    with pytest.raises(ValueError, match=r"'weight_ih' has shape \(5, 3\) in the state dict but"):
        interop.to_torch_state_dict(theirs, model=cell)
    ours = {name: torch.from_numpy(a) for name, a in cell.state_dict().items()}
    with pytest.raises(ValueError, match=r"'weight_ih' has shape \(3, 5\) in the state dict but"):
        interop.from_torch_state_dict(ours, cell)


class Doubled(nn.Module):
    """A class of one's own that says how it moves, and its PyTorch twin says how it comes
    back; inside a Sequential, on both sides."""

    def __init__(self, linear: nn.Linear) -> None:
        self.linear = linear

    def forward(self, x: Any) -> Tensor:
        return self.linear(x) * 2

    def __to_torch__(self, dtype: Any) -> Any:
        return TheirDoubled(interop.to_torch(self.linear, dtype))


class TheirDoubled(torch.nn.Module):
    def __init__(self, linear: Any) -> None:
        super().__init__()
        self.linear = linear

    def forward(self, x: Any) -> Any:
        return self.linear(x) * 2

    def __from_torch__(self, dtype: Any) -> nn.Module:
        return Doubled(interop.from_torch(self.linear, dtype))


def test_a_class_of_ones_own_moves_when_it_says_how() -> None:
    model = nn.Sequential(nn.Linear(3, 4, rng=rng(1)), nn.Tanh(), Doubled(nn.Linear(4, 2)))
    module = interop.to_torch(model)
    assert type(module[2]) is TheirDoubled and type(module[2].linear) is torch.nn.Linear
    both_ways(model, normal(5, 3))
    back = interop.from_torch(module)
    assert type(back[2]) is Doubled


class Wrong(Square):
    def __to_torch__(self, dtype: Any) -> Any:
        return "a module"


class TheirWrong(torch.nn.ReLU):
    def __from_torch__(self, dtype: Any) -> Any:
        return torch.nn.ReLU()


def test_a_class_whose_move_gives_something_else_is_an_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"to_torch: Wrong.__to_torch__ returned str; accepted"):
        interop.to_torch(nn.Sequential(Wrong()))
    with pytest.raises(TypeError, match=r"from_torch: TheirWrong.__from_torch__ returned ReLU"):
        interop.from_torch(torch.nn.Sequential(TheirWrong()))


def test_a_tie_in_a_max_pooling_window_is_where_the_input_gradients_part() -> None:
    # docs/pytorch.md says so: PyTorch gives the window's gradient to one of the tied
    # pixels, tinygrad_lite shares it evenly; the output and the sum are the same.
    x = np.array([[[[1.0, 1.0], [0.0, -1.0]]]])
    layer = nn.MaxPool2d(2)
    ours = run_ours(layer, (x,), np.ones((1, 1, 1, 1)))
    theirs = run_theirs(interop.to_torch(layer), (x,), np.ones((1, 1, 1, 1)))
    assert ours["output"].item() == theirs["output"].item() == 1.0
    assert ours["input 0"].ravel().tolist() == [0.5, 0.5, 0.0, 0.0]
    assert theirs["input 0"].ravel().tolist() == [1.0, 0.0, 0.0, 0.0]
