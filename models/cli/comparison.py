"""``tinygrad-lite compare``: a built-in model trained by autodiff and by its hand-written
numpy twin, from the same start, compared weight by weight as they go.

The two run in lockstep: after each autodiff update the twin makes its own, and every
parameter is compared with its twin by its bytes, so "bit-identical" means after every
update. At a few checkpoint epochs the largest differences are kept for the table. Then
each runs once more alone, timed.

- The seed networks (``compare_seed``) train on all their data at every epoch; the
  module's ``manual_train(state, 1)`` is one hand-written epoch.
- The mini-batch classifiers (``compare_minibatch``) take many steps per epoch; the
  module's ``manual_steps(state, epochs)`` is a generator that makes one step at each
  ``next()``, on the same batches from the same generator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lite import nn
from tinygrad_lite.grad_mode import fp_quiet


@dataclass
class Comparison:
    """Autodiff and hand-written training of one model, compared at checkpoints."""

    name: str
    epochs: int
    lr: float
    parameter_names: tuple[str, ...]
    checkpoints: list[int]
    differences: list[list[float]]  # per checkpoint, per parameter: max |autodiff - hand|
    identical: bool  # the same bits after every update
    autodiff_seconds: float
    hand_written_seconds: float
    steps: int = 0  # updates compared in all (the epochs, for full-batch training)
    largest_relative: float = 0.0  # over every update and parameter: max|diff| / max|hand|

    def report(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "epochs": self.epochs,
            "steps": self.steps,
            "lr": self.lr,
            "checkpoints": [
                {"epoch": epoch, "max_abs_difference": dict(zip(self.parameter_names, diffs))}
                for epoch, diffs in zip(self.checkpoints, self.differences)
            ],
            "bit_identical": self.identical,
            "largest_relative_difference": self.largest_relative,
            "autodiff_seconds": self.autodiff_seconds,
            "hand_written_seconds": self.hand_written_seconds,
        }

    def table(self) -> str:
        header = ["epoch", *(f"max |diff| {n}" for n in self.parameter_names)]
        rows = [header] + [
            [str(epoch), *(f"{d:.3g}" for d in diffs)]
            for epoch, diffs in zip(self.checkpoints, self.differences)
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        steps = f" ({self.steps} steps)" if self.steps != self.epochs else ""
        lines = [
            f"{self.name}: autodiff (loss.backward()) against the hand-written deltas, "
            f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}{steps}, lr {self.lr:g}",
            *("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows),
            f"bit-identical: {'yes' if self.identical else 'no'}",
        ]
        if not self.identical:
            lines.append(
                f"largest relative difference: {self.largest_relative:.2g} (max |autodiff - "
                f"hand-written| / max |hand-written|, over every update and parameter)"
            )
        lines.append(
            f"time: autodiff {self.autodiff_seconds:.3f} s, hand-written "
            f"{self.hand_written_seconds:.3f} s "
            f"({_ratio(self.autodiff_seconds, self.hand_written_seconds)})"
        )
        return "\n".join(lines)


class _Tally:
    """The differences between a model's parameters and their twins, kept as they go."""

    def __init__(self, model: nn.Module, manual: dict[str, np.ndarray], marks: list[int]):
        self.named = model.named_parameters()
        self.manual = manual
        self.wanted = set(marks)
        self.identical = True
        self.largest_relative = 0.0
        self.differences: list[list[float]] = []

    def check(self) -> None:
        """Compare every parameter with its twin, now."""
        for name, p in self.named:
            ours, theirs = p.data, self.manual[name]
            if ours.tobytes() != theirs.tobytes():  # tells -0.0 from 0.0
                self.identical = False
                scale = _largest(theirs, np.zeros_like(theirs)) or 1.0
                relative = _largest(ours, theirs) / scale
                if not relative <= self.largest_relative:  # also keeps a NaN
                    self.largest_relative = relative

    def mark(self, epoch: int) -> None:
        """At the end of ``epoch`` (counted from 1): the differences, if it is a checkpoint."""
        if epoch in self.wanted:
            self.differences.append([_largest(p.data, self.manual[name]) for name, p in self.named])


