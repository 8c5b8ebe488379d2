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


# ------------------------------------------------------------ the newer update rules
# Each against its formula written out in numpy on fresh arrays, step by step, with a
# gradient that depends on where the parameter is (grad = p - target).

TARGET = np.array([0.5, -1.0, 2.0])
START = np.array([1.0, 2.0, -3.0])


def run(opt_of: Any, steps: int = 6) -> list[np.ndarray]:
    """The parameter after each of ``steps`` steps of ``opt_of([w])`` on 0.5*|w - TARGET|**2."""
    w = Tensor(START.copy(), requires_grad=True)
    opt = opt_of([w])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        quadratic_grad(w, TARGET)
        opt.step()
        path.append(w.data.copy())
    return path


def assert_path(path: list[np.ndarray], expected: list[np.ndarray]) -> None:
    for got, want in zip(path, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_sgd_weight_decay_adds_wd_times_p_to_the_gradient() -> None:
    p, expected = START.copy(), []
    for _ in range(6):
        g = (p - TARGET) + 0.1 * p
        p = p - 0.2 * g
        expected.append(p)
    assert_path(run(lambda ps: optim.SGD(ps, lr=0.2, weight_decay=0.1)), expected)


def test_sgd_dampening_scales_the_new_gradient_in_the_velocity() -> None:
    p, v, expected = START.copy(), None, []
    for _ in range(6):
        g = (p - TARGET) + 0.01 * p
        v = g.copy() if v is None else 0.8 * v + (1 - 0.3) * g  # the first: g itself
        p = p - 0.1 * v
        expected.append(p)
    path = run(lambda ps: optim.SGD(ps, 0.1, momentum=0.8, dampening=0.3, weight_decay=0.01))
    assert_path(path, expected)


def test_sgd_nesterov_steps_along_g_plus_momentum_times_v() -> None:
    p, v, expected = START.copy(), None, []
    for _ in range(6):
        g = (p - TARGET) + 0.05 * p
        v = g.copy() if v is None else 0.9 * v + g
        p = p - 0.1 * (g + 0.9 * v)
        expected.append(p)
    path = run(lambda ps: optim.SGD(ps, 0.1, momentum=0.9, weight_decay=0.05, nesterov=True))
    assert_path(path, expected)


def test_sgd_nesterov_by_hand_on_one_number() -> None:
    # p = 1, target 0, lr 0.1, momentum 0.5: g = 1, v = 1, p = 1 - 0.1*(1 + 0.5) = 0.85;
    # then g = 0.85, v = 0.5 + 0.85 = 1.35, p = 0.85 - 0.1*(0.85 + 0.675) = 0.6975.
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5, nesterov=True)
    for expected in (0.85, 0.6975):
        opt.zero_grad()
        quadratic_grad(w, np.zeros(1))
        opt.step()
        assert w.item() == pytest.approx(expected, rel=1e-15)


def adam_path(lr: float, wd: float, decoupled: bool, amsgrad: bool) -> list[np.ndarray]:
    b1, b2, eps = 0.9, 0.999, 1e-8
    p, m, v, v_max, expected = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for t in range(1, 7):
        g = p - TARGET
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        v_used = v_max if amsgrad else v
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v_used / (1 - b2**t)) + eps)
        expected.append(p)
    return expected


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_weight_decay_is_an_l2_term_in_the_gradient(amsgrad: bool) -> None:
    path = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.3, amsgrad=amsgrad))
    assert_path(path, adam_path(0.1, 0.3, decoupled=False, amsgrad=amsgrad))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_decays_the_parameter_before_adams_step(amsgrad: bool) -> None:
    path = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.3, amsgrad=amsgrad))
    assert_path(path, adam_path(0.1, 0.3, decoupled=True, amsgrad=amsgrad))
    assert optim.AdamW([Tensor([1.0], requires_grad=True)]).weight_decay == 0.01


def test_amsgrad_keeps_the_largest_second_moment() -> None:
    # A large gradient, then small ones: v falls, but amsgrad divides by the largest v.
    plain = optim.Adam([Tensor([0.0], requires_grad=True)], lr=0.1)
    ams = optim.Adam([Tensor([0.0], requires_grad=True)], lr=0.1, amsgrad=True)
    for g in (100.0, 1.0, 1.0, 1.0):
        for opt in (plain, ams):
            opt.params[0].grad = Tensor([g])
            opt.step()
    assert ams.v_max[0] is not None and ams.v_max[0][0] > ams.v[0][0]  # type: ignore[index]
    assert abs(ams.params[0].item()) < abs(plain.params[0].item())  # smaller late steps


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_rmsprop_follows_its_formula(centered: bool, momentum: float) -> None:
    lr, alpha, eps, wd = 0.01, 0.9, 1e-8, 0.02
    p, s, a, b, expected = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for _ in range(6):
        g = (p - TARGET) + wd * p
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g
        avg = (np.sqrt(s - a * a) if centered else np.sqrt(s)) + eps
        if momentum:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        expected.append(p)
    path = run(
        lambda ps: optim.RMSprop(
            ps, lr=lr, alpha=alpha, weight_decay=wd, momentum=momentum, centered=centered
        )
    )
    assert_path(path, expected)


