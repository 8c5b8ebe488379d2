"""The backward pass: graph shapes (reuse, diamonds, long chains), accumulation, freeing,
grad mode, the functional API and higher-order gradients."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor

RNG = np.random.default_rng(0)

# --------------------------------------------------------------------------- accumulation


def test_accumulating_into_grad_follows_ieee_without_warnings() -> None:
    # The second backward adds to the .grad of the first: 1e308 + 1e308 overflows to inf,
    # and inf + -inf is nan; neither may print a RuntimeWarning (pytest makes it an error).
    x = Tensor([1.0, 1.0], requires_grad=True)
    (x * Tensor([1e308, np.inf])).sum().backward()
    (x * Tensor([1e308, -np.inf])).sum().backward()
    assert x.grad is not None
    assert x.grad.data[0] == np.inf
    assert np.isnan(x.grad.data[1])


def test_leaf_grad_accumulates_across_backward_calls() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    x.grad = None
    (x * 5).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [5.0, 5.0]


def test_grad_is_an_array_of_its_own() -> None:
    # add hands the same gradient array to both inputs; each .grad must own its data.
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not None and b.grad is not None
    assert a.grad.data is not b.grad.data
    a.grad.data[0] = 100.0
    assert b.grad.tolist() == [1.0]


def test_backward_on_a_leaf() -> None:
    x = Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad is not None and x.grad.item() == 1.0


def test_backward_with_gradient_argument() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(gradient=[1.0, 10.0])
    assert x.grad is not None and x.grad.tolist() == [2.0, 40.0]
    x.grad = None
    (x * 3).backward(gradient=Tensor([1.0, -1.0]))
    assert x.grad is not None and x.grad.tolist() == [3.0, -3.0]


# ----------------------------------------------------------------------- graph shapes


def test_reused_node() -> None:
    x = Tensor(3.0, requires_grad=True)
    (x * x).backward()  # d(x*x)/dx = 2x
    assert x.grad is not None and x.grad.item() == 6.0


def test_reused_intermediate() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    (y * y * y).backward()  # z = (3x)^3, dz/dx = 81 x^2
    assert x.grad is not None and x.grad.item() == 81 * 4.0


def test_diamond() -> None:
    # y = 2x; z = y*y + exp(y): dz/dx = (2y + exp(y)) * 2
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = x * 2
    z = y * y + y.exp()
    z.sum().backward()
    yv = 2 * np.array([0.5, -1.0])
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, (2 * yv + np.exp(yv)) * 2, rtol=1e-15)


def test_two_leaves_sharing_a_path() -> None:
    # f = (a*b + a) * b: df/da = b*b + b, df/db = 2ab + a
    a, b = Tensor(2.0, requires_grad=True), Tensor(5.0, requires_grad=True)
    ((a * b + a) * b).backward()
    assert a.grad is not None and b.grad is not None
    assert (a.grad.item(), b.grad.item()) == (30.0, 22.0)


def test_branch_that_does_not_reach_the_output_gets_nothing() -> None:
    x = Tensor(1.0, requires_grad=True)
    unused = x * 100  # computed, but not part of the output
    (x * 2).backward()
    assert x.grad is not None and x.grad.item() == 2.0
    assert unused.grad is None


def test_deep_chain_needs_no_recursion() -> None:
    # The cyclic garbage collector would walk the growing chain again and again while it
    # is built, with nothing to collect: switched off here to keep the test fast.
    gc.disable()
    try:
        x = Tensor(1.5, requires_grad=True)
        y = x
        for _ in range(100_000):
            y = -y
        y.backward()  # an even number of negations: dy/dx = 1
    finally:
        gc.enable()
    assert x.grad is not None and x.grad.item() == 1.0
    assert y.item() == 1.5


def test_non_leaf_gets_no_grad() -> None:
    x = Tensor(1.0, requires_grad=True)
    y = x * 2
    (y * 3).backward()
    assert y.grad is None and x.grad is not None


# --------------------------------------------------------------- freeing and retaining


def test_retain_graph_allows_a_second_backward() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad is not None and x.grad.item() == 2 * 12.0


def test_second_backward_through_a_freed_graph_is_refused() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match=r"already freed; pass retain_graph=True"):
        y.backward()
    z = y * 3  # a new op on top of the freed graph cannot reach x either
    with pytest.raises(RuntimeError, match=r"already freed"):
        z.backward()


def test_backward_frees_the_graph() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x.exp()
    z = y * 2
    z.backward()
    assert z._ctx.inputs is None and y._ctx.inputs is None


def test_backward_on_non_scalar_needs_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward\(\) needs gradient= for a tensor of shape"):
        (x * 2).backward()


def test_backward_gradient_of_the_wrong_shape() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"gradient has shape \(3,\), but the tensor has shape \(2,\); they must be equal",
    ):
        (x * 2).backward(gradient=np.ones(3))
    with pytest.raises(ValueError, match=r"gradient has shape \(1,\), but the tensor has shape"):
        (x * 2).sum().backward(gradient=[1.0])


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(RuntimeError, match=r"backward\(\) on a tensor that does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()
    with tl.no_grad():
        y = Tensor(1.0, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        y.backward()


def test_is_leaf_and_requires_grad() -> None:
    x = Tensor(1.0, requires_grad=True)
    c = Tensor(2.0)
    y = x * c
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert y.requires_grad and not (c * 2).requires_grad and (c * 2).is_leaf
    with tl.no_grad():
        z = x * 2
    assert z.is_leaf and not z.requires_grad
    assert y.detach().is_leaf


# -------------------------------------------------------------------------- grad mode


def test_no_grad_as_context_manager() -> None:
    x = Tensor(1.0, requires_grad=True)
    assert tl.is_grad_enabled()
    with tl.no_grad():
        assert not tl.is_grad_enabled()
        y = x * 2
    assert tl.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None


def test_no_grad_as_decorator() -> None:
    @tl.no_grad()
    def evaluate(t: Tensor) -> Tensor:
        assert not tl.is_grad_enabled()
        return t * 2

    x = Tensor(1.0, requires_grad=True)
    assert not evaluate(x).requires_grad
    assert tl.is_grad_enabled()
    assert evaluate.__name__ == "evaluate"


def test_no_grad_nested_and_enable_grad_inside() -> None:
    x = Tensor(1.0, requires_grad=True)
    with tl.no_grad():
        with tl.no_grad():
            assert not (x * 2).requires_grad
        assert not tl.is_grad_enabled()
        with tl.enable_grad():
            assert tl.is_grad_enabled()
            y = x * 2
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()
    assert y.requires_grad
    y.backward()
    assert x.grad is not None and x.grad.item() == 2.0


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(KeyError), tl.no_grad():
        raise KeyError("x")
    assert tl.is_grad_enabled()


def test_one_no_grad_object_can_be_entered_twice() -> None:
    context = tl.no_grad()
    with context:
        with context:
            assert not tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()


def test_no_grad_in_one_thread_leaves_others_recording() -> None:
    seen: list[bool] = []
    with tl.no_grad():
        thread = threading.Thread(target=lambda: seen.append(tl.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


# --------------------------------------------------------------------- functional API


def test_grad_of_one_argument() -> None:
    df = tl.grad(lambda x: (x**3).sum())
    g = df(Tensor([1.0, 2.0]))
    assert isinstance(g, Tensor) and g.tolist() == [3.0, 12.0]


def test_grad_with_argnums() -> None:
    def f(x: Tensor, y: Tensor, scale: float) -> Tensor:
        return (x * y * y).sum() * scale  # df/dx = scale*y^2, df/dy = 2*scale*x*y

    x, y = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    assert tl.grad(f)(x, y, 2.0).tolist() == [18.0, 32.0]
    assert tl.grad(f, argnums=1)(x, y, 2.0).tolist() == [12.0, 32.0]
    dx, dy = tl.grad(f, argnums=(0, 1))(x, y, 2.0)
    assert (dx.tolist(), dy.tolist()) == ([18.0, 32.0], [12.0, 32.0])
    (dy_only,) = tl.grad(f, argnums=(1,))(x, y, 2.0)
    assert dy_only.tolist() == [12.0, 32.0]


def test_grad_takes_numbers_and_lists() -> None:
    assert tl.grad(lambda x: x * x)(3.0).item() == 6.0
    assert tl.grad(lambda x: x * x)(3).item() == 6.0
    g = tl.grad(lambda x: (x * x).sum())([1.0, 2.0])
    assert g.tolist() == [2.0, 4.0] and g.dtype == np.float64
    g = tl.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(np.array([1.0, 2.0]), [3.0, 4.0])
    assert [t.tolist() for t in g] == [[3.0, 4.0], [1.0, 2.0]]


def test_grad_of_an_argument_f_does_not_use_is_zeros() -> None:
    dx, dy = tl.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(Tensor([1.0]), Tensor([5.0, 6.0]))
    assert dx.tolist() == [2.0]
    assert dy.tolist() == [0.0, 0.0] and isinstance(dy, Tensor)
    assert tl.grad(lambda x: Tensor(1.0))(Tensor([1.0, 2.0])).tolist() == [0.0, 0.0]
    g32 = tl.grad(lambda x, y: x.sum(), argnums=1)(Tensor(1.0), Tensor(np.ones(2, np.float32)))
    assert g32.dtype == np.float32


def test_value_and_grad() -> None:
    value, g = tl.value_and_grad(lambda x: (x * x).sum())(Tensor([1.0, 3.0]))
    assert value.item() == 10.0 and g.tolist() == [2.0, 6.0]
    value, (ga, gb) = tl.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 5.0)
    assert (value.item(), ga.item(), gb.item()) == (10.0, 5.0, 2.0)


def test_grad_touches_no_grad_attribute() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    g = tl.grad(lambda w, c: (w * c).sum(), argnums=(0, 1))(w, c)
    assert [t.tolist() for t in g] == [[3.0, 4.0], [1.0, 2.0]]
    assert w.grad is None and c.grad is None


def test_grad_of_grad_is_the_second_derivative() -> None:
    # f = x^3 + 2x^2: f'' = 6x + 4, f''' = 6
    def f(x: Tensor) -> Tensor:
        return x**3 + 2 * x**2

    assert tl.grad(tl.grad(f))(Tensor(2.0)).item() == 16.0
    assert tl.grad(tl.grad(tl.grad(f)))(Tensor(2.0)).item() == 6.0
    assert tl.grad(tl.grad(f))(2.0).item() == 16.0


def test_grad_inside_a_recorded_computation_can_be_differentiated() -> None:
    x = Tensor(3.0, requires_grad=True)
    first = tl.grad(lambda t: t**3)(x)  # 3x^2, recorded
    assert first.requires_grad and first.item() == 27.0
    first.backward()  # d(3x^2)/dx = 6x
    assert x.grad is not None and x.grad.item() == 18.0


# -------------------------------------------------------------- higher-order gradients


def _second_derivative(f: Callable[[Tensor], Tensor], x: np.ndarray) -> np.ndarray:
    """d2f/dx2 elementwise, via backward(create_graph=True) and a second backward."""
    leaf = Tensor(x, requires_grad=True)
    f(leaf).sum().backward(create_graph=True)
    first = leaf.grad
    assert first is not None and first.requires_grad
    leaf.grad = None
    first.sum().backward()
    assert leaf.grad is not None
    return leaf.grad.data


SECOND_DERIVATIVES = {
    # name: (f, closed-form f'', domain)
    "x**3": (lambda t: t**3, lambda x: 6 * x, lambda: RNG.standard_normal(5)),
    "exp": (lambda t: t.exp(), np.exp, lambda: RNG.standard_normal(5)),
    "log": (lambda t: t.log(), lambda x: -1 / x**2, lambda: RNG.uniform(0.5, 2, 5)),
    "sqrt": (lambda t: t.sqrt(), lambda x: -0.25 * x**-1.5, lambda: RNG.uniform(0.5, 2, 5)),
    "1/x": (lambda t: 1 / t, lambda x: 2 / x**3, lambda: RNG.uniform(0.5, 2, 5)),
    "sigmoid": (
        lambda t: t.sigmoid(),
        lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x)),
        lambda: RNG.standard_normal(5),
    ),
    "tanh": (
        lambda t: t.tanh(),
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        lambda: RNG.standard_normal(5),
    ),
    "x*exp(x)": (
        lambda t: t * t.exp(),
        lambda x: (x + 2) * np.exp(x),
        lambda: RNG.standard_normal(5),
    ),
    "2**x": (lambda t: 2**t, lambda x: 2**x * np.log(2) ** 2, lambda: RNG.standard_normal(5)),
    "x**x": (
        lambda t: t**t,
        lambda x: x**x * ((np.log(x) + 1) ** 2 + 1 / x),
        lambda: RNG.uniform(0.5, 2, 5),
    ),
    "mean((x-1)**2)": (
        lambda t: ((t - 1) ** 2).mean() * 5,
        lambda x: np.full_like(x, 2.0),
        lambda: RNG.standard_normal(5),
    ),
    "max": (
        lambda t: t.max() * t.max(),
        lambda x: 2.0 * (x == x.max()),
        lambda: RNG.standard_normal(5),
    ),
    "indexing": (
        lambda t: t[[0, 0, 1]] ** 3,
        lambda x: np.array([12 * x[0], 6 * x[1], 0, 0, 0]),
        lambda: RNG.standard_normal(5),
    ),
    "relu*x": (lambda t: t.relu() * t, lambda x: 2.0 * (x > 0), lambda: RNG.standard_normal(5)),
    "abs**3": (lambda t: t.abs() ** 3, lambda x: 6 * np.abs(x), lambda: RNG.standard_normal(5)),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name", SECOND_DERIVATIVES)
def test_second_derivative_against_closed_form(name: str) -> None:
    f, closed_form, domain = SECOND_DERIVATIVES[name]
    x = domain()
    np.testing.assert_allclose(_second_derivative(f, x), closed_form(x), rtol=1e-12, atol=1e-14)
    # the functional form: the gradient of the sum of the first derivatives
    second = tl.grad(lambda t: tl.grad(lambda u: f(u).sum())(t).sum())(Tensor(x))
    np.testing.assert_allclose(second.data, closed_form(x), rtol=1e-12, atol=1e-14)


def test_mixed_partial_derivative() -> None:
    # f = x^2 y^3 + x*y: d2f/dxdy = 6 x y^2 + 1
    x, y = Tensor(1.5, requires_grad=True), Tensor(-2.0, requires_grad=True)
    f = x**2 * y**3 + x * y
    f.backward(create_graph=True)
    df_dx = x.grad
    assert df_dx is not None
    x.grad = y.grad = None
    df_dx.backward()
    assert y.grad is not None
    np.testing.assert_allclose(y.grad.item(), 6 * 1.5 * 4.0 + 1, rtol=1e-15)


def test_hessian_vector_product_of_a_quadratic_form() -> None:
    # f = x^T A x: grad = (A + A^T) x, H = A + A^T, so d(grad . v)/dx = (A + A^T) v
    A = RNG.standard_normal((4, 4))  # noqa: N806 (a matrix)
    x0, v = RNG.standard_normal(4), RNG.standard_normal(4)
    x = Tensor(x0, requires_grad=True)
    (x @ (Tensor(A) @ x)).backward(create_graph=True)
    g = x.grad
    assert g is not None
    np.testing.assert_allclose(g.data, (A + A.T) @ x0, rtol=1e-12)
    x.grad = None
    (g @ v).backward()
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, (A + A.T) @ v, rtol=1e-12)


def test_create_graph_keeps_the_graph_and_gradients_are_tensors_with_a_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    y.backward(create_graph=True)  # create_graph implies retain_graph
    assert x.grad is not None and x.grad.requires_grad
    assert x.grad.tolist() == [6.0, 24.0]


def test_second_backward_of_a_batched_matmul_and_broadcast() -> None:
    # f = sum((X @ w + b)^2) with X (2, 3, 4), w (4,), b (3,): d2f/dw2 = 2 sum_bm x x^T
    X = RNG.standard_normal((2, 3, 4))  # noqa: N806 (a batch of matrices)
    w0, b0 = RNG.standard_normal(4), RNG.standard_normal(3)

    def f(w: Tensor, b: Tensor) -> Tensor:
        return ((Tensor(X) @ w + b) ** 2).sum()

    hessian_rows = [
        tl.grad(lambda w, b, i=i: tl.grad(f)(w, b)[i])(Tensor(w0), Tensor(b0)).data
        for i in range(4)
    ]
    expected = 2 * np.einsum("bmi,bmj->ij", X, X)
    np.testing.assert_allclose(np.stack(hessian_rows), expected, rtol=1e-12)


def test_nested_grad_with_different_argnums_is_a_mixed_partial() -> None:
    # f = x^2 y^3 + x*y: d/dy (df/dx) = 6 x y^2 + 1; the inner grad differentiates x only,
    # yet y, which the outer grad differentiates, flows through it.
    def f(a: Tensor, b: Tensor) -> Tensor:
        return a**2 * b**3 + a * b

    mixed = tl.grad(tl.grad(f, argnums=0), argnums=1)(1.5, -2.0)
    assert mixed.item() == 6 * 1.5 * 4.0 + 1
    mixed = tl.grad(tl.grad(f, argnums=1), argnums=0)(1.5, -2.0)
    assert mixed.item() == 6 * 1.5 * 4.0 + 1


def test_nested_grad_through_a_closure() -> None:
    # d/db [d/da (a^2 b^3)] = d/db (2 a b^3) = 6 a b^2
    outer = tl.grad(lambda b: tl.grad(lambda a: a**2 * b**3)(1.5))
    assert outer(-2.0).item() == 6 * 1.5 * 4.0


def test_grad_keeps_the_graph_of_a_tensor_it_closes_over() -> None:
    x = Tensor(2.0, requires_grad=True)
    y = x * 3  # recorded by the caller, used inside f
    g = tl.grad(lambda a: a * y)(1.0)
    assert g.item() == 6.0
    assert g.requires_grad  # the gradient depends on x through y, and is recorded
    y.backward(retain_graph=True)  # the caller's graph was not freed by tl.grad
    assert x.grad is not None and x.grad.item() == 3.0
    with tl.no_grad():
        g = tl.grad(lambda a: a * y)(1.0)
    assert g.item() == 6.0 and not g.requires_grad
    y.backward()
    assert x.grad.item() == 6.0


@pytest.mark.parametrize(
    ("f", "x", "expected"),
    [
        (lambda t: t.log(), 0.0, -np.inf),  # -1/x^2
        (lambda t: 1 / t, 0.0, np.inf),  # 2/x^3 at +0
        (lambda t: t.sqrt(), 0.0, -np.inf),  # -x^-1.5 / 4
        (lambda t: t.exp(), 1000.0, np.inf),
        (lambda t: t.sigmoid(), 1e4, 0.0),
        (lambda t: t.sigmoid(), -1e4, 0.0),
        (lambda t: t.tanh(), 1e4, 0.0),
    ],
    ids=["log", "1/x", "sqrt", "exp", "sigmoid+", "sigmoid-", "tanh"],
)
def test_second_derivative_at_extremes_follows_ieee_without_warnings(
    f: Callable[[Tensor], Tensor], x: float, expected: float
) -> None:
    assert tl.grad(tl.grad(f))(x).item() == expected
    leaf = Tensor(x, requires_grad=True)
    f(leaf).backward(create_graph=True)
    first = leaf.grad
    assert first is not None
    first.backward()  # adds the second derivative to the first: IEEE sums, no warning
    assert leaf.grad is not None
    total = leaf.grad.item()
    assert total == first.item() + expected or (np.isnan(total) and first.item() == -expected)
