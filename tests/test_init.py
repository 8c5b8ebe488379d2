"""The scaled initialisers: PyTorch's formulas and gains, fans read from our layouts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tinygrad_lite import init

GAINS = {
    "linear": 1.0,
    "conv2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5 / 3,
    "relu": math.sqrt(2),
    "selu": 0.75,
    "leaky_relu": math.sqrt(2 / (1 + 0.01**2)),
}


@pytest.mark.parametrize("name, gain", GAINS.items())
def test_calculate_gain_is_pytorchs_table(name: str, gain: float) -> None:
    assert init.calculate_gain(name) == gain


def test_leaky_relus_gain_takes_its_slope() -> None:
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))


@pytest.mark.parametrize(
    "shape, fans",
    [((3, 5), (3, 5)), ((8, 1, 3, 3), (9, 72)), ((6, 4, 5), (20, 30)), ((2, 3, 2, 2, 2), (24, 16))],
)
def test_fans_read_linears_layout_and_convolutions_layout(shape: tuple, fans: tuple) -> None:
    assert init.fan_in_and_fan_out(shape) == fans


def test_kaiming_uniform_is_the_draw_scaled_to_he_bound() -> None:
    # fan_in of a (8, 1, 3, 3) convolution weight is 9; relu's gain is sqrt(2).
    shape = (8, 1, 3, 3)
    w = init.kaiming_uniform(shape, rng=np.random.default_rng(3))
    bound = math.sqrt(3.0) * (math.sqrt(2) / math.sqrt(9))
    assert np.array_equal(w, -bound + (2 * bound) * np.random.default_rng(3).random(shape))
    w_out = init.kaiming_uniform(shape, mode="fan_out", rng=np.random.default_rng(3))
    assert np.abs(w_out).max() <= math.sqrt(3.0) * math.sqrt(2) / math.sqrt(72)
    # PyTorch's default for layers: a = sqrt(5), which gives 1/sqrt(fan_in).
    w5 = init.kaiming_uniform((64, 10), a=math.sqrt(5), rng=np.random.default_rng(0))
    assert np.abs(w5).max() <= 1 / 8 + 1e-15 and np.abs(w5).max() > 0.99 / 8


def test_kaiming_normal_and_xavier_normal_scale_a_standard_normal_draw() -> None:
    shape = (400, 300)
    he = init.kaiming_normal(shape, nonlinearity="tanh", rng=np.random.default_rng(1))
    z = np.random.default_rng(1).standard_normal(shape)
    assert np.array_equal(he, 0.0 + (5 / 3 / math.sqrt(400)) * z)
    glorot = init.xavier_normal(shape, gain=2.0, rng=np.random.default_rng(1))
    assert np.array_equal(glorot, 0.0 + (2.0 * math.sqrt(2 / 700)) * z)
    assert glorot.std() == pytest.approx(2.0 * math.sqrt(2 / 700), rel=0.01)


def test_xavier_uniform_is_unchanged_for_linear_weights_and_takes_convolutions() -> None:
    w = init.xavier_uniform((20, 30), gain=1.5, rng=np.random.default_rng(0))
    bound = 1.5 * math.sqrt(6.0 / 50)
    assert np.array_equal(w, -bound + (bound - -bound) * np.random.default_rng(0).random((20, 30)))
    conv = init.xavier_uniform((4, 2, 3, 3), rng=np.random.default_rng(0))
    assert np.abs(conv).max() <= math.sqrt(6.0 / (18 + 36))


def test_against_pytorchs_bounds_and_stds() -> None:
    torch = pytest.importorskip("torch")
    for shape in [(8, 1, 3, 3), (16, 8, 5, 5), (6, 4, 5)]:  # convolutions: the same layout
        t = torch.empty(shape, dtype=torch.float64)
        assert init.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(t)
    linear = torch.empty((10, 64), dtype=torch.float64)  # PyTorch's Linear: (out, in)
    assert init.fan_in_and_fan_out((64, 10)) == torch.nn.init._calculate_fan_in_and_fan_out(linear)
    for name in GAINS:
        assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)
    assert init.calculate_gain("leaky_relu", 0.3) == torch.nn.init.calculate_gain("leaky_relu", 0.3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda r: init.kaiming_uniform((5,), rng=r), ValueError, "shape of a weight"),
        (lambda r: init.kaiming_normal((3, 0, 2), rng=r), ValueError, "no zero size"),
        (lambda r: init.kaiming_uniform((3, 2), mode="in", rng=r), ValueError, "fan_in' or"),
        (lambda r: init.kaiming_uniform((3, 2), nonlinearity="gelu", rng=r), ValueError, "gelu"),
        (lambda r: init.kaiming_uniform((3, 2), a="x", rng=r), TypeError, "a must be a real"),
        (lambda r: init.kaiming_uniform((3, 2), rng=None), TypeError, "rng must be"),
        (lambda r: init.xavier_normal((3, 2), gain=-1.0, rng=r), ValueError, "std must be"),
        (lambda r: init.calculate_gain("leaky_relu", True), TypeError, "param must be"),
        (lambda r: init.fan_in_and_fan_out("3x3"), TypeError, "shape must be"),
    ],
)
def test_bad_arguments_are_clear_errors(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(np.random.default_rng(0))