def test_rmsprop_first_step_by_hand() -> None:
    # s = (1 - 0.99) * 4 = 0.04, avg = 0.2 + 1e-8: p = 1 - 0.01 * 2 / (0.2 + 1e-8).
    w = Tensor([1.0], requires_grad=True)
    w.grad = Tensor([2.0])
    optim.RMSprop([w]).step()
    assert w.item() == pytest.approx(1 - 0.01 * 2 / (0.2 + 1e-8), rel=1e-15)


def test_adagrad_follows_its_formula() -> None:
    lr, lr_decay, wd, init, eps = 0.5, 0.1, 0.01, 0.2, 1e-10
    p, total, expected = START.copy(), np.full(3, init), []
    for t in range(1, 7):
        g = (p - TARGET) + wd * p
        clr = lr / (1 + (t - 1) * lr_decay)
        total = total + g * g
        p = p - clr * g / (np.sqrt(total) + eps)
        expected.append(p)
    path = run(
        lambda ps: optim.Adagrad(
            ps, lr=lr, lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=init
        )
    )
    assert_path(path, expected)


def test_adagrad_by_hand_on_one_number() -> None:
    # Gradient 3 twice, lr 0.1: sum 9, p = 1 - 0.1*3/3 = 0.9 (eps 1e-10 aside); sum 18,
    # p = 0.9 - 0.1*3/sqrt(18).
    w = Tensor([1.0], requires_grad=True)
    opt = optim.Adagrad([w], lr=0.1)
    assert (opt.lr, opt.lr_decay, opt.initial_accumulator_value, opt.eps) == (0.1, 0, 0, 1e-10)
    w.grad = Tensor([3.0])
    opt.step()
    assert w.item() == pytest.approx(0.9, rel=1e-10)
    opt.step()
    assert w.item() == pytest.approx(0.9 - 0.3 / np.sqrt(18), rel=1e-10)


def test_defaults_are_pytorchs() -> None:
    w = [Tensor([1.0], requires_grad=True)]
    sgd = optim.SGD(w, lr=0.1)
    assert (sgd.momentum, sgd.dampening, sgd.weight_decay, sgd.nesterov) == (0, 0, 0, False)
    adam = optim.Adam(w)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay, adam.amsgrad) == (
        1e-3,
        (0.9, 0.999),
        1e-8,
        0,
        False,
    )
    rms = optim.RMSprop(w)
    assert (rms.lr, rms.alpha, rms.eps, rms.weight_decay, rms.momentum, rms.centered) == (
        1e-2,
        0.99,
        1e-8,
        0,
        0,
        False,
    )
    # PyTorch's positional order: SGD(params, lr, momentum, dampening, weight_decay, nesterov)
    positional = optim.SGD(w, 0.1, 0.9, 0.0, 0.01, True)
    assert (positional.weight_decay, positional.nesterov) == (0.01, True)


ALL_OPTIMIZERS = [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, 0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
    optim.Adam,
    lambda ps: optim.Adam(ps, weight_decay=0.1, amsgrad=True),
    optim.AdamW,
    optim.RMSprop,
    lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True, weight_decay=0.1),
    optim.Adagrad,
]


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_every_optimizer_leaves_a_parameter_without_grad_alone_and_dates_its_steps(
    make: Any,
) -> None:
    used, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    opt = make([used, unused])
    loss = nn.sse_loss(used * used, np.zeros(1))
    loss.backward(retain_graph=True)
    opt.step()
    assert unused.tolist() == [2.0] and unused.grad is None and unused._version == 0
    assert used.tolist() != [1.0]
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_every_optimizer_is_quiet_about_overflow(make: Any) -> None:
    w = Tensor([1e308, 2.0], requires_grad=True)
    opt = make([w])
    for _ in range(2):
        w.grad = Tensor([-1e308, 1e300])
        opt.step()  # pytest turns a numpy RuntimeWarning into an error


# ------------------------------------------------------------------- param_groups


def test_param_groups_is_one_view_of_the_optimizers_settings() -> None:
    w = Tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    (group,) = opt.param_groups
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["params"] == [w]
    assert list(group) == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov"]
    assert len(group) == 6 and dict(group)["nesterov"] is False
    for g in opt.param_groups:  # PyTorch's idiom for changing the learning rate
        g["lr"] = 0.01
    assert opt.lr == 0.01
    group["params"].append(Tensor([2.0]))  # a copy: the optimizer's list is unchanged
    assert opt.params == [w]
    assert repr(group).startswith("{'params': <1 tensors>, 'lr': 0.01, 'momentum': 0.9")
    assert repr(opt) == (
        "SGD(lr=0.01, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)"
    )
    w.grad = Tensor([1.0])
    opt.step()
    assert w.item() == 1.0 - 0.01 * 1.0


