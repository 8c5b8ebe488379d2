"""A network declared in a TOML file: its layers, how to train it, and its data.

    name = "xor-tanh"                  # optional, shown in the output

    [[layers]]                         # in order; PyTorch's names and arguments
    type = "Linear"
    in_features = 2
    out_features = 4                   # bias = true by default
    [[layers]]
    type = "Tanh"                      # or Sigmoid, ReLU
    [[layers]]
    type = "Linear"
    in_features = 4
    out_features = 1

    [training]                         # every key optional
    loss = "bce_with_logits"           # sse, mse, bce, bce_with_logits
    optimizer = "adam"                 # sgd, adam
    lr = 0.1
    momentum = 0.0                     # sgd only
    epochs = 500
    seed = 0                           # of the random initial weights
    init = "default"                   # nn.Linear's U(+-1/sqrt(in_features)); or "uniform":
                                       # U[-1, 1), the seed's 2*random.random(shape) - 1

    [data]                             # inline rows...
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    targets = [[0], [1], [1], [0]]     # or [0, 1, 1, 0] for one target
    # ...or a CSV file with a header row, relative to the TOML file:
    # csv = "xor.csv"
    # inputs = ["a", "b"]              # the input columns, in order
    # targets = ["a_xor_b"]            # the target columns

Every problem (a missing file, bad TOML, an unknown key or layer, a column that does not
exist, layer sizes that do not fit each other or the data) is a ``ConfigError`` whose
message names the file and says what is accepted. Nothing here imports the framework: this
module only reads and checks; ``models.networks`` builds.
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no tomllib; tomli is the same parser (a dependency there)
    import tomli as tomllib

LAYERS = {"linear": "Linear", "sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh"}
LOSSES = ("sse", "mse", "bce", "bce_with_logits")
OPTIMIZERS = ("sgd", "adam")
TOP_KEYS = ("name", "layers", "training", "data")
TRAINING_KEYS = ("loss", "optimizer", "lr", "momentum", "epochs", "seed", "init")
INITS = ("default", "uniform")
DEFAULTS: dict[str, Any] = {
    "loss": "sse",
    "optimizer": "sgd",
    "lr": 1.0,
    "momentum": 0.0,
    "epochs": 1000,
    "seed": 0,
    "init": "default",
}


class ConfigError(ValueError):
    """A network file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Layer:
    """One layer: ``kind`` is a class name of ``nn`` (Linear, Sigmoid, ReLU, Tanh)."""

    kind: str
    in_features: int = 0
    out_features: int = 0
    bias: bool = True


@dataclass(frozen=True)
class NetworkConfig:
    """Everything a TOML file declares, checked."""

    name: str
    layers: tuple[Layer, ...]
    loss: str
    optimizer: str
    lr: float
    momentum: float
    epochs: int
    seed: int
    init: str
    inputs: np.ndarray  # (samples, in_features of the first Linear)
    targets: np.ndarray  # (samples, outputs)
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]


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
    _check_keys(where, "the file", document, TOP_KEYS)
    name = document.get("name", path.stem)
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be a string, got {name!r}")
    layers = _layers(where, document.get("layers"))
    training = _table(where, "training", document.get("training", {}))
    _check_keys(where, "[training]", training, TRAINING_KEYS)
    settings = {**DEFAULTS, **training}
    loss = _choice(where, "loss", settings["loss"], LOSSES)
    optimizer = _choice(where, "optimizer", settings["optimizer"], OPTIMIZERS)
    lr = _positive_float(where, "lr", settings["lr"])
    momentum = _float(where, "momentum", settings["momentum"])
    if not 0 <= momentum < 1:
        raise ConfigError(f"{where}: momentum must be in [0, 1), got {momentum}")
    epochs = _int(where, "epochs", settings["epochs"], low=0)
    seed = _int(where, "seed", settings["seed"], low=0, high=2**32 - 1)
    init = _choice(where, "init", settings["init"], INITS)
    data = _table(where, "data", document.get("data"))
    inputs, targets, input_names, target_names = _data(where, path.parent, data)
    _check_sizes(where, layers, inputs, targets)
    return NetworkConfig(
        name=name,
        layers=layers,
        loss=loss,
        optimizer=optimizer,
        lr=lr,
        momentum=momentum,
        epochs=epochs,
        seed=seed,
        init=init,
        inputs=inputs,
        targets=targets,
        input_names=input_names,
        target_names=target_names,
    )


