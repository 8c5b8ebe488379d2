"""Learning-rate schedules: ``optim.lr_scheduler.StepLR`` and ``CosineAnnealingLR``.

PyTorch's semantics: a scheduler reads the optimizer's learning rate when it is made (its
``base_lrs``), and each ``scheduler.step()``, called once per epoch after the epoch's
``optimizer.step()`` calls, moves the epoch counter ``last_epoch`` on by one and sets the
optimizer's ``lr`` (through ``param_groups``) for the next epoch.

>>> from tinygrad_lite import Tensor, optim
>>> opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
>>> scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(scheduler.get_last_lr()[0])   # the lr this epoch trains with
...     opt.step()                                # (the epoch's batches)
...     scheduler.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
>>> opt.lr                            # epoch 5's: 0.1 * 0.5**(5 // 2)
0.025

Each new lr is computed from the current one, as PyTorch computes it (its "chainable"
form), so a schedule and a change made by hand between steps compose, and the values
agree with PyTorch's to the last bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_lite.optim.optimizers import Optimizer

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]


class LRScheduler:
    """Base class of the schedules: subclasses define ``get_lr()``, the learning rates of
    the epoch ``last_epoch`` (one per parameter group), computed from the current ones."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an optimizer of tinygrad_lite.optim "
                f"(such as optim.SGD(model.parameters(), lr=0.1)), got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0  # epochs stepped through since the scheduler was made
        self._last_lr = list(self.base_lrs)

    def get_lr(self) -> list[float]:
        """The learning rates for epoch ``last_epoch``, as ``step()`` sets them; to read the
        ones in use, call ``get_last_lr()``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """End an epoch: count it, and set the optimizer's lr for the next one."""
        self.last_epoch += 1
        groups = self.optimizer.param_groups
        for group, lr in zip(groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` set (at first, the optimizer's own)."""
        return list(self._last_lr)

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """lr multiplied by ``gamma`` every ``step_size`` epochs: ``base_lr *
    gamma**(epoch // step_size)``, computed as the current lr times gamma at each multiple
    of step_size (PyTorch's form)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _count(type(self).__name__, "step_size", step_size)
        self.gamma = _factor(type(self).__name__, "gamma", gamma)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """lr following half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs
    (SGDR without restarts, Loshchilov & Hutter, 2017)::

        lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    After T_max it rises again along the same cosine, as PyTorch's does. Computed as PyTorch
    computes it, from the current lr: ``lr = eta_min + (lr - eta_min) * (1 + cos(pi * e /
    T_max)) / (1 + cos(pi * (e-1) / T_max))``, and at the restart points, where that
    ratio is 0/0, by the increment ``(base_lr - eta_min) * (1 - cos(pi / T_max)) / 2``.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = _count(type(self).__name__, "T_max", T_max)
        self.eta_min = _factor(type(self).__name__, "eta_min", eta_min)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                for lr, base in zip(self._current(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current()]


def _count(name: str, what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: {what} must be an int (a number of epochs), got {value!r}")
    if value < 1:
        raise ValueError(f"{name}: {what} must be at least 1, got {value}")
    return int(value)


def _factor(name: str, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a real number, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: {what} must be a finite number >= 0, got {value}")
    return float(value)
