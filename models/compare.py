"""Autodiff against the seed's hand-written backprop, weight by weight, epoch by epoch.

``compare(build, train, manual_train, epochs)`` builds a model, gives a copy of its initial
weights to the hand-written loop, and runs the two in lockstep: after every autodiff
update, one hand-written epoch, then every parameter is compared with its hand-written
twin. Only the current weights are held, so 100 000 epochs cost no memory. Then, unless
``timing=False``, each is run once more alone from the same start, timed side by side.

``python -m models.compare`` compares both seed networks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lite import nn


@dataclass
class ParameterDiff:
    """How one parameter's autodiff trajectory differed from the hand-written one."""

    name: str
    shape: tuple[int, ...]
    largest_difference: float = 0.0  # max over all epochs and elements of |autodiff - manual|
    first_differing_epoch: int | None = None  # counted from 1 (the first update); None: never

    @property
    def bit_identical(self) -> bool:
        """The same bits after every epoch."""
        return self.first_differing_epoch is None


@dataclass
class Comparison:
    """The result of ``compare``: per-parameter differences, the trained model, timings."""

    epochs: int
    parameters: list[ParameterDiff]
    model: nn.Module  # trained by autodiff in the lockstep run
    losses: np.ndarray
    autodiff_seconds: float | None = None
    manual_seconds: float | None = None
    name: str = field(default="model")

    @property
    def bit_identical(self) -> bool:
        """Every parameter had the same bits as its hand-written twin after every epoch."""
        return all(p.bit_identical for p in self.parameters)

    def report(self) -> str:
        """A table of the differences, then the timings."""
        lines = [
            f"{self.name}: autodiff vs hand-written backprop, {self.epochs} epochs from the same "
            f"start,",
            "  every weight compared after every epoch",
            f"  {'parameter':<10} {'shape':<8} {'largest |difference|':>21}  "
            f"{'first differing epoch':>21}  bit-identical",
        ]
        for p in self.parameters:
            first = "none" if p.first_differing_epoch is None else str(p.first_differing_epoch)
            lines.append(
                f"  {p.name:<10} {str(p.shape):<8} {p.largest_difference:>21.3g}  {first:>21}  "
                f"{'yes' if p.bit_identical else 'NO'}"
            )
        if self.autodiff_seconds is not None and self.manual_seconds is not None:
            per_epoch = 1e6 / self.epochs
            lines.append(
                f"  time: autodiff {self.autodiff_seconds:.2f} s "
                f"({self.autodiff_seconds * per_epoch:.1f} us/epoch), hand-written "
                f"{self.manual_seconds:.2f} s ({self.manual_seconds * per_epoch:.1f} us/epoch);"
            )
            ratio = self.autodiff_seconds / self.manual_seconds
            lines.append(f"  autodiff takes {ratio:.1f}x as long (each run alone, one process)")
        return "\n".join(lines)


def compare(
    build: Callable[[int], nn.Module],
    train: Callable[..., np.ndarray],
    manual_train: Callable[[dict[str, np.ndarray], int], Any],
    epochs: int,
    seed: int = 1,
    timing: bool = True,
    name: str = "model",
) -> Comparison:
    """Run ``train`` (autodiff) and ``manual_train`` (by hand) in lockstep and compare.

    ``build(seed)`` makes the model; ``train(model, epochs, on_epoch=...)`` trains it and
    calls ``on_epoch`` after each update; ``manual_train(state, epochs)`` trains a state
    dict of the same model in place. With ``timing``, each also runs alone, timed.
    """
    model = build(seed)
    manual = model.state_dict()  # copies: the hand-written loop starts where the model does
    named = model.named_parameters()
    diffs = [ParameterDiff(name, p.data.shape) for name, p in named]

    def check(epoch: int) -> None:
        manual_train(manual, 1)
        for diff, (name, p) in zip(diffs, named):
            ours, theirs = p.data, manual[name]
            # Bytes rather than ==: tells -0.0 from 0.0, and a NaN equals itself.
            if ours.tobytes() != theirs.tobytes():
                largest = float(np.abs(ours - theirs).max())
                if not largest <= diff.largest_difference:  # also keeps a NaN
                    diff.largest_difference = largest
                if diff.first_differing_epoch is None:
                    diff.first_differing_epoch = epoch + 1

    with np.errstate(all="ignore"):  # the differences of diverging runs may overflow
        losses = train(model, epochs, on_epoch=check)
    result = Comparison(epochs, diffs, model, losses, name=name)
    if timing:
        result.autodiff_seconds, result.manual_seconds = time_both(
            build, train, manual_train, epochs, seed
        )
    return result


def time_both(
    build: Callable[[int], nn.Module],
    train: Callable[..., np.ndarray],
    manual_train: Callable[[dict[str, np.ndarray], int], Any],
    epochs: int,
    seed: int = 1,
) -> tuple[float, float]:
    """Seconds for ``epochs`` of autodiff training, then of hand-written, from one start."""
    model = build(seed)
    state = model.state_dict()
    start = time.perf_counter()
    train(model, epochs)
    middle = time.perf_counter()
    manual_train(state, epochs)
    end = time.perf_counter()
    return middle - start, end - middle


def main() -> None:
    """Compare both seed networks at their full length."""
    from models import single_neuron, xor_net

    for module in (single_neuron, xor_net):
        result = compare(
            module.build,
            module.train,
            module.manual_train,
            module.EPOCHS,
            name=module.__name__.rsplit(".", 1)[-1],
        )
        print(result.report())
        print()


if __name__ == "__main__":
    main()
