"""The bad-input sweep: junk fed to every constructor, op and method of Tensor.

Allowed outcomes: the right result (checked against numpy where numpy has one, the shape
included, and the gradient too where one flows), or a TypeError, ValueError or IndexError
whose message is ours (it names the op or the Tensor). Not allowed: any other exception,
a numpy warning (pytest turns warnings into errors), a result of the wrong shape or value.
The strategies and the helpers that judge an outcome are in ``junk.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from junk import (
    DATA,
    FLOATS,
    INTS,
    MODERATE,
    NOT_INTS,
    SMALL_SHAPES,
    Case,
    assert_ours,
    assert_same,
    error_kind,
    is_int,
    outcome,
    quiet,
    reduced_to,
    tensors,
)

from tinygrad_lite import Tensor

# Three times the profile's examples: each is cheap, and junk has many corners.
sweep = settings(max_examples=3 * settings.default.max_examples)

# ---------------------------------------------------------------------------- constructors

VALID_DTYPES = [None, np.float32, np.float64, "float32", "float64", float, np.dtype("f4")]
DTYPES = st.one_of(
    st.sampled_from(VALID_DTYPES),
    st.sampled_from([int, bool, np.int64, np.float16, np.complex128, object, "abc", "i8"]),
    st.sampled_from([1.5, 3, [1], {}, {"names": ["a"], "formats": [int]}, (np.float64, 2)]),
)
REQUIRES_GRAD = st.one_of(
    st.booleans(), st.builds(np.bool_, st.booleans()), st.sampled_from([0, 1, None, "yes", 1.0])
)


def _check_dtype_and_flag(dtype: Any, requires_grad: Any) -> bool:
    valid_dtype = any(dtype is d or (dtype is not None and dtype == d) for d in VALID_DTYPES)
    return valid_dtype and isinstance(requires_grad, (bool, np.bool_))


@sweep
@given(DATA, DTYPES, REQUIRES_GRAD)
def test_tensor(case: Case, dtype: Any, requires_grad: Any) -> None:
    t, error = outcome(lambda: Tensor(case.value, requires_grad=requires_grad, dtype=dtype))
    if not _check_dtype_and_flag(dtype, requires_grad):
        assert_ours(error, "Tensor", kind=TypeError)
        return
    if case.expected is None:
        assert_ours(error, "Tensor", kind=case.error)
        return
    assert error is None, error
    want = np.dtype(dtype) if dtype is not None else case.expected.dtype
    assert t.dtype == want
    assert_same(t, quiet(case.expected.astype, want))
    assert t.requires_grad == bool(requires_grad)
    assert t.is_leaf and t.grad is None


SIZES = st.one_of(st.integers(0, 3), st.integers(0, 3), st.builds(np.int64, st.integers(0, 3)))
SHAPE_ARGS = st.one_of(
    st.lists(SIZES, max_size=4).map(tuple),  # f(2, 3)
    st.lists(SIZES, max_size=4).map(lambda s: (tuple(s),)),  # f((2, 3))
    st.lists(SIZES, max_size=4).map(lambda s: (list(s),)),  # f([2, 3])
    st.lists(st.one_of(SIZES, INTS, NOT_INTS), min_size=1, max_size=3).map(tuple),
    st.sampled_from(
        [
            (1,) * 64,
            (1,) * 65,
            (2**40, 2**40),
            (2**62,),
            (2**63,),
            (2**70,),
            (2**31, 2**31, 0),
            ((2,), 3),
            ((2, 3), 4),
            (None,),
            ("2",),
            (2.0,),
            (-1,),
            (3, -2),
            ({},),
        ]
    ),
)


def _requested_shape(args: tuple[Any, ...]) -> tuple[tuple[int, ...], Any]:
    """(the shape ``args`` ask for; the error due, or None for a shape numpy can make)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    kind = error_kind(args, lambda n: n >= 0)
    if kind is not None:
        return (), kind
    shape = tuple(int(n) for n in args)
    # numpy's limits: 64 dimensions; the product of the nonzero sizes, in bytes, in an intp.
    if len(shape) > 64 or math.prod(n for n in shape if n) * 8 >= 2**63:
        return shape, ValueError
    return shape, None


