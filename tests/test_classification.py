"""Classification: softmax, log_softmax, logsumexp, cross_entropy, nll_loss and one_hot.

Values and gradients against the numpy formulas of ``ops.CrossEntropy``'s docstring (to the
bit, as a hand-written twin must reproduce them), against finite differences (first and
second order), at logits of +-1000, against PyTorch where it is installed, and every bad
input a clear error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, testing

TOLERANCE = {"atol": 1e-6, "rtol": 1e-5}
REDUCTIONS = ["mean", "sum", "none"]


def _docstring_formulas(x: np.ndarray, labels: np.ndarray, grad: float) -> tuple[Any, Any]:
    """The loss (mean) and dx, written as CrossEntropy's docstring writes them."""
    n = len(x)
    z = x - np.max(x, axis=1, keepdims=True)
    s = np.sum(np.exp(z), axis=1, keepdims=True)
    loss = np.log(s)[:, 0] - z[np.arange(n), labels]
    out = np.sum(loss) / n
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    onehot = np.zeros_like(x)
    onehot[np.arange(n), labels] = 1.0
    dx = (p - onehot) * (np.array(grad) / n)
    return out, dx


# ------------------------------------------------------------------ the fused rule


def test_cross_entropy_is_its_docstrings_numpy_steps_to_the_bit() -> None:
    rng = np.random.default_rng(0)
    for n, classes in [(1, 1), (7, 10), (64, 10), (5, 3)]:
        x = rng.normal(size=(n, classes)) * 4
        labels = rng.integers(0, classes, n)
        logits = Tensor(x, requires_grad=True)
        loss = nn.cross_entropy(logits, labels)
        loss.backward()
        out, dx = _docstring_formulas(x, labels, 1.0)
        assert loss.item() == out
        assert logits.grad is not None and np.array_equal(logits.grad.data, dx)


