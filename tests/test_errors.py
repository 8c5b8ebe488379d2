"""Every error the core raises: its type, and a message that says what was given and what
is accepted."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Function, Tensor

ACCEPTED = r"accepted: a number, a nested list of numbers, a numpy array of numbers, or a Tensor"

# ------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ("abc", TypeError, r"data holds strings \(str 'abc'\)"),
        (["1.0", 2.0], TypeError, r"data holds strings \(list \['1.0', 2.0\]\)"),
        (b"1", TypeError, r"data holds bytes"),
        (None, TypeError, r"data holds objects \(NoneType None\)"),
        ([1.0, None], TypeError, r"data holds objects \(list \[1.0, None\]\)"),
        ([[1.0, 2.0], [3.0]], ValueError, r"nested lists must be rectangular"),
        ([1.0, [2.0]], ValueError, r"nested lists must be rectangular"),
        (1 + 2j, TypeError, r"data holds complex numbers \(complex \(1\+2j\)\)"),
        (np.array([1j]), TypeError, r"data holds complex numbers"),
        (object(), TypeError, r"data holds objects \(object <object object at"),
        ({"a": 1.0}, TypeError, r"data holds objects \(dict \{'a': 1.0\}\)"),
        ({1.0, 2.0}, TypeError, r"data holds objects \(set"),
        (np.array(["a"]), TypeError, r"data holds strings"),
        (np.datetime64("2020-01-01"), TypeError, r"data holds values of dtype datetime64"),
        # An int beyond int64 is a number (docs/design.md); beyond float64 it is not.
        (10**400, ValueError, r"has an int too large for float64"),
    ],
)
def test_non_numeric_data(data: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=rf"^Tensor: .*{message}.*; {ACCEPTED}$"):
        Tensor(data)


def test_long_data_is_cut_short_in_the_message() -> None:
    with pytest.raises(TypeError, match=r"\(list \['x', 'x', .*\.\.\.\)"):
        Tensor(["x"] * 100)


@pytest.mark.parametrize("requires_grad", [1, 0, "yes", None, [True]])
def test_bad_requires_grad(requires_grad: Any) -> None:
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got"):
        Tensor([1.0], requires_grad=requires_grad)


@pytest.mark.parametrize("dtype", ["nonsense", 5, "int32", "float16", object, complex])
def test_bad_dtype(dtype: object) -> None:
    with pytest.raises(TypeError, match=r"dtype must be float32, float64 or None, got"):
        Tensor([1.0], dtype=dtype)


# ----------------------------------------------------------------------- custom Functions


class Double(Function):
    """out = 2 * x    dx = 2 * grad"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return 2 * grad


@pytest.mark.parametrize(
    "inputs",
    [(np.ones(2),), (np.float64(1.0),), (1.0,), ([1.0],), (Tensor(1.0), np.ones(2)), ()],
    ids=["ndarray", "numpy scalar", "float", "list", "tensor and ndarray", "nothing"],
)
def test_apply_takes_only_tensors_as_positional_inputs(inputs: tuple[Any, ...]) -> None:
    with pytest.raises(TypeError, match=r"Double\.apply\(\) takes one or more Tensors"):
        Double.apply(*inputs)


def _op_whose_backward_returns(result: Any) -> type[Function]:
    class Faulty(Function):
        """out = 2 * x, with a backward that returns ``result``"""

        def forward(self, x: np.ndarray) -> np.ndarray:
            return 2 * x

        def backward(self, grad: Any, x: Any, out: Any) -> Any:
            return result

    return Faulty