@sweep
@given(st.sampled_from(["zeros", "ones", "randn", "uniform"]), SHAPE_ARGS, DTYPES, REQUIRES_GRAD)
def test_shape_constructors(name: str, args: tuple[Any, ...], dtype: Any, flag: Any) -> None:
    shape, kind = _requested_shape(args)
    if kind is None and math.prod(shape) > 2**20:
        return  # a legal shape, too large to allocate in a test
    t, error = outcome(lambda: getattr(Tensor, name)(*args, dtype=dtype, requires_grad=flag))
    if kind is not None:
        assert_ours(error, name, kind=kind)
        return
    if not _check_dtype_and_flag(dtype, flag):
        assert_ours(error, name, kind=TypeError)
        return
    assert error is None, error
    assert t.shape == shape and t.dtype == (np.dtype(dtype) if dtype else np.float64)
    assert t.requires_grad == flag and t.is_leaf
    if name == "zeros":
        assert not t.data.any()
    elif name == "ones":
        assert (t.data == 1).all()
    elif name == "uniform":
        assert ((t.data >= -1) & (t.data <= 1)).all()
    else:
        assert np.isfinite(t.data).all()


@sweep
@given(st.one_of(SIZES, INTS, NOT_INTS, st.sampled_from([(2,), (2, 3), (), [3], 2**70])))
def test_eye(n: Any) -> None:
    t, error = outcome(lambda: Tensor.eye(n))
    if not is_int(n):
        assert_ours(error, "eye", kind=TypeError)
        return
    if not 0 <= n <= 100:  # negative, or n * n beyond numpy's limits
        assert_ours(error, "eye", kind=ValueError)
        return
    assert error is None, error
    assert_same(t, np.eye(int(n)))


BOUNDS = st.one_of(MODERATE, FLOATS, st.integers(-5, 5), NOT_INTS)
RNGS = st.one_of(
    st.none(),
    st.builds(np.random.default_rng, st.integers(0, 10)),
    st.builds(np.random.RandomState, st.integers(0, 10)),
    st.sampled_from([0, "seed", np.random, object()]),
)


@sweep
@given(BOUNDS, BOUNDS, RNGS)
def test_uniform_and_randn_arguments(low: Any, high: Any, rng: Any) -> None:
    def real(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
            v, (bool, np.bool_)
        )

    valid_rng = rng is None or isinstance(rng, (np.random.Generator, np.random.RandomState))
    t, error = outcome(lambda: Tensor.uniform(2, 3, low=low, high=high, rng=rng))
    if not (real(low) and real(high)):
        assert_ours(error, "uniform", kind=TypeError)
    elif not (low <= high and np.isfinite(float(high) - float(low))):
        assert_ours(error, "uniform", kind=ValueError)
    elif not valid_rng:
        assert_ours(error, "uniform", kind=TypeError)
    else:
        assert error is None, error
        assert t.shape == (2, 3)
        assert ((t.data >= low) & (t.data <= high)).all()
    t, error = outcome(lambda: Tensor.randn(3, rng=rng))
    if valid_rng:
        assert error is None and t.shape == (3,)
    else:
        assert_ours(error, "randn", kind=TypeError)


# -------------------------------------------------------------------- binary operators


