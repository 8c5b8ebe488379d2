"""The seed networks: autodiff equals the seed's hand-written loops bit for bit, every epoch,
at full length, and prints the seed's numbers; the modern XOR learns from any seed."""

from __future__ import annotations

import numpy as np
import pytest

from models import compare, single_neuron, xor_modern, xor_net
from tinygrad_lite import Tensor

# What the seed scripts print (the .out files beside them in the seed article): eight
# digits, which every CPU reproduces (docs/design.md, "What is bit-exact").
SEED_SINGLE_NEURON_OUT = """\
array([[ 9.67299303],
       [-0.2078435 ],
       [-4.62963669]])
array([[0.99993704]])"""
SEED_XOR_NET_OUT = """\
array([[0.54443872]])
array([[ 4.73529025,  4.27319249, -6.36968571, -4.27321349],
       [-2.7538492 , -5.89156219, -6.66190745, -3.80831735],
       [ 1.08104107, -2.0745069 ,  2.55907684,  5.99877707]])
array([[ -7.2258963 ],
       [  7.34854804],
       [-10.4977463 ],
       [  8.12217288]])"""


def test_the_data_is_the_seeds() -> None:
    assert single_neuron.X.tolist() == [[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]]
    assert xor_net.X.tolist() == [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    for module in (single_neuron, xor_net):
        assert module.y.tolist() == [[0], [1], [1], [0]]


def test_build_initialises_as_the_seed_does() -> None:
    from numpy import random  # the seed's own calls, on numpy's global generator

    random.seed(1)
    weights = 2 * random.random((3, 1)) - 1
    assert np.array_equal(single_neuron.build(1)[0].weight.data, weights)
    random.seed(1)
    w0 = 2 * random.random((3, 4)) - 1
    w1 = 2 * random.random((4, 1)) - 1
    model = xor_net.build(1)
    assert np.array_equal(model[0].weight.data, w0)
    assert np.array_equal(model[2].weight.data, w1)


@pytest.mark.parametrize(
    "module, seed_out, predict_row",
    [(single_neuron, SEED_SINGLE_NEURON_OUT, 1), (xor_net, SEED_XOR_NET_OUT, 0)],
    ids=["single_neuron", "xor_net"],
)
def test_autodiff_equals_the_hand_written_loop_every_epoch_at_full_length(
    module: object, seed_out: str, predict_row: int
) -> None:
    m: object = module
    result = compare.compare(
        m.build,  # type: ignore[attr-defined]
        m.train,  # type: ignore[attr-defined]
        m.manual_train,  # type: ignore[attr-defined]
        m.EPOCHS,  # type: ignore[attr-defined]
        timing=False,
    )
    # Compared after every one of the 10 000 / 100 000 epochs, bit for bit.
    assert result.bit_identical, result.report()
    assert [p.largest_difference for p in result.parameters] == [0.0] * len(result.parameters)
    assert result.losses.shape == (m.EPOCHS,)  # type: ignore[attr-defined]
    assert result.losses[-1] < result.losses[0] / 100
    # ... and the seed's printed output, character for character.
    model = result.model
    weights = [repr(p.numpy()) for p in model.parameters()]
    prediction = repr(m.predict(model, [[1, 0, 0]]))  # type: ignore[attr-defined]
    printed = [*weights, prediction] if predict_row else [prediction, *weights]
    assert "\n".join(printed) == seed_out


def test_the_comparison_catches_a_difference_in_the_last_bit() -> None:
    def off_by_a_bit(state: dict[str, np.ndarray], epochs: int) -> dict[str, np.ndarray]:
        single_neuron.manual_train(state, epochs)
        weights = state["0.weight"]
        weights[2, 0] = np.nextafter(weights[2, 0], np.inf)
        return state

    result = compare.compare(
        single_neuron.build, single_neuron.train, off_by_a_bit, 5, timing=False
    )
    assert not result.bit_identical
    (weights,) = result.parameters
    assert weights.first_differing_epoch == 1
    assert 0 < weights.largest_difference < 1e-12
    assert "NO" in result.report()


def test_the_comparison_reports_timings() -> None:
    result = compare.compare(
        single_neuron.build, single_neuron.train, single_neuron.manual_train, 20
    )
    assert result.autodiff_seconds is not None and result.autodiff_seconds > 0
    assert result.manual_seconds is not None and result.manual_seconds > 0
    report = result.report()
    assert "0.weight" in report and "yes" in report and "us/epoch" in report


def test_the_seeds_lr_enters_w0_twice() -> None:
    # manual_train keeps the seed's formulas: lr scales l1_delta, which then feeds l0_delta.
    lr = 0.5
    start = xor_net.build(1).state_dict()
    by_hand = xor_net.manual_train({k: v.copy() for k, v in start.items()}, 1, lr=lr)
    unit = xor_net.manual_train({k: v.copy() for k, v in start.items()}, 1, lr=1.0)
    step_w0 = by_hand["0.weight"] - start["0.weight"]
    step_w1 = by_hand["2.weight"] - start["2.weight"]
    assert np.allclose(step_w1, lr * (unit["2.weight"] - start["2.weight"]), rtol=1e-12)
    assert np.allclose(step_w0, lr**2 * (unit["0.weight"] - start["0.weight"]), rtol=1e-12)
    # SGD(lr) moves w0 by lr times its gradient, as gradient descent should.
    model = xor_net.build(1)
    xor_net.train(model, 1, lr=lr)
    sgd_step_w0 = model[0].weight.data - start["0.weight"]
    assert np.allclose(sgd_step_w0, lr * (unit["0.weight"] - start["0.weight"]), rtol=1e-12)


def test_train_calls_back_after_every_epoch() -> None:
    seen: list[int] = []
    losses = single_neuron.train(single_neuron.build(1), 7, on_epoch=seen.append)
    assert seen == list(range(7))
    assert losses.shape == (7,)


def test_a_trained_network_can_be_saved_and_loaded(tmp_path: object) -> None:
    import tinygrad_lite as tl

    model = single_neuron.build(1)
    single_neuron.train(model, 100)
    path = f"{tmp_path}/neuron.npz"
    tl.save(model.state_dict(), path)
    fresh = single_neuron.build(2)
    fresh.load_state_dict(tl.load(path))
    x = Tensor([[1, 0, 0]])
    assert np.array_equal(fresh(x).data, model(x).data)


@pytest.mark.parametrize("seed", range(8))
def test_the_modern_xor_learns_from_several_seeds(seed: int) -> None:
    model = xor_modern.build(seed)
    losses = xor_modern.train(model)
    assert losses[-1] < 0.01
    assert xor_modern.accuracy(model) == 1.0


def test_the_single_neuron_prints_the_seeds_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    single_neuron.main()
    out = capsys.readouterr().out
    assert SEED_SINGLE_NEURON_OUT in out
    assert "bit-identical" in out and "us/epoch" in out
