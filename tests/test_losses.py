"""The losses: values, gradients, the seed's delta to the bit, stability, shape checks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_lite import Tensor, nn

LOSSES = [
    nn.sse_loss,
    nn.mse_loss,
    nn.binary_cross_entropy,
    nn.binary_cross_entropy_with_logits,
]


def grad_of(loss: Callable[..., Tensor], pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = Tensor(pred, requires_grad=True)
    loss(p, Tensor(target)).backward()
    assert p.grad is not None
    return p.grad.data


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


# ------------------------------------------------------------------ values and gradients


def test_sse_and_mse_values_and_gradients() -> None:
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    assert nn.sse_loss(Tensor(pred), target).item() == pytest.approx(
        0.5 * np.sum((target - pred) ** 2), rel=1e-15
    )
    assert nn.mse_loss(Tensor(pred), target).item() == pytest.approx(
        np.mean((pred - target) ** 2), rel=1e-15
    )
    assert np.array_equal(grad_of(nn.sse_loss, pred, target), pred - target)
    assert np.allclose(grad_of(nn.mse_loss, pred, target), 2 * (pred - target) / 4, rtol=1e-15)


def test_sse_gradient_through_a_sigmoid_is_minus_the_seeds_delta_bit_for_bit() -> None:
    # The gradient arriving at the pre-activation z is -delta, delta = error * slope.
    rng = np.random.default_rng(1)
    z_data, y = rng.normal(size=(4, 1)) * 3, rng.integers(0, 2, size=(4, 1)).astype(float)
    z = Tensor(z_data, requires_grad=True)
    nn.sse_loss(z.sigmoid(), y).backward()
    output = 1 / (1 + np.exp(-z_data))
    delta = (y - output) * (output * (1 - output))
    assert z.grad is not None
    assert z.grad.data.tobytes() == (-delta).tobytes()


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)


# Weights of -0.0 are left out, and tested apart below: the seed adds its update, SGD
# subtracts the gradient (which is minus it), and for a zero update the two differ only in
# the sign of a zero weight (-0.0 + 0.0 is 0.0, -0.0 - 0.0 is -0.0). The seed's weights
# never hold -0.0: its init 2*r - 1 and every sum w + u give +0.0 where they give a zero.
weights_without_minus_zero = st.floats(-5, 5).map(lambda v: v + 0.0)


@given(
    arrays(np.float64, (4, 3), elements=st.integers(0, 1).map(float)),
    arrays(np.float64, (3, 1), elements=weights_without_minus_zero),
    arrays(np.float64, (4, 1), elements=st.integers(0, 1).map(float)),
)
def test_one_sgd_step_on_sse_is_the_seeds_update_bit_for_bit(
    x: np.ndarray, w: np.ndarray, y: np.ndarray
) -> None:
    model = nn.Sequential(nn.Linear.from_weights(w), nn.Sigmoid())
    nn.sse_loss(model(Tensor(x)), y).backward()
    from tinygrad_lite import optim

    optim.SGD(model.parameters(), lr=1.0).step()
    weights = w.copy()
    output = 1 / (1 + np.exp(-np.dot(x, weights)))
    weights += np.dot(x.T, (y - output) * (output * (1 - output)))
    assert model[0].weight.data.tobytes() == weights.tobytes()


def test_a_minus_zero_weight_with_a_zero_update_is_the_one_sign_that_differs() -> None:
    from tinygrad_lite import optim

    x, y, w = np.zeros((4, 3)), np.zeros((4, 1)), np.full((3, 1), -0.0)
    model = nn.Sequential(nn.Linear.from_weights(w), nn.Sigmoid())
    nn.sse_loss(model(Tensor(x)), y).backward()
    optim.SGD(model.parameters(), lr=1.0).step()
    weights = w.copy()
    output = 1 / (1 + np.exp(-np.dot(x, weights)))
    weights += np.dot(x.T, (y - output) * (output * (1 - output)))
    assert np.array_equal(model[0].weight.data, weights)  # equal as numbers: 0 == -0
    assert np.all(np.signbit(model[0].weight.data)) and not np.any(np.signbit(weights))


@given(arrays(np.float64, (5,), elements=finite), arrays(np.float64, (5,), elements=finite))
def test_d_times_d_gives_the_same_gradient_bits_as_d_squared(
    pred: np.ndarray, target: np.ndarray
) -> None:
    # sse_loss squares with d * d; 0.5 * sum(d ** 2) is its definition.
    p = Tensor(pred, requires_grad=True)
    d = Tensor(target) - p
    (0.5 * (d**2).sum()).backward()
    assert p.grad is not None
    assert grad_of(nn.sse_loss, pred, target).tobytes() == p.grad.data.tobytes()


def test_binary_cross_entropy_value_and_gradient() -> None:
    p = np.array([[0.1], [0.7], [0.5], [0.99]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.binary_cross_entropy(Tensor(p), y).item() == pytest.approx(expected, rel=1e-14)
    assert np.allclose(
        grad_of(nn.binary_cross_entropy, p, y), (p - y) / (p * (1 - p)) / 4, rtol=1e-12
    )


def test_binary_cross_entropy_is_finite_at_0_and_1() -> None:
    p = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = nn.binary_cross_entropy(Tensor(p), y)
    eps = np.finfo(np.float64).eps
    assert loss.item() == pytest.approx(-np.log(eps) / 2, rel=1e-12)  # two wrong, two right
    assert np.array_equal(grad_of(nn.binary_cross_entropy, p, y), np.zeros(4))  # clipped
    p32 = Tensor(np.array([0.0, 1.0, 0.5], dtype=np.float32))
    loss32 = nn.binary_cross_entropy(p32, np.array([1.0, 0.0, 1.0], dtype=np.float32))
    assert np.isfinite(loss32.item())
    # Beside a clipped element, the others keep their own gradient.
    p, y = np.array([1e-3, 0.5, 1 - 1e-3, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])
    expected = (p[:3] - y[:3]) / (p[:3] * (1 - p[:3])) / 4
    assert np.allclose(grad_of(nn.binary_cross_entropy, p, y)[:3], expected, rtol=1e-12)


def test_binary_cross_entropy_refuses_values_outside_0_1() -> None:
    with pytest.raises(ValueError, match="for logits use binary_cross_entropy_with_logits"):
        nn.binary_cross_entropy(Tensor([0.5, 2.0]), [1.0, 0.0])
    with pytest.raises(ValueError, match="eps must be in"):
        nn.binary_cross_entropy(Tensor([0.5]), [1.0], eps=0.0)


def test_bce_with_logits_matches_the_reference_for_any_logit() -> None:
    z = np.array([-1e308, -800.0, -40.0, -3.0, -1e-9, 0.0, 1e-9, 2.5, 40.0, 800.0, 1e308])
    for y in (np.zeros_like(z), np.ones_like(z)):
        loss = nn.binary_cross_entropy_with_logits(Tensor(z), y)
        # log(1 + exp(z)) - z*y, summed one by one in a stable form
        reference = np.mean(np.logaddexp(0.0, z) - z * y)
        assert loss.item() == pytest.approx(reference, rel=1e-14)

        # sigmoid(z) - y, written so that it is accurate where it is tiny (confident and
        # right): for y = 1 it is -sigmoid(-z).
        def sigmoid(v: np.ndarray) -> np.ndarray:
            return np.exp(-np.logaddexp(0.0, -v))

        reference_grad = np.where(y == 1, -sigmoid(-z), sigmoid(z)) / z.size
        grad = grad_of(nn.binary_cross_entropy_with_logits, z, y)
        assert np.allclose(grad, reference_grad, rtol=1e-12, atol=0)


def test_bce_with_logits_gradient_at_zero_is_one_half_minus_y() -> None:
    # All-zero logits (zero-initialised weights) sit on the kinks of max and abs.
    grad = grad_of(nn.binary_cross_entropy_with_logits, np.zeros(4), np.array([0.0, 1, 1, 0]))
    assert np.array_equal(grad, np.array([0.5, -0.5, -0.5, 0.5]) / 4)


def test_bce_with_logits_equals_bce_on_the_sigmoid() -> None:
    z = np.linspace(-6, 6, 9)
    y = (np.arange(9) % 2).astype(float)
    with_logits = nn.binary_cross_entropy_with_logits(Tensor(z), y).item()
    on_probabilities = nn.binary_cross_entropy(Tensor(z).sigmoid(), y).item()
    assert with_logits == pytest.approx(on_probabilities, rel=1e-12)
    numeric = numeric_grad(
        lambda v: nn.binary_cross_entropy_with_logits(Tensor(v), y).item(), z.copy()
    )
    assert np.allclose(grad_of(nn.binary_cross_entropy_with_logits, z, y), numeric, atol=1e-8)


# ------------------------------------------------------------------ shapes and types


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_a_shape_mismatch_is_a_value_error_not_a_broadcast(loss: Callable[..., Tensor]) -> None:
    pred = Tensor(np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(pred, np.array([0.0, 1.0, 1.0, 0.0]))


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_pred_must_be_a_tensor_and_target_numbers(loss: Callable[..., Tensor]) -> None:
    with pytest.raises(TypeError, match="pred must be a Tensor"):
        loss(np.full(2, 0.5), np.zeros(2))
    with pytest.raises(TypeError):
        loss(Tensor([0.5, 0.5]), ["a", "b"])


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_losses_accept_array_and_tensor_targets(loss: Callable[..., Tensor]) -> None:
    pred, target = np.array([[0.2], [0.9]]), np.array([[0.0], [1.0]])
    assert loss(Tensor(pred), target).item() == loss(Tensor(pred), Tensor(target)).item()
