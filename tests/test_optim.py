"""optim: the update rules, in-place updates that bump versions, and argument checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_lite import Tensor, nn, optim


def quadratic_grad(w: Tensor, target: np.ndarray) -> None:
    """Set w.grad to w - target, the gradient of 0.5*|w - target|**2."""
    nn.sse_loss(w, target).backward()


def test_sgd_step_is_p_minus_lr_grad() -> None:
    w = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    quadratic_grad(w, np.zeros(3))
    opt = optim.SGD([w], lr=0.1)
    opt.step()
    assert np.array_equal(w.data, np.array([1.0, -2.0, 3.0]) - 0.1 * np.array([1.0, -2.0, 3.0]))
    assert w.requires_grad and w.is_leaf  # the update recorded nothing
    opt.zero_grad()
    assert w.grad is None


def test_sgd_with_lr_1_adds_the_seeds_update_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 2, size=(4, 3)), rng.integers(0, 2, size=(4, 1))  # noqa: N806
    weights = 2 * np.random.RandomState(1).random((3, 1)) - 1
    model = nn.Sequential(nn.Linear.from_weights(weights), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(50):
        opt.zero_grad()
        nn.sse_loss(model(Tensor(X)), Tensor(y)).backward()
        opt.step()
        output = 1 / (1 + np.exp(-np.dot(X, weights)))
        weights += np.dot(X.T, (y - output) * (output * (1 - output)))
        assert np.array_equal(model[0].weight.data, weights)


def test_sgd_momentum_follows_pytorchs_rule() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    expected, velocity = np.array([1.0, 2.0]), None
    for _ in range(5):
        opt.zero_grad()
        quadratic_grad(w, np.array([0.5, -1.0]))
        grad = expected - np.array([0.5, -1.0])
        velocity = grad.copy() if velocity is None else 0.9 * velocity + grad
        expected = expected - 0.1 * velocity
        opt.step()
        assert np.allclose(w.data, expected, rtol=1e-15, atol=0)


def test_adam_matches_the_textbook_update() -> None:
    w = Tensor([1.0, -3.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    p, m, v = np.array([1.0, -3.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 6):
        opt.zero_grad()
        quadratic_grad(w, np.zeros(2))
        g = p.copy()
        m = 0.8 * m + 0.2 * g
        v = 0.99 * v + 0.01 * g * g
        p = p - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-6)
        opt.step()
        assert np.allclose(w.data, p, rtol=1e-14, atol=0)


def test_adam_minimises_a_quadratic() -> None:
    w = Tensor([5.0, -4.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        quadratic_grad(w, np.array([1.0, 2.0]))
        opt.step()
    assert np.allclose(w.data, [1.0, 2.0], atol=1e-3)


@pytest.mark.parametrize(
    "make", [lambda ps: optim.SGD(ps, lr=0.5), lambda ps: optim.SGD(ps, 0.5, 0.9), optim.Adam]
)
def test_a_parameter_without_grad_is_left_alone(make: Any) -> None:
    used, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    opt = make([used, unused])
    quadratic_grad(used, np.zeros(1))
    opt.step()
    assert unused.tolist() == [2.0] and unused.grad is None
    assert used.tolist() != [1.0]


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), optim.Adam])
def test_a_step_bumps_versions_so_a_stale_graph_cannot_backpropagate(make: Any) -> None:
    model = nn.Sequential(nn.Linear(2, 1, rng=np.random.default_rng(0)), nn.Sigmoid())
    opt = make(model.parameters())
    loss = nn.sse_loss(model(Tensor([[1.0, 2.0]])), Tensor([[1.0]]))
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_optimizers_take_any_iterable_of_tensors() -> None:
    model = nn.Linear(2, 2, rng=np.random.default_rng(0))
    opt = optim.SGD((p for p in model.parameters()), lr=0.1)
    assert opt.params == [model.weight, model.bias]
    assert optim.Adam(iter(model.parameters())).params == [model.weight, model.bias]


def test_a_step_enters_np_errstate_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # step() switches numpy's warnings off once for all parameters (fp_quiet sets a state
    # made once, at import): the updates inside make no errstate of their own, and an
    # update that overflows does so quietly (pytest fails on a warning).
    ws = [Tensor([1e308, 2.0], requires_grad=True) for _ in range(3)]
    made = []
    errstate = np.errstate

    def counting(**kwargs: Any) -> Any:
        made.append(kwargs)
        return errstate(**kwargs)

    monkeypatch.setattr(np, "errstate", counting)
    for opt in (optim.SGD(ws, lr=10.0), optim.SGD(ws, 10.0, momentum=0.5), optim.Adam(ws)):
        for w in ws:
            w.grad = Tensor([-1e308, 0.0])
        opt.step()
        assert made == [], type(opt).__name__
    assert ws[0].data[0] == np.inf


W = Tensor([1.0], requires_grad=True)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ([], ValueError, "empty list"),
        (iter([]), ValueError, "empty list"),
        ([W, np.ones(1)], TypeError, "parameter 1 is ndarray"),
        ([Tensor([1.0])], ValueError, "does not require grad"),
        ([W * 2], ValueError, "computed by mul"),
        ([W, W], ValueError, "appears twice"),
        (W, TypeError, "single Tensor"),
        (nn.Linear(1, 1), TypeError, "single Linear"),
        (3, TypeError, "got int"),
    ],
)
def test_bad_params_are_clear_errors(params: Any, error: type, match: str) -> None:
    for make in (lambda ps: optim.SGD(ps, lr=0.1), optim.Adam):
        with pytest.raises(error, match=match):
            make(params)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": -0.1}, ValueError, "lr must be a finite number"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number"),
        ({"lr": float("inf")}, ValueError, "lr must be a finite number"),
        ({"lr": "0.1"}, TypeError, "lr must be a real number"),
        ({"lr": True}, TypeError, "lr must be a real number"),
        ({"lr": 0.1, "momentum": -0.5}, ValueError, "momentum"),
        (
            {"lr": 0.1, "momentum": 1.0},
            ValueError,
            r"momentum must be a finite number in \[0.0, 1.0\)",
        ),
        ({"lr": 0.1, "momentum": None}, TypeError, "momentum"),
    ],
)
def test_bad_sgd_settings_are_clear_errors(kwargs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        optim.SGD([W], **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": -1.0}, ValueError, "lr"),
        ({"betas": (0.9,)}, TypeError, "betas must be a pair"),
        ({"betas": 0.9}, TypeError, "betas must be a pair"),
        ({"betas": (1.0, 0.999)}, ValueError, r"betas\[0\]"),
        ({"betas": (0.9, -0.1)}, ValueError, r"betas\[1\]"),
        ({"eps": -1e-8}, ValueError, "eps"),
        ({"eps": "tiny"}, TypeError, "eps"),
    ],
)
def test_bad_adam_settings_are_clear_errors(kwargs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        optim.Adam([W], **kwargs)


@pytest.mark.parametrize(
    "make",
    [
        lambda ws: optim.SGD(ws, lr=0.1),
        lambda ws: optim.SGD(ws, lr=0.1, momentum=0.9),
        lambda ws: optim.Adam(ws),
    ],
)
@pytest.mark.parametrize("grad", [Tensor([1.0, 2.0, 3.0]), Tensor(1.0), np.ones(2), 1.0])
def test_a_grad_set_by_hand_that_cannot_update_is_a_clear_error(make: Any, grad: Any) -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = make([w])
    w.grad = grad
    with pytest.raises(ValueError, match=r"step: a parameter of shape \(2,\) has a \.grad of"):
        opt.step()
    assert w.data.tolist() == [1.0, 2.0] and w._version == 0


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_steps_without_a_new_array_the_size_of_a_parameter(momentum: float) -> None:
    # lr * grad goes into an array the optimizer keeps: a new one at every step, freed at
    # its end, made glibc return the memory and fault it back in at the next (W3 benchmark).
    import tracemalloc

    rng = np.random.default_rng(0)
    w = Tensor(rng.normal(size=(500, 500)), requires_grad=True)  # 2 MB
    g = rng.normal(size=(500, 500))
    opt = optim.SGD([w], lr=0.01, momentum=momentum)
    w.grad = Tensor(g)
    opt.step()  # the first step makes the arrays it keeps
    expected = w.data - 0.01 * (g * momentum + g if momentum else g)
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak
    assert w.data.tobytes() == expected.tobytes()
