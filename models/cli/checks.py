"""The checks every part of a TOML network file goes through, and the error they raise.

Each helper takes ``where`` (the file, for the message) and what it checks, and returns the
value in the form the rest needs, or raises a ``ConfigError`` of one line that names the
file, the key and what is accepted.
"""

from __future__ import annotations

import math
from typing import Any


class ConfigError(ValueError):
    """A network file that cannot be used; the message says where and why."""


def table(where: str, what: str, value: Any) -> dict[str, Any]:
    """``value`` as a TOML table (a dict)."""
    if value is None:
        raise ConfigError(f"{where}: no [{what}] table")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {what} must be a table, got {value!r}")
    return value


def check_keys(where: str, what: str, found: dict[str, Any], accepted: tuple[str, ...]) -> None:
    """No key of ``found`` outside ``accepted``."""
    unknown = [key for key in found if key not in accepted]
    if unknown:
        raise ConfigError(
            f"{where}: {what} has unknown key(s) {', '.join(map(repr, unknown))}; accepted: "
            f"{', '.join(accepted)}"
        )


def choice(where: str, key: str, value: Any, accepted: tuple[str, ...]) -> str:
    """One of ``accepted`` (lower case), in any case."""
    if not isinstance(value, str) or value.lower() not in accepted:
        raise ConfigError(f"{where}: {key} = {value!r}; accepted: {', '.join(accepted)}")
    return value.lower()


def real(where: str, key: str, value: Any) -> float:
    """A finite number (an integer is taken as a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def positive(where: str, key: str, value: Any) -> float:
    """A finite number greater than 0."""
    number = real(where, key, value)
    if number <= 0:
        raise ConfigError(f"{where}: {key} must be greater than 0, got {value!r}")
    return number


def fraction(where: str, key: str, value: Any, low: float, high: float) -> float:
    """A finite number in [low, high)."""
    number = real(where, key, value)
    if not low <= number < high:
        raise ConfigError(f"{where}: {key} must be in [{low:g}, {high:g}), got {value!r}")
    return number


def integer(where: str, key: str, value: Any, low: int, high: int | None = None) -> int:
    """A whole number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{where}: {key} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{where}: {key} must be at most {high}, got {value!r}")
    return value


def flag(where: str, key: str, value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def pair(where: str, key: str, value: Any, low: int) -> tuple[int, int]:
    """An integer for both sides, or a list of two (height, width), as PyTorch's sizes."""
    if isinstance(value, list):
        if len(value) != 2:
            raise ConfigError(
                f"{where}: {key} must be an integer or a list of two (height, width), got {value!r}"
            )
        return integer(where, key, value[0], low), integer(where, key, value[1], low)
    number = integer(where, key, value, low)
    return number, number
