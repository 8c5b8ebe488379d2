"""tl.detect_anomaly(): the first NaN or inf, forward or backward, and the op that made it."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite.grad_mode import _mode


def test_log_of_zero_is_caught_in_forward() -> None:
    x = tl.Tensor([[1.0, 0.0]], requires_grad=True)
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError) as caught:
        (x.log() * 2).sum()
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert (error.op, error.phase) == ("log", "forward")
    assert error.input_shapes == ((1, 2),) and error.inputs_finite == (True,)
    assert str(error) == (
        "log (forward) produced -inf in its output (1, 2) (1 of 2 elements); "
        "its inputs: x (1, 2) finite"
    )
    assert _mode.observers == ()  # the block is left cleanly


def test_a_nan_made_by_a_backward_rule_names_that_op() -> None:
    # sqrt at 0 has an infinite slope; times the 0 of the next op it is 0 * inf = nan.
    x = tl.Tensor([4.0, 0.0], requires_grad=True)
    loss = (x.sqrt() * tl.Tensor([1.0, 0.0])).sum()
    assert np.isfinite(loss.item())
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError) as caught:
        loss.backward()
    error = caught.value
    assert (error.op, error.phase) == ("sqrt", "backward")
    assert error.inputs_finite == (True,)
    assert "produced nan in the gradient it returned for input x" in str(error)
    assert "the incoming gradient (2,) was finite" in str(error)
    assert x.grad is None


def test_a_bad_value_from_a_leaf_says_the_inputs_were_not_finite() -> None:
    x = tl.Tensor([1.0, np.nan])
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match=r"x \(2,\) NOT finite") as c:
        x + 1
    assert (c.value.op, c.value.inputs_finite) == ("add", (False, True))
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match="div .forward. produced inf"):
        tl.Tensor(1.0) / tl.Tensor(0.0)


def test_under_create_graph_the_op_inside_the_rule_is_named() -> None:
    # A recorded backward runs log's rule, grad / x, as a div op: that op makes the inf.
    x = tl.Tensor(0.0, requires_grad=True)
    y = x.log()
    with tl.detect_anomaly(), pytest.raises(tl.AnomalyError, match="div .forward. produced inf"):
        y.backward(create_graph=True)


def test_finite_work_passes_and_nothing_is_checked_outside() -> None:
    w = tl.Tensor([[0.5], [-1.0]], requires_grad=True)
    with tl.detect_anomaly():
        loss = (tl.Tensor([[1.0, 2.0]]) @ w).sigmoid().sum()
        loss.backward()
    np.testing.assert_allclose(w.grad.data, [[0.14914645], [0.2982929]])
    assert tl.Tensor(0.0).log().item() == -np.inf  # IEEE, silently, outside the block
    with pytest.raises(RuntimeError, match="already active"):
        detector = tl.detect_anomaly()
        with detector, detector:
            pass
