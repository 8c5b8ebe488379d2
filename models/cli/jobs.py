"""What the command line works on: a model with its data, loss and optimizer (a ``Job``).

A job comes from a built-in name (the seed's networks and the modern XOR net, each from
its own module) or from a TOML file (``models.cli.config``). Every command uses the same few
operations: one training step, the loss, the predictions, the names of the tensors.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import tinygrad_lite as tl
from models.cli import config
from tinygrad_lite import nn, optim

LOSSES: dict[str, Callable[[tl.Tensor, Any], tl.Tensor]] = {
    "sse": nn.sse_loss,
    "mse": nn.mse_loss,
    "bce": nn.binary_cross_entropy,
    "bce_with_logits": nn.binary_cross_entropy_with_logits,
}
LAYERS: dict[str, Callable[[], nn.Module]] = {
    "Sigmoid": nn.Sigmoid,
    "ReLU": nn.ReLU,
    "Tanh": nn.Tanh,
}


class ModelError(ValueError):
    """A MODEL argument that is neither a built-in name nor a TOML file."""


@dataclass
class Job:
    """A model, the data it learns, and how: everything a command needs."""

    name: str
    model: nn.Module
    inputs: tl.Tensor
    targets: tl.Tensor
    loss_name: str
    optimizer: optim.Optimizer
    epochs: int
    lr: float
    seed: int
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    logits: bool = False  # the model outputs logits: predictions are sigmoid(output)
    # compare: runs autodiff and the hand-written version side by side (None: there is none)
    hand_written: Callable[[Job, int, Callable[[int], None] | None], Comparison] | None = None
    loss_fn: Callable[[tl.Tensor, Any], tl.Tensor] = field(init=False)

    def __post_init__(self) -> None:
        self.loss_fn = LOSSES[self.loss_name]

    def loss(self) -> tl.Tensor:
        """The loss of the model on all the data (a graph, ready for backward)."""
        return self.loss_fn(self.model(self.inputs), self.targets)

    def step(self) -> float:
        """One epoch of full-batch training; returns the loss before the update."""
        self.optimizer.zero_grad()
        loss = self.loss()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def training_step(self) -> Callable[[tl.Tensor, tl.Tensor], tl.Tensor]:
        """``step(X, y)``: one epoch of training on the data given, returning the loss before
        the update; the function ``tl.compile`` records (``train --compile``, ``compile``).
        It names the model and the optimizer as locals, so that the program names the
        parameters after the model's own (model_0_weight)."""
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn

        def step(X: tl.Tensor, y: tl.Tensor) -> tl.Tensor:  # noqa: N803 (the seed's names)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            return loss

        return step

    def hand_written_source(self) -> str | None:
        """The source of the seed's hand-written training (its fp, bp and loop), or None
        for a model that has none."""
        if self.hand_written is None:
            return None
        module = _seed_module(self.name)
        functions = [getattr(module, name, None) for name in ("fp", "bp", "manual_train")]
        return "\n\n".join(inspect.getsource(f) for f in functions if f is not None)

    def evaluate(self) -> float:
        """The loss now, without recording a graph."""
        with tl.no_grad():
            return self.loss().item()

    def predictions(self) -> np.ndarray:
        """The model's outputs on the inputs (probabilities, for a model giving logits)."""
        with tl.no_grad():
            out = self.model(self.inputs)
            return (out.sigmoid() if self.logits else out).numpy()

    def names(self) -> dict[str, tl.Tensor]:
        """Names for graphs and traces: the data as X and y, the parameters by their names."""
        return {"X": self.inputs, "y": self.targets, **dict(self.model.named_parameters())}

    def settings(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "lr": self.lr,
            "seed": self.seed,
            "loss": self.loss_name,
            "optimizer": type(self.optimizer).__name__,
        }

    def describe(self) -> str:
        """One line: the settings, for the top of an output."""
        return (
            f"{self.epochs} epochs, {type(self.optimizer).__name__}(lr={self.lr:g}), "
            f"{self.loss_name} loss, seed {self.seed}, {len(self.inputs.data)} samples"
        )

    def gradcheck(self) -> list[GradcheckResult]:
        """``tl.gradcheck`` of the loss with respect to each parameter, at the current weights."""
        results = []
        for name, parameter in self.model.named_parameters():
            owner, attribute = _owner(self.model, name)

            def loss_at(value: tl.Tensor, owner: Any = owner, attribute: str = attribute) -> Any:
                original = getattr(owner, attribute)
                setattr(owner, attribute, value)  # the model's own forward, on this value
                try:
                    return self.loss()
                finally:
                    setattr(owner, attribute, original)

            results.append(_check(name, parameter, loss_at))
        return results