# name: (the op's name in our errors, the call, numpy's answer for (x, c), and d(out)/dx
# times g, for x broadcast to out's shape)
BINARY: dict[str, tuple[str, Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "x + c": ("add", lambda x, c: x + c, np.add, lambda x, c, out, g: g),
    "c + x": ("add", lambda x, c: c + x, lambda x, c: c + x, lambda x, c, out, g: g),
    "x.add(c)": ("add", lambda x, c: x.add(c), np.add, lambda x, c, out, g: g),
    "x - c": ("sub", lambda x, c: x - c, np.subtract, lambda x, c, out, g: g),
    "c - x": ("sub", lambda x, c: c - x, lambda x, c: c - x, lambda x, c, out, g: -g),
    "x.sub(c)": ("sub", lambda x, c: x.sub(c), np.subtract, lambda x, c, out, g: g),
    "x * c": ("mul", lambda x, c: x * c, np.multiply, lambda x, c, out, g: g * c),
    "c * x": ("mul", lambda x, c: c * x, lambda x, c: c * x, lambda x, c, out, g: g * c),
    "x.mul(c)": ("mul", lambda x, c: x.mul(c), np.multiply, lambda x, c, out, g: g * c),
    "x / c": ("div", lambda x, c: x / c, np.divide, lambda x, c, out, g: g / c),
    "c / x": ("div", lambda x, c: c / x, lambda x, c: c / x, lambda x, c, out, g: -g * out / x),
    "x.div(c)": ("div", lambda x, c: x.div(c), np.divide, lambda x, c, out, g: g / c),
    "x ** c": ("pow", lambda x, c: x**c, np.power, lambda x, c, out, g: _dpow_dx(x, c, g)),
    "c ** x": (
        "pow",
        lambda x, c: c**x,
        lambda x, c: c**x,
        lambda x, c, out, g: _dpow_dy(c, x, out, g),
    ),
    "x.pow(c)": ("pow", lambda x, c: x.pow(c), np.power, lambda x, c, out, g: _dpow_dx(x, c, g)),
}


def _dpow_dx(x: Any, y: Any, g: Any) -> Any:
    """d(x**y)/dx by PyTorch's rule: y * x**(y-1), and 0 where y is 0 (even at x = 0)."""
    return np.where(y == 0, 0.0, g * (y * x ** (y - 1)))


def _dpow_dy(x: Any, y: Any, out: Any, g: Any) -> Any:
    """d(x**y)/dy by PyTorch's rule: x**y * log(x), and 0 where x is 0 and y >= 0."""
    return np.where((x == 0) & (y >= 0), 0.0, g * (out * np.log(x)))


@sweep
@given(tensors(), DATA, st.sampled_from(sorted(BINARY)))
def test_binary_operators(x: Tensor, case: Case, name: str) -> None:
    op, call, reference, derivative = BINARY[name]
    out, error = outcome(lambda: call(x, case.value))
    if case.expected is None:
        assert_ours(error, op, kind=case.error)
        return
    c = case.expected
    try:
        expected = quiet(reference, x.data, c)
    except ValueError:  # numpy cannot broadcast them either
        assert_ours(error, op, kind=ValueError)
        return
    assert error is None, error
    assert isinstance(out, Tensor)
    assert_same(out, expected)
    if x.requires_grad:
        g = np.ones(out.shape)
        out.backward(g)
        x_out = np.broadcast_to(x.data, out.shape)
        want = quiet(reduced_to, quiet(derivative, x_out, c, out.data, g), x.shape)
        assert_same(x.grad, want)


@sweep
@given(st.data())
def test_binary_operators_between_tensors(data: st.DataObject) -> None:
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_side=0, max_side=3))
    x = Tensor(data.draw(hnp.arrays(np.float64, shapes.input_shapes[0])), requires_grad=True)
    y = Tensor(data.draw(hnp.arrays(np.float64, shapes.input_shapes[1])), requires_grad=True)
    out = (x * y + x - y) / 2
    assert out.shape == shapes.result_shape
    out.backward(np.ones(out.shape))
    assert x.grad.shape == x.shape and y.grad.shape == y.shape
    bad_shape = data.draw(SMALL_SHAPES)
    try:
        np.broadcast_shapes(x.shape, bad_shape)
    except ValueError:
        _, error = outcome(lambda: x * Tensor(np.ones(bad_shape)))
        assert_ours(error, "mul")


# ------------------------------------------------------------------------------- matmul


def _matmul_grads(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d(sum(x @ y))/dx and /dy by numpy's rules: 1-D operands become a row and a column."""
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g = np.ones(np.matmul(x2, y2).shape)
    dx = g @ np.swapaxes(y2, -1, -2)
    dy = np.swapaxes(x2, -1, -2) @ g
    dx, dy = quiet(reduced_to, dx, x2.shape), quiet(reduced_to, dy, y2.shape)
    return dx.reshape(x.shape), dy.reshape(y.shape)


MATMUL_SHAPES = st.one_of(
    hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, min_side=0, max_side=3),
    st.tuples(SMALL_SHAPES, SMALL_SHAPES).map(lambda s: hnp.BroadcastableShapes(s, ())),
)


