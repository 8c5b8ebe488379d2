"""Hypothesis strategies for the bad-input sweep: junk, and the outcome each one must have.

A ``Case`` is a value a user might pass where a tensor's data is expected, with what it
means as data: the array numpy makes of it (``expected``), or ``None`` when it is not data
at all and the call must raise our TypeError or ValueError. The strategies know which is
which by construction; the tests never ask tinygrad_lite what it accepts.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

from tinygrad_lite import Tensor

OURS = (TypeError, ValueError, IndexError)


@dataclasses.dataclass(frozen=True)
class Case:
    value: Any
    expected: np.ndarray | None  # float64 (or float32, if given so) data, or None: not data
    error: type[Exception] = TypeError  # when it is not data: TypeError, or ValueError for
    # a value of the right type that is still wrong (ragged, too deep, too large)

    def __repr__(self) -> str:
        # reprlib: a list nested 10 000 deep would exhaust the recursion limit of repr().
        return f"Case({reprlib.repr(self.value)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # what hypothesis prints
        printer.text(repr(self))


# ------------------------------------------------------------------------------- outcomes


def outcome(call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """(result, None), or (None, error) for a TypeError/ValueError/IndexError.

    Any other exception is not an allowed outcome and propagates, failing the test; so
    does a numpy warning, which pytest turns into an error.
    """
    try:
        return call(), None
    except OURS as error:
        return None, error


def assert_ours(
    error: BaseException | None, *names: str, kind: type | tuple[type, ...] = OURS
) -> None:
    """``error`` is one of ours: of the ``kind`` expected, and a message naming the op or
    the Tensor."""
    assert error is not None, "expected an error, got a result"
    assert isinstance(error, kind), f"{type(error).__name__} where {kind} was due: {error}"
    message = str(error)
    assert any(name in message for name in names) or "tensor" in message.lower(), (
        f"not our message (it names neither {names} nor Tensor): {type(error).__name__}: {message}"
    )


def assert_same(got: Tensor | np.ndarray, expected: np.ndarray, rtol: float = 0.0) -> None:
    """Same shape, and the same values (NaN equal to NaN); exact unless rtol is given."""
    data = got.data if isinstance(got, Tensor) else got
    assert data.shape == expected.shape, f"shape {data.shape}, expected {expected.shape}"
    if rtol:
        np.testing.assert_allclose(data, expected, rtol=rtol, atol=1e-300, equal_nan=True)
    else:
        np.testing.assert_array_equal(data, expected)  # NaNs compare equal here


def quiet(call: Callable[..., Any], *args: Any) -> Any:
    """A numpy reference computed without numpy's floating-point warnings."""
    with np.errstate(all="ignore"):
        return call(*args)


# -------------------------------------------------------------------------------- shapes

SMALL_SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)


@st.composite
def high_rank_shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """Up to numpy's 64 dimensions, mostly of size 1, with a few sizes 0, 2 or 3."""
    ndim = draw(st.integers(5, 64))
    shape = [1] * ndim
    for axis in draw(st.lists(st.integers(0, ndim - 1), max_size=3)):
        shape[axis] = draw(st.sampled_from([0, 2, 3]))
    return tuple(shape)


SHAPES = st.one_of(SMALL_SHAPES, SMALL_SHAPES, SMALL_SHAPES, high_rank_shapes())

# Floats with the edges over-represented: NaN, infinities, zeros of both signs, the largest
# and smallest numbers, values near exp's overflow.
SPECIAL_FLOATS = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 710.0, -710.0]
)
FLOATS = st.one_of(SPECIAL_FLOATS, st.floats(allow_nan=True, allow_infinity=True))
FLOATS32 = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45, 89.0, -89.0]),
    st.floats(width=32),
)
MODERATE = st.floats(-10, 10, allow_nan=False)


FLOAT64 = st.just(np.float64)


