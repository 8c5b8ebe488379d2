"""A network declared in a TOML file: its layers, how to train it, and its data.

    name = "xor-tanh"                  # optional, shown in the output

    [[layers]]                         # in order; PyTorch's names and arguments
    type = "Linear"                    # (every kind: models/cli/network.py)
    in_features = 2
    out_features = 4                   # bias = true by default
    [[layers]]
    type = "Tanh"                      # or Sigmoid, ReLU, Conv2d, MaxPool2d, Flatten, ...
    [[layers]]
    type = "Linear"
    in_features = 4
    out_features = 1

    [training]                         # every key optional
    loss = "bce_with_logits"           # sse, mse, bce, bce_with_logits, cross_entropy, nll
    optimizer = "adam"                 # sgd, adam, adamw, rmsprop, adagrad
    lr = 0.1                           # 1 for sgd by default, PyTorch's for the others
    momentum = 0.0                     # sgd and rmsprop
    nesterov = false                   # sgd, with a momentum
    weight_decay = 0.0                 # the optimizer's own by default (0.01 for adamw)
    epochs = 500
    batch_size = 32                    # rows per step; all of them by default
    schedule = "cosine"                # of lr, once per epoch: "step" (step_size, gamma)
                                       # or "cosine" (to eta_min); none by default
    seed = 0                           # of the random initial weights, and of the batches
    init = "default"                   # nn.Linear's U(+-1/sqrt(in_features)); or "uniform":
                                       # U[-1, 1), the seed's 2*random.random(shape) - 1

    [data]                             # inline rows, a CSV file, or a shipped data set,
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]   # targets or class labels, a test split:
    targets = [[0], [1], [1], [0]]     # models/cli/dataset.py

Every problem (a missing file, bad TOML, an unknown key or layer, a column that does not
exist, layers that do not fit each other or the data, a label column with more classes
than the network has outputs) is a ``ConfigError`` whose message names the file and says
what is accepted. Nothing here imports the framework: this module only reads and checks;
``models.cli.jobs`` builds.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.cli.checks import (
    ConfigError,
    check_keys,
    choice,
    flag,
    fraction,
    integer,
    positive,
    real,
    table,
)
from models.cli.dataset import Data, read_data
from models.cli.network import Layer, check_shapes, describe, read_layers

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser (a dependency there)
    import tomli as tomllib

__all__ = ["ConfigError", "Data", "Layer", "NetworkConfig", "load"]

LOSSES = ("sse", "mse", "bce", "bce_with_logits", "cross_entropy", "nll")
CLASSIFYING = ("cross_entropy", "nll")  # the losses that learn class labels
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine")
TOP_KEYS = ("name", "layers", "training", "data")
TRAINING_KEYS = (
    "loss",
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "epochs",
    "batch_size",
    "schedule",
    "step_size",
    "gamma",
    "eta_min",
    "seed",
    "init",
)
INITS = ("default", "uniform")
# Each optimizer's lr when none is given: 1 for sgd (the seed's), PyTorch's for the others.
LEARNING_RATES = {"sgd": 1.0, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-2, "adagrad": 1e-2}
DEFAULTS: dict[str, Any] = {
    "loss": "sse",
    "optimizer": "sgd",
    "momentum": 0.0,
    "nesterov": False,
    "epochs": 1000,
    "schedule": "none",
    "gamma": 0.1,
    "eta_min": 0.0,
    "seed": 0,
    "init": "default",
}


@dataclass(frozen=True)
class NetworkConfig:
    """Everything a TOML file declares, checked."""

    name: str
    layers: tuple[Layer, ...]
    loss: str
    optimizer: str
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float | None  # None: the optimizer's own (0, and 0.01 for adamw)
    epochs: int
    batch_size: int | None  # None: every row in one batch
    schedule: str  # "none", "step" or "cosine"
    step_size: int  # "step": every step_size epochs, lr *= gamma
    gamma: float
    eta_min: float  # "cosine": lr anneals from lr to eta_min over the epochs
    seed: int
    init: str
    data: Data

    @property
    def inputs(self) -> np.ndarray:
        """The training rows, (samples, *shape)."""
        return self.data.inputs

    @property
    def targets(self) -> np.ndarray:
        """The training targets (samples, outputs), or class labels (samples,)."""
        return self.data.targets

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.data.input_names

    @property
    def target_names(self) -> tuple[str, ...]:
        return self.data.target_names


def load(path: str | Path) -> NetworkConfig:
    """Read and check the network declared in the TOML file at ``path``."""
    path = Path(path)
    where = str(path)
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"cannot read {where}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where} is not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not valid TOML: it is not UTF-8 text") from None
    check_keys(where, "the file", document, TOP_KEYS)
    name = document.get("name", path.stem)
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be a string, got {name!r}")
    layers = read_layers(where, document.get("layers"))
    training = table(where, "training", document.get("training", {}))
    check_keys(where, "[training]", training, TRAINING_KEYS)
    settings = _training(where, {**DEFAULTS, **training}, training)
    data = read_data(where, path.parent, table(where, "data", document.get("data")))
    output = check_shapes(where, layers, data.sample_shape)
    _check_output(where, layers, output, settings["loss"], data)
    return NetworkConfig(name=name, layers=layers, data=data, **settings)


def _training(where: str, settings: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The [training] settings, checked; ``given`` holds the keys the file sets."""
    optimizer = choice(where, "optimizer", settings["optimizer"], OPTIMIZERS)
    momentum = fraction(where, "momentum", settings["momentum"], 0.0, 1.0)
    if "momentum" in given and optimizer not in ("sgd", "rmsprop"):
        raise ConfigError(f"{where}: momentum is a setting of sgd and rmsprop, not of {optimizer}")
    nesterov = flag(where, "nesterov", settings["nesterov"])
    if nesterov and (optimizer != "sgd" or momentum == 0):
        raise ConfigError(f"{where}: nesterov = true needs optimizer = 'sgd' and a momentum > 0")
    schedule = choice(where, "schedule", settings["schedule"], SCHEDULES)
    for key, needs in (("step_size", "step"), ("gamma", "step"), ("eta_min", "cosine")):
        if key in given and schedule != needs:
            raise ConfigError(f"{where}: {key} is a setting of schedule = {needs!r}")
    if schedule == "step" and "step_size" not in given:
        raise ConfigError(f"{where}: schedule = 'step' needs step_size (epochs between steps)")
    batch_size = settings.get("batch_size")
    weight_decay = settings.get("weight_decay")
    return {
        "loss": choice(where, "loss", settings["loss"], LOSSES),
        "optimizer": optimizer,
        "lr": positive(where, "lr", settings.get("lr", LEARNING_RATES[optimizer])),
        "momentum": momentum,
        "nesterov": nesterov,
        "weight_decay": None
        if weight_decay is None
        else _non_negative(where, "weight_decay", weight_decay),
        "epochs": integer(where, "epochs", settings["epochs"], low=0),
        "batch_size": None if batch_size is None else integer(where, "batch_size", batch_size, 1),
        "schedule": schedule,
        "step_size": integer(where, "step_size", settings.get("step_size", 1), low=1),
        "gamma": positive(where, "gamma", settings["gamma"]),
        "eta_min": _non_negative(where, "eta_min", settings["eta_min"]),
        "seed": integer(where, "seed", settings["seed"], low=0, high=2**32 - 1),
        "init": choice(where, "init", settings["init"], INITS),
    }


