"""What ``tinygrad-lite train`` prints, writes and draws about a run: the table of
predictions of a small network; for a classifier, a line per epoch, its accuracy and the
confusion matrix on the test rows; the ``--json`` report; the ``--plot`` figure.

Losses are printed with 4 significant digits and accuracies as percentages with 2
decimals: numpy's exp and log and the BLAS differ a little from one CPU to another, and
these are digits that hold on any of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.cli.jobs import Job

CURVE_POINTS = 1000  # at most this many (epoch, value) pairs per curve in --json output


@dataclass
class History:
    """What a run measured, epoch by epoch."""

    losses: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)  # classifiers only
    test_accuracy: list[float] = field(default_factory=list)  # with a test split only

    def add_accuracies(self, train: float, test: float | None) -> None:
        self.train_accuracy.append(train)
        if test is not None:
            self.test_accuracy.append(test)


# ------------------------------------------------------------------------------- text


def prediction_table(job: Job, predictions: np.ndarray) -> str:
    """Each sample's inputs, targets and predictions (a network of a few samples)."""
    inputs = job.inputs.data
    targets = job.targets.data
    header = [*job.input_names, *(f"{n} target" for n in job.target_names)]
    header += [f"{n} predicted" for n in job.target_names]
    rows = [header]
    for x, y, p in zip(inputs, targets, predictions):
        rows.append([*map(_short, x), *map(_short, y), *(f"{v:.8f}" for v in p)])
    return _columns(rows)


def epoch_header(job: Job) -> str:
    test = ["test accuracy"] if job.test_inputs is not None else []
    return _columns([["epoch", "loss", "train accuracy", *test]], widths=_WIDTHS)


def epoch_line(history: History, epoch: int) -> str:
    """The line of ``epoch`` (counted from 0): its loss and the accuracies after it."""
    cells = [str(epoch + 1), f"{history.losses[epoch]:.4g}"]
    cells.append(f"{history.train_accuracy[epoch]:.2%}")
    if history.test_accuracy:
        cells.append(f"{history.test_accuracy[epoch]:.2%}")
    return _columns([cells], widths=_WIDTHS)


_WIDTHS = [5, 8, 14, 13]


def accuracy_line(job: Job, predictions: np.ndarray) -> str:
    """``test accuracy: 97.77% (351 of 359)`` (the training rows', without a test split)."""
    which, labels = _evaluated(job)
    right = int((predictions == labels).sum())
    return f"{which} accuracy: {right / len(labels):.2%} ({right} of {len(labels)})"


def confusion(job: Job, predictions: np.ndarray) -> np.ndarray:
    """``counts[true, predicted]``: how many rows of each class were given each class."""
    assert job.class_names is not None
    _, labels = _evaluated(job)
    classes = len(job.class_names)
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def confusion_table(job: Job, predictions: np.ndarray) -> str:
    """The confusion matrix as text: a row per true class, a column per predicted one."""
    assert job.class_names is not None
    which, _ = _evaluated(job)
    counts = confusion(job, predictions)
    rows = [["", *job.class_names]]
    rows += [[name, *map(str, row)] for name, row in zip(job.class_names, counts)]
    return (
        f"{which} rows by true {job.target_names[0]} (down) and predicted (across):\n"
        f"{_columns(rows)}"
    )


def _evaluated(job: Job) -> tuple[str, np.ndarray]:
    """Which rows a classifier's predictions are of, and their labels."""
    if job.test_targets is None:
        return "training", job.targets.data.astype(np.int64)
    return "test", job.test_targets.data.astype(np.int64)


def _columns(rows: list[list[str]], widths: list[int] | None = None) -> str:
    widths = widths or [0] * len(rows[0])
    widths = [max([w, *(len(row[i]) for row in rows)]) for i, w in enumerate(widths)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows)


def _short(value: float) -> str:
    return f"{value:g}"


# ------------------------------------------------------------------------------- json


def train_report(
    job: Job, history: History, final_loss: float, predictions: np.ndarray
) -> dict[str, Any]:
    """The ``--json`` output of ``train``."""
    found: dict[str, Any] = {
        "model": job.name,
        **job.settings(),
        "final_loss": final_loss,
        "loss_curve": _curve(history.losses),
    }
    if job.classifier:
        _, labels = _evaluated(job)
        found["train_accuracy_curve"] = _curve(history.train_accuracy)
        if history.test_accuracy:
            found["test_accuracy_curve"] = _curve(history.test_accuracy)
        found["accuracy"] = float((predictions == labels).mean())
        found["classes"] = list(job.class_names or ())
        found["labels"] = labels.tolist()
        found["predictions"] = predictions.tolist()
        found["confusion"] = confusion(job, predictions).tolist()
    else:
        found["inputs"] = job.inputs.data.tolist()
        found["targets"] = job.targets.data.tolist()
        found["predictions"] = predictions.tolist()
    found["parameters"] = {name: p.data.tolist() for name, p in job.model.named_parameters()}
    return found


def _curve(values: list[float]) -> list[list[float]]:
    """``[epoch, value]`` pairs: every epoch up to CURVE_POINTS, evenly spaced beyond, and
    always the last."""
    step = max(1, math.ceil(len(values) / CURVE_POINTS))
    curve: list[list[float]] = [[epoch + 1, values[epoch]] for epoch in range(0, len(values), step)]
    if values and curve[-1][0] != len(values):
        curve.append([len(values), values[-1]])
    return curve


# ------------------------------------------------------------------------------- plot


def plot(pyplot: Any, job: Job, history: History, final: float, path: Path) -> None:
    """The loss of every epoch (and the final loss after the last update); for a
    classifier, its accuracies beside it."""
    curve = [*history.losses, final]
    panels = 2 if job.classifier else 1
    figure, axes = pyplot.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    loss_axes = axes[0][0]
    loss_axes.plot(range(len(curve)), curve)
    if all(v > 0 for v in curve):
        loss_axes.set_yscale("log")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel(f"{job.loss_name} loss")
    loss_axes.grid(True, alpha=0.3)
    if job.classifier:
        accuracy_axes = axes[0][1]
        epochs = range(1, len(history.train_accuracy) + 1)
        accuracy_axes.plot(epochs, history.train_accuracy, label="train")
        if history.test_accuracy:
            accuracy_axes.plot(epochs, history.test_accuracy, label="test")
        accuracy_axes.set_xlabel("epoch")
        accuracy_axes.set_ylabel("accuracy")
        accuracy_axes.legend()
        accuracy_axes.grid(True, alpha=0.3)
    figure.suptitle(f"{job.name}: {job.describe()}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, format=path.suffix[1:])
    pyplot.close(figure)
