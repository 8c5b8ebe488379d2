"""Initialisers: starting values for weights, drawn from an explicit random generator.

Each takes the shape to fill and ``rng``, a ``numpy.random.Generator`` or the legacy
``numpy.random.RandomState``, and returns a float64 numpy array; wrap it in a Tensor (or
hand it to ``nn.Linear.from_weights``) to make a parameter. Passing the generator rather
than seeding a global one is what makes a run repeatable: the same generator, drawn in the
same order, gives the same network.

The scaled initialisers (Xavier/Glorot's and Kaiming/He's, with PyTorch's formulas and
defaults) size their spread by a weight's ``fan_in`` and ``fan_out``, read from its shape
by ``fan_in_and_fan_out``: a 2-D shape is ``nn.Linear``'s (in_features, out_features), so
``fan_in`` is ``shape[0]``; a shape of 3 or more axes is a convolution's, laid out as
PyTorch's (out_channels, in_channels, *kernel).

>>> import numpy as np
>>> from tinygrad_lite import init
>>> w = init.uniform((3, 1), -1.0, 1.0, rng=np.random.RandomState(1))
>>> bool(np.array_equal(w, 2 * np.random.RandomState(1).random((3, 1)) - 1))  # the seed's init
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ACCEPTED_RNG = "a numpy.random.Generator or numpy.random.RandomState"


def uniform(shape: Any, low: float = -1.0, high: float = 1.0, *, rng: Any) -> np.ndarray:
    """Samples of U[low, high): ``low + (high - low) * r`` with ``r = rng.random(shape)``.

    With ``rng = numpy.random.RandomState(1)`` and the default bounds this is the seed's
    ``2*random.random(shape) - 1`` to the last bit: ``-1 + 2*r`` and ``2*r - 1`` are the same
    IEEE sum, and ``2*r`` is exact.
    """
    size = _shape("uniform", shape)
    low, high = _number("uniform", "low", low), _number("uniform", "high", high)
    if not low <= high:
        raise ValueError(f"uniform: low must not exceed high, got low={low}, high={high}")
    return low + (high - low) * check_rng("uniform", rng).random(size)


def normal(shape: Any, mean: float = 0.0, std: float = 1.0, *, rng: Any) -> np.ndarray:
    """Samples of N(mean, std**2): ``mean + std * rng.standard_normal(shape)``."""
    size = _shape("normal", shape)
    mean, std = _number("normal", "mean", mean), _number("normal", "std", std)
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    return mean + std * check_rng("normal", rng).standard_normal(size)


def xavier_uniform(shape: Any, gain: float = 1.0, *, rng: Any) -> np.ndarray:
    """Glorot's U[-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``.

    Keeps the variance of activations about equal across layers of tanh or sigmoid units.
    """
    fan_in, fan_out = _fans("xavier_uniform", shape)
    bound = _number("xavier_uniform", "gain", gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng=rng)


def xavier_normal(shape: Any, gain: float = 1.0, *, rng: Any) -> np.ndarray:
    """Glorot's N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans("xavier_normal", shape)
    std = _number("xavier_normal", "gain", gain) * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, 0.0, std, rng=rng)


def kaiming_uniform(
    shape: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng: Any,
) -> np.ndarray:
    """He's U[-b, b) with ``b = sqrt(3) * gain / sqrt(fan)``: the spread that keeps the
    variance of ReLU activations (``mode="fan_in"``) or of gradients (``"fan_out"``) equal
    across layers. ``gain = calculate_gain(nonlinearity, a)``; the defaults (a leaky ReLU of
    slope ``a = 0``) give ``sqrt(2)``, the ReLU's. PyTorch's layer default is ``a=sqrt(5)``,
    which makes ``b`` about ``1/sqrt(fan_in)``, as ``nn.Linear`` draws.
    """
    std = _kaiming_std("kaiming_uniform", shape, a, mode, nonlinearity)
    bound = math.sqrt(3.0) * std
    return uniform(shape, -bound, bound, rng=rng)


def kaiming_normal(
    shape: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng: Any,
) -> np.ndarray:
    """He's N(0, std**2) with ``std = gain / sqrt(fan)`` (see ``kaiming_uniform``)."""
    std = _kaiming_std("kaiming_normal", shape, a, mode, nonlinearity)
    return normal(shape, 0.0, std, rng=rng)


# PyTorch's names of layers that apply no nonlinearity (gain 1).
LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
NONLINEARITIES = (*LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which a nonlinearity's output spread is scaled back (PyTorch's table):
    1 for linear layers and sigmoid, 5/3 for tanh, sqrt(2) for relu, 3/4 for selu, and
    ``sqrt(2 / (1 + slope**2))`` for leaky_relu, whose slope is ``param`` (0.01 if None).

    >>> calculate_gain("relu") == math.sqrt(2), calculate_gain("tanh")
    (True, 1.6666666666666667)
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; accepted: "
            f"{', '.join(NONLINEARITIES)}"
        )
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _number("calculate_gain", "param", param)
        return math.sqrt(2.0 / (1 + slope**2))
    return {"tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}.get(nonlinearity, 1.0)


def fan_in_and_fan_out(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape: inputs and outputs per unit.

    2-D: ``nn.Linear``'s (in_features, out_features), so ``(shape[0], shape[1])`` (PyTorch's
    Linear weight is the transpose). 3-D or more: a convolution's (out_channels,
    in_channels, *kernel), as PyTorch lays it out: ``(in_channels * k, out_channels * k)``
    with k the kernel's size (``kh * kw``).

    >>> fan_in_and_fan_out((64, 10)), fan_in_and_fan_out((8, 1, 3, 3))
    ((64, 10), (9, 72))
    """
    return _fans("fan_in_and_fan_out", shape)


def check_rng(op: str, rng: Any) -> Any:
    """``rng`` itself when it is a numpy Generator or RandomState; otherwise a TypeError."""
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError(f"{op}: rng must be {ACCEPTED_RNG}, got {type(rng).__name__}")
    return rng


def _shape(op: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise TypeError(
            f"{op}: shape must be a tuple of non-negative ints (or one int), got {shape!r}"
        )
    return tuple(int(n) for n in shape)


def _fans(op: str, shape: Any) -> tuple[int, int]:
    size = _shape(op, shape)
    if len(size) < 2 or 0 in size:
        raise ValueError(
            f"{op}: needs the shape of a weight, 2-D (in_features, out_features) or a "
            f"convolution's (out_channels, in_channels, *kernel), with no zero size; got {size}"
        )
    if len(size) == 2:
        return size[0], size[1]
    kernel = math.prod(size[2:])
    return size[1] * kernel, size[0] * kernel


def _kaiming_std(op: str, shape: Any, a: Any, mode: Any, nonlinearity: Any) -> float:
    fan_in, fan_out = _fans(op, shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    gain = calculate_gain(nonlinearity, _number(op, "a", a))
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _number(op: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    return float(value)
