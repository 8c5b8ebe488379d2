"""nn.utils.clip_grad_norm_ and clip_grad_value_: PyTorch's formulas, in place, checked."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lite import Tensor, nn
from tinygrad_lite.tools.testing import arrays


def with_grads(*grads: Any) -> list[Tensor]:
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g)), requires_grad=True)
        p.grad = Tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_scales_by_max_norm_over_the_total_norm() -> None:
    params = with_grads([3.0, 0.0], [[0.0], [4.0]])  # one vector [3, 0, 0, 4]: norm 5
    before = [p.grad for p in params]
    total = nn.utils.clip_grad_norm_(params, max_norm=2.0)
    assert isinstance(total, Tensor) and total.shape == () and total.item() == 5.0
    coef = 2.0 / (5.0 + 1e-6)
    assert params[0].grad.tolist() == [3.0 * coef, 0.0]
    assert params[1].grad.tolist() == [[0.0], [4.0 * coef]]
    assert [p.grad for p in params] == before  # the same Tensors, changed in place
    assert all(p.grad._version > 0 for p in params)


def test_a_norm_below_max_norm_leaves_the_gradients_as_they_are() -> None:
    params = with_grads([0.3, 0.4])
    # 0.5 / (0.5 + 1e-6) is below 1: PyTorch's formula scales by it, a hair's breadth.
    assert nn.utils.clip_grad_norm_(params, 0.6).item() == pytest.approx(0.5)
    assert params[0].grad.tolist() == [0.3, 0.4] and params[0].grad._version == 0


@pytest.mark.parametrize(
    "norm_type, total",
    [(1, 14.0), (2, math.sqrt(9 + 16 + 25 + 4)), (3.0, (27 + 64 + 125 + 8) ** (1 / 3))],
)
def test_the_total_is_the_p_norm_of_all_gradients_as_one_vector(
    norm_type: float, total: float
) -> None:
    params = with_grads([3.0, -4.0], [5.0], [[-2.0]])
    assert nn.utils.clip_grad_norm_(params, 100.0, norm_type).item() == pytest.approx(total)


def test_the_inf_norm_is_the_largest_absolute_value() -> None:
    params = with_grads([3.0, -7.0], [5.0])
    assert nn.utils.clip_grad_norm_(params, 1.0, norm_type=math.inf).item() == 7.0
    assert params[0].grad.tolist() == pytest.approx([3 / 7, -1.0], rel=1e-6)


def test_no_gradients_give_a_total_of_zero_and_none_is_skipped() -> None:
    p = Tensor([1.0], requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
    q = with_grads([30.0, 40.0])[0]
    assert nn.utils.clip_grad_norm_([p, q, q], 5.0).item() == 50.0  # q counted once
    assert p.grad is None and q.grad.tolist() == pytest.approx([3.0, 4.0], rel=1e-6)
    assert nn.utils.clip_grad_norm_(q, 1.0).item() == pytest.approx(5.0)  # a single Tensor


def test_a_nonfinite_norm_makes_nan_or_raises_if_asked() -> None:
    params = with_grads([np.inf, 1.0])
    assert nn.utils.clip_grad_norm_(params, 1.0).item() == math.inf
    assert params[0].grad.tolist()[1] == 0.0 and np.isnan(params[0].grad.data[0])  # coef 0
    params = with_grads([np.nan, 1.0])
    nn.utils.clip_grad_norm_(params, 1.0)
    assert np.isnan(params[0].grad.data).all()  # as in PyTorch
    params = with_grads([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert params[0].grad.data[1] == 1.0  # nothing changed


def test_float32_gradients_stay_float32() -> None:
    p = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.array([30.0, 40.0], dtype=np.float32))
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total.dtype == np.float32 and p.grad.dtype == np.float32


@given(
    arrays(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_value=-1e3, max_value=1e3),
    st.floats(0.0, 100.0),
)
def test_after_clipping_the_norm_is_at_most_max_norm(g: np.ndarray, max_norm: float) -> None:
    (p,) = with_grads(g)
    total = nn.utils.clip_grad_norm_([p], max_norm).item()
    assert total == pytest.approx(np.linalg.norm(g))
    after = np.linalg.norm(p.grad.data)
    assert after <= max_norm * (1 + 1e-12) or after == pytest.approx(total, rel=1e-15)
    if total > max_norm + 1e-3:
        assert after == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_value_clamps_each_value() -> None:
    params = with_grads([-3.0, 0.5, 2.0, np.nan], [[10.0]])
    assert nn.utils.clip_grad_value_(params, 1.0) is None
    assert params[0].grad.data[:3].tolist() == [-1.0, 0.5, 1.0]
    assert np.isnan(params[0].grad.data[3]) and params[1].grad.tolist() == [[1.0]]
    nn.utils.clip_grad_value_(params[1], 0)  # a single Tensor; clip_value 0 zeroes
    assert params[1].grad.tolist() == [[0.0]]


def test_clipping_a_gradient_that_a_graph_holds_is_refused() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)  # x.grad = 3x**2, part of a graph
    with pytest.raises(RuntimeError, match="part of a graph"):
        nn.utils.clip_grad_norm_([x], 1.0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda ps: nn.utils.clip_grad_norm_(ps, -1.0), ValueError, "max_norm must be a number"),
        (lambda ps: nn.utils.clip_grad_norm_(ps, math.nan), ValueError, "max_norm"),
        (lambda ps: nn.utils.clip_grad_norm_(ps, "1"), TypeError, "max_norm must be a real"),
        (lambda ps: nn.utils.clip_grad_norm_(ps, 1.0, 0), ValueError, "norm_type must be above"),
        (lambda ps: nn.utils.clip_grad_norm_(ps, 1.0, -2), ValueError, "norm_type"),
        (lambda ps: nn.utils.clip_grad_norm_(ps, 1, error_if_nonfinite=1), TypeError, "True or"),
        (lambda ps: nn.utils.clip_grad_value_(ps, -0.5), ValueError, "clip_value must be a"),
        (lambda ps: nn.utils.clip_grad_value_(ps, None), TypeError, "clip_value must be a real"),
        (lambda ps: nn.utils.clip_grad_norm_(ps + [np.ones(2)], 1.0), TypeError, "parameter 1"),
        (lambda ps: nn.utils.clip_grad_norm_(nn.Linear(1, 1), 1.0), TypeError, "pass its .par"),
        (lambda ps: nn.utils.clip_grad_value_(3, 1.0), TypeError, "got int"),
    ],
)
def test_bad_arguments_are_clear_errors(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(with_grads([1.0, 2.0]))


def test_a_grad_that_is_not_a_tensor_is_a_clear_error() -> None:
    p = Tensor([1.0], requires_grad=True)
    p.grad = np.ones(1)  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"parameter 0 has a \.grad of ndarray"):
        nn.utils.clip_grad_value_([p], 1.0)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
def test_against_pytorch(norm_type: float) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(5, 3)) * 10, rng.normal(size=7), rng.normal(size=())]
    ours = with_grads(*grads)
    theirs = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in grads]
    for q, g in zip(theirs, grads):
        q.grad = torch.from_numpy(np.array(g))
    total = nn.utils.clip_grad_norm_(ours, 2.0, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, 2.0, norm_type, foreach=False)
    assert total.item() == pytest.approx(their_total.item(), rel=1e-14)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-14, atol=0)
    nn.utils.clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1, foreach=False)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())