# ------------------------------------------------------------------------------ layers


def _layers(where: str, entries: Any) -> tuple[Layer, ...]:
    if entries is None:
        raise ConfigError(f"{where}: no layers; declare them as [[layers]] tables, in order")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: layers must be a non-empty list of [[layers]] tables")
    layers = []
    for number, entry in enumerate(entries, start=1):
        what = f"layer {number}"
        entry = _table(where, what, entry)
        kind = entry.get("type")
        if not isinstance(kind, str) or kind.lower() not in LAYERS:
            raise ConfigError(
                f"{where}: {what} has type {kind!r}; accepted: {', '.join(LAYERS.values())}"
            )
        kind = LAYERS[kind.lower()]
        if kind != "Linear":
            _check_keys(where, what, entry, ("type",))
            layers.append(Layer(kind))
            continue
        _check_keys(where, what, entry, ("type", "in_features", "out_features", "bias"))
        for key in ("in_features", "out_features"):
            if key not in entry:
                raise ConfigError(f"{where}: {what} (Linear) needs {key}")
        bias = entry.get("bias", True)
        if not isinstance(bias, bool):
            raise ConfigError(f"{where}: {what}: bias must be true or false, got {bias!r}")
        layers.append(
            Layer(
                kind,
                in_features=_int(where, f"{what} in_features", entry["in_features"], low=1),
                out_features=_int(where, f"{what} out_features", entry["out_features"], low=1),
                bias=bias,
            )
        )
    return tuple(layers)


def _check_sizes(
    where: str, layers: tuple[Layer, ...], inputs: np.ndarray, targets: np.ndarray
) -> None:
    """Each Linear takes what the one before gives; the ends fit the data's columns."""
    linears = [(number, layer) for number, layer in enumerate(layers, 1) if layer.kind == "Linear"]
    if not linears:
        raise ConfigError(f"{where}: the layers have no Linear, so there is nothing to train")
    for (_, before), (number, layer) in zip(linears, linears[1:]):
        if layer.in_features != before.out_features:
            raise ConfigError(
                f"{where}: layer {number} (Linear) has in_features {layer.in_features}, but "
                f"the Linear before it gives {before.out_features}"
            )
    first, last = linears[0][1], linears[-1][1]
    if first.in_features != inputs.shape[1]:
        raise ConfigError(
            f"{where}: the first Linear takes {first.in_features} input(s), but the data "
            f"has {inputs.shape[1]} input column(s)"
        )
    if last.out_features != targets.shape[1]:
        raise ConfigError(
            f"{where}: the last Linear gives {last.out_features} output(s), but the data "
            f"has {targets.shape[1]} target column(s)"
        )


# -------------------------------------------------------------------------------- data