def float_arrays(
    shapes: st.SearchStrategy[tuple[int, ...]] = SHAPES,
    elements: st.SearchStrategy[float] = FLOATS,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    if dtype == np.float32 and elements is FLOATS:
        elements = FLOATS32
    return hnp.arrays(dtype, shapes, elements=elements)


def tensors(
    shapes: st.SearchStrategy[tuple[int, ...]] = SHAPES,
    elements: st.SearchStrategy[float] = FLOATS,
    dtypes: st.SearchStrategy[Any] = FLOAT64,
) -> st.SearchStrategy[Tensor]:
    """Tensors of every shape (0-d, empty, high rank), some requiring grad."""
    return st.builds(
        lambda data, requires_grad: Tensor(data, requires_grad=requires_grad),
        dtypes.flatmap(lambda dtype: float_arrays(shapes, elements, dtype)),
        st.booleans(),
    )


# ------------------------------------------------------------------------------ data cases


def _as_data(value: Any) -> np.ndarray:
    array = np.asarray(value)
    return array if array.dtype == np.float32 else array.astype(np.float64)


def _valid(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Case]:
    return strategy.map(lambda v: Case(v, _as_data(v)))


def _junk(
    strategy: st.SearchStrategy[Any], error: type[Exception] = TypeError
) -> st.SearchStrategy[Case]:
    return strategy.map(lambda v: Case(v, None, error))


def _nested(depth: int) -> list[Any]:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


# Lists nested deeper than numpy's 64 dimensions, one deeper than Python's recursion limit
# (anything that walks it recursively, repr included, would fail). Built by the strategy, so
# that hypothesis never has to print one inside a strategy's repr.
TOO_DEEP = st.builds(_nested, st.sampled_from([65, 100, 10_000]))

NUMERIC_DTYPES = st.sampled_from(
    [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.uint64, np.bool_]
)

VALID_NUMBERS = st.one_of(
    st.integers(-(2**53), 2**53),
    FLOATS,
    st.booleans(),
    st.builds(np.float32, st.floats(width=32)),
    st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)),
    st.builds(np.bool_, st.booleans()),
    st.builds(np.uint8, st.integers(0, 255)),
)
# Ints too large for int64 but not for float64 (up to about 1.8e308) are still numbers.
HUGE_INTS = st.one_of(st.integers(2**63, 10**300), st.integers(-(10**300), -(2**63) - 1))
TOO_HUGE_INTS = st.one_of(st.integers(10**309, 10**400), st.integers(-(10**400), -(10**309)))

VALID_ARRAYS = NUMERIC_DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, SHAPES))
VALID_LISTS = st.one_of(
    hnp.arrays(np.float64, SMALL_SHAPES, elements=FLOATS).map(lambda a: a.tolist()),
    hnp.arrays(np.int64, SMALL_SHAPES).map(lambda a: a.tolist()),
    hnp.arrays(np.bool_, SMALL_SHAPES).map(lambda a: a.tolist()),
    st.lists(st.one_of(st.booleans(), st.integers(-5, 5), FLOATS), max_size=4),  # mixed
    st.lists(MODERATE.map(Tensor), max_size=3),  # 0-d Tensors in a list, as in PyTorch
    st.lists(MODERATE, max_size=3).map(tuple),
)

RAGGED = st.sampled_from(
    [[[1.0, 2.0], [3.0]], [1.0, [2.0]], [[1.0], []], [[[1.0, 2.0]], [[3.0]]], [np.ones(2), [1.0]]]
)
NOT_NUMBERS = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.complex_numbers(),
    st.sampled_from([object(), Ellipsis, slice(1), np.datetime64("2020-01-01"), type]),
    st.lists(st.one_of(st.none(), st.text(min_size=1, max_size=2)), min_size=1, max_size=3),
    st.sampled_from([[1.0, None], [1.0, "a"], [[1.0], ["b"]], [1 + 2j]]),
    hnp.arrays(np.complex128, SMALL_SHAPES),
    hnp.arrays(np.dtype("U3"), SMALL_SHAPES),
    hnp.arrays(object, SMALL_SHAPES, elements=st.one_of(st.none(), st.text(max_size=2))),
)

DATA = st.one_of(
    _valid(VALID_NUMBERS),
    _valid(HUGE_INTS),
    _valid(VALID_ARRAYS),
    _valid(VALID_LISTS),
    _junk(TOO_HUGE_INTS, ValueError),
    _junk(RAGGED, ValueError),
    _junk(TOO_DEEP, ValueError),
    _junk(NOT_NUMBERS, TypeError),
)


# ------------------------------------------------------------------------ other arguments

# Things passed where an int (an axis, a size) is expected, and are not one.
NOT_INTS = st.one_of(
    st.floats(),
    st.booleans(),
    st.builds(np.bool_, st.booleans()),
    st.builds(np.float64, st.floats(-3, 3)),
    st.text(max_size=3),
    st.none(),
    st.lists(st.integers(0, 2), max_size=2),
    st.sampled_from([object(), (1, (2,)), ((0,),), 1 + 0j, b"1"]),
)
INTS = st.one_of(
    st.integers(-4, 4),
    st.builds(np.int64, st.integers(-4, 4)),
    st.sampled_from([2**63, 2**70, -(2**63) - 1, 10**30, -(10**30)]),
)


def is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def reduced_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """numpy's broadcasting undone: ``grad`` summed back to ``shape``."""
    lead = grad.ndim - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1)
    axes = tuple(range(lead)) + stretched
    return (grad.sum(axis=axes) if axes else grad).reshape(shape)


def error_kind(parts: Any, valid_value: Callable[[Any], bool]) -> type | tuple[type, ...] | None:
    """The error due for ``parts`` (sizes or axes): TypeError if one is not an int,
    ValueError if an int is out of bounds, either if both (which is seen first is the
    implementation's business), None if every part is fine."""
    type_problem = any(not is_int(p) for p in parts)
    value_problem = any(is_int(p) and not valid_value(p) for p in parts)
    if type_problem and value_problem:
        return (TypeError, ValueError)
    return TypeError if type_problem else ValueError if value_problem else None