class GradcheckResult(NamedTuple):
    """One parameter's check: the worst element, its two derivatives and the errors."""

    parameter: str
    shape: tuple[int, ...]
    worst_index: tuple[int, ...] | None
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    passed: bool


# ---------------------------------------------------------------------------- making jobs


def make(
    model: str, epochs: int | None = None, lr: float | None = None, seed: int | None = None
) -> Job:
    """The job for a MODEL argument; ``epochs``, ``lr`` and ``seed`` override its own."""
    if model in BUILT_IN:
        return BUILT_IN[model](epochs, lr, seed)
    path = Path(model)
    if path.suffix.lower() == ".toml" or path.is_file():
        return from_config(config.load(path), epochs, lr, seed)
    raise ModelError(
        f"unknown model {model!r}; accepted: {', '.join(NAMES)}, or the path of a .toml file"
    )


def from_config(
    declared: config.NetworkConfig, epochs: int | None, lr: float | None, seed: int | None
) -> Job:
    """A job from a checked TOML declaration (see ``models.cli.config``)."""
    seed = declared.seed if seed is None else seed
    lr = declared.lr if lr is None else lr
    rng = np.random.RandomState(seed)
    layers: list[nn.Module] = []
    for layer in declared.layers:
        if layer.kind == "Linear" and declared.init == "uniform":
            # The seed's init: U[-1, 1) from one generator, weight then bias, layer by layer.
            shape = (layer.in_features, layer.out_features)
            weight = tl.init.uniform(shape, rng=rng)
            bias = tl.init.uniform((layer.out_features,), rng=rng) if layer.bias else None
            layers.append(nn.Linear.from_weights(weight, bias))
        elif layer.kind == "Linear":
            layers.append(nn.Linear(layer.in_features, layer.out_features, layer.bias, rng=rng))
        else:
            layers.append(LAYERS[layer.kind]())
    model = nn.Sequential(*layers)
    if declared.optimizer == "adam":
        optimizer: optim.Optimizer = optim.Adam(model.parameters(), lr=lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=lr, momentum=declared.momentum)
    return Job(
        name=declared.name,
        model=model,
        inputs=tl.Tensor(declared.inputs),
        targets=tl.Tensor(declared.targets),
        loss_name=declared.loss,
        optimizer=optimizer,
        epochs=declared.epochs if epochs is None else epochs,
        lr=lr,
        seed=seed,
        input_names=declared.input_names,
        target_names=declared.target_names,
        logits=declared.loss == "bce_with_logits",
    )


def has_hand_written(name: str) -> bool:
    """Whether the built-in model ``name`` has a hand-written backprop to compare with."""
    return name in SEED_MODULES or name == "char-rnn"


def _seed_job(name: str) -> Callable[[int | None, float | None, int | None], Job]:
    """The job of a seed network: its module's model, data and epochs, sse_loss and SGD."""

    def make_job(epochs: int | None, lr: float | None, seed: int | None) -> Job:
        module = _seed_module(name)
        seed = 1 if seed is None else seed
        lr = 1.0 if lr is None else lr
        model = module.build(seed)
        return Job(
            name=name,
            model=model,
            inputs=tl.Tensor(module.X),
            targets=tl.Tensor(module.y),
            loss_name="sse",
            optimizer=optim.SGD(model.parameters(), lr=lr),
            epochs=module.EPOCHS if epochs is None else epochs,
            lr=lr,
            seed=seed,
            input_names=tuple(f"x{i}" for i in range(module.X.shape[1])),
            target_names=("y",),
            hand_written=_compare_seed,
        )

    return make_job


