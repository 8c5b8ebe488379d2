"""Shape arithmetic for the Tensor methods, and the errors that explain a bad shape or axis.

Each function takes the name of the op it serves, so that an error names the op, says what
was given and what would have been accepted.
"""

from __future__ import annotations

import math
import operator
import reprlib
from typing import Any

import numpy as np

# repr() for error messages, cut short: reprlib stops at a few levels of nesting, so that a
# list or tuple nested 10 000 deep (deeper than the recursion limit) is quoted safely.
_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = 20
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 100
short_repr = _REPR.repr

MAX_DIMS = 64  # numpy's limit on the number of dimensions
MAX_ELEMENTS = (2**63 - 1) // 8  # elements of 8 bytes whose size in bytes an intp can hold


def _is_int(value: Any) -> bool:
    # Accepts Python and numpy integers; a bool is not an axis or a length.
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def broadcast_shape(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape numpy broadcasting gives two operands of shapes ``a`` and ``b``.

    >>> broadcast_shape("add", (4, 1), (3,))
    (4, 3)
    """
    ndim = max(len(a), len(b))
    padded_a = (1,) * (ndim - len(a)) + a
    padded_b = (1,) * (ndim - len(b)) + b
    shape = []
    for m, n in zip(padded_a, padded_b):
        if m == n or n == 1:
            shape.append(m)
        elif m == 1:
            shape.append(n)
        else:
            raise ValueError(
                f"{op}: shapes {a} and {b} do not broadcast: aligned from the right, each "
                f"pair of sizes must be equal or contain a 1 ({m} vs {n})"
            )
    return tuple(shape)


def normalize_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int, a negative int or a tuple of ints) as sorted positive axes.

    >>> normalize_axes("sum", -1, 3)
    (2,)
    >>> normalize_axes("sum", None, 2)
    (0, 1)
    """
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    result = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(
                f"{op}: axis must be None, an int or a tuple of ints, got {short_repr(axis)} "
                f"({type(a).__name__})"
            )
        if not -ndim <= a < ndim:
            accepted = f"{-ndim} to {ndim - 1}" if ndim else "None or () (a 0-d tensor has no axes)"
            raise np.exceptions.AxisError(
                f"{op}: axis {a} is out of range for a tensor of {ndim} dimension(s); "
                f"accepted: {accepted}"
            )
        result.append(operator.index(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {short_repr(axis)} repeats an axis")
    return tuple(sorted(result))


def parse_shape(op: str, shape: tuple[Any, ...], allow_minus_one: bool = False) -> tuple[int, ...]:
    """A shape given as ``f(2, 3)`` or ``f((2, 3))``, checked to be non-negative ints.

    >>> parse_shape("zeros", ((2, 3),))
    (2, 3)
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not _is_int(n):
            raise TypeError(f"{op}: a shape is made of ints, got {short_repr(shape)}")
        if n < 0 and not (allow_minus_one and n == -1):
            accepted = "non-negative ints, and at most one -1" if allow_minus_one else "ints >= 0"
            raise ValueError(
                f"{op}: shape {short_repr(shape)} has a negative size; accepted: {accepted}"
            )
    shape = tuple(map(operator.index, shape))  # Python ints: products cannot overflow
    # numpy's limits, checked here so that the error names the op: at most 64 dimensions,
    # and a size in bytes (zero-size axes left out, as numpy does) that an address can hold.
    if len(shape) > MAX_DIMS:
        raise ValueError(
            f"{op}: shape of {len(shape)} dimensions; numpy arrays have at most {MAX_DIMS}"
        )
    # abs: a -1 (reshape's "the rest") makes the product negative, as large as the others'.
    if abs(math.prod(shape)) > MAX_ELEMENTS or (
        0 in shape and math.prod(n for n in shape if n > 0) > MAX_ELEMENTS
    ):
        raise ValueError(
            f"{op}: shape {shape} is too large for an array: numpy needs the product of its "
            f"nonzero sizes to be at most {MAX_ELEMENTS}"
        )
    return shape


def reshape_target(in_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``reshape`` produces, with a -1 resolved; an error if sizes don't match.

    >>> reshape_target((2, 3), (-1,))
    (6,)
    """
    size = math.prod(in_shape)  # (math.prod: np.prod would first make the tuple an array)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: shape {shape} has more than one -1; at most one is allowed")
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        if known == 0 or size % known:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {in_shape} ({size} elements) "
                f"into {shape}: {size} is not a multiple of {known}"
            )
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif math.prod(shape) != size:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {in_shape} ({size} elements) into "
            f"{shape} ({math.prod(shape)} elements); the number of elements must stay the same"
        )
    return shape


def permutation(order: tuple[Any, ...], ndim: int) -> tuple[int, ...]:
    """``order`` checked to be a reordering of all ``ndim`` axes (negative axes allowed).

    >>> permutation((1, 0, -1), 3)
    (1, 0, 2)
    """
    if len(order) == 1 and isinstance(order[0], (tuple, list)):
        order = tuple(order[0])
    axes = normalize_axes("permute", order, ndim) if order else ()
    if len(order) != ndim or len(axes) != ndim:
        raise ValueError(f"permute: order {order} must name each of the {ndim} axes exactly once")
    return tuple(operator.index(a) % ndim for a in order)
