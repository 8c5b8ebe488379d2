"""nn.Embedding and nn.RNNCell: values, gradients through unrolled steps, init, errors, and
PyTorch's nn.RNNCell and nn.Embedding where PyTorch is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn
from tinygrad_lite.ops import Affine


def cell(
    nonlinearity: str = "tanh", bias: bool = True, sizes: tuple[int, int] = (3, 4)
) -> nn.RNNCell:
    return nn.RNNCell(*sizes, bias=bias, nonlinearity=nonlinearity, rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------ RNNCell


@given(
    batch=st.integers(1, 4),
    input_size=st.integers(1, 5),
    hidden=st.integers(1, 5),
    nonlinearity=st.sampled_from(["tanh", "relu"]),
    seed=st.integers(0, 2**16),
)
def test_a_step_is_the_formula_in_its_order_to_the_bit(
    batch: int, input_size: int, hidden: int, nonlinearity: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    layer = nn.RNNCell(input_size, hidden, nonlinearity=nonlinearity, rng=rng)
    x, h = rng.standard_normal((batch, input_size)), rng.standard_normal((batch, hidden))
    z = (x.dot(layer.weight_ih.data) + layer.bias_ih.data) + (
        h.dot(layer.weight_hh.data) + layer.bias_hh.data
    )
    expected = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)
    out = layer(Tensor(x), Tensor(h))
    assert out.shape == (batch, hidden)
    assert out.numpy().tobytes() == expected.tobytes()


def test_parameters_are_named_and_ordered_as_pytorchs_with_the_linear_layout() -> None:
    layer = cell()
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        ("weight_ih", (3, 4)),
        ("weight_hh", (4, 4)),
        ("bias_ih", (4,)),
        ("bias_hh", (4,)),
    ]
    assert repr(layer) == "RNNCell(3, 4)"
    assert repr(cell("relu", bias=False)) == "RNNCell(3, 4, bias=False, nonlinearity='relu')"
    assert [n for n, _ in cell(bias=False).named_parameters()] == ["weight_ih", "weight_hh"]


def test_default_init_is_pytorchs_bound_drawn_in_parameter_order() -> None:
    layer = nn.RNNCell(3, 16, rng=np.random.RandomState(5))
    bound = 1 / math.sqrt(16)
    draws = np.random.RandomState(5)
    for _, p in layer.named_parameters():
        expected = -bound + 2 * bound * draws.random(p.shape)
        np.testing.assert_array_equal(p.numpy(), expected)
        assert np.abs(p.numpy()).max() < bound


def test_a_missing_state_is_zeros_and_an_unbatched_step_works_on_vectors() -> None:
    layer = cell()
    x = np.array([[0.5, -1.0, 2.0]])
    zeros = np.zeros((1, 4))
    assert np.array_equal(layer(Tensor(x)).numpy(), layer(Tensor(x), Tensor(zeros)).numpy())
    out = layer(Tensor(x[0]), Tensor(zeros[0]))
    assert out.shape == (4,)
    assert np.array_equal(out.numpy(), layer(Tensor(x)).numpy()[0])
    assert layer(x[0].tolist()).shape == (4,)  # lists are constants


def test_a_step_is_four_nodes_two_affine_an_add_and_the_nonlinearity() -> None:
    layer = cell()
    with tl.trace() as tr:
        layer(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4))))
    assert [r.op for r in tr] == ["affine", "affine", "add", "tanh"]
    with tl.trace() as tr:
        cell("relu", bias=False)(Tensor(np.ones((2, 3))))
    assert [r.op for r in tr] == ["matmul", "matmul", "add", "relu"]


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradients_through_unrolled_steps_pass_gradcheck(nonlinearity: str) -> None:
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((6, 2, 3))

    def loss(w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor, h0: Tensor) -> Tensor:
        layer = nn.RNNCell(3, 4, nonlinearity=nonlinearity, rng=rng)
        # the checked tensors themselves in place of the layer's own
        layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh = w_ih, w_hh, b_ih, b_hh
        h = h0
        total = Tensor(0.0)
        for x in xs:
            h = layer(Tensor(x), h)
            total = total + (h * h).sum()
        return total

    params = [p.numpy() for p in cell(nonlinearity).parameters()]
    assert tl.gradcheck(loss, *params, rng.standard_normal((2, 4)))


def test_from_weights_holds_the_values_and_checks_the_shapes() -> None:
    w_ih, w_hh = np.ones((2, 3)), np.eye(3)
    layer = nn.RNNCell.from_weights(w_ih, w_hh, np.zeros(3), np.ones(3))
    assert (layer.input_size, layer.hidden_size) == (2, 3)
    assert np.array_equal(layer.weight_hh.numpy(), w_hh)
    w_ih[0, 0] = 9.0
    assert layer.weight_ih.numpy()[0, 0] == 1.0  # a copy
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(3, 3\)"):
        nn.RNNCell.from_weights(np.ones((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match="give both biases"):
        nn.RNNCell.from_weights(np.ones((2, 3)), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"bias_hh must have shape \(3,\)"):
        nn.RNNCell.from_weights(np.ones((2, 3)), np.eye(3), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"weight_ih must be 2-D"):
        nn.RNNCell.from_weights(np.ones(3), np.eye(3))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.RNNCell(0, 3), ValueError, "input_size must be at least 1, got 0"),
        (lambda: nn.RNNCell(2, 2.5), TypeError, "hidden_size must be an int, got 2.5"),
        (lambda: nn.RNNCell(2, 3, bias=1), TypeError, "bias must be True or False"),
        (lambda: nn.RNNCell(2, 3, nonlinearity="sigmoid"), ValueError, "accepted: 'tanh', 'relu'"),
        (lambda: nn.RNNCell(2, 3, rng=0), TypeError, "rng must be a numpy.random.Generator"),
        (
            lambda: cell()(Tensor(np.ones((2, 5)))),
            ValueError,
            r"input has shape \(2, 5\); accepted: \(batch, 3\) or \(3,\)",
        ),
        (
            lambda: cell()(Tensor(np.ones((2, 3))), Tensor(np.ones((1, 4)))),
            ValueError,
            r"hidden state has shape \(1, 4\) for an input of shape \(2, 3\); accepted: \(2, 4\)",
        ),
        (lambda: cell()(Tensor(np.ones((1, 1, 3)))), ValueError, r"input has shape \(1, 1, 3\)"),
    ],
)
def test_bad_arguments_say_what_is_accepted(make, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        make()


# ---------------------------------------------------------------------------- Embedding


def test_embedding_looks_up_rows_and_adds_the_gradients_of_repeats() -> None:
    table = nn.Embedding(5, 3, rng=np.random.default_rng(0))
    indices = np.array([[1, 4], [1, 1]])
    out = table(indices)
    assert out.shape == (2, 2, 3)
    assert np.array_equal(out.numpy(), table.weight.numpy()[indices])
    (out * Tensor(np.arange(12.0).reshape(2, 2, 3))).sum().backward()
    grad = table.weight.grad.numpy()
    np.testing.assert_array_equal(grad[1], [0 + 6 + 9, 1 + 7 + 10, 2 + 8 + 11])
    np.testing.assert_array_equal(grad[4], [3, 4, 5])
    np.testing.assert_array_equal(grad[[0, 2, 3]], 0)


def test_embedding_init_is_a_standard_normal_and_indices_may_be_tensors() -> None:
    table = nn.Embedding(4, 2, rng=np.random.RandomState(3))
    np.testing.assert_array_equal(
        table.weight.numpy(), np.random.RandomState(3).standard_normal((4, 2))
    )
    assert repr(table) == "Embedding(4, 2)"
    assert np.array_equal(table(Tensor([3.0, 0.0])).numpy(), table.weight.numpy()[[3, 0]])
    assert table(2).shape == (2,)


def test_a_one_hot_row_times_weight_ih_is_the_embedding_of_weight_ih() -> None:
    # (in, out) layout: row c of weight_ih is what character c adds, a lookup table.
    layer = nn.RNNCell(6, 4, rng=np.random.default_rng(2))
    table = nn.Embedding.from_pretrained(layer.weight_ih.numpy())
    chars = [5, 0, 3, 3]
    product = Affine.apply(nn.one_hot(chars, 6), layer.weight_ih, Tensor(np.zeros(4)))
    assert product.numpy().tobytes() == table(chars).numpy().tobytes()
    assert not table.weight.requires_grad
    assert nn.Embedding.from_pretrained(np.eye(2), freeze=False).weight.requires_grad


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([5], IndexError, "index 5 is out of range for 5 embeddings; accepted: 0 to 4"),
        ([-1], IndexError, "index -1 is out of range"),
        ([1.5], ValueError, "indices must be whole numbers, got 1.5"),
        (["a"], TypeError, "indices must be ints"),
    ],
)
def test_embedding_bad_indices(indices: list, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nn.Embedding(5, 2, rng=np.random.default_rng(0))(indices)


def test_embedding_bad_sizes() -> None:
    with pytest.raises(ValueError, match="num_embeddings must be at least 1"):
        nn.Embedding(0, 2)
    with pytest.raises(ValueError, match=r"weight must be 2-D \(num_embeddings, embedding_dim\)"):
        nn.Embedding.from_pretrained(np.ones(3))
    with pytest.raises(TypeError, match="freeze must be True or False"):
        nn.Embedding.from_pretrained(np.ones((2, 2)), freeze="yes")


# ------------------------------------------------------------------------------ PyTorch


def test_rnncell_and_embedding_agree_with_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for nonlinearity in ("tanh", "relu"):
        ours = nn.RNNCell(5, 4, nonlinearity=nonlinearity, rng=rng)
        theirs = torch.nn.RNNCell(5, 4, nonlinearity=nonlinearity).double()
        with torch.no_grad():  # PyTorch's weights are ours transposed
            theirs.weight_ih.copy_(torch.tensor(ours.weight_ih.numpy().T))
            theirs.weight_hh.copy_(torch.tensor(ours.weight_hh.numpy().T))
            theirs.bias_ih.copy_(torch.tensor(ours.bias_ih.numpy()))
            theirs.bias_hh.copy_(torch.tensor(ours.bias_hh.numpy()))
        h, their_h = None, None
        for x in rng.standard_normal((7, 3, 5)):
            h, their_h = ours(Tensor(x), h), theirs(torch.tensor(x), their_h)
        (h * h).sum().backward()
        (their_h * their_h).sum().backward()
        np.testing.assert_allclose(h.numpy(), their_h.detach().numpy(), rtol=1e-12, atol=1e-14)
        for name, p in ours.named_parameters():
            their_grad = getattr(theirs, name).grad.numpy()
            expected = their_grad.T if name.startswith("weight") else their_grad
            np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-11, atol=1e-13)
    table = nn.Embedding(7, 3, rng=rng)
    their_table = torch.nn.Embedding(7, 3).double()
    with torch.no_grad():
        their_table.weight.copy_(torch.tensor(table.weight.numpy()))
    indices = [[1, 2], [1, 6]]
    (table(indices) ** 2).sum().backward()
    (their_table(torch.tensor(indices)) ** 2).sum().backward()
    np.testing.assert_array_equal(table.weight.grad.numpy(), their_table.weight.grad.numpy())