@pytest.mark.parametrize(
    ("result", "described"),
    [
        (np.ones(3), r"a gradient of shape \(3,\)"),
        (np.ones((2, 1)), r"a gradient of shape \(2, 1\)"),
        (0.0, r"a float \(0\.0\) instead of an array"),
        ([1.0, 1.0], r"a list \(\[1\.0, 1\.0\]\) instead of an array"),
    ],
)
def test_backward_returning_a_wrong_gradient_names_the_op(result: Any, described: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = _op_whose_backward_returns(result).apply(x).sum()
    with pytest.raises(
        RuntimeError, match=rf"^faulty: backward returned {described} for an input of shape \(2,\)"
    ):
        out.backward()


# ----------------------------------------------------------------------------- indexing


@pytest.mark.parametrize(
    ("index", "detail"),
    [
        (5, r"index 5 is out of bounds for axis 0 with size 2"),
        (-3, r"index -3 is out of bounds"),
        ((0, 0, 0), r"too many indices"),
        ("a", r"only integers, slices"),
        (1.5, r"only integers, slices"),
        ([0, 5], r"index 5 is out of bounds"),
        (np.array([True, False, True]), r"boolean index did not match"),
        (np.array([0.0, 1.0]), r"arrays used as indices must be of integer"),
        (Tensor([0.0, 2.0]), r"index 2 is out of bounds"),
    ],
)
def test_bad_index(index: Any, detail: str) -> None:
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexError, match=r"^index .* does not fit a tensor of shape \(2, 3\): "):
        t[index]
    with pytest.raises(IndexError, match=detail):
        t[index]


@pytest.mark.parametrize("value", [0.5, np.nan, np.inf, -np.inf, 1e30, -1e19])
def test_tensor_index_must_hold_whole_numbers_in_range(value: float) -> None:
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match=r"a Tensor used as an index must hold whole numbers"):
        t[Tensor([0.0, value])]


# ------------------------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    ("a", "b"), [((2, 3, 4), (5, 4, 6)), ((2, 3, 3, 4), (5, 4, 6)), ((4, 2, 3), (3, 3, 2))]
)
def test_matmul_batch_dimensions_that_do_not_broadcast_name_both_shapes(
    a: tuple[int, ...], b: tuple[int, ...]
) -> None:
    x, y = Tensor(np.ones(a), requires_grad=True), Tensor(np.ones(b))
    with pytest.raises(ValueError, match=re.escape(f"matmul: shapes {a} and {b} do not fit")):
        x @ y


def _assign(t: Tensor, index: Any, value: Any) -> None:
    t[index] = value


@pytest.mark.parametrize(
    ("index", "value", "error", "message"),
    [
        (5, 1.0, IndexError, r"cannot assign to index 5 of a tensor of shape \(2, 3\)"),
        ("a", 1.0, IndexError, r"cannot assign to index 'a' of a tensor of shape \(2, 3\)"),
        (0, "abc", TypeError, r"data holds strings \(str 'abc'\); accepted: a number"),
        (0, None, TypeError, r"data holds objects \(NoneType None\); accepted: a number"),
        (0, [[1.0], [2.0, 3.0]], ValueError, r"nested lists must be rectangular"),
        (0, [1.0, 2.0], ValueError, r"cannot assign a value of shape \(2,\) to index 0 of a"),
    ],
)
def test_setitem_errors(index: Any, value: Any, error: type[Exception], message: str) -> None:
    t = Tensor(np.zeros((2, 3)))
    with pytest.raises(error, match=message):
        _assign(t, index, value)
    assert t._version == 0
    assert np.array_equal(t.data, np.zeros((2, 3)))


def test_backward_returning_the_wrong_number_of_gradients_names_the_op() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)

    class TwoInOneOut(Function):
        """out = x + y, with a backward that forgets dy"""

        def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return x + y

        def backward(self, grad: Any, x: Any, y: Any, out: Any) -> Any:
            return grad

    with pytest.raises(
        RuntimeError,
        match=r"^twoinoneout: backward returned 1 gradient\(s\) for 2 input\(s\); it must "
        r"return one per input \(None where there is none\)",
    ):
        TwoInOneOut.apply(x, y).sum().backward()

    class ThreeGradients(TwoInOneOut):
        def backward(self, grad: Any, x: Any, y: Any, out: Any) -> Any:
            return grad, grad, grad

    with pytest.raises(RuntimeError, match=r"^threegradients: backward returned 3 gradient"):
        ThreeGradients.apply(x, y).sum().backward()


