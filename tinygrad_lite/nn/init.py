"""Initialisers: starting values for weights, drawn from an explicit random generator.

Each takes the shape to fill and ``rng``, a ``numpy.random.Generator`` or the legacy
``numpy.random.RandomState``, and returns a float64 numpy array; wrap it in a Tensor (or
hand it to ``nn.Linear.from_weights``) to make a parameter. Passing the generator rather
than seeding a global one is what makes a run repeatable: the same generator, drawn in the
same order, gives the same network.

Weights of ``nn.Linear`` have shape (in_features, out_features), so ``fan_in`` is
``shape[0]`` and ``fan_out`` is ``shape[1]``.

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
    """Glorot's U[-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``, for a 2-D shape.

    Keeps the variance of activations about equal across layers of tanh or sigmoid units.
    """
    size = _shape("xavier_uniform", shape)
    if len(size) != 2 or 0 in size:
        raise ValueError(
            f"xavier_uniform: needs a 2-D shape (fan_in, fan_out) with no zero size, got {size}"
        )
    bound = _number("xavier_uniform", "gain", gain) * math.sqrt(6.0 / (size[0] + size[1]))
    return uniform(size, -bound, bound, rng=rng)


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


def _number(op: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    return float(value)
