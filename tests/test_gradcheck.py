"""The checker is itself checked: gradcheck and gradgradcheck fail on wrong backward rules,
pass on right ones, say where and by how much, and leave the caller's tensors alone."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import GradcheckError, GradcheckWarning, Tensor, gradcheck, gradgradcheck
from tinygrad_lite.function import apply_to
from tinygrad_lite.ops import Expand, Log

RNG = np.random.default_rng(0)


def _values(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 2.0, shape)


# ------------------------------------------------------------------ Functions under test


class Cube(tl.Function):
    """out = x**3    dx = grad * 3*x**2"""

    scale = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**3

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * (3 * x * x) * self.scale


class CubeOffByAPermille(Cube):
    scale = 1.001


class CubeWrongSign(Cube):
    scale = -1.0


class Mul(tl.Function):
    """out = x * y (same shapes)    dx = grad * y    dy = grad * x"""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x * y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * y, grad * x


class MulSwapped(Mul):
    """Each input gets the gradient that belongs to the other one."""

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * x, grad * y


class MulWrongForY(Mul):
    """Right for x, wrong for y."""

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad * y, grad * y


class BroadcastAdd(tl.Function):
    """out = x + y with numpy broadcasting    dx = grad    dy = grad summed to y's shape"""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.y_shape = y.shape
        return x + y

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, grad.sum(axis=0).reshape(self.y_shape)


class BroadcastAddUnreduced(BroadcastAdd):
    """Forgets that y was broadcast: returns grad, of out's shape, for y too."""

    def backward(self, grad: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        return grad, grad


class Flip(tl.Function):
    """out = x reversed    dx = grad reversed"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x[::-1].copy()

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad[::-1]


class FlipUnflipped(Flip):
    """Its gradient is right for out.sum() (all ones) and wrong for the Jacobian."""

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad


class LogSquare(tl.Function):
    """out = log(x)**2    dx = grad * 2*log(x)/x"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x) ** 2

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        return grad * 2 * apply_to(Log, x) / x


class LogSquareDataInBackward(LogSquare):
    """Right first derivative, but x.data cuts it from the graph: d/dx of the rule is lost."""

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        x = x.data if isinstance(x, Tensor) else x
        return grad * 2 * np.log(x) / x


class LogSquareDataGrad(LogSquare):
    """Right first derivative, but grad.data makes the rule a constant in grad."""

    def backward(self, grad: Any, x: Any, out: Any) -> Any:
        grad = grad.data if isinstance(grad, Tensor) else grad
        return grad * 2 * apply_to(Log, x) / x


# ------------------------------------------------------------- wrong rules are caught


def test_a_correct_rule_passes() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    assert gradcheck(Cube.apply, x)
    assert gradcheck(Mul.apply, x, Tensor(_values(2, 3), requires_grad=True))
    assert gradcheck(BroadcastAdd.apply, x, Tensor(_values(3), requires_grad=True))
    assert gradcheck(Flip.apply, Tensor(_values(4), requires_grad=True))


def test_a_gradient_off_by_a_factor_1_001_fails() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    # The default rtol (1e-3, PyTorch's) admits 0.1% error, so a 0.1% error is caught
    # with a tighter rtol: float64 central differences are good to about 1e-9 here.
    assert gradcheck(Cube.apply, x, rtol=1e-5)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(CubeOffByAPermille.apply, x, rtol=1e-5)
    assert caught.value.rel_error == pytest.approx(1e-3, rel=1e-4)


def test_a_gradient_with_the_wrong_sign_fails() -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck(CubeWrongSign.apply, Tensor(_values(3), requires_grad=True))
    assert caught.value.analytic == pytest.approx(-caught.value.numeric)


def test_a_gradient_for_the_wrong_input_fails_and_names_the_input() -> None:
    x = Tensor(_values(2, 2), requires_grad=True)
    y = Tensor(_values(2, 2) + 3.0, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 2\)\)") as caught:
        gradcheck(MulSwapped.apply, x, y)
    assert caught.value.input_index == 0
    # With only y checked, the failure is reported for y, at its position.
    with pytest.raises(GradcheckError, match="input 1") as caught:
        gradcheck(MulSwapped.apply, x.detach(), y)
    assert caught.value.input_index == 1