def test_a_custom_function_may_return_none_for_an_input() -> None:
    class FirstOnly(Function):
        """out = x * y, differentiated with respect to x only"""

        def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return x * y

        def backward(self, grad: Any, x: Any, y: Any, out: Any) -> Any:
            return grad * y, None

    x, y = Tensor([2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    FirstOnly.apply(x, y).sum().backward()
    assert x.grad is not None and x.grad.tolist() == [3.0]
    assert y.grad is None


# ------------------------------------------------------------------- binary operations


@pytest.mark.parametrize(
    ("op", "name", "a", "b", "first", "second"),
    [
        (lambda x, y: x + y, "add", (2,), (3,), (2,), (3,)),
        (lambda x, y: x.add(y), "add", (2, 3), (2,), (2, 3), (2,)),
        (lambda x, y: x - y, "sub", (4, 3), (2, 3), (4, 3), (2, 3)),
        (lambda x, y: x * y, "mul", (2, 1, 3), (4, 2), (2, 1, 3), (4, 2)),
        (lambda x, y: x / y, "div", (5,), (2, 4), (5,), (2, 4)),
        (lambda x, y: x**y, "pow", (2,), (3,), (2,), (3,)),
        (lambda x, y: x * y.data, "mul", (2,), (3,), (2,), (3,)),  # an ndarray operand
        (lambda x, y: y.data + x, "add", (2,), (3,), (3,), (2,)),  # reflected: ndarray first
        (lambda x, y: y.data**x, "pow", (2,), (3,), (3,), (2,)),
        (lambda x, y: [1.0, 2.0, 3.0] - x, "sub", (2,), (3,), (3,), (2,)),
    ],
)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(
    op: Any,
    name: str,
    a: tuple[int, ...],
    b: tuple[int, ...],
    first: tuple[int, ...],
    second: tuple[int, ...],
    requires_grad: bool,
) -> None:
    x = Tensor(np.ones(a), requires_grad=requires_grad)
    y = Tensor(np.ones(b))
    message = re.escape(f"{name}: shapes {first} and {second} do not broadcast") + (
        r": aligned from the right, each pair of sizes must be equal or contain a 1"
    )
    with pytest.raises(ValueError, match=message):
        op(x, y)
    with tl.no_grad(), pytest.raises(ValueError, match=message):
        op(x, y)


@pytest.mark.parametrize("other", ["a", None, [1.0, "b"], {"a": 1}, 1j, object()])
def test_operand_that_is_not_a_tensor(other: Any) -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^mul: the other operand is not usable as a tensor: "):
        x * other
    with pytest.raises(TypeError, match=r"^sub: the other operand is not usable as a tensor: "):
        other - x
    with pytest.raises(TypeError, match=r"^matmul: the other operand is not usable"):
        x @ other


# -------------------------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    ("a", "b", "detail"),
    [
        ((2, 3), (2, 3), r"the last dimension of the first \(3\) must equal the second-to-last"),
        ((3,), (2,), r"the last dimension of the first \(3\) must equal the only dimension"),
        (
            (4, 2, 3),
            (4, 4, 2),
            r"\(3\) must equal the second-to-last dimension of the second \(4\)",
        ),
        ((2,), (3, 3, 4), r"\(2\) must equal the second-to-last dimension of the second \(3\)"),
    ],
)
def test_matmul_shapes_that_do_not_fit_name_both(
    a: tuple[int, ...], b: tuple[int, ...], detail: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"matmul: shapes {a} and {b} do not fit: ")):
        Tensor(np.ones(a)) @ Tensor(np.ones(b))
    with pytest.raises(ValueError, match=detail):
        Tensor(np.ones(a)).dot(np.ones(b))


