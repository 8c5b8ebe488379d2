"""The optimizers and schedules against torch.optim: 50 steps from the same start with the
same gradients. Skipped where PyTorch is not installed (pip install torch==2.13.0)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_lite import Tensor, optim

torch = pytest.importorskip("torch")

STEPS = 50


def gradient(p: np.ndarray, i: int) -> np.ndarray:
    """A gradient that depends on where p is, and is different for every parameter i."""
    return np.asarray(np.sin(3 * p + i) + 0.1 * p**3 - 0.5 * (i + 1))


def starts() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=())]


# (name, keyword arguments): each name is the class in both libraries.
CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "weight_decay": 0.02, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.3, "centered": True}),
    ("Adagrad", {}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
    ),
]


def trajectories(name: str, kwargs: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Every parameter after every step, by tinygrad_lite and by torch.optim."""
    ours = [Tensor(s.copy(), requires_grad=True) for s in starts()]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts()]
    opt = getattr(optim, name)(ours, **kwargs)
    # foreach=False: PyTorch's loop over the parameters, its reference implementation.
    their_opt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    path, their_path = [], []
    for _ in range(STEPS):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            p.grad = Tensor(gradient(p.data, i))
            q.grad = torch.from_numpy(gradient(q.detach().numpy(), i))
        opt.step()
        their_opt.step()
        path.append([p.data.copy() for p in ours])
        their_path.append([q.detach().numpy().copy() for q in theirs])
    return path, their_path


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_a_trajectory_equals_torch_optims_to_rounding(name: str, kwargs: dict) -> None:
    path, their_path = trajectories(name, kwargs)
    worst = 0.0
    for step, (ps, qs) in enumerate(zip(path, their_path)):
        for p, q in zip(ps, qs):
            np.testing.assert_allclose(p, q, rtol=1e-13, atol=1e-13, err_msg=f"step {step + 1}")
            worst = max(worst, float(np.max(np.abs(p - q))))
    assert np.max(np.abs(path[-1][0] - starts()[0])) > 0.01  # the parameters did move


def test_the_defaults_are_torch_optims() -> None:
    import inspect

    for name in ("Adam", "AdamW", "RMSprop", "Adagrad"):
        ours = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for key, parameter in ours.items():
            if key != "params":
                assert parameter.default == theirs[key].default, (name, key)
        positional = [k for k, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert list(ours)[: len(positional)] == positional[: len(ours)], name


def schedules(make_ours: Any, make_theirs: Any, epochs: int = 40) -> tuple[list, list]:
    """The lr of each epoch under a schedule, ours and PyTorch's, on SGD(lr=0.1)."""
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
    their_opt = torch.optim.SGD([torch.tensor([1.0], requires_grad=True)], lr=0.1)
    scheduler, theirs = make_ours(opt), make_theirs(their_opt)
    lrs, their_lrs = [], []
    for _ in range(epochs):
        lrs.append((scheduler.get_last_lr()[0], opt.param_groups[0]["lr"]))
        their_lrs.append((theirs.get_last_lr()[0], their_opt.param_groups[0]["lr"]))
        opt.step()
        their_opt.step()
        scheduler.step()
        theirs.step()
    return lrs, their_lrs


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", {"step_size": 7}),
        ("StepLR", {"step_size": 1, "gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 10}),
        ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
        ("CosineAnnealingLR", {"T_max": 1}),
    ],
)
def test_a_schedule_equals_pytorchs_bit_for_bit(name: str, kwargs: dict) -> None:
    lrs, their_lrs = schedules(
        lambda o: getattr(optim.lr_scheduler, name)(o, **kwargs),
        lambda o: getattr(torch.optim.lr_scheduler, name)(o, **kwargs),
    )
    assert lrs == their_lrs


def test_sgd_with_a_schedule_follows_torch_optim() -> None:
    ours = [Tensor(s.copy(), requires_grad=True) for s in starts()]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts()]
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    their_opt = torch.optim.SGD(theirs, lr=0.1, momentum=0.9, foreach=False)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    their_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(their_opt, T_max=20)
    for _ in range(STEPS):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            p.grad = Tensor(gradient(p.data, i))
            q.grad = torch.from_numpy(gradient(q.detach().numpy(), i))
        opt.step()
        their_opt.step()
        scheduler.step()
        their_scheduler.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-13, atol=1e-13)