def test_a_forgotten_broadcast_reduction_fails_with_the_engines_message() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    y = Tensor(_values(3), requires_grad=True)
    with pytest.raises(GradcheckError, match="backward pass of f failed") as caught:
        gradcheck(BroadcastAddUnreduced.apply, x, y)
    message = str(caught.value)
    assert "gradient of shape (2, 3) for an input of shape (3,)" in message
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_each_output_element_is_checked() -> None:
    # FlipUnflipped is right for the gradient of out.sum() and wrong for every other
    # output gradient: only a check of the whole Jacobian sees it.
    x = Tensor(_values(4), requires_grad=True)
    assert gradcheck(lambda x: FlipUnflipped.apply(x).sum(), x)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(FlipUnflipped.apply, x)
    error = caught.value
    assert error.index is not None and error.output_index is not None
    # The rule claims d out[j]/d x[k] = (j == k); the truth is (j + k == 3).
    (j,), (k,) = error.output_index, error.index
    assert (error.analytic, error.numeric) == pytest.approx((float(j == k), float(j + k == 3)))
    assert "(8 of 16 values disagree)" in str(error)


def test_the_error_names_the_worst_element_with_both_values_and_errors() -> None:
    data = np.array([[0.5, 1.0, 1.5], [2.0, -1.0, 0.25]])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: a * CubeWrongSign.apply(b), 1.0, data)
    error = caught.value
    # d/db (-b**3) would be -3b**2; the rule says +3b**2: worst where b**2 is largest.
    assert error.input_index == 1
    assert error.index == (1, 0) and error.output_index == (1, 0)
    assert error.analytic == pytest.approx(-12.0)
    assert error.numeric == pytest.approx(12.0, rel=1e-8)
    assert error.abs_error == pytest.approx(24.0, rel=1e-8)
    assert error.rel_error == pytest.approx(2.0, rel=1e-8)
    message = str(error)
    for text in (
        "gradcheck: input 1 (shape (2, 3))",
        "at element (1, 0) (output element (1, 0))",
        "analytic -12",
        "numeric  12",
        "absolute error 24",
        "relative error 2 > tolerance 0.01201 (atol + rtol*|numeric| + rounding in f, 7.1e-09)",
        "(6 of 36 values disagree)",
    ):
        assert text in message, f"{text!r} not in {message!r}"


def test_the_tolerance_allows_for_rounding_in_large_values_of_f() -> None:
    # f(x) = x + 1e8 is computed to 1.5e-8, so its central difference is good to about
    # 1e-2: without an allowance for that, a right gradient failed rtol=1e-3.
    assert gradcheck(lambda x: x + 1e8, [1.0, 2.0])
    assert gradcheck(lambda x: x + 1e8, [1.0, 2.0], mode="direction")
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: CubeOffByAPermille.apply(x) * 100 + 1e8, [1.0, 2.0], rtol=1e-5)
    # h of gradgradcheck reaches 3.5e5 here, and its difference loses 4 digits more than
    # the tight tolerance of the property tests allowed.
    base = Tensor(0.125, requires_grad=True)
    exponent = Tensor(np.full((3, 3, 1), -4.0), requires_grad=True)
    assert gradgradcheck(lambda x, y: x**y, base, exponent, atol=1e-6, rtol=1e-5)


def test_gradcheck_error_is_an_assertion_error() -> None:
    assert issubclass(GradcheckError, AssertionError)


def test_a_non_finite_gradient_is_a_failure_that_says_so() -> None:
    with pytest.raises(GradcheckError, match="not finite"):
        gradcheck(lambda x: x.log(), np.array([0.0, 1.0]))


# -------------------------------------------------------------------- gradgradcheck