@sweep
@given(st.data(), MATMUL_SHAPES, st.sampled_from(["x @ y", "x.matmul(y)", "x.dot(y)", "ax @ y"]))
def test_matmul(data: st.DataObject, shapes: Any, form: str) -> None:
    x_shape, y_shape = shapes.input_shapes
    x = Tensor(data.draw(hnp.arrays(np.float64, x_shape, elements=MODERATE)), requires_grad=True)
    y = Tensor(data.draw(hnp.arrays(np.float64, y_shape, elements=MODERATE)), requires_grad=True)
    calls = {
        "x @ y": lambda: x @ y,
        "x.matmul(y)": lambda: x.matmul(y),
        "x.dot(y)": lambda: x.dot(y),
        "ax @ y": lambda: x.data @ y,  # numpy defers to Tensor.__rmatmul__
    }
    out, error = outcome(calls[form])
    try:
        expected = np.matmul(x.data, y.data)
    except ValueError:
        assert_ours(error, "matmul")
        return
    assert error is None, error
    assert isinstance(out, Tensor)
    assert_same(out, expected, rtol=1e-12)
    out.sum().backward()
    dx, dy = _matmul_grads(x.data, y.data)
    assert_same(y.grad, dy, rtol=1e-12)
    if form != "ax @ y":  # there x entered as a constant array
        assert_same(x.grad, dx, rtol=1e-12)


@sweep
@given(tensors(elements=MODERATE), DATA)
def test_matmul_with_junk(x: Tensor, case: Case) -> None:
    forms = [
        (lambda: x @ case.value, lambda c: np.matmul(x.data, c)),
        (lambda: case.value @ x, lambda c: np.matmul(c, x.data)),
        (lambda: x.dot(case.value), lambda c: np.matmul(x.data, c)),
    ]
    for call, reference in forms:
        out, error = outcome(call)
        if case.expected is None:
            assert_ours(error, "matmul", kind=case.error)
            continue
        try:
            expected = quiet(reference, case.expected)
        except ValueError:
            assert_ours(error, "matmul", kind=ValueError)
            continue
        assert error is None, error
        assert isinstance(out, Tensor)
        assert_same(out, expected.astype(np.float64), rtol=1e-12)


# ------------------------------------------------------------------------------ unary math

UNARY: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[..., np.ndarray]]] = {
    # name: (numpy's answer, d(out)/dx from x and out)
    "neg": (np.negative, lambda x, out: -np.ones_like(x)),
    "exp": (np.exp, lambda x, out: out),
    "log": (np.log, lambda x, out: 1 / x),
    "sqrt": (np.sqrt, lambda x, out: 0.5 / out),  # nan below 0, -inf included (PyTorch's)
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda x, out: out * (1 - out)),
    # PyTorch's: the gradient passes where out is not 0 (at nan too); sign(nan) = 0
    "relu": (lambda x: np.maximum(x, 0), lambda x, out: (out != 0).astype(x.dtype)),
    "tanh": (np.tanh, lambda x, out: 1 - out * out),
    "abs": (np.abs, lambda x, out: np.nan_to_num(np.sign(x), nan=0.0)),
}


@sweep
@given(tensors(dtypes=st.sampled_from([np.float64, np.float32])), st.sampled_from(sorted(UNARY)))
def test_unary_math(x: Tensor, name: str) -> None:
    reference, derivative = UNARY[name]
    out = -x if name == "neg" and x.size % 2 else getattr(x, name)()
    expected = quiet(reference, x.data)
    assert out.dtype == x.dtype
    assert_same(out, expected.astype(x.dtype), rtol=1e-6 if x.dtype == np.float32 else 0.0)
    if x.requires_grad:
        out.backward(np.ones(out.shape))
        want = quiet(derivative, x.data, out.data).astype(x.dtype)
        assert x.grad.dtype == x.dtype
        assert_same(x.grad, want, rtol=1e-6 if x.dtype == np.float32 else 1e-15)


# ------------------------------------------------------------------------------ reductions

AXES = st.one_of(
    st.none(),
    INTS,
    st.lists(INTS, max_size=3).map(tuple),
    NOT_INTS,
    st.lists(st.one_of(INTS, NOT_INTS), min_size=1, max_size=2).map(tuple),
)
KEEPDIMS = st.one_of(st.booleans(), st.builds(np.bool_, st.booleans()), NOT_INTS, INTS)


def _axes(axis: Any, ndim: int) -> tuple[tuple[int, ...], Any]:
    """(the axes ``axis`` names, by our rules: numpy's, but no bools; the error due or None)."""
    if axis is None:
        return tuple(range(ndim)), None
    axes = axis if isinstance(axis, tuple) else (axis,)
    kind = error_kind(axes, lambda a: -ndim <= a < ndim)
    if kind is not None:
        return (), kind
    normal = tuple(sorted(int(a) % ndim for a in axes))
    return normal, None if len(set(normal)) == len(normal) else ValueError  # a repeated axis


