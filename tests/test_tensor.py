"""The Tensor as a container: construction rules, attributes, conversions, repr,
constructors, in-place methods and dtypes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor

# -------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    "data",
    [1.5, [1.0, 2.0], [[1.0], [2.0]], np.array([1.0, 2.0]), np.float64(2.0)],
    ids=["float", "list", "nested list", "float64 array", "numpy float64"],
)
def test_floats_default_to_float64(data: Any) -> None:
    t = Tensor(data)
    assert t.dtype == np.float64
    assert np.array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize(
    "data",
    [3, True, [1, 2], [True, False], np.array([1, 2], np.int8), np.array([1, 2], np.uint64)],
    ids=["int", "bool", "int list", "bool list", "int8 array", "uint64 array"],
)
def test_ints_and_bools_become_float64(data: Any) -> None:
    t = Tensor(data)
    assert t.dtype == np.float64
    assert np.array_equal(t.data, np.asarray(data).astype(np.float64))


def test_float16_becomes_float64() -> None:
    assert Tensor(np.array([0.5], np.float16)).dtype == np.float64


def test_float32_is_kept_when_given() -> None:
    assert Tensor(np.array([1.5, 2.5], np.float32)).dtype == np.float32
    assert Tensor(np.float32(1.5)).dtype == np.float32
    assert Tensor(Tensor(np.ones(2, np.float32))).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, "float32", np.dtype("float32"), "f4"])
def test_float32_when_asked(dtype: Any) -> None:
    t = Tensor([1, 2], dtype=dtype)
    assert t.dtype == np.float32
    assert t.tolist() == [1.0, 2.0]


def test_dtype_float64_asked_for_a_float32_array() -> None:
    t = Tensor(np.array([0.1], np.float32), dtype=np.float64)
    assert t.dtype == np.float64
    assert t.data[0] == np.float64(np.float32(0.1))


def test_tensor_of_a_tensor_is_a_copy() -> None:
    source = Tensor([1.0, 2.0], requires_grad=True)
    t = Tensor(source)
    assert t.data is not source.data
    assert np.array_equal(t.data, source.data)
    assert not t.requires_grad and t.is_leaf
    source.data[0] = 10.0
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
def test_data_is_copied(dtype: Any) -> None:
    source = np.array([1.0, 2.0], dtype=dtype)
    t = Tensor(source, dtype=dtype)
    source[0] = 10.0
    assert t.tolist() == [1.0, 2.0]


def test_list_data_is_copied() -> None:
    source = [[1.0, 2.0]]
    t = Tensor(source)
    source[0][0] = 10.0
    assert t.tolist() == [[1.0, 2.0]]


# ---------------------------------------------------------------------------- attributes


def test_attributes() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert isinstance(t.data, np.ndarray)
    assert t.grad is None
    assert t.requires_grad is True
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.size == 6
    assert t.dtype == np.float64
    assert t.is_leaf
    assert np.array_equal(t.T.data, t.data.T)
    assert np.array_equal(t.mT.data, t.data.T)
    assert not (t * 2).is_leaf


def test_zero_dimensional_tensor() -> None:
    t = Tensor(2.5)
    assert (t.shape, t.ndim, t.size) == ((), 0, 1)
    assert t.item() == 2.5
    assert t.tolist() == 2.5
    assert np.array_equal(t.T.data, t.data)


def test_transpose_properties_reverse_all_axes_or_swap_the_last_two() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    assert Tensor(a).T.shape == (4, 3, 2)
    assert np.array_equal(Tensor(a).T.data, a.transpose(2, 1, 0))
    assert np.array_equal(Tensor(a).mT.data, a.transpose(0, 2, 1))


def test_numpy_returns_a_copy() -> None:
    t = Tensor([1.0, 2.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float64
    array[0] = 10.0
    assert t.tolist() == [1.0, 2.0]


def test_numpy_conversion_protocol() -> None:
    t = Tensor([1.0, 2.0])
    copied = np.array(t)  # numpy's rule: np.array copies
    assert not np.shares_memory(copied, t.data)
    copied[0] = 10.0
    assert t.tolist() == [1.0, 2.0] and t._version == 0
    assert np.array(t, dtype=np.float32).dtype == np.float32
    assert np.asarray(t) is t.data  # np.asarray does not copy what needs no copy
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.array(t, copy=False) is t.data
    with pytest.raises(ValueError, match=r"without a copy \(copy=False was given\)"):
        np.array(t, dtype=np.float32, copy=False)


def test_item_and_tolist() -> None:
    one = Tensor([[4.0]])
    assert one.item() == 4.0 and type(one.item()) is float
    assert Tensor(np.float32(0.5)).item() == 0.5
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert type(Tensor([1]).tolist()[0]) is float


def test_detach_is_a_leaf_copy_without_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None
    assert d.data is not y.data and np.array_equal(d.data, y.data)
    d.data[0] = 100.0  # cannot reach the value the graph saved
    y.sum().backward()
    assert y.tolist() == [3.0, 6.0]
    assert x.grad is not None and x.grad.tolist() == [3.0, 3.0]
    assert Tensor(np.ones(2, np.float32)).detach().dtype == np.float32


# -------------------------------------------------------------------------------- repr


def test_repr_of_a_plain_tensor() -> None:
    assert repr(Tensor(3.0)) == "Tensor(3.)"
    assert repr(Tensor([1.0, 2.5])) == "Tensor([1. , 2.5])"
    assert repr(Tensor([[1.0, 2.0], [3.0, 4.0]])) == "Tensor([[1., 2.],\n        [3., 4.]])"


def test_repr_shows_requires_grad_op_and_dtype() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    assert repr(w) == "Tensor([1., 2.], requires_grad=True)"
    assert repr(w * 3) == "Tensor([3., 6.], op=mul)"
    assert repr((w * w).sum()) == "Tensor(5., op=sum)"
    assert repr(Tensor(1.5, dtype=np.float32)) == "Tensor(1.5, dtype=float32)"
    w32 = Tensor([1.0], dtype=np.float32, requires_grad=True)
    assert repr(w32) == "Tensor([1.], dtype=float32, requires_grad=True)"
    assert repr(w32 + 1) == "Tensor([2.], dtype=float32, op=add)"


def test_repr_shows_the_grad() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert repr(w) == "Tensor([1., 2.], requires_grad=True, grad=[2., 4.])"
    m = Tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
    (m * m).sum().backward()
    assert repr(m) == (
        "Tensor([[0., 1.],\n"
        "        [2., 3.]], requires_grad=True,\n"
        "       grad=[[0., 2.],\n"
        "             [4., 6.]])"
    )


# ------------------------------------------------------------------------- constructors


@pytest.mark.parametrize("shape", [((2, 3),), (2, 3), ((4,),), (4,), ((),), ()])
def test_zeros_and_ones_take_ints_or_a_tuple(shape: tuple[Any, ...]) -> None:
    expected = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
    zeros, ones = Tensor.zeros(*shape), Tensor.ones(*shape)
    assert zeros.shape == ones.shape == expected
    assert zeros.dtype == ones.dtype == np.float64
    assert np.array_equal(zeros.data, np.zeros(expected))
    assert np.array_equal(ones.data, np.ones(expected))


def test_eye() -> None:
    assert np.array_equal(Tensor.eye(3).data, np.eye(3))
    assert Tensor.eye(0).shape == (0, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: Tensor.zeros(2, **kw),
        lambda **kw: Tensor.ones((2,), **kw),
        lambda **kw: Tensor.eye(2, **kw),
        lambda **kw: Tensor.uniform(2, rng=np.random.default_rng(0), **kw),
        lambda **kw: Tensor.randn(2, rng=np.random.default_rng(0), **kw),
    ],
    ids=["zeros", "ones", "eye", "uniform", "randn"],
)
def test_constructors_take_dtype_and_requires_grad(make: Callable[..., Tensor]) -> None:
    t = make(dtype=np.float32, requires_grad=True)
    assert t.dtype == np.float32
    assert t.requires_grad and t.is_leaf
    assert not make().requires_grad and make().dtype == np.float64


def test_uniform_with_random_state_is_the_seeds_initialisation_bit_for_bit() -> None:
    # The seed initialises its weights with random.seed(1); 2*random.random(shape) - 1.
    reference = np.random.RandomState(1)
    expected = [2 * reference.random_sample((3, 4)) - 1, 2 * reference.random_sample((4, 1)) - 1]
    rng = np.random.RandomState(1)
    got = [Tensor.uniform(3, 4, rng=rng), Tensor.uniform((4, 1), rng=rng)]
    for t, e in zip(got, expected):
        assert t.data.tobytes() == e.tobytes()


def test_uniform_with_a_generator_and_bounds() -> None:
    t = Tensor.uniform(2, 5, low=2.0, high=3.0, rng=np.random.default_rng(7))
    assert np.array_equal(t.data, np.random.default_rng(7).uniform(2.0, 3.0, (2, 5)))
    assert np.all((t.data >= 2.0) & (t.data < 3.0))


def test_uniform_without_rng_draws_fresh_values_in_range() -> None:
    a, b = Tensor.uniform(100), Tensor.uniform(100)
    assert a.shape == (100,) and not np.array_equal(a.data, b.data)
    assert np.all((a.data >= -1.0) & (a.data < 1.0))


@pytest.mark.parametrize(
    "make_rng", [np.random.default_rng, np.random.RandomState], ids=["Generator", "RandomState"]
)
def test_randn_draws_standard_normals_from_the_rng(make_rng: Callable[[int], Any]) -> None:
    t = Tensor.randn((2, 3), rng=make_rng(3))
    assert np.array_equal(t.data, make_rng(3).standard_normal((2, 3)))
    assert Tensor.randn(4, 5, rng=make_rng(3)).shape == (4, 5)


# ----------------------------------------------------------------------- in-place changes


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.add_(1.0), [2.0, 3.0]),
        (lambda t: t.add_(Tensor([1.0, -1.0])), [2.0, 1.0]),
        (lambda t: t.sub_(np.array([1, 1])), [0.0, 1.0]),
        (lambda t: t.mul_([2.0, 3.0]), [2.0, 6.0]),
        (lambda t: t.copy_(Tensor(5.0)), [5.0, 5.0]),
        (lambda t: t.zero_(), [0.0, 0.0]),
    ],
    ids=["add_", "add_ tensor", "sub_", "mul_", "copy_", "zero_"],
)
def test_in_place_methods_change_the_data_and_return_self(
    change: Callable[[Tensor], Tensor], expected: list[float]
) -> None:
    t = Tensor([1.0, 2.0])
    data = t.data
    assert change(t) is t
    assert t.data is data  # the same array, changed in place
    assert t.tolist() == expected
    assert t._version > 0


def test_setitem_changes_the_data() -> None:
    t = Tensor(np.zeros((2, 3)))
    t[0, 1] = 5.0
    t[1] = Tensor([1.0, 2.0, 3.0])
    t[Tensor([0.0]), 2] = 7
    assert t.tolist() == [[0.0, 5.0, 7.0], [1.0, 2.0, 3.0]]
    assert t._version > 0


def test_in_place_keeps_float32() -> None:
    t = Tensor(np.ones(2, np.float32))
    t.add_(np.array([0.1, 0.2]))
    t.mul_(2)
    t[0] = 1e-3
    assert t.dtype == np.float32


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.add_(1.0),
        lambda t: t.sub_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.copy_(5.0),
        lambda t: t.zero_(),
        lambda t: t.__setitem__((), 5.0),
    ],
    ids=["add_", "sub_", "mul_", "copy_", "zero_", "setitem"],
)
def test_in_place_on_a_zero_dimensional_op_result(change: Callable[[Tensor], Any]) -> None:
    # numpy's arithmetic on 0-d arrays returns numpy scalars, which cannot be written to.
    with tl.no_grad():
        t = Tensor(2.0) * Tensor(3.0)
    reference = Tensor(6.0)  # made from a 0-d array
    change(t)
    change(reference)
    assert t.item() == reference.item()
    assert t._version > 0 and isinstance(t.data, np.ndarray)


@pytest.mark.parametrize(
    "result",
    [
        lambda: Tensor(2.0) * 3,
        lambda: Tensor(2.0).exp(),
        lambda: -Tensor(2.0),
        lambda: Tensor(2.0).relu(),
    ],
    ids=["mul", "exp", "neg", "relu"],
)
def test_zero_dimensional_op_result_converts_to_an_array(result: Callable[[], Tensor]) -> None:
    t = result()
    for array in (t.numpy(), t.detach().data, np.asarray(t), np.array(t)):
        assert isinstance(array, np.ndarray) and array.shape == ()
        assert array == t.item()


def test_optimizer_style_update_under_no_grad() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    assert w.grad is not None
    with tl.no_grad():
        w.sub_(0.5 * w.grad)
    assert w.tolist() == [0.0, 0.0]
    assert w.is_leaf and w.requires_grad


# -------------------------------------------------------------------------------- float32


def test_float32_stays_float32_through_ops_reflected_scalars_and_gradients() -> None:
    x = Tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    w = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), requires_grad=True)
    results = [
        x + 1, 2 + x, x - 1, 2 - x, x * 3, 3 * x, x / 2, 1 / x, x**2, 2**x, x**x, -x,
        x.exp(), x.log(), x.sqrt(), x.sigmoid(), x.relu(), x.tanh(), x.abs(),
        x.sum(), x.mean(), x.max(), x @ w, x.dot(w), w @ x, w.T, w.reshape(-1),
        x[[0, 0]], x.expand(3, 2), x * np.array([1, 2]), x + w, w.transpose(), w.permute(1, 0),
    ]  # fmt: skip
    for out in results:
        assert out.dtype == np.float32, out
    total = results[0].sum()
    for out in results[1:]:
        total = total + out.sum()
    total.backward()
    assert x.grad is not None and w.grad is not None
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    second = tl.grad(tl.grad(lambda t: (t * t * t).sum()))(Tensor(np.float32(2.0)))
    assert second.dtype == np.float32 and second.item() == 12.0