def _non_negative(where: str, key: str, value: Any) -> float:
    number = real(where, key, value)
    if number < 0:
        raise ConfigError(f"{where}: {key} must be 0 or more, got {value!r}")
    return number


def _check_output(
    where: str, layers: tuple[Layer, ...], output: tuple[int, ...], loss: str, data: Data
) -> None:
    """The network's output fits the loss and what the data asks of it."""
    last = f"the last layer ({layers[-1].kind})"
    if loss in CLASSIFYING:
        if not data.labels:
            raise ConfigError(
                f"{where}: loss {loss} learns classes: give [data] labels (a class per row), "
                f"not targets"
            )
        if loss == "cross_entropy" and layers[-1].kind in ("Softmax", "LogSoftmax"):
            raise ConfigError(
                f"{where}: loss cross_entropy takes the raw outputs (logits) and applies "
                f"log_softmax itself; remove the final {layers[-1].kind}, or use loss = "
                f"'nll' after a LogSoftmax"
            )
        if loss == "nll" and layers[-1].kind != "LogSoftmax":
            raise ConfigError(
                f"{where}: loss nll takes log-probabilities; end the layers with a LogSoftmax "
                f"(or use loss = 'cross_entropy' on the raw outputs)"
            )
        assert data.class_names is not None
        classes = len(data.class_names)
        if len(output) != 1:
            raise ConfigError(
                f"{where}: a classifier gives one score per class, but {last} gives "
                f"{describe(output)}; end with a Flatten and a Linear"
            )
        if classes > output[0]:
            label = data.target_names[0]
            numbered = data.class_names == tuple(str(c) for c in range(classes))
            which = f"0 to {classes - 1}" if numbered else ", ".join(data.class_names)
            raise ConfigError(
                f"{where}: the labels {label!r} hold {classes} classes ({which}), but "
                f"{last} gives {output[0]} output(s), one per class"
            )
        return
    if data.labels:
        raise ConfigError(
            f"{where}: [data] gives class labels, which loss {loss} cannot learn; use "
            f"loss = 'cross_entropy' (or give targets)"
        )
    columns = data.targets.shape[1]
    if output != (columns,):
        raise ConfigError(
            f"{where}: {last} gives {describe(output)} per sample, but the data has {columns} "
            f"target column(s)"
        )