@pytest.mark.parametrize(
    "key, value, error, match",
    [
        ("lr", -1.0, ValueError, r"SGD: lr must be a finite number in \[0.0, inf\]"),
        ("lr", "fast", TypeError, "SGD: lr must be a real number"),
        ("momentum", 1.5, ValueError, "momentum"),
        ("nesterov", 1, TypeError, "nesterov must be True or False"),
        ("betas", (0.9, 0.99), KeyError, "SGD has no setting 'betas'; its settings are lr, mo"),
        ("params", [], TypeError, "parameters cannot be changed through param_groups"),
    ],
)
def test_param_groups_checks_what_it_sets(key: str, value: Any, error: type, match: str) -> None:
    opt = optim.SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(error, match=match):
        opt.param_groups[0][key] = value
    assert opt.lr == 0.1
    with pytest.raises(KeyError, match="no setting 'initial_lr'"):
        opt.param_groups[0]["initial_lr"]  # noqa: B018
    with pytest.raises(TypeError, match="cannot be deleted"):
        del opt.param_groups[0]["lr"]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda ws: optim.SGD(ws, 0.1, weight_decay=-1.0), "weight_decay"),
        (lambda ws: optim.SGD(ws, 0.1, dampening=1.5), "dampening"),
        (lambda ws: optim.SGD(ws, 0.1, nesterov=True), "nesterov=True needs a momentum"),
        (lambda ws: optim.SGD(ws, 0.1, 0.9, 0.1, nesterov=True), "and no dampening"),
        (lambda ws: optim.Adam(ws, weight_decay=float("inf")), "weight_decay"),
        (lambda ws: optim.AdamW(ws, weight_decay=-0.01), "AdamW: weight_decay"),
        (lambda ws: optim.RMSprop(ws, alpha=1.5), r"RMSprop: alpha must be .* \[0.0, 1.0\]"),
        (lambda ws: optim.RMSprop(ws, momentum=1.0), "RMSprop: momentum"),
        (lambda ws: optim.RMSprop(ws, eps=-1.0), "RMSprop: eps"),
        (lambda ws: optim.Adagrad(ws, lr_decay=-0.1), "Adagrad: lr_decay"),
        (lambda ws: optim.Adagrad(ws, initial_accumulator_value=-1), "initial_accumulator"),
        (lambda ws: optim.Adagrad(ws, eps=float("nan")), "Adagrad: eps"),
    ],
)
def test_bad_settings_of_the_newer_rules_are_clear_value_errors(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make([W])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda ws: optim.SGD(ws, 0.1, nesterov="yes"), "nesterov must be True or False"),
        (lambda ws: optim.Adam(ws, amsgrad=None), "amsgrad must be True or False"),
        (lambda ws: optim.RMSprop(ws, centered=1), "centered must be True or False"),
        (lambda ws: optim.Adagrad(ws, lr_decay="0"), "lr_decay must be a real number"),
        (lambda ws: optim.AdamW(ws, betas=[0.9]), "betas must be a pair"),
    ],
)
def test_bad_types_of_the_newer_settings_are_clear_type_errors(make: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        make([W])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, 0.5, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
        lambda ps: optim.Adagrad(ps, weight_decay=0.01),  # (lr_decay=0: clr stays lr)
    ],
    ids=["sgd-nesterov", "rmsprop", "adagrad"],
)
def test_a_compiled_step_follows_a_schedule_bit_for_bit(make: Any) -> None:
    import tinygrad_lite as tl
    from models import xor_net

    def setup() -> tuple[nn.Module, Any, Any]:
        model = xor_net.build(seed=1)
        opt = make(model.parameters())

        def step(X: Tensor, y: Tensor) -> Tensor:  # noqa: N803 (the seed's names)
            opt.zero_grad()
            loss = nn.sse_loss(model(X), y)
            loss.backward()
            opt.step()
            return loss

        return model, step, optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

    X, y = Tensor(xor_net.X), Tensor(xor_net.y)  # noqa: N806
    (model, step, schedule), (eager_model, eager, eager_schedule) = setup(), setup()
    compiled = tl.compile(step)
    for _ in range(12):
        assert compiled(X, y).data.tobytes() == eager(X, y).data.tobytes()
        schedule.step()  # a new lr: the compiled step records again, then runs the program
        eager_schedule.step()
        for p, q in zip(model.parameters(), eager_model.parameters()):
            assert p.data.tobytes() == q.data.tobytes()
    assert compiled.compiled and schedule.get_last_lr() == [schedule.base_lrs[0] * 0.5**4]