@pytest.mark.parametrize(("a", "b"), [((), (2,)), ((2, 2), ()), ((), ())])
def test_matmul_of_a_zero_dimensional_operand(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    message = re.escape(f"matmul: both operands need at least 1 dimension, got shapes {a} and {b}")
    with pytest.raises(ValueError, match=message):
        Tensor(np.ones(a), requires_grad=True) @ Tensor(np.ones(b))
    with pytest.raises(ValueError, match=message):
        np.ones(a) @ Tensor(np.ones(b))


# ------------------------------------------------------------------ shapes and axes


def test_impossible_reshape() -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into "
        r"\(4, 2\) \(8 elements\); the number of elements must stay the same",
    ):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match=r"into \(-1, 4\): 6 is not a multiple of 4"):
        t.reshape(-1, 4)
    with pytest.raises(ValueError, match=r"into \(0, -1\): 6 is not a multiple of 0"):
        t.reshape(0, -1)


def test_reshape_with_more_than_one_minus_one() -> None:
    with pytest.raises(ValueError, match=r"shape \(-1, -1\) has more than one -1; at most one"):
        Tensor(np.ones((2, 3))).reshape(-1, -1)


@pytest.mark.parametrize(
    ("shape", "error", "message"),
    [
        ((2.0, 3), TypeError, r"reshape: a shape is made of ints, got \(2.0, 3\)"),
        (("6",), TypeError, r"a shape is made of ints"),
        ((True, 6), TypeError, r"a shape is made of ints"),
        ((-2, -3), ValueError, r"has a negative size; accepted: non-negative ints, and at most"),
    ],
)
def test_reshape_with_a_bad_shape(
    shape: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Tensor(np.ones((2, 3))).reshape(*shape)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.sum(axis=3),
        lambda t: t.sum(axis=-4),
        lambda t: t.mean(axis=(0, 5)),
        lambda t: t.max(axis=3),
        lambda t: t.transpose(0, 3),
        lambda t: t.permute(0, 1, 3),
    ],
    ids=["sum", "sum negative", "mean tuple", "max", "transpose", "permute"],
)
def test_axis_out_of_range(call: Any) -> None:
    t = Tensor(np.ones((2, 3, 4)))
    with pytest.raises(np.exceptions.AxisError, match=r"is out of range for a tensor of 3 dim"):
        call(t)
    with pytest.raises(ValueError, match=r"accepted: -3 to 2"):  # AxisError is a ValueError
        call(t)


def test_axis_of_a_zero_dimensional_tensor() -> None:
    with pytest.raises(np.exceptions.AxisError, match=r"accepted: None or \(\) \(a 0-d tensor"):
        Tensor(1.0).sum(axis=0)


@pytest.mark.parametrize("axis", [1.0, "0", [0, 1], (0, 1.5), True, np.array(0)])
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_wrong_typed_axis(op: str, axis: Any) -> None:
    with pytest.raises(
        TypeError, match=rf"^{op}: axis must be None, an int or a tuple of ints, got"
    ):
        getattr(Tensor(np.ones((2, 3))), op)(axis=axis)


@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_repeated_axis(op: str) -> None:
    with pytest.raises(ValueError, match=rf"^{op}: axis \(0, -2\) repeats an axis"):
        getattr(Tensor(np.ones((2, 3))), op)(axis=(0, -2))


def test_permute_that_is_not_a_permutation() -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"permute: order \(0,\) must name each of the 2 axes"):
        t.permute(0)
    with pytest.raises(ValueError, match=r"permute: axis \(1, 1\) repeats an axis"):
        t.permute(1, 1)
    with pytest.raises(TypeError, match=r"permute: axis must be None, an int"):
        t.permute(0, "1")


