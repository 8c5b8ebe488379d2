"""The ``[data]`` of a TOML network file: rows written inline, a CSV file, or a data set
shipped with the package; targets to fit, or class labels to learn; and a test split.

    [data]
    dataset = "digits"           # the shipped 8x8 digits, with their fixed train/test split
    shape = [1, 8, 8]            # each row as an image (channels, height, width), for Conv2d

    # or inline rows:
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    targets = [[0], [1], [1], [0]]     # or [0, 1, 1, 0] for one target
    labels = [0, 1, 1, 0]              # instead of targets: one class label per row

    # or a CSV file with a header row, relative to the TOML file:
    csv = "data.csv"
    inputs = ["a", "b"]          # input columns, in order (with labels: all the others)
    targets = ["y"]              # target columns
    labels = "digit"             # instead of targets: the column of class labels

    test_fraction = 0.2          # rows kept aside to test on (by class, for labels)
    split_seed = 0               # of the split

Class labels are whole numbers 0, 1, 2, ... (a column of 11 classes holds 0 to 10) or
names; names are numbered in sorted order. Every other value must be a finite number.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.cli.checks import ConfigError, check_keys, fraction, integer
from models.digits import N_CLASSES, load_split, split_indices

DATASETS = ("digits",)
SPLIT_KEYS = ("test_fraction", "split_seed", "shape")


@dataclass(frozen=True)
class Data:
    """The rows a network learns from, and those it is tested on (if any)."""

    inputs: np.ndarray  # (samples, *shape): float
    targets: np.ndarray  # (samples, outputs) float, or (samples,) int64 class labels
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]  # for labels, the one name of the label column
    test_inputs: np.ndarray | None = None
    test_targets: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None  # None: not labels
    shipped: str | None = None  # the name of a shipped data set

    @property
    def labels(self) -> bool:
        """Whether the targets are class labels."""
        return self.class_names is not None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.inputs.shape[1:])


def read_data(where: str, directory: Path, data: dict[str, Any]) -> Data:
    """The ``[data]`` table, read and checked (``directory`` holds the TOML file)."""
    if "dataset" in data:
        check_keys(where, "[data]", data, ("dataset", "shape"))
        read = _shipped(where, data["dataset"])
    elif "csv" in data:
        check_keys(where, "[data]", data, ("csv", "inputs", "targets", "labels", *SPLIT_KEYS))
        read = _csv_data(where, directory, data)
    else:
        check_keys(where, "[data]", data, ("inputs", "targets", "labels", *SPLIT_KEYS))
        read = _inline(where, data)
    read = _split(where, data, read)
    return _shaped(where, data.get("shape"), read)


# ------------------------------------------------------------------------------ sources


def _shipped(where: str, name: Any) -> Data:
    if name not in DATASETS:
        raise ConfigError(f"{where}: [data] dataset = {name!r}; accepted: {', '.join(DATASETS)}")
    split = load_split()
    return Data(
        inputs=split.x_train,
        targets=split.y_train,
        input_names=tuple(f"pixel{i}" for i in range(split.x_train.shape[1])),
        target_names=("digit",),
        test_inputs=split.x_test,
        test_targets=split.y_test,
        class_names=tuple(str(c) for c in range(N_CLASSES)),
        shipped=name,
    )


def _inline(where: str, data: dict[str, Any]) -> Data:
    _one_kind_of_target(where, data)
    if "inputs" not in data:
        raise ConfigError(f"{where}: [data] needs inputs (rows of numbers), or csv = a file")
    inputs = _matrix(where, "inputs", data["inputs"])
    if "labels" in data:
        values = data["labels"]
        if not isinstance(values, list) or not values or any(isinstance(v, list) for v in values):
            raise ConfigError(f"{where}: [data] labels must be a non-empty list, one per row")
        labels, class_names = _labels(where, "[data] labels", values)
        targets: np.ndarray = labels
        target_names: tuple[str, ...] = ("label",)
    else:
        targets = _matrix(where, "targets", data["targets"])
        target_names = tuple(f"y{i}" for i in range(targets.shape[1]))
        class_names = None
    if len(inputs) != len(targets):
        kind = "label(s)" if class_names is not None else "target row(s)"
        raise ConfigError(
            f"{where}: [data] has {len(inputs)} input row(s) but {len(targets)} {kind}"
        )
    input_names = tuple(f"x{i}" for i in range(inputs.shape[1]))
    return Data(inputs, targets, input_names, target_names, class_names=class_names)


def _one_kind_of_target(where: str, data: dict[str, Any]) -> None:
    if "targets" in data and "labels" in data:
        raise ConfigError(
            f"{where}: [data] has both targets and labels; give targets (numbers to fit) or "
            f"labels (classes to learn), not both"
        )
    if "targets" not in data and "labels" not in data:
        raise ConfigError(
            f"{where}: [data] needs targets (numbers to fit) or labels (classes to learn)"
        )


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


def _labels(where: str, what: str, values: list[Any]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels as int64 class numbers, and the name of each class.

    Whole numbers are the classes themselves (0 to the largest); anything else is a name,
    and the names are numbered in sorted order.
    """
    numbers = [_whole(v) for v in values]
    whole = [n for n in numbers if n is not None]
    if len(whole) == len(values):
        if min(whole) < 0:
            raise ConfigError(f"{where}: {what} holds {min(whole)}; class numbers start at 0")
        classes = max(whole) + 1
        return np.array(whole, dtype=np.int64), tuple(str(c) for c in range(classes))
    if any(isinstance(v, (bool, float)) for v in values):
        bad = next(v for v in values if isinstance(v, (bool, float)) and _whole(v) is None)
        raise ConfigError(
            f"{where}: {what} holds {bad!r}; a class label is a whole number 0, 1, 2, ... or a name"
        )
    names = sorted({str(v) for v in values})
    number = {name: k for k, name in enumerate(names)}
    return np.array([number[str(v)] for v in values], dtype=np.int64), tuple(names)


