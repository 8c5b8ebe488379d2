"""Every error the core raises: its type, and a message that says what was given and what
is accepted."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from tinygrad_lite import Function, Tensor

# ------------------------------------------------------------------------- construction


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


# ---------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("keepdim", [1, 0, "yes", None])
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_bad_keepdim(op: str, keepdim: Any) -> None:
    with pytest.raises(TypeError, match=rf"^{op}: keepdim must be True or False, got"):
        getattr(Tensor(np.ones((2, 3))), op)(axis=0, keepdim=keepdim)
