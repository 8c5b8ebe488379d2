"""Every op: its forward against numpy, its backward against a derivative written out by
hand in the test (never computed by the framework), broadcasting, matmul's rules,
reductions, shapes and indexing, and IEEE values without warnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lite import Tensor, no_grad, where

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


def backprop(f: Callable[..., Tensor], *arrays: np.ndarray) -> tuple[Any, ...]:
    """f on leaves made from ``arrays``, backpropagated with a random upstream gradient.

    Returns the output's data, the upstream gradient g, and each leaf's gradient.
    """
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = f(*leaves)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(gradient=g)
    grads = []
    for leaf in leaves:
        assert leaf.grad is not None
        assert leaf.grad.shape == leaf.shape
        grads.append(leaf.grad.data)
    return (out.data, g, *grads)


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient of the broadcast shape summed back to ``shape`` (written out, for checks)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def close(a: Any, b: Any) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- unary ops

UNARY = {
    # name: (op, numpy forward, hand-derived derivative, domain)
    "neg": (lambda t: -t, lambda x: -x, lambda x: -np.ones_like(x), randn),
    "neg()": (lambda t: t.neg(), lambda x: -x, lambda x: -np.ones_like(x), randn),
    "exp": (lambda t: t.exp(), np.exp, np.exp, randn),
    "log": (lambda t: t.log(), np.log, lambda x: 1 / x, positive),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, lambda x: 0.5 / np.sqrt(x), positive),
    "sigmoid": (
        lambda t: t.sigmoid(),
        lambda x: 1 / (1 + np.exp(-x)),
        lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
        randn,
    ),
    "relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0), lambda x: 1.0 * (x > 0), randn),
    "tanh": (lambda t: t.tanh(), np.tanh, lambda x: 1 / np.cosh(x) ** 2, randn),
    "abs": (lambda t: t.abs(), np.abs, np.sign, randn),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_op(name: str) -> None:
    op, forward, derivative, domain = UNARY[name]
    x = domain(3, 4)
    out, g, dx = backprop(op, x)
    assert np.array_equal(out, forward(x))  # the same numpy expression, to the last bit
    close(dx, g * derivative(x))


def test_relu_and_abs_have_zero_gradient_at_the_kink() -> None:
    _, g, dx = backprop(lambda t: t.relu(), np.array([0.0, -0.0]))
    assert np.array_equal(dx, [0.0, 0.0])
    _, g, dx = backprop(lambda t: t.abs(), np.array([0.0, -0.0]))
    assert np.array_equal(dx, [0.0, 0.0])


def test_relu_keeps_nan_and_gives_no_negative_zero() -> None:
    out = Tensor([-2.0, np.nan, 3.0]).relu().data
    assert np.isnan(out[1]) and out[0] == 0.0 and not np.signbit(out[0]) and out[2] == 3.0


EDGES = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 5e-324, -5e-324, 1e-40, -1e-40]


@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_side=5),
        elements=st.sampled_from(EDGES) | st.floats(-3.0, 3.0, width=32),
    ),
    st.data(),
)
def test_relu_and_its_selections_are_np_where_bit_for_bit(x: np.ndarray, data: Any) -> None:
    # relu and the selections of its rules (Masked) AND the bits of a value with a mask
    # instead of branching per element (ops.elementwise.zero_where): every bit must be
    # np.where's, the sign of a zero and the payload of a nan included.
    keep = data.draw(hnp.arrays(np.bool_, x.shape))
    t = Tensor(x, requires_grad=True)
    out = t.relu()
    assert out.data.dtype == x.dtype
    assert out.data.tobytes() == np.where(x < 0, 0, x).astype(x.dtype).tobytes()
    grad = data.draw(hnp.arrays(x.dtype, x.shape, elements=st.sampled_from(EDGES)))
    out.backward(gradient=grad)
    assert t.grad is not None
    assert t.grad.data.tobytes() == np.where(out.data != 0, grad, 0).astype(x.dtype).tobytes()
    # where's gradient to each operand is the same selection, with the condition's mask
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    where(keep, a, b).backward(gradient=grad)
    assert a.grad is not None and b.grad is not None
    assert a.grad.data.tobytes() == np.where(keep, grad, 0).astype(x.dtype).tobytes()
    assert b.grad.data.tobytes() == np.where(keep, 0, grad).astype(x.dtype).tobytes()


# -------------------------------------------------------------------------- binary ops

BINARY = {
    # name: (op, numpy forward, hand-derived (dx, dy) given g, x, y)
    "add": (lambda a, b: a + b, np.add, lambda g, x, y: (g, g)),
    "add()": (lambda a, b: a.add(b), np.add, lambda g, x, y: (g, g)),
    "sub": (lambda a, b: a - b, np.subtract, lambda g, x, y: (g, -g)),
    "sub()": (lambda a, b: a.sub(b), np.subtract, lambda g, x, y: (g, -g)),
    "mul": (lambda a, b: a * b, np.multiply, lambda g, x, y: (g * y, g * x)),
    "mul()": (lambda a, b: a.mul(b), np.multiply, lambda g, x, y: (g * y, g * x)),
    "div": (lambda a, b: a / b, np.divide, lambda g, x, y: (g / y, -g * x / y**2)),
    "div()": (lambda a, b: a.div(b), np.divide, lambda g, x, y: (g / y, -g * x / y**2)),
    "pow": (
        lambda a, b: a**b,
        np.power,
        lambda g, x, y: (g * y * x ** (y - 1), g * x**y * np.log(x)),
    ),
    "pow()": (
        lambda a, b: a.pow(b),
        np.power,
        lambda g, x, y: (g * y * x ** (y - 1), g * x**y * np.log(x)),
    ),
}


@pytest.mark.parametrize("name", BINARY)
def test_binary_op(name: str) -> None:
    op, forward, derivatives = BINARY[name]
    x, y = positive(3, 4), positive(3, 4)
    out, g, dx, dy = backprop(op, x, y)
    assert np.array_equal(out, forward(x, y))
    expected_dx, expected_dy = derivatives(g, x, y)
    close(dx, expected_dx)
    close(dy, expected_dy)


@pytest.mark.parametrize(
    ("op", "forward", "derivative"),
    [
        (lambda t: t + 2, lambda x: x + 2, lambda x: np.ones_like(x)),
        (lambda t: 2 + t, lambda x: 2 + x, lambda x: np.ones_like(x)),
        (lambda t: t - 2, lambda x: x - 2, lambda x: np.ones_like(x)),
        (lambda t: 2 - t, lambda x: 2 - x, lambda x: -np.ones_like(x)),
        (lambda t: t * 3, lambda x: x * 3, lambda x: np.full_like(x, 3.0)),
        (lambda t: 3 * t, lambda x: 3 * x, lambda x: np.full_like(x, 3.0)),
        (lambda t: t / 4, lambda x: x / 4, lambda x: np.full_like(x, 0.25)),
        (lambda t: 1 / t, lambda x: 1 / x, lambda x: -1 / x**2),
        (lambda t: t**3, lambda x: x**3, lambda x: 3 * x**2),
        (lambda t: t**-1.5, lambda x: x**-1.5, lambda x: -1.5 * x**-2.5),
        (lambda t: 2**t, lambda x: 2**x, lambda x: 2**x * np.log(2)),
        (lambda t: t ** np.array(2), lambda x: x**2, lambda x: 2 * x),
        (lambda t: np.array(2.0) - t, lambda x: 2.0 - x, lambda x: -np.ones_like(x)),
        (lambda t: np.array([1.0, 2.0, 3.0]) * t, lambda x: [1, 2, 3] * x, lambda x: [1, 2, 3]),
        (lambda t: t * [1.0, 2.0, 3.0], lambda x: x * [1, 2, 3], lambda x: np.array([1, 2, 3])),
    ],
    ids=[
        "t+2", "2+t", "t-2", "2-t", "t*3", "3*t", "t/4", "1/t", "t**3", "t**-1.5", "2**t",
        "t**array", "array-t", "array*t", "t*list",
    ],
)  # fmt: skip
def test_operators_with_constants(
    op: Callable[[Tensor], Any], forward: Callable[..., Any], derivative: Callable[..., Any]
) -> None:
    x = positive(2, 3)
    out, g, dx = backprop(op, x)
    assert isinstance(op(Tensor(x)), Tensor)
    assert np.array_equal(out, forward(x))
    close(dx, g * derivative(x))


def test_constant_operands_never_get_a_grad() -> None:
    c = Tensor([1.0, 2.0, 3.0])
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    ((c * x + c / x - c**x).sum() + (c @ x.T).sum() + (x @ c).sum()).backward()
    assert c.grad is None and not c.requires_grad
    assert x.grad is not None


def test_ndarray_matmul_tensor_is_a_tensor_with_a_gradient() -> None:
    a, x = randn(2, 3), randn(3, 4)
    out, g, dx = backprop(lambda t: a @ t, x)
    close(out, a @ x)
    close(dx, a.T @ g)


def test_unary_minus_is_neg() -> None:
    x = randn(3)
    out, g, dx = backprop(lambda t: -(t * 2), x)
    assert np.array_equal(out, -(x * 2))
    assert np.array_equal(dx, -2 * g)


# ------------------------------------------------------------------------- broadcasting


def test_broadcast_row_plus_matrix() -> None:
    x, y = randn(3), randn(2, 3)
    out, g, dx, dy = backprop(lambda a, b: a + b, x, y)
    assert np.array_equal(out, x + y)
    close(dx, g[0] + g[1])
    close(dy, g)


def test_broadcast_column_times_row() -> None:
    x, y = randn(2, 1), randn(1, 3)
    out, g, dx, dy = backprop(lambda a, b: a * b, x, y)
    assert np.array_equal(out, x * y)
    close(dx, (g * y).sum(axis=1, keepdims=True))
    close(dy, (g * x).sum(axis=0, keepdims=True))


def test_broadcast_scalar_tensor_that_requires_grad() -> None:
    s, y = np.array(2.0), randn(2, 3)
    out, g, ds, dy = backprop(lambda a, b: a * b, s, y)
    assert ds.shape == ()
    close(ds, (g * y).sum())
    close(dy, g * 2.0)


def test_broadcast_operand_only_one_requires_grad() -> None:
    y = Tensor(randn(4, 1, 3))
    x = Tensor(randn(2, 1), requires_grad=True)
    g = randn(4, 2, 3)
    (x - y).backward(gradient=g)
    assert x.grad is not None and y.grad is None
    close(x.grad.data, g.sum(axis=(0, 2))[:, None])


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, min_side=0, max_side=3))
def test_broadcasting_matches_numpy_and_sums_gradients_back(shapes: Any) -> None:
    (a_shape, b_shape), result_shape = shapes
    rng = np.random.default_rng(sum(a_shape) + 10 * sum(b_shape))
    x, y = rng.uniform(0.5, 2.0, a_shape), rng.uniform(0.5, 2.0, b_shape)
    for name in ("add", "sub", "mul", "div", "pow"):
        op, forward, derivatives = BINARY[name]
        out, g, dx, dy = backprop(op, x, y)
        assert out.shape == result_shape
        assert np.array_equal(out, forward(x, y))
        full_dx, full_dy = derivatives(g, x, y)
        close(dx, unbroadcast(np.broadcast_to(full_dx, result_shape), a_shape))
        close(dy, unbroadcast(np.broadcast_to(full_dy, result_shape), b_shape))


# ------------------------------------------------------------------------------- matmul

MATMUL = [
    # (x shape, y shape, hand-derived (dx, dy) given g, x, y)
    ((4,), (4,), lambda g, x, y: (g * y, g * x)),
    ((4,), (4, 3), lambda g, x, y: (y @ g, np.outer(x, g))),
    ((2, 4), (4,), lambda g, x, y: (np.outer(g, y), x.T @ g)),
    ((2, 4), (4, 3), lambda g, x, y: (g @ y.T, x.T @ g)),
    (
        (5, 2, 4),
        (5, 4, 3),
        lambda g, x, y: (np.einsum("bmn,bkn->bmk", g, y), np.einsum("bmk,bmn->bkn", x, g)),
    ),
    (
        (5, 2, 4),
        (4, 3),
        lambda g, x, y: (np.einsum("bmn,kn->bmk", g, y), np.einsum("bmk,bmn->kn", x, g)),
    ),
    (
        (2, 4),
        (5, 4, 3),
        lambda g, x, y: (np.einsum("bmn,bkn->mk", g, y), np.einsum("mk,bmn->bkn", x, g)),
    ),
    (
        (4,),
        (5, 4, 3),
        lambda g, x, y: (np.einsum("bn,bkn->k", g, y), np.einsum("k,bn->bkn", x, g)),
    ),
    (
        (5, 2, 4),
        (4,),
        lambda g, x, y: (np.einsum("bm,k->bmk", g, y), np.einsum("bmk,bm->k", x, g)),
    ),
    (
        (2, 1, 3, 4),
        (5, 4, 6),
        lambda g, x, y: (
            np.einsum("ijmn,jkn->imk", g, y)[:, None],
            np.einsum("imk,ijmn->jkn", x[:, 0], g),
        ),
    ),
    (
        (1, 5, 3, 4),
        (2, 1, 4, 6),
        lambda g, x, y: (
            np.einsum("ijmn,ikn->jmk", g, y[:, 0])[None],
            np.einsum("jmk,ijmn->ikn", x[0], g)[:, None],
        ),
    ),
]


@pytest.mark.parametrize(("x_shape", "y_shape", "derivatives"), MATMUL)
@pytest.mark.parametrize("method", ["@", "matmul", "dot"])
def test_matmul_follows_numpy_rules(
    x_shape: tuple[int, ...], y_shape: tuple[int, ...], derivatives: Any, method: str
) -> None:
    x, y = randn(*x_shape), randn(*y_shape)
    op = {
        "@": lambda a, b: a @ b,
        "matmul": lambda a, b: a.matmul(b),
        "dot": lambda a, b: a.dot(b),
    }[method]
    out, g, dx, dy = backprop(op, x, y)
    expected = np.matmul(x, y)
    assert out.shape == expected.shape
    close(out, expected)
    expected_dx, expected_dy = derivatives(g, x, y)
    close(dx, expected_dx)
    close(dy, expected_dy)


@pytest.mark.parametrize(("x_shape", "y_shape", "derivatives"), MATMUL)
def test_matmul_with_one_operand_constant(
    x_shape: tuple[int, ...], y_shape: tuple[int, ...], derivatives: Any
) -> None:
    x, y = randn(*x_shape), randn(*y_shape)
    _, g, dx = backprop(lambda a: a @ Tensor(y), x)
    close(dx, derivatives(g, x, y)[0])
    _, g, dy = backprop(lambda b: x @ b, y)  # ndarray @ Tensor
    close(dy, derivatives(g, x, y)[1])


def test_matmul_2d_is_numpys_product_bit_for_bit() -> None:
    x, y = randn(4, 3), randn(3, 2)
    assert np.array_equal((Tensor(x) @ Tensor(y)).data, x @ y)


# --------------------------------------------------------------------------- reductions


def _expected_grad_of_reduction(g: np.ndarray, shape: tuple[int, ...], axes: Any, keepdim: bool):
    axes = tuple(range(len(shape))) if axes is None else axes
    axes = (axes,) if isinstance(axes, int) else axes
    if not keepdim:
        g = np.expand_dims(g, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(g, shape)


AXES = [None, 0, 1, -1, -3, (0, 2), (-1, 0), (0, 1, 2), ()]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum(axis: Any, keepdim: bool) -> None:
    x = randn(2, 3, 4)
    out, g, dx = backprop(lambda t: t.sum(axis=axis, keepdim=keepdim), x)
    close(out, x.sum(axis=axis, keepdims=keepdim))
    assert out.shape == x.sum(axis=axis, keepdims=keepdim).shape
    close(dx, _expected_grad_of_reduction(g, x.shape, axis, keepdim))


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean(axis: Any, keepdim: bool) -> None:
    x = randn(2, 3, 4)
    out, g, dx = backprop(lambda t: t.mean(axis=axis, keepdim=keepdim), x)
    expected = x.mean(axis=axis, keepdims=keepdim)
    assert out.shape == expected.shape
    close(out, expected)
    count = x.size // expected.size
    close(dx, _expected_grad_of_reduction(g, x.shape, axis, keepdim) / count)


def test_sum_and_mean_of_a_scalar_and_positional_axis() -> None:
    assert Tensor(3.0).sum().item() == 3.0
    assert Tensor(3.0).mean().item() == 3.0
    x = randn(2, 3)
    close(Tensor(x).sum(1).data, x.sum(1))
    close(Tensor(x).mean(0, True).data, x.mean(0, keepdims=True))


@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
    keepdim=st.booleans(),
)
def test_reductions_over_any_axes(data: Any, shape: tuple[int, ...], keepdim: bool) -> None:
    axis = data.draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1), label="axis")
    # small integers, so that max sees ties
    x = np.asarray(data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-2, 2))))
    for name in ("sum", "mean", "max"):
        out, g, dx = backprop(lambda t, n=name: getattr(t, n)(axis=axis, keepdim=keepdim), x)
        expected = getattr(x, name)(axis=axis, keepdims=keepdim)
        assert out.shape == expected.shape
        close(out, expected)
        g_full = _expected_grad_of_reduction(g, shape, axis, keepdim)
        if name == "sum":
            close(dx, g_full)
        elif name == "mean":
            close(dx, g_full * expected.size / x.size)
        else:
            is_max = x == x.max(axis=axis, keepdims=True)
            share = is_max / is_max.sum(axis=axis, keepdims=True)
            close(dx, g_full * share)


def test_max_sends_the_gradient_to_the_maximum() -> None:
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, -1.0]])
    out, g, dx = backprop(lambda t: t.max(axis=1), x)
    assert np.array_equal(out, [5.0, 7.0])
    assert np.array_equal(dx, [[0.0, g[0], 0.0], [g[1], 0.0, 0.0]])


def test_max_splits_the_gradient_evenly_between_ties() -> None:
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    y = Tensor([[2.0, 2.0, 2.0], [1.0, 4.0, 4.0]], requires_grad=True)
    y.max(axis=1, keepdim=True).sum().backward()
    assert y.grad is not None
    close(y.grad.data, [[1 / 3, 1 / 3, 1 / 3], [0.0, 0.5, 0.5]])


def test_max_over_nan_is_nan_and_the_gradient_goes_to_the_nan() -> None:
    x = Tensor([1.0, np.nan, 3.0], requires_grad=True)
    out = x.max()
    assert np.isnan(out.item())
    out.backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 1.0, 0.0]
    y = Tensor([[np.nan, 1.0, np.nan], [0.0, 2.0, 1.0]], requires_grad=True)
    out = y.max(axis=1)
    assert np.isnan(out.data[0]) and out.data[1] == 2.0
    out.sum().backward()
    assert y.grad is not None and y.grad.tolist() == [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]


def test_max_of_infinities() -> None:
    x = Tensor([np.inf, 1.0, np.inf], requires_grad=True)
    x.max().backward()
    assert x.grad is not None and x.grad.tolist() == [0.5, 0.0, 0.5]
    y = Tensor([-np.inf, -np.inf], requires_grad=True)
    assert y.max().item() == -np.inf
    y.max().backward()
    assert y.grad is not None and y.grad.tolist() == [0.5, 0.5]


# ------------------------------------------------------------------ shape and movement


@pytest.mark.parametrize(
    ("args", "shape"),
    [((6,), (6,)), ((3, 2), (3, 2)), ((-1,), (6,)), ((3, -1), (3, 2)), (((1, -1, 3),), (1, 2, 3))],
)
def test_reshape(args: tuple[Any, ...], shape: tuple[int, ...]) -> None:
    x = randn(2, 3)
    out, g, dx = backprop(lambda t: t.reshape(*args), x)
    assert out.shape == shape
    assert np.array_equal(out, x.reshape(shape))
    assert np.array_equal(dx, g.reshape(2, 3))


def test_reshape_of_zero_size_and_scalar() -> None:
    assert Tensor(np.zeros((0, 3))).reshape(3, 0).shape == (3, 0)
    assert Tensor([5.0]).reshape().shape == ()
    assert Tensor(5.0).reshape(1, 1).shape == (1, 1)


@pytest.mark.parametrize(("ax0", "ax1"), [(0, 1), (1, 0), (0, 2), (-1, 0), (1, 1)])
def test_transpose_swaps_two_axes(ax0: int, ax1: int) -> None:
    x = randn(2, 3, 4)
    out, g, dx = backprop(lambda t: t.transpose(ax0, ax1), x)
    assert np.array_equal(out, np.swapaxes(x, ax0, ax1))
    assert np.array_equal(dx, np.swapaxes(g, ax0, ax1))


def test_transpose_defaults_to_the_matrix_transpose() -> None:
    x = randn(2, 3)
    out, g, dx = backprop(lambda t: t.transpose(), x)
    assert np.array_equal(out, x.T)
    assert np.array_equal(dx, g.T)


@pytest.mark.parametrize("order", [(2, 0, 1), (0, 1, 2), (1, 2, 0), (-1, 0, 1)])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_permute(order: tuple[int, ...], as_tuple: bool) -> None:
    x = randn(2, 3, 4)
    out, g, dx = backprop(lambda t: t.permute(order) if as_tuple else t.permute(*order), x)
    assert np.array_equal(out, x.transpose(order))
    assert np.array_equal(dx, g.transpose(np.argsort([o % 3 for o in order])))


def test_t_and_mt_properties() -> None:
    x = randn(2, 3, 4)
    out, g, dx = backprop(lambda t: t.T, x)
    assert np.array_equal(out, x.T)
    assert np.array_equal(dx, g.T)
    out, g, dx = backprop(lambda t: t.mT, x)
    assert np.array_equal(out, x.transpose(0, 2, 1))
    assert np.array_equal(dx, g.transpose(0, 2, 1))
    assert np.array_equal(Tensor([1.0, 2.0]).T.data, [1.0, 2.0])


@pytest.mark.parametrize(
    ("shape", "target"), [((3,), (2, 3)), ((2, 1), (2, 4)), ((), (2, 2)), ((1, 3), (4, 2, 3))]
)
def test_expand_sums_the_gradient_back(shape: tuple[int, ...], target: tuple[int, ...]) -> None:
    x = randn(*shape)
    out, g, dx = backprop(lambda t: t.expand(*target), x)
    assert np.array_equal(out, np.broadcast_to(x, target))
    close(dx, unbroadcast(g, shape))
    assert Tensor(x).expand(target).shape == target


# ----------------------------------------------------------------------------- indexing


def _scatter_by_hand(shape: tuple[int, ...], index: Any, g: np.ndarray) -> np.ndarray:
    """The gradient of x[index]: each output position sends its g to the element it read."""
    source = np.arange(int(np.prod(shape))).reshape(shape)[index]  # which element, per output
    return np.bincount(
        np.ravel(source), weights=np.ravel(g), minlength=int(np.prod(shape))
    ).reshape(shape)


INDICES = {
    "int": 1,
    "negative int": -1,
    "two ints": (1, 2),
    "slice": slice(1, None),
    "step slice": (slice(None, None, -1), slice(0, 4, 2)),
    "None": (None, 0),
    "Ellipsis": (Ellipsis, 1),
    "Ellipsis and None": (0, ..., None),
    "int list": [0, 2, 2],
    "int array": np.array([[0, 1], [2, 0]]),
    "two int arrays": (np.array([0, 2]), np.array([3, 3])),
    "int array and slice": (slice(None), [1, 1, 0]),
    "boolean mask": np.array([True, False, True]),
    "boolean mask 2-D": np.arange(12).reshape(3, 4) % 3 == 0,
    "boolean list": [False, True, True],
    "Tensor": Tensor([2.0, 0.0, 2.0]),
    "Tensor and int": (Tensor([1.0, 1.0]), 0),
}


@pytest.mark.parametrize("name", INDICES)
def test_indexing(name: str) -> None:
    index = INDICES[name]
    numpy_index: Any = index
    if isinstance(index, Tensor):
        numpy_index = index.data.astype(int)
    elif isinstance(index, tuple):
        numpy_index = tuple(i.data.astype(int) if isinstance(i, Tensor) else i for i in index)
    x = randn(3, 4)
    out, g, dx = backprop(lambda t: t[index], x)
    assert np.array_equal(out, x[numpy_index])
    close(dx, _scatter_by_hand(x.shape, numpy_index, g))


@pytest.mark.parametrize("index", [[], ([], 0), [[]], (slice(None), [])], ids=str)
def test_indexing_with_an_empty_list_picks_nothing(index: Any) -> None:
    x = randn(2, 3)
    out, g, dx = backprop(lambda t: t[index], x)
    assert out.shape == x[index].shape
    assert np.array_equal(dx, np.zeros((2, 3)))


def test_repeated_indices_accumulate_gradient() -> None:
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    g = np.array([1.0, 2.0, 4.0, 8.0])
    x[[0, 0, 2, 0]].backward(gradient=g)
    assert x.grad is not None and x.grad.tolist() == [1.0 + 2.0 + 8.0, 0.0, 4.0]


def test_indexing_returns_a_copy() -> None:
    x = Tensor([1.0, 2.0, 3.0])
    y = x[1:]
    x.data[1] = 100.0
    assert y.tolist() == [2.0, 3.0]


def test_iterating_and_len() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert len(x) == 2
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * 2 + rows[1]).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [[2.0, 2.0], [1.0, 1.0]]


# ----------------------------------------------------------------------------- sigmoid


def test_sigmoid_is_the_seed_formula_bit_for_bit() -> None:
    x = np.concatenate([randn(1000) * 10, [-1e4, -800.0, -710.0, 0.0, 710.0, 800.0, 1e4]])
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-x))
    out = Tensor(x).sigmoid().data
    assert out.tobytes() == expected.tobytes()


def test_sigmoid_at_the_extremes_has_no_warning_and_finite_gradient() -> None:
    x = np.array([-1e4, -745.0, -40.0, 0.0, 40.0, 745.0, 1e4])
    out, g, dx = backprop(lambda t: t.sigmoid(), x)
    assert out[0] == 0.0 and out[-1] == 1.0 and out[3] == 0.5
    assert np.all(np.isfinite(dx))
    assert dx[0] == 0.0 and dx[-1] == 0.0


def test_sigmoid_backward_is_the_seed_slope_bit_for_bit() -> None:
    x = randn(50) * 5
    out, g, dx = backprop(lambda t: t.sigmoid(), x)
    assert dx.tobytes() == (g * (out * (1 - out))).tobytes()


# ------------------------------------------------------------- IEEE values, no warnings


@pytest.mark.parametrize(
    ("op", "x", "expected_out", "expected_dx"),
    [
        (lambda t: 1 / t, [0.0, -0.0], [np.inf, -np.inf], [-np.inf, -np.inf]),
        (lambda t: t.div(Tensor(0.0)), [1.0, -1.0], [np.inf, -np.inf], [np.inf, np.inf]),
        (lambda t: t / t, [0.0], [np.nan], [np.nan]),
        (lambda t: t.log(), [0.0, -1.0], [-np.inf, np.nan], [np.inf, -1.0]),
        (lambda t: t.exp(), [1000.0, -1000.0], [np.inf, 0.0], [np.inf, 0.0]),
        (lambda t: t * 1e300, [1e10, -1e10], [np.inf, -np.inf], [1e300, 1e300]),
        (lambda t: t * t, [1e200], [np.inf], [2e200]),
        (lambda t: t.sqrt(), [0.0, -1.0], [0.0, np.nan], [np.inf, np.nan]),
        (lambda t: 2**t, [2000.0], [np.inf], [np.inf]),
        (lambda t: t**-1, [0.0], [np.inf], [-np.inf]),
        (lambda t: t.exp() * 0, [1000.0], [np.nan], [np.nan]),
        (lambda t: t.tanh(), [1e4, -1e4], [1.0, -1.0], [0.0, 0.0]),
        (lambda t: t.mean(axis=0), np.zeros((0, 2)), [np.nan, np.nan], np.zeros((0, 2))),
    ],
    ids=[
        "1/0", "x/0", "0/0", "log(0)", "exp(1000)", "mul overflow", "square overflow",
        "sqrt(0)", "2**2000", "0**-1", "inf*0", "tanh", "mean of nothing",
    ],
)  # fmt: skip
def test_ieee_values_without_warnings(
    op: Callable[[Tensor], Tensor], x: Any, expected_out: Any, expected_dx: Any
) -> None:
    # pytest turns any numpy RuntimeWarning into an error (filterwarnings = error).
    x = np.array(x, dtype=np.float64)
    leaf = Tensor(x, requires_grad=True)
    out = op(leaf)
    out.backward(gradient=np.ones(out.shape))
    assert leaf.grad is not None
    np.testing.assert_array_equal(out.data, expected_out)
    np.testing.assert_array_equal(leaf.grad.data, expected_dx)


# ------------------------------------------------------- results never alias their inputs


@pytest.mark.parametrize(
    "view",
    [
        lambda t: t.reshape(4),
        lambda t: t.reshape(-1, 1),
        lambda t: t.T,
        lambda t: t.mT,
        lambda t: t.transpose(0, 1),
        lambda t: t.permute(1, 0),
        lambda t: t[0],
        lambda t: t[:, ::-1],
        lambda t: t.expand(3, 2, 2),
        lambda t: t.sum(axis=()),
        lambda t: t.max(axis=()),
    ],
    ids=["reshape", "reshape -1", "T", "mT", "transpose", "permute", "int", "slice", "expand",
         "sum over no axis", "max over no axis"],
)  # fmt: skip
def test_an_op_result_is_not_a_view_of_its_input(view: Callable[[Tensor], Tensor]) -> None:
    # numpy returns views for these; a Tensor holding one would see its input's in-place
    # changes (and change its input) without either version counter noticing.
    c = Tensor([[1.0, 2.0], [3.0, 4.0]])
    out = view(c)
    assert not np.shares_memory(out.data, c.data)
    before = out.tolist()
    c.add_(100.0)
    assert out.tolist() == before


def test_in_place_change_after_a_reshape_cannot_alter_a_saved_value() -> None:
    # w @ c with 1-D operands reshapes c; matmul saves the reshaped c for w's gradient.
    w, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    out = w @ c
    c.add_(1.0)
    out.backward()
    assert w.grad is not None and w.grad.tolist() == [3.0, 4.0]
    m = Tensor(np.ones((2, 2)), requires_grad=True)
    d = Tensor([[1.0, 2.0], [3.0, 4.0]])
    out = (m * d.T).sum()
    d.mul_(10.0)
    out.backward()
    assert m.grad is not None and m.grad.tolist() == [[1.0, 3.0], [2.0, 4.0]]


@pytest.mark.parametrize(
    "view",
    [lambda t: t.reshape(4), lambda t: t.T, lambda t: t.permute(1, 0), lambda t: t.expand(3, 2, 2)],
    ids=["reshape", "T", "permute", "expand"],
)
def test_a_view_inside_a_graph_is_guarded_by_its_nodes_version_check(
    view: Callable[[Tensor], Tensor],
) -> None:
    # Inside a recorded graph a movement op returns numpy's view (no copy: the bias of each
    # Linear layer is expanded on every step). An in-place change to its input reaches the
    # view, but the movement op's node sees the input's new version and refuses to go on.
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = view(w)
    assert np.shares_memory(v.data, w.data)
    loss = (v * v).sum()  # mul saves v, which is w's memory
    with no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()
    assert w.grad is None  # nothing half-done reached the leaf