def test_the_gradient_is_softmax_minus_the_target() -> None:
    x = np.array([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    for target in (y, np.array([1, 2])):
        logits = Tensor(x, requires_grad=True)
        nn.cross_entropy(logits, target, reduction="sum").backward()
        onehot = nn.one_hot(target, 3).numpy() if target.ndim == 1 else y
        assert logits.grad is not None
        assert np.array_equal(logits.grad.data, Tensor(x).softmax(1).numpy() - onehot)


def test_probability_targets_that_are_one_hot_give_the_index_results_to_the_bit() -> None:
    rng = np.random.default_rng(1)
    x, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    for reduction in REDUCTIONS:
        a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
        la = nn.cross_entropy(a, labels, reduction=reduction)
        lb = nn.cross_entropy(b, nn.one_hot(labels, 4), reduction=reduction)
        assert np.array_equal(la.numpy(), lb.numpy())
        la.sum().backward()
        lb.sum().backward()
        assert a.grad is not None and b.grad is not None
        assert np.array_equal(a.grad.data, b.grad.data)


def test_nll_of_log_softmax_is_cross_entropy() -> None:
    rng = np.random.default_rng(2)
    x, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    for reduction in REDUCTIONS:
        a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
        la = nn.cross_entropy(a, labels, reduction=reduction)
        lb = nn.nll_loss(b.log_softmax(axis=1), labels, reduction=reduction)
        assert np.allclose(la.numpy(), lb.numpy(), rtol=1e-14, atol=1e-15)
        la.sum().backward()
        lb.sum().backward()
        assert a.grad is not None and b.grad is not None
        assert np.allclose(a.grad.data, b.grad.data, rtol=1e-13, atol=1e-16)


def test_labels_may_be_a_tensor_of_whole_floats_or_a_list() -> None:
    x = Tensor([[1.0, 2.0], [3.0, -1.0]])
    expected = nn.cross_entropy(x, np.array([1, 0])).item()
    assert nn.cross_entropy(x, Tensor([1.0, 0.0])).item() == expected
    assert nn.cross_entropy(x, [1, 0]).item() == expected
    assert nn.cross_entropy(x, np.array([1, 0], dtype=np.uint8)).item() == expected


# ----------------------------------------------------------------------- stability


def test_stable_at_logits_of_plus_and_minus_1000() -> None:
    x = Tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    assert np.array_equal(x.softmax(1).numpy()[0], [1.0, 0.0, 0.0])
    assert np.allclose(x.softmax(1).numpy()[1], 1 / 3)
    assert np.array_equal(x.log_softmax(1).numpy()[0], [0.0, -2000.0, -1000.0])
    assert np.allclose(x.logsumexp(axis=1).numpy(), [1000.0, -1000.0 + np.log(3)], rtol=1e-15)
    loss = nn.cross_entropy(x, [1, 0], reduction="none")
    assert np.allclose(loss.numpy(), [2000.0, np.log(3)], rtol=1e-15)
    loss.sum().backward()
    assert x.grad is not None
    assert np.allclose(x.grad.data, [[1.0, -1.0, 0.0], [-2 / 3, 1 / 3, 1 / 3]], atol=1e-15)
    for f in (lambda t: t.softmax(1), lambda t: t.log_softmax(0), lambda t: t.logsumexp()):
        t = Tensor([[1000.0, -1000.0], [999.0, 0.0]], requires_grad=True)
        out = f(t)
        out.sum().backward()
        assert np.all(np.isfinite(out.numpy())) and t.grad is not None
        assert np.all(np.isfinite(t.grad.data))


def test_logsumexp_at_the_edges_follows_pytorch() -> None:
    assert Tensor([-np.inf, -np.inf]).logsumexp().item() == -np.inf
    assert Tensor([np.inf, 1.0]).logsumexp().item() == np.inf
    assert Tensor.zeros(0).logsumexp().item() == -np.inf  # log of an empty sum
    assert np.isnan(Tensor([np.nan, 1.0]).logsumexp().item())
    assert Tensor([1.0, -np.inf]).logsumexp().item() == 1.0


def test_a_0d_tensor_is_a_row_of_one() -> None:
    t = Tensor(3.0, requires_grad=True)
    assert t.softmax().item() == 1.0 and t.log_softmax(0).item() == 0.0
    assert t.logsumexp().item() == 3.0


def test_float32_stays_float32() -> None:
    x = Tensor([[1.0, 2.0, 3.0]], dtype="float32")
    assert x.softmax().dtype == np.float32
    assert x.log_softmax().dtype == np.float32
    assert x.logsumexp(1).dtype == np.float32
    assert nn.cross_entropy(x, [2]).dtype == np.float32
    assert nn.cross_entropy(x, [[0.0, 0.0, 1.0]]).dtype == np.float32


# --------------------------------------------------------------- finite differences


@settings(deadline=None)
@given(st.data())
def test_cross_entropy_against_finite_differences(data: st.DataObject) -> None:
    n, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    x = data.draw(testing.tensors((n, classes)))
    if data.draw(st.booleans()):
        labels = data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
        assert tl.gradcheck(lambda t: nn.cross_entropy(t, labels, reduction), x, **TOLERANCE)
        assert tl.gradgradcheck(lambda t: nn.cross_entropy(t, labels, reduction), x, **TOLERANCE)
        assert tl.gradcheck(lambda t: nn.nll_loss(t, labels, reduction), x, **TOLERANCE)
        assert tl.gradgradcheck(lambda t: nn.nll_loss(t, labels, reduction), x, **TOLERANCE)
    else:
        # any non-negative weights, not only distributions: the rule is the exact derivative
        y = data.draw(testing.tensors((n, classes), domain="unit"))
        assert tl.gradcheck(lambda a, b: nn.cross_entropy(a, b, reduction), x, y, **TOLERANCE)
        assert tl.gradgradcheck(lambda a, b: nn.cross_entropy(a, b, reduction), x, y, **TOLERANCE)


def test_the_checker_catches_a_wrong_fused_rule() -> None:
    # (p - y) without the 1/N of the mean: right for N = 1, wrong for N = 2.
    from tinygrad_lite.ops import CrossEntropy

    class Unscaled(CrossEntropy):
        def backward(self, grad: Any, x: Any, *rest: Any) -> Any:
            self.reduction = "sum"
            return super().backward(grad, x, *rest)

    x = Tensor([[1.0, 2.0], [0.0, -1.0]], requires_grad=True)
    labels = np.array([0, 1])
    assert tl.gradcheck(lambda t: CrossEntropy.apply(t, labels=labels, reduction="mean"), x)
    with pytest.raises(tl.GradcheckError):
        tl.gradcheck(lambda t: Unscaled.apply(t, labels=labels, reduction="mean"), x)


# --------------------------------------------------------------------------- one_hot


def test_one_hot() -> None:
    assert np.array_equal(nn.one_hot([2, 0], 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert nn.one_hot([1, 3]).shape == (2, 4)  # num_classes inferred: the largest + 1
    assert nn.one_hot(np.array([[0, 1], [1, 1]]), 2).shape == (2, 2, 2)
    assert nn.one_hot(Tensor([1.0]), 2).dtype == np.float64
    assert nn.one_hot(np.zeros(0, dtype=int), 5).shape == (0, 5)
    assert not nn.one_hot([0], 1).requires_grad


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: nn.cross_entropy(np.zeros((2, 3)), [0, 1]), TypeError, "must be a Tensor"),
        (lambda: nn.cross_entropy(Tensor([1.0, 2.0]), [0]), ValueError, "shape (N, C)"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 0), [0, 0]), ValueError, "C >= 1"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [0, 3]), IndexError, "index 3 is out"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [-1, 0]), IndexError, "negative"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [0, 1, 2]), ValueError, "shape (2,)"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [0.5, 1]), ValueError, "whole numbers"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [np.nan, 1]), ValueError, "whole"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), [True, False]), TypeError, "bool"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), ["a", "b"]), TypeError, "ints"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), np.zeros((2, 2))), ValueError, "(2, 3)"),
        (lambda: nn.cross_entropy(Tensor.zeros(2, 3), 1), ValueError, "class indices"),
        (lambda: nn.cross_entropy(Tensor.zeros(1, 3), [0], "avg"), ValueError, "'mean'"),
        (lambda: nn.nll_loss(Tensor.zeros(2, 3), [0, 5]), IndexError, "3 classes"),
        (lambda: nn.nll_loss(Tensor.zeros(2, 3), [0, 1], reduction=None), ValueError, "'sum'"),
        (lambda: nn.one_hot([0, 3], 3), IndexError, "accepted: 0 to 2"),
        (lambda: nn.one_hot([-1]), IndexError, "negative"),
        (lambda: nn.one_hot([0], 0), ValueError, "at least 1"),
        (lambda: nn.one_hot([0], 2.0), TypeError, "int"),
        (lambda: nn.one_hot([]), ValueError, "inferred"),
        (lambda: Tensor([1.0]).softmax(axis=(0,)), TypeError, "one int"),
        (lambda: Tensor([1.0]).softmax(axis=None), TypeError, "one int"),
        (lambda: Tensor([1.0]).log_softmax(axis=1), ValueError, "out of range"),
        (lambda: Tensor(1.0).softmax(axis=1), ValueError, "out of range"),
        (lambda: Tensor([1.0]).logsumexp(axis=2), ValueError, "out of range"),
        (lambda: Tensor([1.0]).logsumexp(keepdim=1), TypeError, "keepdim"),
    ],
)
def test_bad_input_is_a_clear_error(call: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=None) as raised:
        call()
    assert words in str(raised.value)


