"""The ``[[layers]]`` of a TOML network file: each layer read and checked, then the shape of
one sample followed through them all, so that layers that do not fit each other (or the
data) are found before anything is built.

A layer is a class of ``tinygrad_lite.nn`` with its PyTorch arguments:

    Linear      in_features, out_features, bias = true
    Conv2d      in_channels, out_channels, kernel_size, stride = 1, padding = 0, bias = true
    MaxPool2d   kernel_size, stride = kernel_size          (AvgPool2d the same)
    Flatten     start_dim = 1, end_dim = -1                (axes of the batch: 0 is the batch)
    Dropout     p = 0.5
    Softmax     axis = -1                                  (LogSoftmax the same)
    ReLU, Sigmoid, Tanh

Sizes of Conv2d and the pools are an integer or a list of two, ``[height, width]``. Type
names are case-insensitive; the arguments are kept in ``Layer.arguments`` as the layer
class takes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.cli.checks import ConfigError, check_keys, flag, fraction, integer, pair, table

Shape = tuple[int, ...]  # of one sample: (features,) or (channels, height, width)
REQUIRED = object()  # in ARGUMENTS: a key without a default


def _size(where: str, key: str, value: Any) -> tuple[int, int]:
    return pair(where, key, value, low=1)


def _padding(where: str, key: str, value: Any) -> tuple[int, int]:
    return pair(where, key, value, low=0)


def _count(where: str, key: str, value: Any) -> int:
    return integer(where, key, value, low=1)


def _axis(where: str, key: str, value: Any) -> int:
    return integer(where, key, value, low=-(2**31))  # checked against the shape later


def _probability(where: str, key: str, value: Any) -> float:
    return fraction(where, key, value, 0.0, 1.0)


# Each layer's arguments: name -> (check, default); a check is (where, key, value) -> value.
Arguments = dict[str, tuple[Callable[[str, str, Any], Any], Any]]
_POOL: Arguments = {"kernel_size": (_size, REQUIRED), "stride": (_size, None)}
_SOFTMAX: Arguments = {"axis": (_axis, -1)}
ARGUMENTS: dict[str, Arguments] = {
    "Linear": {
        "in_features": (_count, REQUIRED),
        "out_features": (_count, REQUIRED),
        "bias": (flag, True),
    },
    "Conv2d": {
        "in_channels": (_count, REQUIRED),
        "out_channels": (_count, REQUIRED),
        "kernel_size": (_size, REQUIRED),
        "stride": (_size, (1, 1)),
        "padding": (_padding, (0, 0)),
        "bias": (flag, True),
    },
    "MaxPool2d": _POOL,
    "AvgPool2d": _POOL,
    "Flatten": {"start_dim": (_axis, 1), "end_dim": (_axis, -1)},
    "Dropout": {"p": (_probability, 0.5)},
    "Softmax": _SOFTMAX,
    "LogSoftmax": _SOFTMAX,
    "ReLU": {},
    "Sigmoid": {},
    "Tanh": {},
}
KINDS = {kind.lower(): kind for kind in ARGUMENTS}
TRAINED = ("Linear", "Conv2d")  # the layers with parameters


@dataclass(frozen=True)
class Layer:
    """One layer: ``kind`` is a class name of ``nn``, ``arguments`` what it is made with."""

    kind: str
    arguments: dict[str, Any] = field(default_factory=dict)


def read_layers(where: str, entries: Any) -> tuple[Layer, ...]:
    """The ``[[layers]]`` tables, each checked on its own (``check_shapes`` checks them
    together)."""
    if entries is None:
        raise ConfigError(f"{where}: no layers; declare them as [[layers]] tables, in order")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: layers must be a non-empty list of [[layers]] tables")
    return tuple(_layer(where, number, entry) for number, entry in enumerate(entries, start=1))


def _layer(where: str, number: int, entry: Any) -> Layer:
    what = f"layer {number}"
    entry = table(where, what, entry)
    kind = entry.get("type")
    if not isinstance(kind, str) or kind.lower() not in KINDS:
        raise ConfigError(f"{where}: {what} has type {kind!r}; accepted: {', '.join(ARGUMENTS)}")
    kind = KINDS[kind.lower()]
    accepted = ARGUMENTS[kind]
    check_keys(where, f"{what} ({kind})", entry, ("type", *accepted))
    arguments = {}
    for key, (check, default) in accepted.items():
        if key in entry:
            arguments[key] = check(where, f"{what} ({kind}) {key}", entry[key])
        elif default is REQUIRED:
            raise ConfigError(
                f"{where}: {what} ({kind}) needs {key}; it takes {', '.join(accepted)}"
            )
        else:
            arguments[key] = default
    if kind in ("MaxPool2d", "AvgPool2d") and arguments["stride"] is None:
        arguments["stride"] = arguments["kernel_size"]  # PyTorch's default
    return Layer(kind, arguments)


# ------------------------------------------------------------------------------ shapes


def check_shapes(where: str, layers: tuple[Layer, ...], sample: Shape) -> Shape:
    """Follow the shape of one sample through ``layers``; the shape of the output.

    Each layer must take what the one before it gives (the first, what the data gives):
    a Linear works on the last axis, which must hold its in_features; a Conv2d and the
    pools take (channels, height, width), and their windows must fit; a Flatten or a
    softmax must name axes that exist.
    """
    if not any(layer.kind in TRAINED for layer in layers):
        raise ConfigError(
            f"{where}: the layers have no Linear or Conv2d, so there is nothing to train"
        )
    before = "the data"
    for number, layer in enumerate(layers, start=1):
        sample = _output(f"{where}: layer {number} ({layer.kind})", layer, sample, before)
        before = f"layer {number} ({layer.kind})"
    return sample


def describe(shape: Shape) -> str:
    """``256 features`` for one axis, ``shape (16, 4, 4)`` for more."""
    if len(shape) == 1:
        return f"{shape[0]} feature{'s' if shape[0] != 1 else ''}"
    return f"shape {shape}"


def _gives(before: str, shape: Shape) -> str:
    """What ``before`` (a layer, or the data) gives each sample, in words."""
    if before == "the data" and len(shape) == 1:
        return f"the data has {shape[0]} input column(s)"
    return f"{before} gives {describe(shape)}"


def _output(what: str, layer: Layer, shape: Shape, before: str) -> Shape:
    """The shape of one sample after ``layer``, or the reason it does not fit."""
    arguments, kind = layer.arguments, layer.kind
    if kind == "Linear":
        if shape[-1] != arguments["in_features"]:
            hint = ""
            if len(shape) > 1 and math.prod(shape) == arguments["in_features"]:
                hint = f" (a Flatten before it gives {math.prod(shape)})"
            elif len(shape) > 1:
                hint = " (a Linear works on the last axis; a Flatten makes one axis of all)"
            raise ConfigError(
                f"{what} has in_features {arguments['in_features']}, but "
                f"{_gives(before, shape)}{hint}"
            )
        return (*shape[:-1], arguments["out_features"])
    if kind in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        return _windows(what, arguments, shape, before, kind == "Conv2d")
    if kind == "Flatten":
        return _flatten(what, arguments, shape)
    if kind in ("Softmax", "LogSoftmax"):
        _axis_of(what, "axis", arguments["axis"], len(shape) + 1)
    return shape  # elementwise, and Dropout


def _windows(what: str, arguments: dict[str, Any], shape: Shape, before: str, conv: bool) -> Shape:
    """The shape after a Conv2d or a pool: (channels, out_height, out_width)."""
    if len(shape) != 3:
        raise ConfigError(
            f"{what} takes images of shape (channels, height, width), but "
            f"{_gives(before, shape)}; give the data its image shape with [data] shape = "
            f"[channels, height, width]"
        )
    channels, height, width = shape
    (kh, kw), (sh, sw) = arguments["kernel_size"], arguments["stride"]
    ph, pw = arguments.get("padding", (0, 0))
    if conv:
        if channels != arguments["in_channels"]:
            raise ConfigError(
                f"{what} has in_channels {arguments['in_channels']}, but {before} gives "
                f"{channels} channel(s) ({describe(shape)})"
            )
        channels = arguments["out_channels"]
    if kh > height + 2 * ph or kw > width + 2 * pw:
        raise ConfigError(
            f"{what} has a kernel of {kh}x{kw}, larger than the {height + 2 * ph}x"
            f"{width + 2 * pw} image{' (padded)' if ph or pw else ''} that {before} gives"
        )
    return channels, (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1


def _flatten(what: str, arguments: dict[str, Any], shape: Shape) -> Shape:
    """The shape after Flatten(start_dim, end_dim); the axes count the batch as axis 0."""
    ndim = len(shape) + 1
    start = _axis_of(what, "start_dim", arguments["start_dim"], ndim)
    end = _axis_of(what, "end_dim", arguments["end_dim"], ndim)
    if start == 0:
        raise ConfigError(
            f"{what}: start_dim 0 would flatten the batch into the samples; accepted: 1 or "
            f"more (axis 0 is the batch)"
        )
    if end < start:
        raise ConfigError(f"{what}: end_dim {arguments['end_dim']} comes before start_dim {start}")
    batched = (0, *shape)
    return (*shape[: start - 1], math.prod(batched[start : end + 1]), *batched[end + 1 :])


def _axis_of(what: str, key: str, axis: int, ndim: int) -> int:
    """``axis`` of a batch of ``ndim`` axes, counted from 0."""
    if not -ndim <= axis < ndim:
        raise ConfigError(
            f"{what}: {key} {axis} is not an axis of its input, which has {ndim} (the batch "
            f"and {ndim - 1} of each sample); accepted: {-ndim} to {ndim - 1}"
        )
    return axis % ndim
