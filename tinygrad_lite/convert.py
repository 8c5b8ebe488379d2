"""Values from the user as the arrays a Tensor holds, and the errors that explain bad ones.

Every check here says what was given and what is accepted. ``tensor.py`` calls these on
the way in (the constructor, in-place changes, ``backward``'s gradient, ``uniform``'s
bounds); the hot path of the ops never does.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.shapes import short_repr

ACCEPTED_DATA = "a number, a nested list of numbers, a numpy array of numbers, or a Tensor"
FLOAT32 = np.dtype(np.float32)
DTYPES = (FLOAT32, np.dtype(np.float64))


class KeptArray(np.ndarray):
    """Base class of the ndarray subclasses that a Tensor keeps as they are.

    Data of any other ndarray subclass (``np.matrix``, a masked array) becomes a plain
    array. An array of a subclass of this one stays itself through the Tensor's copies, so
    that code built on the core can give a Tensor arrays whose numpy calls it follows. The
    core makes none itself: this class is its hook for such code.
    """

    __slots__ = ()


def to_array(data: Any, dtype: Any) -> np.ndarray:
    """``data`` (anything but a Tensor: pass its ``.data``) as a new float32 or float64
    array, or an error that says what was wrong.

    A ``KeptArray`` stays of its own type through the copy; any other ndarray subclass
    becomes a plain array.
    """
    target = check_dtype(dtype)
    try:
        array = np.array(data, subok=isinstance(data, KeptArray))
    except ValueError:
        raise ValueError(
            f"Tensor: cannot make an array of {describe(data)}: nested lists must be "
            f"rectangular (the same length at each depth) and at most 64 deep; accepted: "
            f"{ACCEPTED_DATA}"
        ) from None
    except (TypeError, OverflowError) as error:
        raise TypeError(
            f"Tensor: cannot use {describe(data)} as data ({error}); accepted: {ACCEPTED_DATA}"
        ) from None
    if (
        array.dtype.kind == "O"
        and not isinstance(data, np.ndarray)
        and all(isinstance(v, (int, float, np.integer, np.floating)) for v in array.flat)
    ):
        # numpy keeps an int beyond int64 as a Python object; it is a number all the same.
        try:
            array = array.astype(np.float64)
        except OverflowError:
            raise ValueError(
                f"Tensor: {describe(data)} has an int too large for float64 (whose "
                f"largest value is about 1.8e308); accepted: {ACCEPTED_DATA}"
            ) from None
    if array.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "objects"}.get(
            array.dtype.kind, f"values of dtype {array.dtype}"
        )
        raise TypeError(f"Tensor: data holds {what} ({describe(data)}); accepted: {ACCEPTED_DATA}")
    if target is None:
        target = array.dtype if array.dtype == np.float32 else np.dtype(np.float64)
    if target is FLOAT32 and array.dtype.itemsize > 4:
        with fp_quiet():  # beyond float32's range a value becomes inf, without a warning
            return array.astype(target)
    return array.astype(target, copy=False)


def check_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    checked = None
    # Only a name, a type or a dtype can mean float32 or float64; numpy would read a list or
    # a dict as a structured dtype, recursing into it.
    if isinstance(dtype, (str, type, np.dtype)):
        with contextlib.suppress(TypeError, ValueError):  # a name numpy does not know
            checked = np.dtype(dtype)
    # Tested against None first: numpy dtypes compare equal to None (np.dtype(None) is
    # float64), so `None in DTYPES` is True and a dtype numpy cannot read would pass.
    if checked is None or checked not in DTYPES:
        raise TypeError(f"Tensor: dtype must be float32, float64 or None, got {short_repr(dtype)}")
    return checked


def describe(data: Any) -> str:
    # short_repr rather than repr: it stops at a few levels and items, so that a list nested
    # deeper than the recursion limit, or a long one, is described quickly and safely.
    text = short_repr(data)
    return f"{type(data).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_keepdim(op: str, keepdim: Any) -> bool:
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdim must be True or False, got {short_repr(keepdim)}")
    return bool(keepdim)


def check_bounds(low: Any, high: Any) -> tuple[float, float]:
    """uniform's bounds: real numbers, low <= high, a finite range (numpy's rules vary)."""
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, (bool, np.bool_)) or not isinstance(
            bound, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"uniform: {name} must be a real number, got {describe(bound)}")
    try:
        width = float(high) - float(low)  # inf (or nan) for a range beyond float64
    except OverflowError:  # an int beyond float64
        width = math.inf
    if not (low <= high and math.isfinite(width)):
        raise ValueError(
            f"uniform: needs low <= high and a finite range, got low={low!r}, high={high!r}"
        )
    # + 0.0 turns -0.0 into 0.0: numpy's Generator takes high=-0.0, low=0.0 for low > high.
    return float(low) + 0.0, float(high) + 0.0


def check_rng(op: str, rng: Any) -> Any:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError(
            f"{op}: rng must be a numpy.random.Generator or numpy.random.RandomState "
            f"(or None), got {type(rng).__name__}"
        )
    return rng