def _seed_module(name: str) -> Any:
    # Imported when asked for, so that `tinygrad-lite train some.toml` loads neither.
    module_name = SEED_MODULES[name]
    if module_name == "single_neuron":
        from models import single_neuron

        return single_neuron
    from models import xor_net

    return xor_net


EPS = 1e-6  # the step of the central differences, tl.gradcheck's default
MODERN_LR = 0.05  # the default lr of xor_modern.train (a test holds the two together)


def _modern_job(epochs: int | None, lr: float | None, seed: int | None) -> Job:
    """XOR as one would write it today (``models.xor_modern``): Adam on BCE with logits."""
    from models import xor_modern

    seed = 0 if seed is None else seed
    lr = MODERN_LR if lr is None else lr
    model = xor_modern.build(seed)
    return Job(
        name="xor-modern",
        model=model,
        inputs=tl.Tensor(xor_modern.X),
        targets=tl.Tensor(xor_modern.y),
        loss_name="bce_with_logits",
        optimizer=optim.Adam(model.parameters(), lr=lr),
        epochs=xor_modern.EPOCHS if epochs is None else epochs,
        lr=lr,
        seed=seed,
        input_names=("x0", "x1"),
        target_names=("y",),
        logits=True,
    )


SEED_MODULES = {"single-neuron": "single_neuron", "xor": "xor_net"}
BUILT_IN: dict[str, Callable[[int | None, float | None, int | None], Job]] = {
    "single-neuron": _seed_job("single-neuron"),
    "xor": _seed_job("xor"),
    "xor-modern": _modern_job,
}
# Built-in models that are not jobs, with commands of their own: char-rnn reads a stream of
# text, not a batch of rows (models.cli.recurrent, which cli.py hands it to).
NAMES = (*BUILT_IN, "char-rnn")


# ------------------------------------------------------------------------------ compare


