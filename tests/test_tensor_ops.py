"""min, argmax/argmin, clip/clamp, maximum/minimum, var/std, flatten/squeeze/unsqueeze and
tl.where/cat/stack: values against numpy and PyTorch, the gradients at ties and bounds, and
every bad argument a clear error. (Gradients against finite differences, first and second
order, are in the property table of tests/test_properties.py.)"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4, 2))


def grad_of(f: Any, x: Any, seed: Any = None) -> np.ndarray:
    t = Tensor(x, requires_grad=True)
    out = f(t)
    out.backward(np.ones(out.shape) if seed is None else seed)
    assert t.grad is not None
    return t.grad.data


# ---------------------------------------------------------------------- values


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_min_var_std_match_numpy(axis: Any, keepdim: bool) -> None:
    t = Tensor(X)
    assert np.array_equal(t.min(axis, keepdim).numpy(), X.min(axis=axis, keepdims=keepdim))
    for correction in (0, 1, 2):
        with warnings.catch_warnings():  # numpy warns when n - correction <= 0 (inf)
            warnings.simplefilter("ignore", RuntimeWarning)
            var = X.var(axis=axis, keepdims=keepdim, ddof=correction)
            std = X.std(axis=axis, keepdims=keepdim, ddof=correction)
        assert np.allclose(t.var(axis, keepdim, correction).numpy(), var, rtol=1e-14)
        assert np.allclose(t.std(axis, keepdim, correction).numpy(), std, rtol=1e-14)


def test_argmax_and_argmin_are_indices_that_take_no_gradient() -> None:
    t = Tensor(X, requires_grad=True)
    for axis in (None, 0, 1, -1):
        assert np.array_equal(t.argmax(axis).numpy(), np.argmax(X, axis=axis))
        assert np.array_equal(t.argmin(axis).numpy(), np.argmin(X, axis=axis))
    assert t.argmax(1, keepdim=True).shape == (3, 1, 2)
    out = t.argmax(1)
    assert out.dtype == np.float64 and not out.requires_grad and out.is_leaf
    assert Tensor([1.0, 3.0, 3.0]).argmax().item() == 1  # the first of a tie
    assert Tensor([1.0, np.nan, 3.0]).argmax().item() == 1  # nan is the maximum
    assert Tensor(5.0).argmax().item() == 0 and Tensor(5.0).argmin(axis=0).item() == 0
    rows = Tensor(X[:, :, 0])
    picked = rows[np.arange(3), rows.argmax(1)]  # usable as an index
    assert np.array_equal(picked.numpy(), X[:, :, 0].max(axis=1))


def test_the_gradient_of_min_and_max_ties_share() -> None:
    assert np.array_equal(grad_of(lambda t: t.min(), [2.0, 1.0, 1.0]), [0.0, 0.5, 0.5])
    assert np.array_equal(grad_of(lambda t: t.min(axis=0), [[1.0], [3.0]]), [[1.0], [0.0]])


def test_maximum_and_minimum_follow_pytorch_at_ties_and_nans() -> None:
    x, y = [1.0, np.nan, 2.0, 3.0], [1.0, 0.0, np.nan, 1.0]
    for f, value in ((Tensor.maximum, [1.0, np.nan, np.nan, 3.0]), (Tensor.minimum, None)):
        a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
        out = f(a, b)
        out.sum().backward()
        assert a.grad is not None and b.grad is not None
        if value is not None:
            np.testing.assert_array_equal(out.numpy(), value)
        # PyTorch's rule: half each at a tie, all to both where a nan is involved
        assert np.array_equal(a.grad.data[:3], [0.5, 1.0, 1.0])
        assert np.array_equal(b.grad.data[:3], [0.5, 1.0, 1.0])
    assert np.array_equal(grad_of(lambda t: t.maximum(2.0), [1.0, 3.0]), [0.0, 1.0])
    assert np.array_equal(grad_of(lambda t: t.minimum(2.0), [1.0, 3.0]), [1.0, 0.0])
    big = Tensor([np.inf, -np.inf, 1e308])
    assert np.array_equal(big.maximum(0.0).numpy(), [np.inf, 0.0, 1e308])


def test_maximum_broadcasts_and_undoes_it() -> None:
    a = Tensor([[1.0], [5.0]], requires_grad=True)
    b = Tensor([2.0, 3.0, 6.0], requires_grad=True)
    out = a.maximum(b)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert a.grad is not None and b.grad is not None
    assert np.array_equal(a.grad.data, [[0.0], [2.0]])
    assert np.array_equal(b.grad.data, [1.0, 1.0, 2.0])


def test_clip_includes_its_bounds_and_takes_tensor_bounds() -> None:
    x = [-2.0, -1.0, 0.0, 1.0, 2.0, np.nan]
    t = Tensor(x, requires_grad=True)
    out = t.clip(-1.0, 1.0)
    np.testing.assert_array_equal(out.numpy(), np.clip(x, -1.0, 1.0))
    out.backward(np.ones(6))
    assert t.grad is not None
    assert np.array_equal(t.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0, 1.0])  # as PyTorch's clamp
    assert np.array_equal(Tensor(x[:5]).clamp(min=0.5).numpy(), [0.5, 0.5, 0.5, 1.0, 2.0])
    assert np.array_equal(Tensor(x[:5]).clamp(max=0.5).numpy(), [-2.0, -1.0, 0.0, 0.5, 0.5])
    assert np.array_equal(Tensor(x[:5]).clip(2.0, 1.0).numpy(), [1.0] * 5)  # min > max: max
    low = Tensor([0.0, 5.0], requires_grad=True)
    s = Tensor([1.0, 1.0], requires_grad=True)
    s.clip(min=low).sum().backward()
    assert low.grad is not None and s.grad is not None
    assert np.array_equal(low.grad.data, [0.0, 1.0]) and np.array_equal(s.grad.data, [1.0, 0.0])
    assert Tensor([1.0], dtype=np.float32).clip(0.0, 0.5).dtype == np.float32


def test_var_edges_follow_pytorch() -> None:
    assert np.isnan(Tensor([3.0]).var().item())  # n - 1 = 0
    assert Tensor([3.0]).var(correction=0).item() == 0.0
    assert Tensor([1.0, 2.0]).var(correction=5).item() == np.inf  # n - 5 < 0 counts as 0
    assert np.array_equal(grad_of(lambda t: t.std(), [2.0, 2.0]), [0.0, 0.0])  # not nan
    slope = grad_of(lambda t: t.std(0), [[2.0, 1.0], [2.0, 3.0]])
    assert np.allclose(slope, [[0.0, -(0.5**0.5)], [0.0, 0.5**0.5]], rtol=1e-15)


def test_flatten_squeeze_unsqueeze() -> None:
    t = Tensor(np.zeros((2, 1, 3, 1)))
    assert t.flatten().shape == (6,)
    assert t.flatten(1).shape == (2, 3)
    assert t.flatten(1, 2).shape == (2, 3, 1)
    assert t.flatten(-2, -1).shape == (2, 1, 3)
    assert Tensor(1.0).flatten().shape == (1,)
    assert t.squeeze().shape == (2, 3)
    assert t.squeeze(1).shape == (2, 3, 1)
    assert t.squeeze((1, 3)).shape == (2, 3)
    assert t.squeeze(0).shape == (2, 1, 3, 1)  # size 2: left as it is, as in PyTorch
    assert Tensor(1.0).squeeze().shape == ()
    assert t.unsqueeze(0).shape == (1, 2, 1, 3, 1)
    assert t.unsqueeze(-1).shape == (2, 1, 3, 1, 1)
    assert t.unsqueeze(4).shape == (2, 1, 3, 1, 1)
    assert Tensor(1.0).unsqueeze(0).shape == (1,)


def test_where_cat_stack() -> None:
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([10.0, 20.0], requires_grad=True)
    out = tl.where(np.array([[True, False], [False, True]]), a, b)
    assert np.array_equal(out.numpy(), [[1.0, 20.0], [10.0, 4.0]])
    out.sum().backward()
    assert a.grad is not None and b.grad is not None
    assert np.array_equal(a.grad.data, [[1.0, 0.0], [0.0, 1.0]])
    assert np.array_equal(b.grad.data, [1.0, 1.0])  # summed back over the broadcast rows
    assert np.array_equal(tl.where(Tensor([0.0, 2.0]), 1.0, a[0]).numpy(), [1.0, 1.0])
    assert tl.where([True], 1, 2).dtype == np.float64

    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = Tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    joined = tl.cat([x, y, [[7.0, 8.0]]])
    assert np.array_equal(joined.numpy(), [[1, 2], [3, 4], [5, 6], [7, 8]])
    joined.backward(np.arange(8.0).reshape(4, 2))
    assert x.grad is not None and y.grad is not None
    assert np.array_equal(x.grad.data, [[0.0, 1.0]])
    assert np.array_equal(y.grad.data, [[2.0, 3.0], [4.0, 5.0]])
    assert tl.cat([y, y], axis=-1).shape == (2, 4)
    stacked = tl.stack([x[0], x[0] * 2], axis=1)
    assert np.array_equal(stacked.numpy(), [[1.0, 2.0], [2.0, 4.0]])
    assert tl.stack([Tensor(1.0), Tensor(2.0)]).shape == (2,)
    assert tl.stack([y, y], axis=-1).shape == (2, 2, 2)


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: Tensor.zeros(2, 0).min(axis=1), ValueError, "no minimum"),
        (lambda: Tensor.zeros(0).argmax(), ValueError, "is empty"),
        (lambda: Tensor.zeros(2, 3).argmax(axis=(0, 1)), TypeError, "one int"),
        (lambda: Tensor.zeros(2, 3).argmin(axis=2), ValueError, "out of range"),
        (lambda: Tensor.zeros(2).clip(), ValueError, "both None"),
        (lambda: Tensor.zeros(2).clip(min="a"), TypeError, "clip"),
        (lambda: Tensor.zeros(2).clip(min=np.zeros(3)), ValueError, "broadcast"),
        (lambda: Tensor.zeros(2).maximum(np.zeros(3)), ValueError, "maximum"),
        (lambda: Tensor.zeros(2).var(correction="1"), TypeError, "correction"),
        (lambda: Tensor.zeros(2).std(axis=3), ValueError, "out of range"),
        (lambda: Tensor.zeros(2, 3).flatten(1, 0), ValueError, "start_dim"),
        (lambda: Tensor.zeros(2, 3).flatten(2), ValueError, "out of range"),
        (lambda: Tensor.zeros(2, 3).squeeze(2), ValueError, "out of range"),
        (lambda: Tensor.zeros(2, 3).unsqueeze(3), ValueError, "out of range"),
        (lambda: Tensor.zeros(2, 3).unsqueeze((0,)), TypeError, "one int"),
        (lambda: tl.where(["a"], 1.0, 2.0), TypeError, "cond"),
        (lambda: tl.where([True, False], Tensor.zeros(3), 1.0), ValueError, "broadcast"),
        (lambda: tl.cat([]), ValueError, "at least one"),
        (lambda: tl.cat(Tensor.zeros(2)), TypeError, "list or tuple"),
        (lambda: tl.cat([Tensor(1.0)]), ValueError, "use stack"),
        (lambda: tl.cat([Tensor.zeros(2, 3), Tensor.zeros(3, 2)]), ValueError, "but for axis 0"),
        (lambda: tl.cat([Tensor.zeros(2, 3), Tensor.zeros(2)]), ValueError, "shape (2,)"),
        (lambda: tl.cat([Tensor.zeros(2)], axis=1), ValueError, "out of range"),
        (lambda: tl.stack([Tensor.zeros(2), Tensor.zeros(3)]), ValueError, "one shape"),
        (lambda: tl.stack([Tensor.zeros(2)], axis=2), ValueError, "out of range"),
    ],
)
def test_bad_arguments_are_clear_errors(call: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


# --------------------------------------------------------------------- PyTorch

# (id, ours and PyTorch's as one function of (module, x, y)): the module is tinygrad_lite or
# torch; x of shape (3, 4, 2) and y of shape (4, 2) are differentiated.
PYTORCH_CASES: list[tuple[str, Any]] = [
    ("min", lambda m, x, y: x.min()),
    ("amin over axes", lambda m, x, y: x.min(1, True) if m is tl else x.amin(1, True)),
    ("var", lambda m, x, y: x.var(0)),
    ("var(correction=0)", lambda m, x, y: x.var((0, 2), correction=0)),
    ("std", lambda m, x, y: x.std(-1, keepdim=True)),
    ("clip", lambda m, x, y: x.clip(-0.5, 0.5)),
    ("clamp(tensor bounds)", lambda m, x, y: x.clamp(min=y - 0.2, max=y + 0.2)),
    ("maximum", lambda m, x, y: x.maximum(y)),
    ("minimum", lambda m, x, y: x.minimum(y)),
    ("flatten", lambda m, x, y: x.flatten(1)),
    ("squeeze", lambda m, x, y: x.unsqueeze(1).squeeze(1)),
    ("where", lambda m, x, y: m.where(x.data > 0 if m is tl else x > 0, x, y)),
    ("cat", lambda m, x, y: m.cat([x, y.unsqueeze(0)], 0)),
    ("stack", lambda m, x, y: m.stack([x[0], y, y * y], -1)),
]


@pytest.mark.parametrize("case", [c[1] for c in PYTORCH_CASES], ids=[c[0] for c in PYTORCH_CASES])
def test_values_and_gradients_match_pytorch(case: Any) -> None:
    torch = pytest.importorskip("torch")
    y_values = RNG.normal(size=(4, 2))
    mine = [Tensor(X, requires_grad=True), Tensor(y_values, requires_grad=True)]
    their = [torch.tensor(X, requires_grad=True), torch.tensor(y_values, requires_grad=True)]
    out, expected = case(tl, *mine), case(torch, *their)
    seed = RNG.normal(size=out.shape)
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    assert np.allclose(out.numpy(), expected.detach().numpy(), rtol=1e-14, atol=1e-15)
    for m, t in zip(mine, their):
        assert (m.grad is None) == (t.grad is None)
        if m.grad is not None:
            assert np.allclose(m.grad.data, t.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_argmax_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for axis in (0, 1, 2, -1):
        assert np.array_equal(Tensor(X).argmax(axis).numpy(), torch.tensor(X).argmax(axis).numpy())
        assert np.array_equal(
            Tensor(X).argmin(axis, True).numpy(), torch.tensor(X).argmin(axis, True).numpy()
        )