def compare_seed(
    name: str,
    module: Any,
    model: nn.Module,
    epochs: int,
    count: int,
    seed: int,
    on_epoch: Any = None,
) -> Comparison:
    """A seed network's ``train`` and ``manual_train`` (of ``module``) in lockstep, epoch by
    epoch, from the weights of ``model``; then each alone, timed. ``on_epoch(epoch)`` after
    each epoch; ``name`` heads the table."""
    marks = checkpoints(epochs, count)
    tally = _Tally(model, model.state_dict(), marks)  # copies: the twin starts where we do

    def check(epoch: int) -> None:
        module.manual_train(tally.manual, 1)
        tally.check()
        tally.mark(epoch + 1)
        if on_epoch is not None:
            on_epoch(epoch)

    module.train(model, epochs, on_epoch=check)
    fresh, state = module.build(seed), module.build(seed).state_dict()
    autodiff_seconds, hand_seconds = time_both(
        lambda: module.train(fresh, epochs), lambda: module.manual_train(state, epochs)
    )
    return _result(name, module, tally, marks, epochs, epochs, 1.0, autodiff_seconds, hand_seconds)


def compare_minibatch(
    name: str,
    module: Any,
    model: nn.Module,
    epochs: int,
    count: int,
    seed: int,
    on_step: Callable[[int], None] | None = None,
    timing: bool = True,
) -> Comparison:
    """A classifier's ``train`` and ``manual_steps`` in lockstep, step by step, from the
    weights of ``model``; then (with ``timing``) ``train`` and ``manual_train`` alone, timed.
    ``on_step(k)`` after the k-th step (counted from 0)."""
    marks = checkpoints(epochs, count)
    tally = _Tally(model, model.state_dict(), marks)
    twin = module.manual_steps(tally.manual, epochs, seed=seed)
    steps_per_epoch = module.steps_per_epoch()
    steps = 0

    def check() -> None:
        nonlocal steps
        next(twin)
        tally.check()
        steps += 1
        if steps % steps_per_epoch == 0:
            tally.mark(steps // steps_per_epoch)
        if on_step is not None:
            on_step(steps - 1)

    with fp_quiet():  # the differences of diverging runs may overflow: no warnings
        module.train(model, epochs, seed=seed, on_step=check)
    autodiff_seconds = hand_seconds = 0.0
    if timing:
        fresh, state = module.build(seed), module.build(seed).state_dict()
        autodiff_seconds, hand_seconds = time_both(
            lambda: module.train(fresh, epochs, seed=seed),
            lambda: module.manual_train(state, epochs, seed=seed),
        )
    return _result(
        name, module, tally, marks, epochs, steps, module.LR, autodiff_seconds, hand_seconds
    )


def _result(
    name: str,
    module: Any,
    tally: _Tally,
    marks: list[int],
    epochs: int,
    steps: int,
    lr: float,
    autodiff_seconds: float,
    hand_seconds: float,
) -> Comparison:
    return Comparison(
        name=name,
        epochs=epochs,
        lr=lr,
        parameter_names=tuple(name for name, _ in tally.named),
        checkpoints=marks,
        differences=tally.differences,
        identical=tally.identical,
        autodiff_seconds=autodiff_seconds,
        hand_written_seconds=hand_seconds,
        steps=steps,
        largest_relative=tally.largest_relative,
    )


def time_both(autodiff: Callable[[], Any], hand_written: Callable[[], Any]) -> tuple[float, float]:
    """Seconds for ``autodiff()``, then for ``hand_written()``."""
    start = time.perf_counter()
    autodiff()
    middle = time.perf_counter()
    hand_written()
    return middle - start, time.perf_counter() - middle


def _largest(ours: np.ndarray, theirs: np.ndarray) -> float:
    with np.errstate(all="ignore"):  # diverged runs: inf - inf is nan, and that is the answer
        return float(np.abs(ours - theirs).max())


def checkpoints(epochs: int, count: int) -> list[int]:
    """``count`` epochs spread over 1..epochs, ending at the last (fewer if epochs is small)."""
    if epochs == 0:
        return [0]
    picks = {max(1, round(epochs * (k + 1) / count)) for k in range(count)}
    return sorted(picks | {1})


def _ratio(autodiff: float, hand: float) -> str:
    if min(autodiff, hand) < 1e-3:  # below a millisecond, the ratio is noise
        return "too short to compare the times"
    return f"autodiff takes {autodiff / hand:.2f}x the hand-written time"