@dataclass
class Comparison:
    """Autodiff and hand-written training of one model, compared at checkpoints."""

    name: str
    epochs: int
    lr: float
    parameter_names: tuple[str, ...]
    checkpoints: list[int]
    differences: list[list[float]]  # per checkpoint, per parameter: max |autodiff - hand|
    identical: bool
    autodiff_seconds: float
    hand_written_seconds: float

    def report(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "epochs": self.epochs,
            "lr": self.lr,
            "checkpoints": [
                {"epoch": epoch, "max_abs_difference": dict(zip(self.parameter_names, diffs))}
                for epoch, diffs in zip(self.checkpoints, self.differences)
            ],
            "bit_identical": self.identical,
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
        lines = [
            f"{self.name}: autodiff (loss.backward()) against the hand-written deltas, "
            f"{self.epochs} epochs, lr {self.lr:g}",
            *("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows),
            f"bit-identical: {'yes' if self.identical else 'no'}",
            f"time: autodiff {self.autodiff_seconds:.3f} s, hand-written "
            f"{self.hand_written_seconds:.3f} s "
            f"({_ratio(self.autodiff_seconds, self.hand_written_seconds)})",
        ]
        return "\n".join(lines)


def _compare_seed(
    job: Job, count: int, on_epoch: Callable[[int], None] | None = None
) -> Comparison:
    """The seed module's autodiff ``train`` and its hand-written ``manual_train``, lockstep.

    Both start from the job's initial weights. After every autodiff update the hand-written
    loop runs one epoch and every parameter is compared by its bytes (so bit-identical
    means after every epoch); at the checkpoints the largest difference is recorded. Then
    each runs once more alone, timed (``models.compare.time_both``). ``on_epoch(epoch)``
    is called after each lockstep epoch (a progress bar).
    """
    from models.compare import time_both

    module = _seed_module(job.name)
    marks = checkpoints(job.epochs, count)
    wanted = set(marks)
    named = job.model.named_parameters()
    manual = job.model.state_dict()  # copies: the hand-written loop starts where we do
    differences: list[list[float]] = []
    identical = True

    def check(epoch: int) -> None:
        nonlocal identical
        module.manual_train(manual, 1)
        for name, p in named:
            if p.data.tobytes() != manual[name].tobytes():  # tells -0.0 from 0.0
                identical = False
        if epoch + 1 in wanted:
            differences.append([_largest(p.data, manual[name]) for name, p in named])
        if on_epoch is not None:
            on_epoch(epoch)

    module.train(job.model, job.epochs, on_epoch=check)
    autodiff_seconds, hand_seconds = time_both(
        module.build, module.train, module.manual_train, job.epochs, job.seed
    )
    return Comparison(
        name=job.name,
        epochs=job.epochs,
        lr=1.0,
        parameter_names=tuple(name for name, _ in named),
        checkpoints=marks,
        differences=differences,
        identical=identical,
        autodiff_seconds=autodiff_seconds,
        hand_written_seconds=hand_seconds,
    )


def _largest(ours: np.ndarray, theirs: np.ndarray) -> float:
    with np.errstate(all="ignore"):  # diverged runs: inf - inf is nan, and that is the answer
        return float(np.abs(ours - theirs).max())


def checkpoints(epochs: int, count: int) -> list[int]:
    """``count`` epochs spread over 1..epochs, ending at the last (fewer if epochs is small)."""
    if epochs == 0:
        return [0]
    picks = {max(1, round(epochs * (k + 1) / count)) for k in range(count)}
    return sorted(picks | {1})


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def _ratio(autodiff: float, hand: float) -> str:
    if min(autodiff, hand) < 1e-3:  # below a millisecond, the ratio is noise
        return "too short to compare the times"
    return f"autodiff takes {autodiff / hand:.2f}x the hand-written time"


# ----------------------------------------------------------------------------- gradcheck


def _owner(model: nn.Module, dotted: str) -> tuple[Any, str]:
    """The object that holds the parameter named ``dotted`` ("0.weight"), and its attribute."""
    *path, attribute = dotted.split(".")
    owner: Any = model
    for part in path:
        owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
    return owner, attribute


def _check(name: str, parameter: tl.Tensor, loss_at: Callable[[tl.Tensor], Any]) -> GradcheckResult:
    """``tl.gradcheck`` of ``loss_at`` at ``parameter``, and the element that differs most.

    The verdict is tl.gradcheck's (its default tolerances, and its allowance for rounding
    in the loss). tl.gradcheck names an element only when it fails, so the largest
    difference is measured here too, the same way: the gradient from backward
    (``tl.grad``) against central differences with tl.gradcheck's step, element by element.
    """
    try:
        passed = tl.gradcheck(loss_at, parameter, eps=EPS)
    except tl.GradcheckError:
        passed = False
    x = parameter.data.astype(np.float64)
    analytic = tl.grad(loss_at)(tl.Tensor(x)).data
    numeric = np.empty_like(x)
    work = x.copy()
    with tl.no_grad():
        for k in range(x.size):
            value = work.flat[k]
            work.flat[k] = value + EPS
            plus_step, plus = work.flat[k], loss_at(tl.Tensor(work)).item()
            work.flat[k] = value - EPS
            minus_step, minus = work.flat[k], loss_at(tl.Tensor(work)).item()
            work.flat[k] = value
            # divided by the step actually taken, after rounding value + EPS and value - EPS
            numeric.flat[k] = (plus - minus) / (plus_step - minus_step)
    difference = np.abs(analytic - numeric)
    k = int(np.argmax(difference))
    a, n = float(analytic.flat[k]), float(numeric.flat[k])
    return GradcheckResult(
        parameter=name,
        shape=tuple(x.shape),
        worst_index=tuple(int(i) for i in np.unravel_index(k, x.shape)),
        analytic=a,
        numeric=n,
        abs_error=abs(a - n),
        rel_error=abs(a - n) / abs(n) if n else (0.0 if a == n else math.inf),
        passed=passed,
    )


def gradcheck_table(results: list[GradcheckResult]) -> str:
    header = [
        "parameter",
        "shape",
        "worst element",
        "analytic",
        "numeric",
        "abs error",
        "rel error",
        "result",
    ]
    rows = [header]
    for r in results:
        rows.append(
            [
                r.parameter,
                str(r.shape),
                "-" if r.worst_index is None else str(r.worst_index),
                f"{r.analytic:.10g}",
                f"{r.numeric:.10g}",
                f"{r.abs_error:.2e}",
                f"{r.rel_error:.2e}",
                "ok" if r.passed else "FAILED",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