@sweep
@given(tensors(), st.sampled_from(["sum", "mean", "max"]), AXES, KEEPDIMS)
def test_reductions(x: Tensor, name: str, axis: Any, keepdim: Any) -> None:
    out, error = outcome(lambda: getattr(x, name)(axis=axis, keepdim=keepdim))
    axes, kind = _axes(axis, x.ndim)
    if kind is not None:
        assert_ours(error, name, kind=kind)
        return
    # numpy: "zero-size array to reduction operation maximum which has no identity"
    empty_max = name == "max" and any(x.shape[a] == 0 for a in axes)
    if not isinstance(keepdim, (bool, np.bool_)):
        assert_ours(error, name, kind=(TypeError, ValueError) if empty_max else TypeError)
        return
    if empty_max:
        assert_ours(error, name, kind=ValueError)
        return
    assert error is None, error
    reference = {"sum": np.sum, "mean": np.mean, "max": np.max}[name]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy: "Mean of empty slice"
        expected = np.asarray(reference(x.data, axis=axes, keepdims=bool(keepdim)))
    assert_same(out, expected, rtol=1e-12)
    if x.requires_grad:
        out.backward(np.ones(out.shape))
        count = math.prod(x.shape[a] for a in axes)
        if name == "sum":
            want = np.ones(x.shape)
        elif name == "mean":
            want = quiet(np.divide, np.ones(x.shape), count)
        else:  # each maximum's gradient, shared by the elements that reach it
            kept = x.data.max(axis=axes, keepdims=True)
            is_max = (x.data == kept) | (np.isnan(x.data) & np.isnan(kept))
            want = is_max / is_max.sum(axis=axes, keepdims=True)
        assert_same(x.grad, want)


# --------------------------------------------------------------------------- shape ops

SHAPE_LIKE = st.one_of(
    st.lists(st.one_of(st.integers(-1, 4), st.integers(-1, 4), INTS), max_size=4).map(tuple),
    st.lists(st.integers(-1, 4), max_size=4).map(lambda s: (tuple(s),)),
    st.lists(st.integers(-1, 4), max_size=4).map(lambda s: (list(s),)),
    st.lists(st.one_of(st.integers(0, 4), NOT_INTS), min_size=1, max_size=3).map(tuple),
    st.sampled_from([((2,), 3), (2, (3,)), ([2], [3]), ("2",), (None,), (1.0,), (-1, -1)]),
)


def _shape_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _backward_shape(x: Tensor, out: Tensor) -> None:
    """The gradient of a shape op has the input's shape (and sums what was repeated)."""
    if x.requires_grad:
        out.backward(np.ones(out.shape))
        assert x.grad.shape == x.shape
        assert x.grad.data.sum() == out.size


@sweep
@given(tensors(), SHAPE_LIKE)
def test_reshape(x: Tensor, args: tuple[Any, ...]) -> None:
    out, error = outcome(lambda: x.reshape(*args))
    shape = _shape_args(args)
    kind = error_kind(shape, lambda n: n >= -1)
    if kind is not None:
        assert_ours(error, "reshape", kind=kind)
        return
    try:
        expected = x.data.reshape(tuple(int(n) for n in shape))
    except (ValueError, OverflowError):  # numpy cannot either (sizes, two -1s, too large)
        assert_ours(error, "reshape", kind=ValueError)
        return
    assert error is None, error
    assert_same(out, expected)
    _backward_shape(x, out)


@sweep
@given(tensors(), SHAPE_LIKE)
def test_expand(x: Tensor, args: tuple[Any, ...]) -> None:
    out, error = outcome(lambda: x.expand(*args))
    shape = _shape_args(args)
    kind = error_kind(shape, lambda n: n >= 0)  # -1 ("keep this size" in PyTorch) is not
    if kind is not None:
        assert_ours(error, "expand", kind=kind)
        return
    try:
        expected = np.broadcast_to(x.data, tuple(int(n) for n in shape))
    except (ValueError, OverflowError):
        assert_ours(error, "expand", kind=ValueError)
        return
    assert error is None, error
    assert_same(out, expected)
    _backward_shape(x, out)


