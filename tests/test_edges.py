"""Numerical edge cases with a defined answer: IEEE values forward, PyTorch's conventions
backward, and never a numpy warning. docs/ops.md ("Conventions at the edges") lists them.

Each case runs under ``np.errstate(all="raise")``: numpy would raise FloatingPointError
at the first division by zero, overflow or invalid operation unless the framework itself
silences it (``grad_mode.fp_quiet``), so a passing case proves the silence is ours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor

inf, nan = np.inf, np.nan


def value_and_grad(f: Callable[[Tensor], Tensor], x: Any) -> tuple[np.ndarray, np.ndarray]:
    t = Tensor(x, requires_grad=True)
    with np.errstate(all="raise"):
        out = f(t)
        out.backward(np.ones(out.shape))
    assert t.grad is not None
    return np.asarray(out.data), t.grad.data


# name: (f, x, the value, the gradient); each gradient is PyTorch's for the same op.
EDGES: dict[str, tuple[Callable[[Tensor], Tensor], Any, Any, Any]] = {
    "log(0) = -inf, slope +inf": (Tensor.log, [0.0], [-inf], [inf]),
    "log(-1) = nan": (Tensor.log, [-1.0], [nan], [-1.0]),
    "sqrt(0) = 0, slope +inf": (Tensor.sqrt, [0.0], [0.0], [inf]),
    "sqrt(-1) = nan": (Tensor.sqrt, [-1.0], [nan], [nan]),
    "relu'(0) = 0": (Tensor.relu, [0.0, -0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]),
    "abs'(0) = 0": (Tensor.abs, [0.0, -0.0, -2.0], [0.0, 0.0, 2.0], [0.0, 0.0, -1.0]),
    "max: ties share": (Tensor.max, [1.0, 3.0, 3.0], 3.0, [0.0, 0.5, 0.5]),
    "max over an axis: ties share": (
        lambda t: t.max(axis=1),
        [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]],
        [3.0, 2.0],
        [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]],
    ),
    "max with nan: nan, slope to the nan": (Tensor.max, [1.0, nan, 3.0], nan, [0.0, 1.0, 0.0]),
    "sigmoid(-1e4) = 0, sigmoid(1e4) = 1": (Tensor.sigmoid, [-1e4, 1e4], [0.0, 1.0], [0.0, 0.0]),
    "tanh(+-1e4) = +-1": (Tensor.tanh, [-1e4, 1e4], [-1.0, 1.0], [0.0, 0.0]),
    "exp(1000) = inf": (Tensor.exp, [1000.0, -1000.0], [inf, 0.0], [inf, 0.0]),
    "x / 0": (lambda t: t / 0.0, [1.0, -1.0, 0.0], [inf, -inf, nan], [inf, inf, inf]),
    "0 / 0 through both": (lambda t: t / t, [0.0], [nan], [nan]),
    "1 / x at 0": (lambda t: 1.0 / t, [0.0], [inf], [-inf]),
    "inf - inf = nan, slope 1": (lambda t: t - inf, [inf], [nan], [1.0]),
    "inf * 0 = nan, slope 0": (lambda t: t * 0.0, [inf], [nan], [0.0]),
    "x**0 = 1, slope 0 even at 0": (lambda t: t**0, [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]),
    "x**2 at 0": (lambda t: t**2, [0.0], [0.0], [0.0]),
    "x**-1 at 0": (lambda t: t**-1, [0.0], [inf], [-inf]),
    "0**y: slope 0 for y >= 0": (
        lambda t: Tensor(0.0) ** t,
        [0.0, 2.0, -1.0],
        [1.0, 0.0, inf],
        [0.0, 0.0, -inf],
    ),
    "sum of nothing = 0": (Tensor.sum, np.zeros((0, 3)), 0.0, np.zeros((0, 3))),
    "mean of nothing = nan": (Tensor.mean, np.zeros(0), nan, np.zeros(0)),
    "mean over an empty axis": (
        lambda t: t.mean(axis=1),
        np.zeros((2, 0)),
        [nan, nan],
        np.zeros((2, 0)),
    ),
    "maximum at a tie: half each": (lambda t: t.maximum(t * 1.0), [2.0], [2.0], [1.0]),
    "maximum at a tie with a constant": (lambda t: t.maximum(1.0), [1.0], [1.0], [0.5]),
    "maximum with a nan: the whole gradient": (lambda t: t.maximum(0.0), [nan], [nan], [1.0]),
    "clip at its bounds: both included": (
        lambda t: t.clip(-1.0, 1.0),
        [-1.0, 1.0, 2.0],
        [-1.0, 1.0, 1.0],
        [1.0, 1.0, 0.0],
    ),
    "softmax at +-1000": (lambda t: t.softmax(), [1000.0, -1000.0], [1.0, 0.0], [0.0, 0.0]),
    "log_softmax at +-1000": (
        lambda t: t.log_softmax(),
        [1000.0, -1000.0],
        [0.0, -2000.0],
        [-1.0, 1.0],
    ),
    "logsumexp of all -inf": (Tensor.logsumexp, [-inf, -inf], -inf, [nan, nan]),
    "var of one element": (Tensor.var, [3.0], nan, [nan]),
    "std of equal elements: slope 0": (Tensor.std, [2.0, 2.0], 0.0, [0.0, 0.0]),
}


@pytest.mark.parametrize("case", EDGES.values(), ids=EDGES.keys())
def test_edge(case: tuple[Callable[[Tensor], Tensor], Any, Any, Any]) -> None:
    f, x, value, grad = case
    out, dx = value_and_grad(f, x)
    np.testing.assert_array_equal(out, np.asarray(value))
    np.testing.assert_allclose(dx, np.asarray(grad), rtol=1e-15, atol=0)
    assert dx.shape == np.shape(x)


def test_the_full_max_and_the_max_over_every_axis_agree() -> None:
    # PyTorch splits a tie evenly for t.max() and t.amax(dim) but gives all of it to one
    # index for t.max(dim); we split evenly everywhere, so the axes asked for never matter.
    x = [[1.0, 3.0], [3.0, 2.0]]
    _, full = value_and_grad(Tensor.max, x)
    _, both = value_and_grad(lambda t: t.max(axis=(0, 1)), x)
    _, nested = value_and_grad(lambda t: t.max(axis=1).max(), x)
    np.testing.assert_array_equal(full, [[0.0, 0.5], [0.5, 0.0]])
    np.testing.assert_array_equal(both, full)
    np.testing.assert_array_equal(nested, full)


def test_max_over_an_empty_axis_is_refused_as_in_numpy() -> None:
    with pytest.raises(ValueError, match="max: axis 0 .* is empty"):
        Tensor(np.zeros((0, 3))).max()
    assert Tensor(np.zeros((0, 3))).max(axis=1).shape == (0,)  # no row, but no row is empty


def test_float32_keeps_its_own_limits() -> None:
    t = Tensor([100.0, -100.0], dtype=np.float32, requires_grad=True)
    with np.errstate(all="raise"):
        out = t.exp()
        out.backward(np.ones(2, dtype=np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.array([inf, np.exp(np.float32(-100))], np.float32))
    np.testing.assert_array_equal(t.grad.data, out.data)


def test_a_nan_does_not_leak_into_unrelated_gradients() -> None:
    # x.log() at a negative x is nan, but only that element's gradient is touched.
    x = Tensor([-1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    with np.errstate(all="raise"):
        (x.log() + w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.5])


def test_second_derivatives_at_the_edges() -> None:
    with np.errstate(all="raise"):
        d2_log = tl.grad(lambda x: tl.grad(lambda x: x.log().sum())(x).sum())(Tensor([0.0, 2.0]))
        d2_pow0 = tl.grad(lambda x: tl.grad(lambda x: (x**0).sum())(x).sum())(Tensor([0.0]))
    np.testing.assert_array_equal(d2_log.data, [-inf, -0.25])  # -1/x**2
    np.testing.assert_array_equal(d2_pow0.data, [0.0])


# ------------------------------------------------------------- and detect_anomaly stops there


def test_detect_anomaly_reports_log_of_zero_and_names_log() -> None:
    x = Tensor([1.0, 0.0], requires_grad=True)
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError) as caught:
        x.log()
    assert (caught.value.op, caught.value.phase) == ("log", "forward")
    assert "produced -inf" in str(caught.value)


@pytest.mark.parametrize("case", EDGES.values(), ids=EDGES.keys())
def test_detect_anomaly_stops_at_every_edge_that_is_not_finite(
    case: tuple[Callable[[Tensor], Tensor], Any, Any, Any],
) -> None:
    # The table's non-finite values and gradients are exactly what detect_anomaly reports;
    # a row that is finite throughout runs through it untouched.
    f, x, value, grad = case
    finite = bool(np.isfinite(value).all() and np.isfinite(grad).all())
    t = Tensor(x, requires_grad=True)
    if finite:
        with tl.detect_anomaly():
            out = f(t)
            out.backward(np.ones(out.shape))
        return
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError):
        out = f(t)
        out.backward(np.ones(out.shape))