def _data(
    where: str, directory: Path, data: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    if "csv" in data:
        _check_keys(where, "[data]", data, ("csv", "inputs", "targets"))
        return _csv_data(where, directory, data)
    _check_keys(where, "[data]", data, ("inputs", "targets"))
    for key in ("inputs", "targets"):
        if key not in data:
            raise ConfigError(f"{where}: [data] needs {key} (rows of numbers), or csv = a file")
    inputs = _matrix(where, "inputs", data["inputs"])
    targets = _matrix(where, "targets", data["targets"])
    if len(inputs) != len(targets):
        raise ConfigError(
            f"{where}: [data] has {len(inputs)} input row(s) but {len(targets)} target row(s)"
        )
    input_names = tuple(f"x{i}" for i in range(inputs.shape[1]))
    target_names = tuple(f"y{i}" for i in range(targets.shape[1]))
    return inputs, targets, input_names, target_names


def _matrix(where: str, key: str, rows: Any) -> np.ndarray:
    """Rows of numbers as a 2-D float array; a flat list is one column."""
    if isinstance(rows, list) and rows and not any(isinstance(r, list) for r in rows):
        rows = [[r] for r in rows]
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
        raise ConfigError(f"{where}: [data] {key} must be a non-empty list of rows of numbers")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width or not row:
            raise ConfigError(
                f"{where}: [data] {key} row {number} has {len(row)} value(s), row 1 has {width}"
            )
        for value in row:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}: [data] {key} row {number}: {value!r} is not a number")
    array = np.array(rows, dtype=float)
    if not np.isfinite(array).all():
        raise ConfigError(f"{where}: [data] {key} holds a value that is not finite (nan or inf)")
    return array


def _csv_data(
    where: str, directory: Path, data: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    file_name = data["csv"]
    if not isinstance(file_name, str):
        raise ConfigError(f"{where}: [data] csv must be a file name, got {file_name!r}")
    csv_path = directory / file_name
    try:
        with csv_path.open(newline="") as file:
            rows = [row for row in csv.reader(file) if row]
    except OSError as error:
        raise ConfigError(f"cannot read {csv_path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"{csv_path} is not a readable CSV file: {error}") from None
    if len(rows) < 2:
        raise ConfigError(f"{csv_path}: needs a header row and at least one row of data")
    header = [name.strip() for name in rows[0]]
    columns = {}
    for key in ("inputs", "targets"):
        names = data.get(key)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError(
                f"{where}: [data] {key} must list column names of {file_name}; its columns "
                f"are: {', '.join(header)}"
            )
        missing = [n for n in names if n not in header]
        if missing:
            raise ConfigError(
                f"{where}: [data] {key} names column(s) {', '.join(map(repr, missing))}, which "
                f"{file_name} does not have; its columns are: {', '.join(header)}"
            )
        columns[key] = [header.index(n) for n in names]
    values = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ConfigError(
                f"{csv_path}: line {line} has {len(row)} field(s), the header has {len(header)}"
            )
        try:
            numbers = [float(field) for field in row]
        except ValueError:
            bad = next(f for f in row if not _is_number(f))
            raise ConfigError(f"{csv_path}: line {line}: {bad!r} is not a number") from None
        if not all(math.isfinite(n) for n in numbers):
            raise ConfigError(f"{csv_path}: line {line} holds a value that is not finite")
        values.append(numbers)
    table = np.array(values)
    return (
        table[:, columns["inputs"]],
        table[:, columns["targets"]],
        tuple(data["inputs"]),
        tuple(data["targets"]),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------ checks


def _table(where: str, what: str, value: Any) -> dict[str, Any]:
    if value is None:
        raise ConfigError(f"{where}: no [{what}] table")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {what} must be a table, got {value!r}")
    return value


def _check_keys(where: str, what: str, table: dict[str, Any], accepted: tuple[str, ...]) -> None:
    unknown = [key for key in table if key not in accepted]
    if unknown:
        raise ConfigError(
            f"{where}: {what} has unknown key(s) {', '.join(map(repr, unknown))}; accepted: "
            f"{', '.join(accepted)}"
        )


def _choice(where: str, key: str, value: Any, accepted: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in accepted:
        raise ConfigError(f"{where}: {key} = {value!r}; accepted: {', '.join(accepted)}")
    return value.lower()


def _float(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _positive_float(where: str, key: str, value: Any) -> float:
    number = _float(where, key, value)
    if number <= 0:
        raise ConfigError(f"{where}: {key} must be greater than 0, got {value!r}")
    return number


def _int(where: str, key: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{where}: {key} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{where}: {key} must be at most {high}, got {value!r}")
    return value