def _whole(value: Any) -> int | None:
    """``value`` as a whole number, if it is one (``3``, ``3.0``, ``"3"``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value == int(value):
        return int(value)
    return None


def _csv_data(where: str, directory: Path, data: dict[str, Any]) -> Data:
    file_name = data["csv"]
    if not isinstance(file_name, str):
        raise ConfigError(f"{where}: [data] csv must be a file name, got {file_name!r}")
    _one_kind_of_target(where, data)
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
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ConfigError(
                f"{csv_path}: line {line} has {len(row)} field(s), the header has {len(header)}"
            )
    if "labels" in data:
        label = data["labels"]
        if not isinstance(label, str):
            raise ConfigError(
                f"{where}: [data] labels must name one column of {file_name}; its columns "
                f"are: {', '.join(header)}"
            )
        target_names: list[str] = _columns(where, file_name, header, "labels", [label])
    else:
        target_names = _columns(where, file_name, header, "targets", data.get("targets"))
    if "inputs" in data:
        input_names = _columns(where, file_name, header, "inputs", data["inputs"])
    else:  # every column that is not a target
        input_names = [name for name in header if name not in target_names]
        if not input_names:
            raise ConfigError(f"{where}: {file_name} has no column left for the inputs")
    inputs = _numbers(csv_path, rows, [header.index(n) for n in input_names])
    if "labels" in data:
        column = header.index(target_names[0])
        values = [row[column].strip() for row in rows[1:]]
        targets, class_names = _labels(where, f"column {target_names[0]!r} of {file_name}", values)
    else:
        targets = _numbers(csv_path, rows, [header.index(n) for n in target_names])
        class_names = None
    return Data(inputs, targets, tuple(input_names), tuple(target_names), class_names=class_names)


def _columns(where: str, file_name: str, header: list[str], key: str, names: Any) -> list[str]:
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
    return names


def _numbers(csv_path: Path, rows: list[list[str]], columns: list[int]) -> np.ndarray:
    """The given columns of the rows after the header, as a float array."""
    values = []
    for line, row in enumerate(rows[1:], start=2):
        fields = [row[c] for c in columns]
        try:
            numbers = [float(field) for field in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise ConfigError(f"{csv_path}: line {line}: {bad!r} is not a number") from None
        if not all(math.isfinite(n) for n in numbers):
            raise ConfigError(f"{csv_path}: line {line} holds a value that is not finite")
        values.append(numbers)
    return np.array(values)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------ split, shape


def _split(where: str, data: dict[str, Any], read: Data) -> Data:
    """``read`` with ``test_fraction`` of its rows kept aside, if asked for."""
    if "test_fraction" not in data:
        if "split_seed" in data:
            raise ConfigError(f"{where}: [data] split_seed needs a test_fraction to split by")
        return read
    share = fraction(where, "[data] test_fraction", data["test_fraction"], 0.0, 1.0)
    seed = integer(where, "[data] split_seed", data.get("split_seed", 0), low=0, high=2**32 - 1)
    n = len(read.inputs)
    if read.labels:
        train, test = split_indices(read.targets, share, seed)  # so many of each class
    else:
        order = np.random.RandomState(seed).permutation(n)
        test, train = order[: round(share * n)], order[round(share * n) :]
    if share == 0 or len(test) == 0 or len(train) == 0:
        raise ConfigError(
            f"{where}: [data] test_fraction {share:g} of {n} row(s) leaves "
            f"{len(train)} to train on and {len(test)} to test on; both need at least one"
        )
    return replace(
        read,
        inputs=read.inputs[train],
        targets=read.targets[train],
        test_inputs=read.inputs[test],
        test_targets=read.targets[test],
    )


def _shaped(where: str, shape: Any, read: Data) -> Data:
    """``read`` with each row of inputs given ``shape`` (channels, height, width)."""
    if shape is None:
        return read
    if (
        not isinstance(shape, list)
        or not shape
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape)
    ):
        raise ConfigError(
            f"{where}: [data] shape must be a list of positive integers, such as "
            f"[channels, height, width], got {shape!r}"
        )
    columns = read.inputs.shape[1]
    if math.prod(shape) != columns:
        raise ConfigError(
            f"{where}: [data] shape {shape} holds {math.prod(shape)} values, but each row has "
            f"{columns} input(s)"
        )
    test = None if read.test_inputs is None else read.test_inputs.reshape(-1, *shape)
    return replace(read, inputs=read.inputs.reshape(-1, *shape), test_inputs=test)