@sweep
@given(tensors(), st.one_of(SHAPE_LIKE, st.lists(INTS, max_size=5).map(tuple)))
def test_permute(x: Tensor, args: tuple[Any, ...]) -> None:
    out, error = outcome(lambda: x.permute(*args))
    order = _shape_args(args)
    kind = error_kind(order, lambda a: -x.ndim <= a < x.ndim)
    if kind is not None:
        assert_ours(error, "permute", kind=kind)
        return
    if sorted(int(a) % max(x.ndim, 1) for a in order) != list(range(x.ndim)):
        assert_ours(error, "permute", kind=ValueError)
        return
    assert error is None, error
    assert_same(out, np.transpose(x.data, tuple(int(a) for a in order)))
    _backward_shape(x, out)


@sweep
@given(tensors(), st.one_of(INTS, NOT_INTS), st.one_of(INTS, NOT_INTS))
def test_transpose(x: Tensor, ax0: Any, ax1: Any) -> None:
    out, error = outcome(lambda: x.transpose(ax0, ax1))
    kind = error_kind((ax0, ax1), lambda a: -x.ndim <= a < x.ndim)
    if kind is not None:
        assert_ours(error, "transpose", kind=kind)
    else:
        assert error is None, error
        assert_same(out, np.swapaxes(x.data, int(ax0), int(ax1)))
        _backward_shape(x, out)
    assert_same(x.T, x.data.T)
    out, error = outcome(lambda: x.mT)
    if x.ndim < 2:
        assert_ours(error, "mT", kind=ValueError)
    else:
        assert_same(out, np.swapaxes(x.data, -1, -2))


# ------------------------------------------------------------------------------ indexing


@st.composite
def indices(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """Basic and integer-array indices that fit ``shape``, and many that do not."""
    fitting = st.one_of(
        hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True),
        hnp.integer_array_indices(shape) if shape and all(shape) else st.nothing(),
    )
    junk = st.one_of(
        INTS,
        NOT_INTS,
        st.lists(st.integers(-4, 4), max_size=3),
        st.just([]),
        st.sampled_from([[[0, 1], [0]], [True, False], [[]], (Ellipsis, Ellipsis), (None,) * 65]),
        st.builds(slice, st.integers(-4, 4), st.integers(-4, 4), st.sampled_from([0, 1, -1])),
        st.builds(slice, st.floats(-2, 2), st.none(), st.sampled_from(["a", None, 1.5])),
        hnp.arrays(np.bool_, st.sampled_from([shape, shape[:1], (5,)])),
        hnp.arrays(np.float64, st.integers(0, 3), elements=st.sampled_from([0.0, 1.0, 0.5])),
        st.builds(Tensor, st.lists(st.sampled_from([0.0, 1.0, -1.0, 0.5, np.inf, 1e20, np.nan]))),
        st.lists(
            st.one_of(INTS, st.none(), st.just(Ellipsis), st.just(slice(None))), max_size=3
        ).map(tuple),
    )
    return draw(st.one_of(fitting, junk))


