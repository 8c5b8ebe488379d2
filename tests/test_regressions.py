"""Each bug the bad-input sweep (test_sweep.py) found, pinned down as a plain test."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor


@pytest.mark.parametrize("dtype", [1.5, "abc", [1], 3])
def test_a_dtype_numpy_cannot_read_is_refused(dtype: object) -> None:
    # np.dtype(dtype) fails, and numpy compares the None that stood for the failure equal
    # to float64: the junk dtype was silently taken as float64.
    with pytest.raises(TypeError, match="dtype must be float32, float64 or None"):
        Tensor([1.0], dtype=dtype)
    with pytest.raises(TypeError, match="dtype must be"):
        Tensor.zeros(2, dtype=dtype)
    assert Tensor([1.0], dtype=np.float32).dtype == np.float32


def _nested(depth: int) -> object:
    value: object = 1.0
    for _ in range(depth):
        value = [value]
    return value


def test_a_list_nested_deeper_than_the_recursion_limit_gets_our_error() -> None:
    # The error message described the data with repr(), which recursed once per level.
    deep = _nested(10_000)
    with pytest.raises(ValueError, match="^Tensor: cannot make an array of list"):
        Tensor(deep)
    # ...and it blamed raggedness for what is depth (numpy's limit of 64 dimensions).
    with pytest.raises(ValueError, match="and at most 64 deep"):
        Tensor(_nested(65))
    assert Tensor(_nested(64)).ndim == 64
    with pytest.raises(ValueError, match="^add: "):
        Tensor([1.0]) + deep


def test_an_int_beyond_int64_is_a_number() -> None:
    # numpy keeps such ints as Python objects, and Tensor refused them as "objects", while
    # `t + 2**64` already worked.
    np.testing.assert_array_equal(Tensor(2**64).data, np.float64(2**64))
    np.testing.assert_array_equal(Tensor([10**20, 1.5, -(2**70)]).data, [1e20, 1.5, -(2.0**70)])
    np.testing.assert_array_equal((Tensor([1.0]) + 2**64).data, [1.0 + 2.0**64])
    with pytest.raises(ValueError, match="^Tensor: .*too large for float64"):
        Tensor([1, 10**400])
    with pytest.raises(TypeError, match="data holds objects"):
        Tensor(np.array([1, 2], dtype=object))  # an array of objects stays refused


def test_a_value_beyond_float32s_range_becomes_inf_without_a_warning() -> None:
    # The cast to float32 overflowed with numpy's RuntimeWarning (an error under pytest).
    big = [3.5e38, -1e39, 1e300]
    np.testing.assert_array_equal(Tensor(big, dtype=np.float32).data, [np.inf, -np.inf, np.inf])
    t32 = Tensor([1.0, -1.0], dtype=np.float32)
    for result in (t32 * 1e39, t32 * 10**39, Tensor([1.0, -1.0], dtype=np.float32).mul_(1e39)):
        assert result.dtype == np.float32
        np.testing.assert_array_equal(result.data, [np.inf, -np.inf])
    t32 = Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    (t32 * 2).backward([1e39, 1.0])
    np.testing.assert_array_equal(t32.grad.data, [np.inf, 2.0])


@pytest.mark.parametrize(
    "shape", [(1,) * 65, (2**40, 2**40), (2**60, 0), (2**31, 2**31, 0), (2**63,), (2**70,)]
)
def test_a_shape_beyond_numpys_limits_gets_our_error(shape: tuple[int, ...]) -> None:
    # numpy's own ValueError ("array is too big", "maximum supported dimension") leaked.
    for make in (Tensor.zeros, Tensor.ones, Tensor.randn, Tensor.uniform):
        with pytest.raises(ValueError, match=f"^{make.__name__}: shape"):
            make(*shape)
    with pytest.raises(ValueError, match="^reshape: shape"):
        Tensor([1.0]).reshape(*shape)
    with pytest.raises(ValueError, match="^expand: shape"):
        Tensor([1.0]).expand(*shape)
    assert Tensor.zeros(*(1,) * 64).ndim == 64


@pytest.mark.parametrize("n", [(2, 3), (), [3], (2,)])
def test_eye_takes_one_int(n: object) -> None:
    # A tuple was read as a shape: eye((2, 3)) raised Python's "too many values to unpack",
    # and eye([3]) was accepted.
    with pytest.raises(TypeError, match="^eye: n is an int"):
        Tensor.eye(n)


def test_eye_of_a_size_whose_square_is_too_large_gets_our_error() -> None:
    with pytest.raises(ValueError, match="^eye: shape"):
        Tensor.eye(2**40)
    np.testing.assert_array_equal(Tensor.eye(np.int64(2)).data, np.eye(2))


@pytest.mark.parametrize(
    ("low", "high", "error"),
    [
        (0.0, np.inf, ValueError),  # numpy: OverflowError
        (-1e308, 1e308, ValueError),  # numpy: OverflowError
        (np.nan, 1.0, ValueError),  # numpy: OverflowError
        (1.0, 0.0, ValueError),  # numpy: an error from a Generator, samples from a RandomState
        ("a", 1.0, TypeError),  # numpy: ValueError, could not convert string to float
        (None, 1.0, TypeError),  # numpy: "must be real number, not NoneType"
        (0.0, [1.0, 2.0], TypeError),  # numpy: broadcasts it against the shape
        (0.0, True, TypeError),
        (0.0, 10**400, ValueError),
    ],
)
def test_uniform_bounds_are_checked(low: object, high: object, error: type) -> None:
    for rng in (None, np.random.RandomState(0)):
        with pytest.raises(error, match="^uniform: "):
            Tensor.uniform(2, low=low, high=high, rng=rng)
    t = Tensor.uniform(100, low=2, high=np.float32(3.0), rng=np.random.default_rng(0))
    assert ((t.data >= 2) & (t.data < 3)).all()
    assert (Tensor.uniform(3, low=1.5, high=1.5).data == 1.5).all()


def test_uniform_between_zero_and_minus_zero() -> None:
    # numpy's Generator refused low=0.0, high=-0.0 with "high - low < 0".
    assert (Tensor.uniform(3, low=0.0, high=-0.0).data == 0.0).all()


def test_a_bad_keepdim_to_mean_names_mean() -> None:
    # mean passed keepdim on to sum unchecked, and the error named sum.
    with pytest.raises(TypeError, match="^mean: keepdim must be True or False, got 0.0"):
        Tensor([1.0, 2.0]).mean(keepdim=0.0)


@pytest.mark.parametrize("axes", [(0, None), (None, 0), ((0, 1), 0), (0, ())])
def test_transpose_takes_one_axis_each(axes: tuple[object, object]) -> None:
    # None (or a tuple) went through as "all axes": Python's unpacking error for a 2-D
    # tensor, and silently axis 0 for a 1-D one.
    for t in (Tensor([1.0, 2.0]), Tensor([[1.0, 2.0]])):
        with pytest.raises(TypeError, match="^transpose: axis must be"):
            t.transpose(*axes)


def test_an_empty_list_is_an_empty_index() -> None:
    # numpy reads x[[]] as an empty integer index; we turned [] into a float array and
    # refused it.
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for index in ([], [[]], ([], 0)):
        out = w[index]
        assert out.shape == w.data[index].shape
        out.sum().backward()
        np.testing.assert_array_equal(w.grad.data, np.zeros((2, 2)))
    t = Tensor([1.0, 2.0])
    t[[]] = 5.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


@pytest.mark.parametrize("index", [2**63, -(2**63) - 1, (0, 10**30), [[0, 1], [0]], [0, [1]]])
def test_an_index_numpy_cannot_convert_gets_our_index_error(index: object) -> None:
    # An int beyond int64 leaked numpy's OverflowError; a ragged list leaked numpy's
    # ValueError, from a conversion made before the error handling.
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(IndexError, match="^index .* does not fit a tensor of shape"):
        t[index]
    with pytest.raises(IndexError, match="^cannot assign to index"):
        t[index] = 1.0
    assert t._version == 0


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e20, np.nan, 0.5])
def test_a_tensor_index_must_hold_whole_numbers_within_int64(value: float) -> None:
    # inf and 1e20 passed the whole-number check and were cast to garbage ints, with
    # numpy's "invalid value encountered in cast" warning.
    t = Tensor([1.0, 2.0])
    with pytest.raises(IndexError, match="must hold whole numbers"):
        t[Tensor([0.0, value])]
    with pytest.raises(IndexError, match="must hold whole numbers"):
        t[Tensor([value])] = 1.0
    np.testing.assert_array_equal(t[Tensor([1.0, -2.0])].data, [2.0, 1.0])


def test_an_index_of_deeply_nested_tuples_gets_our_index_error() -> None:
    # The index was converted recursively, one call per level of nesting.
    index: object = 0
    for _ in range(5000):
        index = (index,)
    t = Tensor([1.0, 2.0])
    with pytest.raises(IndexError, match="^index "):
        t[index]
    with pytest.raises(IndexError, match="^cannot assign"):
        t[index] = 1.0
    np.testing.assert_array_equal(t[(Tensor([1.0]),)].data, [2.0])


@pytest.mark.parametrize(
    ("value", "error"),
    [(None, TypeError), ("1.5", TypeError), (1 + 2j, TypeError), ([[1.0], []], ValueError)],
)
def test_index_assignment_takes_data_only(value: object, error: type) -> None:
    # numpy stored None as nan and parsed the string "1.5"; other bad values came out as
    # IndexError.
    t = Tensor([1.0, 2.0])
    with pytest.raises(error, match="^cannot assign .* to a tensor"):
        t[0] = value
    np.testing.assert_array_equal(t.data, [1.0, 2.0])
    assert t._version == 0


def test_index_assignment_of_the_wrong_shape_is_a_value_error() -> None:
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"^cannot assign a value of shape \(3,\) to index 0"):
        t[0] = [1.0, 2.0, 3.0]
    t[0] = [[5.0, 6.0]]  # numpy's rule: leading dimensions of size 1 may go
    t[:, 1] = Tensor(7.0)
    np.testing.assert_array_equal(t.data, [[5.0, 7.0], [3.0, 7.0]])


@pytest.mark.parametrize("ndim", [33, 40, 63])
def test_the_gradient_of_indexing_a_tensor_of_many_dimensions(ndim: int) -> None:
    # np.add.at, which scatters the gradient back, crashed the interpreter (a segmentation
    # fault) on arrays of more than 32 dimensions.
    shape = (2,) + (1,) * (ndim - 1)
    for index in (0, (Ellipsis, 0), np.array([1, 1, 0]), (slice(None), None)):
        w = Tensor(np.arange(2.0).reshape(shape), requires_grad=True)
        out = w[index]
        out.backward(np.ones(out.shape))
        expected = np.zeros(2)
        np.add.at(expected, np.arange(2).reshape(shape)[index].ravel(), 1.0)
        np.testing.assert_array_equal(w.grad.data, expected.reshape(shape))


def test_shape_sizes_given_as_numpy_ints_are_multiplied_without_overflow() -> None:
    # The size check multiplied np.int64 sizes in int64: OverflowError with a Python int
    # beyond int64, a silent wrap-around (and a warning) with two large np.int64 sizes.
    for shape in ((np.int64(1), 2**63), (np.int64(2**40), np.int64(2**40))):
        with pytest.raises(ValueError, match="^zeros: shape .* is too large"):
            Tensor.zeros(*shape)
    assert Tensor.zeros(np.int64(2), np.int32(3)).shape == (2, 3)


def test_messages_about_deeply_nested_arguments_do_not_recurse() -> None:
    # The messages quoted shape, axis and flag arguments with repr(), which recursed once
    # per level of a nested tuple.
    deep: object = 0
    for _ in range(5000):
        deep = (deep,)
    t = Tensor([[1.0, 2.0]])
    calls = {
        "reshape": lambda: t.reshape(deep, 1),
        "expand": lambda: t.expand(deep, 1),
        "zeros": lambda: Tensor.zeros(deep, 2),
        "sum": lambda: t.sum(axis=(deep,)),
        "permute": lambda: t.permute(deep, 0),
        "transpose": lambda: t.transpose(deep, 0),
        "max": lambda: t.max(keepdim=[deep]),
        "Tensor": lambda: Tensor(1.0, requires_grad=[deep]),
        "eye": lambda: Tensor.eye([deep]),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match=f"^{name}: "):
            call()
    with pytest.raises(TypeError, match="^Tensor: dtype"):
        Tensor(1.0, dtype=[deep])


@pytest.mark.parametrize(
    ("operand", "error"),
    [([[1.0], [2.0, 3.0]], ValueError), (10**400, ValueError), ("a", TypeError), (None, TypeError)],
)
def test_a_bad_operand_keeps_the_kind_of_its_error(operand: object, error: type) -> None:
    # Every bad operand came out as a TypeError, a ragged list too (a ValueError elsewhere).
    t = Tensor([1.0, 2.0])
    with pytest.raises(error, match="^mul: the other operand is not usable as a tensor"):
        t * operand
    with pytest.raises(error, match="^matmul: the other operand is not usable as a tensor"):
        operand @ t


@pytest.mark.parametrize(
    ("gradient", "error"), [("abc", TypeError), ({}, TypeError), ([[1.0], [2.0, 3.0]], ValueError)]
)
def test_a_bad_gradient_to_backward_is_named_as_such(gradient: object, error: type) -> None:
    # The message was Tensor()'s alone ("Tensor: data holds strings"), not naming backward.
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(error, match=r"^backward\(\): gradient= is not usable: Tensor: "):
        y.backward(gradient)


def test_the_gradient_of_pow_at_zero_follows_pytorch() -> None:
    # y * x**(y-1) is 0 * inf at x = 0 for y = 0, and out * log(x) is 0 * -inf for y > 0:
    # NaN where the derivative is 0 (PyTorch masks both). A polynomial feature x**0 at x = 0
    # made every gradient NaN.
    x = Tensor([0.0, 2.0, -1.0], requires_grad=True)
    (x**0).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    y = Tensor([0.0, 2.0, -1.0], requires_grad=True)
    (Tensor(0.0) ** y).backward(np.ones(3))
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, -np.inf])  # 0**-1 = inf: inf * -inf
    x = Tensor([0.0, 3.0], requires_grad=True)
    e = Tensor([2.0, 2.0], requires_grad=True)
    (x**e).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.data, [0.0, 6.0])
    np.testing.assert_allclose(e.grad.data, [0.0, 9.0 * np.log(3.0)])


def test_a_value_too_deep_for_a_boolean_index_is_a_value_error() -> None:
    # numpy raises TypeError there ("boolean array indexing assignment requires a 0 or
    # 1-dimensional input"), which leaked with numpy's message.
    t = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^cannot assign a value of shape \(1, 1\) to index"):
        t[np.array([True, False])] = [[5.0]]
    t[np.array([True, False])] = [5.0]
    np.testing.assert_array_equal(t.data, [5.0, 2.0])


@pytest.mark.parametrize("shape", [(-1, 2**63), (2**62, -1), (-1, 0, 2**63)])
def test_a_huge_size_beside_a_minus_one_gets_our_error(shape: tuple[int, ...]) -> None:
    # The -1 made the product of the sizes negative, so the size check let 2**63 through to
    # numpy ("Maximum allowed dimension exceeded").
    with pytest.raises(ValueError, match=r"^reshape: shape .* is too large"):
        Tensor([]).reshape(*shape)


def test_pow_keeps_its_second_derivative_at_a_zero_exponent() -> None:
    # The mask that gives d/dx x**0 = 0 at x = 0 was first applied wherever y = 0, which
    # changed d/dy of that gradient there (1 instead of 1/x); gradgradcheck caught it.
    x = Tensor([0.5, 2.0])
    y = Tensor(0.0, requires_grad=True)
    mixed = tl.grad(lambda y: tl.grad(lambda x: (x**y).sum())(x).sum())(y)
    np.testing.assert_allclose(mixed.data, 1 / 0.5 + 1 / 2.0)  # sum of x**(y-1) at y = 0
    assert tl.gradgradcheck(lambda x, y: x**y, np.array([0.5, 2.0]), np.array(0.0))
