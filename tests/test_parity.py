"""Results that silently differed from PyTorch's, each pinned by the smallest example.

A differential fuzz against PyTorch float64 found them (tests/oracle/ runs such a fuzz);
the expected values are PyTorch's, worked out by hand in the comments.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim

# ------------------------------------------------- tl.grad of an argument that is computed


def _cube_sum(a: Tensor) -> Tensor:
    return (a**3).sum()


@pytest.mark.parametrize("argument", [lambda x: x * 2, lambda x: x[0:2], lambda x: x])
def test_grad_of_a_computed_argument_is_the_derivative_at_its_value(
    argument: Callable[[Tensor], Tensor],
) -> None:
    # torch.func.grad(f)(a) = 3 a**2 whatever a was computed from; it used to be zeros for
    # an argument that was not a leaf.
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = argument(x)
    g = tl.grad(_cube_sum)(a)
    assert g.tolist() == (3 * a.data**2).tolist()
    assert x.grad is None  # tl.grad touches no .grad


def test_nested_grad_through_a_computed_argument() -> None:
    # d/dx sum(3 (2x)**2) = 24 x
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    outer = tl.grad(lambda x: tl.grad(_cube_sum)(x * 2).sum())
    assert outer(x).tolist() == [24.0, 48.0, 72.0]
    # and backward through the returned gradient reaches x the same way
    tl.grad(_cube_sum)(x * 2).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [24.0, 48.0, 72.0]


def test_grad_treats_its_arguments_as_independent_variables() -> None:
    # b was computed from a before the call; inside f they are two variables, so
    # df/da = b and df/db = a (torch.func.grad), not the total derivative through b.
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    b = a * 3.0
    da, db = tl.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(a, b)
    assert da.tolist() == [3.0, 6.0]
    assert db.tolist() == [1.0, 2.0]
    # the same tensor twice: each its own variable
    da, db = tl.grad(lambda a, b: (a * a * b).sum(), argnums=(0, 1))(x, x)
    assert da.tolist() == [2.0, 8.0] and db.tolist() == [1.0, 4.0]


# ---------------------------------------------------- backward(gradient=v, create_graph)


def test_the_gradient_argument_is_part_of_the_recorded_graph() -> None:
    # x.grad = 2 x v; d/dv sum(x.grad * [1, 10, 100]) = 2 x [1, 10, 100] = [2, 40, 600]
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = Tensor([1.0, 1.0, 1.0], requires_grad=True)
    (x**2).backward(gradient=v, create_graph=True)
    assert x.grad is not None
    (x.grad * Tensor([1.0, 10.0, 100.0])).sum().backward()
    assert v.grad is not None and v.grad.tolist() == [2.0, 40.0, 600.0]
    # without create_graph the gradient is a value, as in PyTorch
    w = Tensor([1.0, 1.0], requires_grad=True)
    y = Tensor([1.0, 2.0], requires_grad=True)
    (y**2).backward(gradient=w)
    assert w.grad is None and y.grad is not None and y.grad.tolist() == [2.0, 4.0]


# -------------------------------------------------------------- expand to its own shape


def test_expand_to_its_own_shape_is_a_new_tensor() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tl.no_grad():
        c = x.expand(2)
    assert c is not x and not c.requires_grad
    (c * x).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [1.0, 2.0]  # c is a constant: d/dx = c

    t = Tensor([1.0, 2.0])
    e = t.expand(2)
    e.add_(10.0)
    assert t.tolist() == [1.0, 2.0] and e.tolist() == [11.0, 12.0]

    y = Tensor([3.0], requires_grad=True)
    out = y.expand(1)  # recorded like any expand
    assert out is not y and out._ctx is not None
    (out * out).sum().backward()
    assert y.grad is not None and y.grad.tolist() == [6.0]


# ---------------------------------------------------------------- 0-d results are arrays

ZERO_D_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "rsub": lambda a, b: 2.0 - a,
    "neg": lambda a, b: -a,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(),
    "sqrt": lambda a, b: a.sqrt(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "tanh": lambda a, b: a.tanh(),
    "abs": lambda a, b: a.abs(),
    "sum": lambda a, b: a.sum(),
    "mean": lambda a, b: a.mean(),
    "max": lambda a, b: a.max(),
    "reshape": lambda a, b: a.reshape(()),
    "T": lambda a, b: a.T,
    "index": lambda a, b: a[()],
}


@pytest.mark.parametrize("grad_mode", ["recorded", "no_grad"])
@pytest.mark.parametrize("name", sorted(ZERO_D_OPS))
def test_an_op_on_0d_tensors_holds_a_0d_array(name: str, grad_mode: str) -> None:
    a = Tensor(2.0, requires_grad=grad_mode == "recorded")
    b = Tensor(3.0)
    if grad_mode == "no_grad":
        with tl.no_grad():
            out = ZERO_D_OPS[name](a, b)
    else:
        out = ZERO_D_OPS[name](a, b)
    assert type(out.data) is np.ndarray and out.shape == ()
    if out.requires_grad:
        out.backward(create_graph=True)
        assert a.grad is not None and type(a.grad.data) is np.ndarray
        a.grad = None
        out = ZERO_D_OPS[name](a, b)
        out.backward()
        out = ZERO_D_OPS[name](a, b)
        out.backward()  # accumulated
        assert a.grad is not None and type(a.grad.data) is np.ndarray


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_an_optimizer_steps_a_0d_parameter_after_two_backward_calls(make: type) -> None:
    p = Tensor(1.0, requires_grad=True)
    opt = make([p], lr=0.1)
    (p * p).backward()
    (p * p).backward()
    opt.step()
    assert p.grad is not None and p.grad.item() == 4.0
    assert p.item() < 1.0


def test_an_optimizer_steps_a_0d_parameter_made_under_no_grad() -> None:
    with tl.no_grad():
        p = Tensor(1.0) + Tensor(2.0)
    p.requires_grad = True
    opt = optim.Adam([p], lr=0.1)
    (p * p).backward()
    opt.step()
    assert p.item() == pytest.approx(2.9)


def test_a_0d_result_can_be_saved(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "s.npz")
    tl.save({"s": Tensor(1.0) + Tensor(2.0)}, path)
    assert tl.load(path)["s"].item() == 3.0


# ------------------------------------------------------- float32 leaves, float32 gradients


def _f32(values: object, requires_grad: bool = True) -> Tensor:
    return Tensor(values, requires_grad=requires_grad, dtype=np.float32)


def test_a_float32_leaf_gets_float32_gradients_from_a_float64_computation() -> None:
    two = Tensor(2.0)  # a float64 tensor (0-d), a float64 vector
    vec = Tensor([2.0, 3.0])
    for other in (two, vec):
        x = _f32([1.0, 2.0])
        (x * other).sum().backward()
        (x * other).sum().backward()  # the second backward adds in float32 too
        assert x.grad is not None and x.grad.dtype == np.float32

        x = _f32([1.0, 2.0])
        (x * other).sum().backward(create_graph=True)
        assert x.grad is not None and x.grad.dtype == np.float32

        g = tl.grad(lambda x, other=other: (x * other).sum())(_f32([1.0, 2.0], False))
        assert g.dtype == np.float32

    # second derivatives too
    x = _f32([1.0, 2.0])
    (x * vec * x).sum().backward(create_graph=True)
    assert x.grad is not None
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    assert x.grad.tolist() == [4.0, 6.0]
    # and a float64 leaf keeps float64 through float32 operands
    y = Tensor([1.0, 2.0], requires_grad=True)
    (y @ _f32([[1.0], [2.0]], requires_grad=False)).sum().backward()
    assert y.grad is not None and y.grad.dtype == np.float64


def test_relu_of_a_0d_float32_tensor_keeps_float32_under_create_graph() -> None:
    z = _f32(1.0)
    z.relu().backward(create_graph=True)
    assert z.grad is not None and z.grad.dtype == np.float32
    assert tl.grad(lambda z: z.relu())(_f32(1.0, False)).dtype == np.float32


# ---------------------------------------------------------- matrix products follow IEEE


def test_nan_and_inf_times_zero_in_a_matrix_product_give_nan() -> None:
    out = Tensor([[np.nan], [np.inf], [1.0]]) @ Tensor([[0.0]])
    assert np.array_equal(out.data, [[np.nan], [np.nan], [0.0]], equal_nan=True)
    out = Tensor([[0.0]]) @ Tensor([[np.nan, np.inf, 1.0]])
    assert np.array_equal(out.data, [[np.nan, np.nan, 0.0]], equal_nan=True)


def test_a_linear_layer_with_zero_weights_passes_nan_on() -> None:
    layer = nn.Linear(1, 1)
    with tl.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
    out = nn.Sequential(layer, nn.Sigmoid())(Tensor([[np.nan]]))
    assert np.isnan(out.item())
    assert np.isnan(layer(Tensor([[np.nan], [1.0]])).data[0, 0])


def test_the_gradients_of_a_matrix_product_follow_ieee() -> None:
    # dx = grad @ y.T and dy = x.T @ grad, a zero meeting a nan or an inf in each
    x = Tensor([[1.0], [2.0]], requires_grad=True)
    y = Tensor([[0.0]], requires_grad=True)
    (x @ y).backward(gradient=np.array([[np.nan], [1.0]]))
    assert x.grad is not None and np.array_equal(x.grad.data, [[np.nan], [0.0]], equal_nan=True)
    x = Tensor([[0.0]], requires_grad=True)
    y = Tensor([[1.0, 2.0]], requires_grad=True)
    (x @ y).backward(gradient=np.array([[np.inf, 1.0]]))
    assert y.grad is not None and np.array_equal(y.grad.data, [[np.nan, 0.0]], equal_nan=True)


# ------------------------------------------------------------------------ edge gradients


def test_the_derivative_of_x_to_the_0_is_0_at_a_subnormal_x() -> None:
    for value in (5e-324, 1e-310, 0.0, -5e-324, 1.0):
        x = Tensor(value, requires_grad=True)
        (x**0).backward()
        assert x.grad is not None and x.grad.item() == 0.0, value
        x = Tensor([value], requires_grad=True)
        (x ** Tensor([0.0])).sum().backward()
        assert x.grad is not None and x.grad.tolist() == [0.0], value


def test_the_derivative_of_sqrt_below_0_is_nan() -> None:
    x = Tensor([-np.inf, -1.0, 0.0, 4.0, np.inf], requires_grad=True)
    out = x.sqrt()
    assert np.array_equal(out.data, [np.nan, np.nan, 0.0, 2.0, np.inf], equal_nan=True)
    out.sum().backward()
    assert x.grad is not None
    assert np.array_equal(x.grad.data, [np.nan, np.nan, np.inf, 0.25, 0.0], equal_nan=True)


def test_relu_and_abs_at_nan_take_pytorchs_gradients() -> None:
    # PyTorch: relu'(nan) = 1 (its rule zeroes the gradient where out <= 0, and nan is not),
    # abs'(nan) = sign(nan) = 0.
    x = Tensor([np.nan, -1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad is not None and x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]
    x = Tensor([np.nan, -1.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, -1.0, 0.0, 1.0]


# ------------------------------------------------------------------------- dtypes mixed


def test_a_0d_float64_tensor_does_not_promote_a_float32_tensor() -> None:
    # PyTorch: a tensor with dimensions sets the dtype over a 0-d one of the same kind.
    x = _f32([1.0, 2.0], requires_grad=False)
    s = Tensor(2.0)
    both = np.array([True, False])
    for out in (x + s, s + x, x * s, s - x, x / s, x**s, s**x, x.maximum(s), x.clip(s)):
        assert out.dtype == np.float32
    assert tl.where(both, x, s).dtype == np.float32 and tl.where(both, s, x).dtype == np.float32
    assert (Tensor(1.0, dtype=np.float32) + s).dtype == np.float64  # both 0-d: float64
    assert (x + Tensor([1.0, 2.0])).dtype == np.float64  # both with dimensions: float64
    w = Tensor(2.0, requires_grad=True)
    (x * w).sum().backward()
    assert w.grad is not None and w.grad.dtype == np.float64 and w.grad.item() == 3.0


def test_a_list_takes_the_tensors_dtype_as_a_number_does() -> None:
    x = _f32([1.0, 2.0], requires_grad=False)
    assert (x * [1, 2]).dtype == np.float32
    assert (x * [1.5, 2.5]).dtype == np.float32
    assert ([1.5, 2.5] - x).dtype == np.float32
    assert (x * np.array([1, 2])).dtype == np.float32
    assert (x * np.array([1.5, 2.5])).dtype == np.float64  # a float64 array is float64
    assert (Tensor([1.0, 2.0]) * [1, 2]).dtype == np.float64


# -------------------------------------------------------------- .grad accumulates in place


def test_gradients_accumulate_into_the_same_grad_tensor() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    kept = w.grad
    (w * 3).sum().backward()
    assert w.grad is kept and kept is not None and kept.tolist() == [5.0, 7.0]


def test_accumulating_in_place_dates_the_change_of_a_grad_used_in_a_graph() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    y = Tensor([1.0, 1.0], requires_grad=True)
    assert w.grad is not None
    out = (w.grad * y).sum()  # saves w.grad for y's gradient
    (w * w).sum().backward()  # changes w.grad in place
    with pytest.raises(RuntimeError, match="changed in place"):
        out.backward()


# ------------------------------------------------------- numpy functions and the graph


@pytest.mark.parametrize(
    "call",
    [
        lambda w: np.asarray(w),
        lambda w: np.array(w),
        lambda w: np.dot(w, w),
        lambda w: np.where(True, w, 0.0),
        lambda w: np.concatenate([w, w]),
        lambda w: np.sum(w),
    ],
    ids=["asarray", "array", "dot", "where", "concatenate", "sum"],
)
def test_numpy_refuses_a_tensor_that_requires_grad(call: Callable[[Tensor], object]) -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad.*detach\(\)"):
        call(w)
    # a tensor without a graph behind it converts as an array does
    assert np.asarray(call(w.detach())).tolist() == np.asarray(call(np.array([1.0, 2.0]))).tolist()
    assert w.numpy().tolist() == [1.0, 2.0]  # an explicit copy of the values


# --------------------------------------------- found by the differential tests (tests/oracle)


def test_relu_selects_its_gradient_and_keeps_the_sign_of_zero() -> None:
    # log(relu(x)) at x <= 0: the incoming gradient is inf where relu's is 0; PyTorch selects
    # (0), a product with the mask gave inf * 0 = nan.
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().log().sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.0, 0.5]
    assert np.signbit(Tensor([-0.0]).relu().data).tolist() == [True]  # PyTorch's -0.0


def test_the_gradient_of_a_quotient_divides_before_it_multiplies() -> None:
    # dy = -grad * (out / y), as PyTorch: -grad * out overflowed first.
    x = Tensor([1e300])
    y = Tensor([1e10], requires_grad=True)
    (x / y).backward(gradient=np.array([1e20]))
    assert y.grad is not None and y.grad.item() == pytest.approx(-1e300)


def test_astype_copies_in_a_float_dtype_and_refuses_others() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    same = w.astype(np.float64)
    assert same is not w and not same.is_leaf  # a copy, recorded (PyTorch's .to gives w)
    for bad in ("int32", None, np.int64, [1]):
        with pytest.raises(TypeError, match="astype: dtype must be float32 or float64"):
            w.astype(bad)


def test_where_maximum_and_clip_at_the_ieee_edges() -> None:
    # where and maximum select their gradients, as PyTorch's rules do: an inf gradient
    # gives 0, not inf * 0 = nan, to the operand an element did not come from.
    x = Tensor([0.0, 4.0], requires_grad=True)
    y = Tensor([1.0, 1.0], requires_grad=True)
    tl.where(np.array([True, False]), x, y).sqrt().sum().backward()
    assert x.grad is not None and x.grad.tolist() == [np.inf, 0.0]
    assert y.grad is not None and y.grad.tolist() == [0.0, 0.5]
    x = Tensor([0.0, 4.0], requires_grad=True)
    x.maximum(Tensor([1.0, 0.0])).minimum(Tensor([9.0, 0.0])).sqrt().sum().backward()
    assert x.grad is not None and x.grad.tolist() == [0.0, 0.0]
    # a nan bound is taken, as in PyTorch and numpy (x < nan is False)
    t = Tensor([1.0, 2.0])
    assert np.isnan(t.clip(Tensor([np.nan, 0.0])).data).tolist() == [True, False]
    assert np.isnan(t.clip(max=np.array([3.0, np.nan])).data).tolist() == [False, True]
