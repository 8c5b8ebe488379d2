"""Hypothesis strategies for property-testing ops: arrays, tensors, shapes and axes.

These are the strategies tinygrad_lite's own property tests use, so that a user who adds
an op can test it the same way: for every shape, every broadcast and every axis that
hypothesis can think of, the gradient agrees with finite differences.

>>> import numpy as np
>>> import tinygrad_lite as tl
>>> from hypothesis import given, settings
>>> from tinygrad_lite import testing
>>> from tinygrad_lite.function import apply_to
>>> from tinygrad_lite.ops import Sigmoid
>>> class Softplus(tl.Function):
...     '''out = log(1 + exp(x))    dx = grad * sigmoid(x)'''
...
...     def forward(self, x):
...         return np.logaddexp(0.0, x)
...
...     def backward(self, grad, x, out):
...         return grad * apply_to(Sigmoid, x)
>>> @settings(max_examples=20, deadline=None)
... @given(testing.tensors(domain="real"))
... def test_softplus_gradient(x):
...     assert tl.gradcheck(Softplus.apply, x)
...     assert tl.gradgradcheck(Softplus.apply, x)
>>> test_softplus_gradient()

A binary op is tested over every pair of shapes that broadcast, and a reduction over every
axis argument its input accepts:

>>> @settings(max_examples=20, deadline=None)
... @given(testing.broadcastable_shapes(2).flatmap(
...     lambda shapes: testing.tensors(shapes[0]).flatmap(
...         lambda x: testing.tensors(shapes[1], domain="nonzero").map(lambda y: (x, y)))))
... def test_softplus_quotient(xy):
...     assert tl.gradcheck(lambda x, y: Softplus.apply(x / y), *xy)
>>> test_softplus_quotient()
>>> @settings(max_examples=20, deadline=None)
... @given(testing.tensors().flatmap(
...     lambda x: testing.axes(x.ndim).map(lambda axis: (x, axis))))
... def test_softplus_sum(x_axis):
...     x, axis = x_axis
...     assert tl.gradcheck(lambda x: Softplus.apply(x).sum(axis=axis), x)
>>> test_softplus_sum()

(Inside a test module, ``@given(st.data())`` and ``data.draw(...)`` read better than
``flatmap``; the tests in ``tests/test_properties.py`` are written that way.)

An op's jvp rule (forward mode) is tested the same way: against finite differences with
``tl.gradcheck(..., check_forward_ad=True)``, and against its backward rule with
:func:`assert_modes_agree`, along tangents drawn by :func:`tangents` (one per primal, of
its shape and dtype; drawn for the outputs, they are cotangents):

>>> class DualSoftplus(Softplus):
...     def jvp(self, tangents, x, out):
...         return tangents[0] * apply_to(Sigmoid, x)
>>> from hypothesis import strategies as st
>>> @settings(max_examples=20, deadline=None)
... @given(st.data(), st.sampled_from([np.float32, np.float64]))
... def test_softplus_jvp(data, dtype):
...     x = data.draw(testing.tensors(dtype=dtype))
...     if dtype == np.float64:  # (finite differences need float64)
...         assert tl.gradcheck(DualSoftplus.apply, x, check_forward_ad=True)
...     out = DualSoftplus.apply(x)
...     v, u = data.draw(testing.tangents(x)), data.draw(testing.tangents(out))
...     testing.assert_modes_agree(DualSoftplus.apply, (x,), v, u)
>>> test_softplus_jvp()

Domains say where the elements lie, so that a check is made where the op is smooth:

    "real"      min_value <= x <= max_value (default -4 and 4)
    "finite"    any finite float of the dtype (huge, tiny, subnormal), for forward tests
    "positive"  x >= margin (log, sqrt, the base of pow)
    "nonzero"   |x| >= margin (a divisor; relu and abs, away from their kink)
    "unit"      margin <= x <= 1 - margin (a probability)

``distinct=True`` keeps the elements pairwise at least ``gap`` apart (default 0.01), so
that a maximum has no ties.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover (the test suite runs with hypothesis)
    raise ImportError(
        "tinygrad_lite.tools.testing needs hypothesis: pip install hypothesis "
        "(or pip install 'tinygrad-lite[test]')"
    ) from None

from tinygrad_lite.func import jvp, vjp
from tinygrad_lite.tensor import Tensor

DOMAINS = ("real", "finite", "positive", "nonzero", "unit")
BOUND = 4.0  # the default |x| <= BOUND of the bounded domains: large enough, and exp-safe
MARGIN = 0.1  # how far "positive", "nonzero" and "unit" keep from 0 (and from 1)
GAP = 0.01  # the least distance between two elements drawn with distinct=True

ShapeLike = tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None


def shapes(
    *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes of ``min_dims`` to ``max_dims`` dimensions (0-d included by default)."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def arrays(
    shape: ShapeLike = None,
    *,
    domain: str = "real",
    dtype: Any = np.float64,
    min_value: float | None = None,
    max_value: float | None = None,
    margin: float = MARGIN,
    distinct: bool = False,
    gap: float = GAP,
) -> st.SearchStrategy[np.ndarray]:
    """numpy arrays of float64 (or float32) with elements in ``domain``.

    ``shape`` is a tuple, a strategy of tuples, or None (drawn by :func:`shapes`: 0-d to
    3-d). ``dtype`` is float32, float64 or a strategy of them. ``min_value`` and
    ``max_value`` bound the elements (default -4 and 4; the dtype's range for "finite"),
    and ``domain`` restricts them further, keeping ``margin`` from zero or from the ends
    of (0, 1) (see the module docstring). ``distinct=True`` keeps any two elements at
    least ``gap`` apart.
    """
    shape_strategy = _shape_strategy(shape)
    dtype_strategy = dtype if isinstance(dtype, st.SearchStrategy) else st.just(dtype)
    if domain not in DOMAINS:
        raise ValueError(f"arrays: domain must be one of {', '.join(DOMAINS)}; got {domain!r}")
    if not (isinstance(margin, (int, float)) and margin > 0):
        raise ValueError(f"arrays: margin must be a number > 0, got {margin!r}")
    if not (isinstance(gap, (int, float)) and gap > 0):
        raise ValueError(f"arrays: gap must be a number > 0, got {gap!r}")
    if distinct and domain == "finite":
        raise ValueError('arrays: distinct=True needs a bounded domain, not "finite"')

    @st.composite
    def draw_array(draw: Any) -> np.ndarray:
        kind = _float_dtype(draw(dtype_strategy))
        intervals = _intervals(domain, kind, min_value, max_value, margin)
        array_shape = draw(shape_strategy)
        if distinct:
            return _distinct(draw, array_shape, kind, intervals, gap)
        elements = st.one_of(
            *[
                st.floats(*_representable(lo, hi, kind), width=32 if kind == np.float32 else 64)
                for lo, hi in intervals
            ]
        )
        return draw(hnp.arrays(kind, array_shape, elements=elements))

    return draw_array()


def tensors(
    shape: ShapeLike = None,
    *,
    requires_grad: bool = True,
    domain: str = "real",
    dtype: Any = np.float64,
    min_value: float | None = None,
    max_value: float | None = None,
    margin: float = MARGIN,
    distinct: bool = False,
    gap: float = GAP,
) -> st.SearchStrategy[Tensor]:
    """Tensors whose data is drawn by :func:`arrays` (same arguments); leaves that require
    grad unless ``requires_grad=False``."""
    data = arrays(
        shape,
        domain=domain,
        dtype=dtype,
        min_value=min_value,
        max_value=max_value,
        margin=margin,
        distinct=distinct,
        gap=gap,
    )
    return data.map(lambda a: Tensor(a, requires_grad=requires_grad, dtype=a.dtype))


def broadcastable_shapes(
    num_shapes: int = 2,
    *,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together, as numpy's rules allow:
    sizes of 1 that stretch, and missing leading dimensions."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda shapes: shapes.input_shapes)


def matmul_shapes(
    *, max_batch_dims: int = 2, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs of shapes that ``x @ y`` accepts: 1-D vectors, matrices, and stacks of
    matrices whose batch dimensions broadcast (numpy's matmul signature
    ``(n?,k),(k,m?)->(n?,m?)``)."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature,
        max_dims=max_batch_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda shapes: (shapes.input_shapes[0], shapes.input_shapes[1]))


def axes(
    ndim: int | tuple[int, ...],
    *,
    allow_none: bool = True,
    allow_tuple: bool = True,
    allow_negative: bool = True,
) -> st.SearchStrategy[Any]:
    """Axis arguments valid for a tensor of ``ndim`` dimensions (or of this shape, given a
    tuple): None, an int (negative too), or a tuple of distinct axes (the empty tuple
    included)."""
    if isinstance(ndim, tuple):
        ndim = len(ndim)
    low = -ndim if allow_negative else 0
    choices: list[st.SearchStrategy[Any]] = []
    if allow_none:
        choices.append(st.none())
    if ndim:
        choices.append(st.integers(low, ndim - 1))
    if allow_tuple and not ndim:
        choices.append(st.just(()))
    elif allow_tuple:
        distinct_axes = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)
        if allow_negative:
            # each axis drawn once, then written as itself or as its negative form
            choices.append(
                distinct_axes.flatmap(
                    lambda chosen: st.tuples(*[st.sampled_from((a, a - ndim)) for a in chosen])
                )
            )
        else:
            choices.append(distinct_axes.map(tuple))
    if not choices:
        raise ValueError(f"axes: no axis argument fits a tensor of {ndim} dimensions")
    return st.one_of(*choices)


def tangents(*primals: Tensor, max_value: float = BOUND) -> st.SearchStrategy[tuple[Tensor, ...]]:
    """Tuples of tangents for ``primals``: one Tensor per primal, of its shape and dtype,
    with elements in [-max_value, max_value]. Drawn for a function's outputs, they are
    cotangents (for ``tl.vjp`` and :func:`assert_modes_agree`)."""
    return st.tuples(
        *[
            tensors(
                p.shape,
                requires_grad=False,
                dtype=p.dtype,
                min_value=-max_value,
                max_value=max_value,
            )
            for p in primals
        ]
    )


TOLERANCES = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}  # assert_modes_agree


def assert_modes_agree(
    f: Any,
    primals: tuple[Tensor, ...],
    tangents: tuple[Tensor, ...],
    cotangents: tuple[Tensor, ...],
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Assert that forward and reverse mode give ``f`` one derivative: ``u . (J v)``, from
    the jvp along ``tangents`` (v), equals ``(J^T u) . v``, from the vjp of ``cotangents``
    (u, one per output of f).

    The two are sums of the same products in other orders, so they agree to rounding:
    within ``atol + rtol * scale``, where ``scale`` is ``|u| . |J v| + |J^T u| . |v|``
    (the sizes of the terms summed), ``rtol`` is 1e-9 for float64 primals, 1e-4 for
    float32 ones, and ``atol`` is 64 times the dtype's smallest normal number (below it,
    in the subnormal range, rounding errors are absolute). Both sides are summed in
    float64. NaN and infinities are refused: they
    spread differently in the two modes (a tangent of 0 times an infinite derivative is
    nan in one, while the other never forms that product), so the check is only
    meaningful where f and its derivatives are finite.
    """
    out, out_tangent = jvp(f, tuple(primals), tuple(tangents))
    _, vjp_fn = vjp(f, *primals)
    single = isinstance(out, Tensor)
    grads = vjp_fn(cotangents[0] if single else tuple(cotangents))
    out_tangents = (out_tangent,) if single else tuple(out_tangent)
    pairs = [*zip(cotangents, out_tangents), *zip(grads, tangents)]
    arrays = [(np.asarray(a.data, np.float64), np.asarray(b.data, np.float64)) for a, b in pairs]
    if not all(np.isfinite(a).all() and np.isfinite(b).all() for a, b in arrays):
        raise AssertionError(
            "assert_modes_agree: a derivative or a direction is not finite; compare the "
            "modes where f and its derivatives are finite (NaN spreads differently in each)"
        )
    forward = sum(float(np.sum(a * b)) for a, b in arrays[: len(out_tangents)])
    reverse = sum(float(np.sum(a * b)) for a, b in arrays[len(out_tangents) :])
    scale = sum(float(np.sum(np.abs(a) * np.abs(b))) for a, b in arrays)
    if rtol is None:
        rtol = max(TOLERANCES.get(np.dtype(p.dtype), 1e-9) for p in primals)
    if atol is None:
        atol = max(64 * float(np.finfo(p.dtype).tiny) for p in primals)
    if not abs(forward - reverse) <= atol + rtol * scale:
        raise AssertionError(
            f"assert_modes_agree: forward and reverse mode disagree: u . (J v) = {forward!r} "
            f"(jvp), (J^T u) . v = {reverse!r} (vjp); difference {abs(forward - reverse):.3g} "
            f"> tolerance {atol + rtol * scale:.3g} (atol + rtol * {scale:.3g})"
        )


# --------------------------------------------------------------------------- helpers


def _shape_strategy(shape: ShapeLike) -> st.SearchStrategy[tuple[int, ...]]:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, int):
        shape = (shape,)
    return st.just(tuple(shape))


