"""optim.lr_scheduler: StepLR and CosineAnnealingLR against their closed forms."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tinygrad_lite import Tensor, optim
from tinygrad_lite.optim import lr_scheduler


def sgd(lr: float = 0.1) -> optim.SGD:
    return optim.SGD([Tensor([1.0], requires_grad=True)], lr=lr)


def epochs(scheduler: Any, n: int) -> list[float]:
    """The lr of each of n epochs, read as a training loop would, stepping after each."""
    lrs = []
    for _ in range(n):
        lrs.append(scheduler.optimizer.lr)
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
        scheduler.optimizer.step()
        scheduler.step()
    return lrs


def test_steplr_is_base_lr_times_gamma_to_the_epoch_over_step_size() -> None:
    scheduler = lr_scheduler.StepLR(sgd(0.3), step_size=4, gamma=0.5)
    assert scheduler.get_last_lr() == [0.3] and scheduler.last_epoch == 0
    lrs = epochs(scheduler, 20)
    assert lrs == pytest.approx([0.3 * 0.5 ** (e // 4) for e in range(20)], rel=1e-15)
    assert lrs[:5] == [0.3, 0.3, 0.3, 0.3, 0.15]  # exact: one product per change
    assert scheduler.last_epoch == 20 and lr_scheduler.StepLR(sgd(), 30).gamma == 0.1


@pytest.mark.parametrize("t_max, eta_min", [(10, 0.0), (7, 0.01), (1, 0.0), (3, 0.05)])
def test_cosine_annealing_follows_the_half_cosine_and_back(t_max: int, eta_min: float) -> None:
    base = 0.1
    lrs = epochs(lr_scheduler.CosineAnnealingLR(sgd(base), T_max=t_max, eta_min=eta_min), 40)
    closed = [
        eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2 for e in range(40)
    ]
    assert lrs == pytest.approx(closed, rel=1e-12, abs=1e-15)
    assert lrs[t_max] == eta_min  # the bottom, exactly: 1 + cos(pi) is 0
    assert min(lrs) >= 0


def test_a_schedule_continues_from_an_lr_changed_by_hand() -> None:
    opt = sgd(0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    scheduler.step()
    opt.param_groups[0]["lr"] = 1.0  # as PyTorch's chainable form: the next decay applies to it
    scheduler.step()
    assert opt.lr == 0.5 and scheduler.get_last_lr() == [0.5]
    assert scheduler.base_lrs == [0.1]


def test_the_scheduler_sets_lr_through_param_groups_and_its_checks() -> None:
    opt = sgd(0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.0)
    scheduler.step()
    assert opt.lr == 0.0
    last = scheduler.get_last_lr()
    last.append(5.0)  # a copy
    assert scheduler.get_last_lr() == [0.0]


def test_it_is_optims_lr_scheduler_and_works_with_every_optimizer() -> None:
    assert optim.lr_scheduler is lr_scheduler
    w = [Tensor([1.0], requires_grad=True)]
    for opt in (optim.Adam(w), optim.AdamW(w), optim.RMSprop(w), optim.Adagrad(w)):
        scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
        scheduler.step()
        scheduler.step()
        assert opt.lr == 0.0


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: lr_scheduler.StepLR("sgd", 2), TypeError, "optimizer must be an optimizer"),
        (lambda: lr_scheduler.StepLR(sgd(), 0), ValueError, "step_size must be at least 1"),
        (lambda: lr_scheduler.StepLR(sgd(), 2.5), TypeError, "step_size must be an int"),
        (lambda: lr_scheduler.StepLR(sgd(), 2, gamma=-0.1), ValueError, "gamma must be a"),
        (lambda: lr_scheduler.StepLR(sgd(), 2, gamma="x"), TypeError, "gamma must be a real"),
        (lambda: lr_scheduler.CosineAnnealingLR(sgd(), 0), ValueError, "T_max must be at"),
        (lambda: lr_scheduler.CosineAnnealingLR(sgd(), True), TypeError, "T_max must be an"),
        (
            lambda: lr_scheduler.CosineAnnealingLR(sgd(), 5, eta_min=math.nan),
            ValueError,
            "eta_min must be a finite number",
        ),
    ],
)
def test_bad_arguments_are_clear_errors(make: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()