# --------------------------------------------------------------------------- PyTorch


# (id, ours, PyTorch's): each called as f(functional, x, y, labels), ``functional`` being
# tinygrad_lite.nn or torch.nn.functional; x and y (probabilities) are differentiated.
PYTORCH_CASES: list[tuple[str, Any]] = [
    ("softmax(0)", lambda f, x, y, labels: x.softmax(0)),
    ("softmax(-1)", lambda f, x, y, labels: x.softmax(-1)),
    ("log_softmax(0)", lambda f, x, y, labels: x.log_softmax(0)),
    ("log_softmax(1)", lambda f, x, y, labels: x.log_softmax(1)),
    ("logsumexp(1)", lambda f, x, y, labels: x.logsumexp(1)),
    ("logsumexp(all, keepdim)", lambda f, x, y, labels: x.logsumexp((0, 1), True)),
    ("nll_loss", lambda f, x, y, labels: f.nll_loss(x, labels)),
    ("nll_loss(sum)", lambda f, x, y, labels: f.nll_loss(x, labels, reduction="sum")),
    ("nll_loss(none)", lambda f, x, y, labels: f.nll_loss(x, labels, reduction="none")),
    ("cross_entropy", lambda f, x, y, labels: f.cross_entropy(x, labels)),
    ("cross_entropy(sum)", lambda f, x, y, labels: f.cross_entropy(x, labels, reduction="sum")),
    ("cross_entropy(none)", lambda f, x, y, labels: f.cross_entropy(x, labels, reduction="none")),
    ("cross_entropy(y)", lambda f, x, y, labels: f.cross_entropy(x, y)),
    ("cross_entropy(y, sum)", lambda f, x, y, labels: f.cross_entropy(x, y, reduction="sum")),
    ("cross_entropy(y, none)", lambda f, x, y, labels: f.cross_entropy(x, y, reduction="none")),
]


@pytest.mark.parametrize("case", [c[1] for c in PYTORCH_CASES], ids=[c[0] for c in PYTORCH_CASES])
def test_values_and_gradients_match_pytorch(case: Any) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, y, labels = rng.normal(size=(6, 5)) * 3, rng.random((6, 5)), rng.integers(0, 5, 6)
    mine = [Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)]
    their = [torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)]
    out = case(nn, *mine, labels)
    expected = case(torch.nn.functional, *their, torch.tensor(labels))
    seed = rng.normal(size=out.shape)
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    assert np.allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-13)
    for m, t in zip(mine, their):
        assert (m.grad is None) == (t.grad is None)
        if m.grad is not None:
            assert np.allclose(m.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_one_hot_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    labels = np.random.default_rng(4).integers(0, 5, 6)
    expected = torch.nn.functional.one_hot(torch.tensor(labels), 7).numpy()
    assert np.array_equal(nn.one_hot(labels, 7).numpy(), expected)