def _float_dtype(dtype: Any) -> np.dtype:
    kind = np.dtype(dtype)
    if kind not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"arrays: dtype must be float32 or float64, got {dtype!r}")
    return kind


def _intervals(
    domain: str,
    dtype: np.dtype,
    min_value: float | None,
    max_value: float | None,
    margin: float,
) -> list[tuple[float, float]]:
    """The domain within [min_value, max_value], as a list of closed intervals."""
    largest = float(np.finfo(dtype).max)
    default = largest if domain == "finite" else BOUND
    lo = -default if min_value is None else float(min_value)
    hi = default if max_value is None else float(max_value)
    pieces = {
        "real": [(lo, hi)],
        "finite": [(lo, hi)],
        "positive": [(max(lo, margin), hi)],
        "nonzero": [(lo, min(hi, -margin)), (max(lo, margin), hi)],
        "unit": [(max(lo, margin), min(hi, 1 - margin))],
    }[domain]
    found = [(a, b) for a, b in pieces if a <= b]
    if not found:
        raise ValueError(
            f"arrays: domain {domain!r} with margin {margin} has no values between "
            f"{lo} and {hi}; widen min_value/max_value or lower the margin"
        )
    return found


def _representable(lo: float, hi: float, dtype: np.dtype) -> tuple[float, float]:
    """[lo, hi] shrunk to bounds the dtype represents exactly (hypothesis requires it)."""
    if dtype == np.float64:
        return lo, hi
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if lo32 < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    if hi32 > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    return float(lo32), float(hi32)


def _distinct(
    draw: Any,
    shape: tuple[int, ...],
    dtype: np.dtype,
    intervals: list[tuple[float, float]],
    gap: float,
) -> np.ndarray:
    """Elements at least ``gap`` apart: distinct points of a grid of step 2*gap, each
    moved by at most gap/2 (and so still inside the intervals)."""
    grid = np.concatenate(
        [np.arange(lo + gap / 2, hi - gap / 2 + 1e-12, 2 * gap) for lo, hi in intervals]
    )
    size = math.prod(shape)
    if size > len(grid):
        raise ValueError(
            f"arrays: {size} elements at least {gap} apart do not fit in {intervals}; "
            f"lower the gap or widen min_value/max_value"
        )
    picks = draw(st.lists(st.integers(0, len(grid) - 1), min_size=size, max_size=size, unique=True))
    shifts = draw(st.lists(st.floats(-gap / 2, gap / 2), min_size=size, max_size=size))
    values = grid[np.array(picks, dtype=np.intp)] + np.array(shifts)
    return values.reshape(shape).astype(dtype)
