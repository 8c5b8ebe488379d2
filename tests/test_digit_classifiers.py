"""The digit classifiers: autodiff equals the hand-written numpy twin bit for bit after every
step of a full training run, and the default settings reach the accuracies promised."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import digits, digits_cnn, digits_mlp, minibatch
from models.cli import comparison
from tinygrad_lite import Tensor, nn
from tinygrad_lite.ops import Col2im, Im2col


def _lockstep(module: object, epochs: int) -> tuple[comparison.Comparison, nn.Module]:
    m: object = module
    model = m.build(0)  # type: ignore[attr-defined]
    result = comparison.compare_minibatch(
        m.__name__, m, model, epochs, epochs, seed=0, timing=False
    )
    return result, model


def test_the_mlp_twin_is_bit_identical_at_every_step_of_the_full_run() -> None:
    result, model = _lockstep(digits_mlp, digits_mlp.EPOCHS)
    assert result.steps == digits_mlp.EPOCHS * digits_mlp.steps_per_epoch() == 900
    assert result.identical, result.table()
    assert result.differences == [[0.0] * 4] * digits_mlp.EPOCHS
    split = digits.load_split()
    assert minibatch.accuracy(model, split.x_test, split.y_test) >= 0.97


def test_the_cnn_twin_is_bit_identical_at_every_step_of_the_full_run() -> None:
    # The full run: 900 steps of the network and its twin in lockstep (about 20 s of CPU).
    result, model = _lockstep(digits_cnn, digits_cnn.EPOCHS)
    assert result.steps == 900
    assert result.identical and result.largest_relative == 0.0, result.table()
    split = digits.load_split()
    assert minibatch.accuracy(model, digits_cnn.images(split.x_test), split.y_test) >= 0.98


def test_the_comparison_sees_a_twin_that_is_one_ulp_off() -> None:
    class OffByOneUlp:
        """digits_mlp, except that its twin's first weight drifts by one ulp at step 3."""

        __name__ = "off-by-one-ulp"
        build, train, steps_per_epoch = (
            digits_mlp.build,
            digits_mlp.train,
            digits_mlp.steps_per_epoch,
        )
        LR = digits_mlp.LR

        @staticmethod
        def manual_steps(state: dict[str, np.ndarray], epochs: int, seed: int) -> object:
            for step in digits_mlp.manual_steps(state, epochs, seed=seed):
                if step == 3:
                    w = state["0.weight"]
                    w[0, 0] = np.nextafter(w[0, 0], np.inf)
                yield step

    model = digits_mlp.build(0)
    result = comparison.compare_minibatch("off", OffByOneUlp, model, 1, 1, 0, timing=False)
    assert not result.identical
    assert 0 < result.largest_relative < 1e-12
    assert "bit-identical: no" in result.table()
    assert "largest relative difference: " in result.table()


def test_the_twins_see_the_batches_tl_data_batches_draws() -> None:
    # The twins draw each epoch's order with rng.permutation, as tl.data.batches does.
    from tinygrad_lite import data

    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    rows = np.arange(70)
    for _ in range(3):
        drawn = [b.data.astype(int).tolist() for (b,) in data.batches(rows, batch_size=32, rng=rng)]
        order = twin.permutation(70)
        assert drawn == [order[s : s + 32].tolist() for s in range(0, 70, 32)]


# ------------------------------------------------------------------- im2col, col2im

shapes = st.tuples(
    st.integers(1, 2),  # N
    st.integers(1, 3),  # C
    st.integers(1, 7),  # H
    st.integers(1, 7),  # W
    st.integers(1, 3),  # kernel
    st.integers(1, 3),  # stride
    st.integers(0, 2),  # padding
).filter(lambda s: s[4] <= min(s[2], s[3]) + 2 * s[6])


@given(shapes)
def test_the_twins_im2col_and_col2im_are_the_ops_and_adjoint(shape: tuple[int, ...]) -> None:
    n, c, h, w, k, stride, padding = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal((n, c, h, w))
    cols = digits_cnn.im2col(x, k, stride, padding)
    pair = {"kernel": (k, k), "stride": (stride, stride), "padding": (padding, padding)}
    assert cols.tobytes() == Im2col().forward(x, **pair).tobytes()
    g = rng.standard_normal(cols.shape)
    back = digits_cnn.col2im(g, x.shape, k, stride, padding)
    assert back.tobytes() == Col2im().forward(g, shape=x.shape, **pair).tobytes()
    # <im2col(x), g> == <x, col2im(g)>: col2im is im2col's transpose
    np.testing.assert_allclose(np.vdot(cols, g), np.vdot(x, back), rtol=1e-12, atol=1e-12)


def test_the_hand_written_input_gradient_of_a_convolution_is_autodiffs() -> None:
    # The network's convolution reads the data, so its backward needs no input gradient;
    # deeper in a network it would: conv_input_gradient against backward().
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 1, 8, 8)), requires_grad=True)
    conv = nn.Conv2d(1, 4, 3, padding=1, rng=rng)
    out = conv(x)
    grad = rng.standard_normal(out.shape)
    out.backward(Tensor(grad))
    d_rows = grad.transpose(0, 2, 3, 1).reshape(-1, 4)  # (N*8*8, O), as the twin has it
    expected = digits_cnn.conv_input_gradient(d_rows, conv.weight.data, x.shape)
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("module", [digits_mlp, digits_cnn], ids=["mlp", "cnn"])
def test_the_first_steps_of_a_second_seed_are_bit_identical_too(module: object) -> None:
    m: object = module
    model = m.build(5)  # type: ignore[attr-defined]
    result = comparison.compare_minibatch("seed 5", m, model, 1, 1, 5, timing=False)
    assert result.identical, result.table()