def test_gradgradcheck_passes_a_rule_that_is_differentiable() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    assert gradgradcheck(LogSquare.apply, x)
    assert gradgradcheck(Mul.apply, x, Tensor(_values(2, 3), requires_grad=True))
    assert gradgradcheck(lambda x, y: (x * y.exp()).sum(axis=0), x, _values(3))


def test_gradgradcheck_fails_when_the_backward_uses_data() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    assert gradcheck(LogSquareDataInBackward.apply, x)  # the first derivative is right
    with pytest.raises(GradcheckError, match="gradgradcheck: input 0") as caught:
        gradgradcheck(LogSquareDataInBackward.apply, x)
    assert "second derivative" in str(caught.value)
    assert caught.value.analytic == 0.0  # x.data left the graph: nothing flowed back


def test_gradgradcheck_fails_when_the_backward_is_constant_in_grad() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    assert gradcheck(LogSquareDataGrad.apply, x)
    # d/dx is still recorded, but not d/du, the derivative in the output gradient u.
    with pytest.raises(GradcheckError, match="the output gradient u") as caught:
        gradgradcheck(LogSquareDataGrad.apply, x)
    assert caught.value.input_index == 1


def test_gradgradcheck_reports_a_backward_that_fails() -> None:
    x = Tensor(_values(2, 3), requires_grad=True)
    y = Tensor(_values(3), requires_grad=True)
    with pytest.raises(GradcheckError, match="gradgradcheck: the backward pass of f failed"):
        gradgradcheck(lambda x, y: BroadcastAddUnreduced.apply(x, y) * x, x, y)


# ------------------------------------------------------------------ random directions


def test_direction_mode_passes_right_rules_and_fails_wrong_ones() -> None:
    x = Tensor(_values(5, 4), requires_grad=True)
    y = Tensor(_values(5, 4), requires_grad=True)
    assert gradcheck(Mul.apply, x, y, mode="direction")
    assert gradgradcheck(Mul.apply, x, y, mode="direction")
    with pytest.raises(GradcheckError, match="along random direction v number") as caught:
        gradcheck(MulSwapped.apply, x, y, mode="direction")
    assert caught.value.index is None and caught.value.output_index is None
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(LogSquareDataInBackward.apply, x, mode="direction")


def test_direction_mode_is_chosen_for_a_large_jacobian_and_is_seeded() -> None:
    # 100 x 100 inputs to a 100 x 100 output: 10**8 Jacobian entries, too many to check.
    x = Tensor(_values(100, 100), requires_grad=True)
    with pytest.raises(GradcheckError, match="random direction") as first:
        gradcheck(CubeWrongSign.apply, x)
    with pytest.raises(GradcheckError) as again:
        gradcheck(CubeWrongSign.apply, x)
    assert first.value.analytic == again.value.analytic  # the same seed, the same directions
    with pytest.raises(GradcheckError) as other:
        gradcheck(CubeWrongSign.apply, x, seed=1)
    assert other.value.analytic != first.value.analytic
    assert gradcheck(Cube.apply, x)