@pytest.mark.parametrize("keepdim", [1, 0, "yes", None])
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_bad_keepdim(op: str, keepdim: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{op}: keepdim must be True or False, got"):
        getattr(Tensor(np.ones((2, 3))), op)(axis=0, keepdim=keepdim)


def test_max_over_an_empty_axis() -> None:
    t = Tensor(np.ones((2, 0)))
    message = r"max: axis 1 of a tensor of shape \(2, 0\) is empty, and an empty axis has no"
    with pytest.raises(ValueError, match=message):
        t.max(axis=1)
    with pytest.raises(ValueError, match=message):
        t.max()
    assert t.max(axis=0).shape == (0,)  # an empty result is fine


def test_mt_of_fewer_than_two_dimensions() -> None:
    with pytest.raises(ValueError, match=r"mT needs a tensor of at least 2 dimensions, got shape"):
        _ = Tensor([1.0, 2.0]).mT


def test_expand_to_a_shape_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match=r"expand: shapes \(2,\) and \(3, 3\) do not broadcast"):
        Tensor([1.0, 2.0]).expand(3, 3)
    with pytest.raises(
        ValueError, match=r"expand: a tensor of shape \(2, 3\) cannot be broadcast to \(3,\)"
    ):
        Tensor(np.ones((2, 3))).expand(3)


# ------------------------------------------------------------------------- conversions


def test_item_of_several_elements() -> None:
    with pytest.raises(ValueError, match=r"item\(\): only a tensor of one element converts to a"):
        Tensor([1.0, 2.0]).item()


def test_truth_value_and_len() -> None:
    with pytest.raises(ValueError, match=r"the truth value of a tensor of shape \(2,\) is ambig"):
        bool(Tensor([1.0, 2.0]))
    assert bool(Tensor([3.0])) and not bool(Tensor(0.0))
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))


# ----------------------------------------------------------------------- constructors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Tensor.zeros(2, -1), ValueError, r"zeros: shape \(2, -1\) has a negative size"),
        (lambda: Tensor.ones(2.0), TypeError, r"ones: a shape is made of ints, got \(2.0,\)"),
        (lambda: Tensor.eye(-1), ValueError, r"eye: shape \(-1,\) has a negative size"),
        (lambda: Tensor.uniform(2, rng=5), TypeError, r"uniform: rng must be a numpy.random.Gen"),
        (lambda: Tensor.randn(2, rng="x"), TypeError, r"randn: rng must be .* got str"),
        (lambda: Tensor.zeros(2, dtype="int8"), TypeError, r"dtype must be float32, float64"),
        (lambda: Tensor.ones(2, requires_grad=1), TypeError, r"requires_grad must be True"),
    ],
)
def test_constructor_errors(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------- functional API


def test_grad_of_a_function_that_does_not_return_one_element() -> None:
    with pytest.raises(TypeError, match=r"grad: f must return a Tensor of one element, got a "):
        tl.grad(lambda x: x * 2)(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"grad: f must return a Tensor of one element, got float"):
        tl.grad(lambda x: 1.0)(Tensor(1.0))


@pytest.mark.parametrize("argnums", [-1, 1.0, (), (0, "1"), True, [0]])
def test_grad_with_bad_argnums(argnums: Any) -> None:
    with pytest.raises(TypeError, match=r"grad: argnums must be an int >= 0 or a tuple of them"):
        tl.grad(lambda x: x, argnums=argnums)


def test_grad_with_argnums_past_the_arguments() -> None:
    with pytest.raises(
        TypeError, match=r"grad: argnums asks for argument 2, but only 2 were given"
    ):
        tl.grad(lambda x, y: x * y, argnums=(0, 2))(1.0, 2.0)


# ---------------------------------------------------------------------- in-place changes

IN_PLACE = {
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(Tensor([1.0, 1.0])),
    "mul_": lambda t: t.mul_(np.array([2.0, 2.0])),
    "copy_": lambda t: t.copy_([5.0, 6.0]),
    "zero_": lambda t: t.zero_(),
    "__setitem__": lambda t: t.__setitem__(0, 7.0),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_bumps_the_version(name: str) -> None:
    t = Tensor([1.0, 2.0])
    assert t._version == 0
    IN_PLACE[name](t)
    first = t._version
    IN_PLACE[name](t)
    assert 0 < first < t._version  # each change dated later than the one before


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_is_refused_on_a_tensor_computed_in_a_graph(name: str) -> None:
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    message = rf"^{re.escape(name)}: this tensor was computed by mul and is part of a graph"
    with pytest.raises(RuntimeError, match=message):
        IN_PLACE[name](y)
    with tl.no_grad(), pytest.raises(RuntimeError, match=message):
        IN_PLACE[name](y)
    assert y.tolist() == [2.0, 4.0] and y._version == 0


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_on_a_leaf_that_requires_grad_only_under_no_grad(name: str) -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=rf"^{re.escape(name)}: a leaf that requires grad cannot be changed in place while "
        r"operations are recorded; do it inside `with tl.no_grad\(\):`",
    ):
        IN_PLACE[name](w)
    assert w.tolist() == [1.0, 2.0] and w._version == 0
    with tl.no_grad():
        IN_PLACE[name](w)
    assert w._version > 0 and w.tolist() != [1.0, 2.0]


@pytest.mark.parametrize("name", IN_PLACE)
@pytest.mark.parametrize(
    ("op", "op_name"),
    [
        (lambda w, c: (w * c).sum(), "mul"),
        (lambda w, c: (c * w).sum(), "mul"),
        (lambda w, c: (w.exp() + c).sum(), "exp"),
        (lambda w, c: (w / c).sum(), "div"),
        (lambda w, c: (w**c).sum(), "pow"),
    ],
)
def test_backward_after_an_input_changed_in_place_names_the_op(
    name: str, op: Any, op_name: str
) -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    out = op(w, c)
    changed = c if op_name != "exp" else w
    with tl.no_grad():
        IN_PLACE[name](changed)
    with pytest.raises(
        RuntimeError,
        match=rf"^{op_name}: an input of shape \(2,\) was changed in place after the forward "
        r"pass used it, so its gradient would be wrong",
    ):
        out.backward()


def test_backward_after_an_in_place_change_to_a_matmul_operand() -> None:
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    c = Tensor([[3.0], [4.0]])
    out = (w @ c).sum()
    with tl.no_grad():
        c.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"^matmul: an input of shape \(2, 1\) was changed"):
        out.backward()