def _numpy_index(index: Any) -> Any:
    """What numpy makes of our index: Tensors become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_numpy_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.astype(np.intp)
    return index


def _numpy_read(array: np.ndarray, index: Any) -> np.ndarray | None:
    """numpy's answer to ``array[index]``, or None where numpy (or our rule for Tensors in
    an index: whole numbers within int64) refuses the index."""
    if not _tensor_index_is_whole(index):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return np.asarray(array[_numpy_index(index)])
    # DeprecationWarning: numpy 2.0's word for an index out of bounds of an empty array,
    # which later numpy refuses with an IndexError.
    except (IndexError, TypeError, ValueError, OverflowError, DeprecationWarning):
        return None


def _tensor_index_is_whole(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, Tensor):
            values = part.data
            if not (np.isfinite(values).all() and (values == np.round(values)).all()):
                return False
            if np.abs(values).max(initial=0) > 2**62:
                return False
    return True


@sweep
@given(st.data(), tensors())
def test_getitem(data: st.DataObject, x: Tensor) -> None:
    index = data.draw(indices(x.shape))
    out, error = outcome(lambda: x[index])
    expected = _numpy_read(x.data, index)
    if expected is None:  # every bad index is an IndexError, whatever numpy calls it
        assert_ours(error, "index", kind=IndexError)
        return
    assert error is None, error
    assert_same(out, np.asarray(expected))
    if x.requires_grad:
        out.backward(np.ones(out.shape))
        # How often each element was picked (np.add.at would crash beyond 32 dimensions).
        picked = np.arange(x.size).reshape(x.shape)[_numpy_index(index)]
        want = np.bincount(picked.ravel(), minlength=x.size).reshape(x.shape)
        assert_same(x.grad, want.astype(np.float64))


@sweep
@given(st.data(), tensors(), DATA)
def test_setitem(data: st.DataObject, x: Tensor, case: Case) -> None:
    x = x.detach()
    before = x.numpy()
    index = data.draw(indices(x.shape))
    _, error = outcome(lambda: x.__setitem__(index, case.value))
    expected = before.copy()
    kind: Any = None
    if case.expected is None:  # the value is judged first
        kind = case.error
    elif _numpy_read(expected, index) is None:
        kind = IndexError
    else:
        try:
            expected[_numpy_index(index)] = case.expected
        except (ValueError, TypeError):  # the value's shape does not fit what is selected
            kind = ValueError
    if kind is not None:
        assert_ours(error, "index", "assign", kind=kind)
        assert_same(x, before)  # a refused assignment changes nothing
        assert x._version == 0
        return
    assert error is None, error
    assert_same(x, expected)
    assert x._version > 0


# --------------------------------------------------------- conversions and the graph


@sweep
@given(tensors())
def test_conversions(x: Tensor) -> None:
    assert_same(x.numpy(), x.data)
    assert not np.shares_memory(x.numpy(), x.data)
    np.testing.assert_array_equal(np.array(x.tolist(), dtype=np.float64).reshape(x.shape), x.data)
    d = x.detach()
    assert_same(d, x.data)
    assert d.is_leaf and not d.requires_grad and not np.shares_memory(d.data, x.data)
    assert isinstance(repr(x), str)
    item, error = outcome(x.item)
    if x.size == 1:
        assert error is None and np.array_equal(item, x.data.reshape(-1)[0], equal_nan=True)
        assert np.array_equal(float(x), item, equal_nan=True)
    else:
        assert_ours(error, "item")
    length, error = outcome(lambda: len(x))
    if x.ndim == 0:
        assert_ours(error, "len")
    else:
        assert length == x.shape[0] and len(list(x)) == x.shape[0]
    truth, error = outcome(lambda: bool(x))
    if x.size != 1:
        assert_ours(error, "truth")
    else:
        assert error is None and truth == bool(x.data.reshape(-1)[0])


@sweep
@given(tensors(elements=MODERATE), DATA)
def test_backward_gradient(x: Tensor, case: Case) -> None:
    x = Tensor(x, requires_grad=True)
    y = x * 2
    if case.value is None:  # left out: only a tensor of one element may leave it out
        try:
            y.backward()
        except RuntimeError as error:
            assert y.size != 1 and "needs gradient=" in str(error)
            return
        assert y.size == 1
        assert_same(x.grad, np.full(x.shape, 2.0))
        return
    _, error = outcome(lambda: y.backward(case.value))
    if case.expected is None or case.expected.shape != y.shape:
        kind = case.error if case.expected is None else ValueError
        assert_ours(error, "backward", kind=kind)
        assert x.grad is None
        return
    assert error is None, error
    assert_same(x.grad, quiet(np.multiply, case.expected.astype(np.float64), 2.0))


# ------------------------------------------------------------------------------ in place


@sweep
@given(tensors(), DATA, st.sampled_from(["add_", "sub_", "mul_", "copy_"]))
def test_in_place(x: Tensor, case: Case, name: str) -> None:
    x = x.detach()
    before = x.numpy()
    out, error = outcome(lambda: getattr(x, name)(case.value))
    update = {
        "add_": np.add,
        "sub_": np.subtract,
        "mul_": np.multiply,
        # b as broadcast against a (np.broadcast_shapes stops at 32 dimensions; add does not)
        "copy_": lambda a, b: np.broadcast_to(b, np.add(a, b).shape),
    }[name]
    kind: Any = case.error if case.expected is None else None
    if kind is None:
        try:
            result = quiet(update, before, case.expected)
        except ValueError:  # numpy cannot broadcast them
            kind = ValueError
        else:
            kind = ValueError if result.shape != x.shape else None  # x cannot change shape
    if kind is not None:
        assert_ours(error, name, kind=kind)
        assert_same(x, before)
        assert x._version == 0
        return
    assert error is None, error
    assert out is x and x._version > 0
    assert_same(x, result.astype(np.float64))
    first = x._version
    x.zero_()
    assert not x.data.any() and x._version > first