def test_direction_mode_catches_a_wrong_jacobian_that_sums_right() -> None:
    x = Tensor(_values(50), requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(FlipUnflipped.apply, x, mode="direction")


# -------------------------------------------------------------------- inputs and dtypes


def test_float32_inputs_warn_and_are_checked_in_float64() -> None:
    data = _values(2, 3).astype(np.float32)
    x = Tensor(data, requires_grad=True)
    # In float32 a step of 1e-6 is lost in rounding (its spacing near 1 is 1.2e-7), so
    # these checks pass only because they are made in float64.
    with pytest.warns(GradcheckWarning, match=r"input\(s\) \[0\] are float32"):
        assert gradcheck(lambda x: (x * x).exp(), x)
    with pytest.warns(GradcheckWarning):
        assert gradgradcheck(lambda x: (x * x).exp(), x)
    assert x.dtype == np.float32 and np.array_equal(x.data, data)
    assert issubclass(GradcheckWarning, UserWarning)


def test_numbers_lists_and_arrays_are_checked_as_inputs_that_require_grad() -> None:
    assert gradcheck(lambda x, y: x * y, 2.0, [[1.0, 3.0]])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(CubeWrongSign.apply, np.array([1.0, 2.0]))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(CubeWrongSign.apply, 1.5)


def test_a_tensor_that_does_not_require_grad_is_a_constant() -> None:
    x = Tensor(_values(3), requires_grad=True)
    y = Tensor(_values(3))
    # The rule for y is wrong, and y is not checked: only x is.
    assert gradcheck(MulWrongForY.apply, x, y)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(MulWrongForY.apply, x, y.numpy())


def test_the_callers_tensors_grads_and_data_are_left_alone() -> None:
    data = _values(2, 3)
    x = Tensor(data, requires_grad=True)
    (x * x).sum().backward()
    grad_before = x.grad
    assert grad_before is not None
    grad_values = grad_before.numpy()
    array = data.copy()
    assert gradcheck(lambda x, a: (x * a).sum(), x, array)
    assert gradgradcheck(lambda x, a: (x * a).sigmoid(), x, array)
    with pytest.raises(GradcheckError):
        gradcheck(CubeWrongSign.apply, x)
    assert x.grad is grad_before and np.array_equal(x.grad.data, grad_values)
    assert np.array_equal(x.data, data) and np.array_equal(array, data)
    assert x._version == 0 and x.requires_grad and x.is_leaf


def test_it_works_under_no_grad_and_for_outputs_that_ignore_their_input() -> None:
    x = Tensor(_values(3), requires_grad=True)
    with tl.no_grad():
        assert gradcheck(lambda x: x.tanh(), x)
    assert gradcheck(lambda x: x, x)  # the output is the input
    assert gradcheck(lambda x: Tensor([1.0, 2.0]), x)  # a constant: zero gradient
    assert gradgradcheck(lambda x: x * 2, x)  # a zero second derivative
    assert gradcheck(lambda x: x * 2, Tensor(np.zeros((0, 3)), requires_grad=True))


def test_bad_arguments_are_clear_errors() -> None:
    x = Tensor(_values(3), requires_grad=True)
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, Tensor([1.0]))
    with pytest.raises(TypeError, match="f must return a Tensor, got float"):
        gradcheck(lambda x: 1.0, x)
    with pytest.raises(TypeError, match="input 1 is str"):
        gradcheck(lambda x, s: x, x, "sum")
    with pytest.raises(TypeError, match="input 0 is bool"):
        gradcheck(lambda x: x, True)
    with pytest.raises(ValueError, match="eps must be a number > 0"):
        gradcheck(lambda x: x, x, eps=0.0)
    with pytest.raises(ValueError, match="rtol must be a number >= 0"):
        gradcheck(lambda x: x, x, rtol=-1.0)
    with pytest.raises(ValueError, match="mode must be one of auto, full, direction"):
        gradcheck(lambda x: x, x, mode="fast")
    with pytest.raises(ValueError, match="directions must be an int >= 1"):
        gradgradcheck(lambda x: x, x, directions=0)


def test_no_warning_leaks_from_the_checks() -> None:
    # pytest turns warnings into errors; here that is asserted explicitly.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda x: (x / x.sum()).log(), _values(4))
        with pytest.raises(GradcheckError):
            gradcheck(lambda x: (x - 1.0).sqrt(), np.array([1.0, 2.0]))


def test_a_broadcasting_user_op_passes_with_the_expand_primitive() -> None:
    # The way a user op gets broadcasting right: expand first, then a same-shape op.
    x = Tensor(_values(2, 3), requires_grad=True)
    y = Tensor(_values(3), requires_grad=True)
    assert gradcheck(lambda x, y: Mul.apply(x, Expand.apply(y, shape=(2, 3))), x, y)
    assert gradgradcheck(lambda x, y: Mul.apply(x, Expand.apply(y, shape=(2, 3))), x, y)