def test_backward_after_an_unrelated_in_place_change_is_fine() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    out = (w * c).sum()
    other = Tensor([0.0, 0.0])  # not part of the graph
    other.add_(1.0)
    c2 = c * 1  # a new tensor computed from c: changing c later is what matters, not this
    with tl.no_grad():
        w2 = w * 1
        w2.add_(1.0)
    out.backward()
    assert w.grad is not None and w.grad.tolist() == [3.0, 4.0]
    assert c2.tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda t: t.add_(np.ones((2, 2))),
            ValueError,
            r"add_: an operand of shape \(2, 2\) "
            r"would change the shape \(2,\) of the tensor changed in place",
        ),
        (lambda t: t.mul_([1.0, 2.0, 3.0]), ValueError, r"mul_: shapes \(2,\) and \(3,\) do not"),
        (lambda t: t.sub_("x"), TypeError, r"data holds strings"),
        (lambda t: t.copy_(None), TypeError, r"data holds objects"),
    ],
)
def test_in_place_with_a_bad_operand(call: Any, error: type[Exception], message: str) -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(error, match=message):
        call(t)
    assert t.tolist() == [1.0, 2.0] and t._version == 0


@pytest.mark.parametrize("index", [0, [0], (slice(None), 1), np.array([2])])
def test_an_index_out_of_bounds_of_an_empty_tensor_is_an_index_error(index: Any) -> None:
    # numpy 2.0 only warns here (and picks nothing); later numpy raises, and so do we on both.
    empty = Tensor(np.zeros((0, 1)))
    with pytest.raises(IndexError, match="index"):
        empty[index]
    with pytest.raises(IndexError, match="index"):
        empty[index] = 1.0
