"""models.char_rnn: the classic character-level RNN, bit for bit against its hand-written
backprop through time, its gradient against central differences, and its samples."""

from __future__ import annotations

import hashlib
import math
from importlib import resources

import numpy as np
import pytest

import tinygrad_lite as tl
from models import char_rnn
from tinygrad_lite import Tensor, nn

ITERATIONS = 1000  # the comparison runs this many iterations, weights checked after each


def test_the_shipped_text_is_the_opening_of_coriolanus() -> None:
    text = char_rnn.load_text()
    raw = resources.files("models").joinpath("data", char_rnn.TEXT_FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == (
        "641168b0a7ca974a0abe598dd69e037b4de2716c0769a5314449573215d7e0bf"
    )  # the checksum models/data/README.md gives
    assert len(text) == 32387
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert text.endswith("All:\nCaius Marcius Coriolanus!\n")
    assert len(char_rnn.vocabulary(text)) == 58


def test_build_is_the_classics_initialisation_transposed_to_our_layout() -> None:
    model = char_rnn.build(seed=3)
    rng = np.random.RandomState(3)
    vocab, hidden = 58, char_rnn.HIDDEN
    wxh, whh, why = (
        rng.randn(hidden, vocab) * 0.01,
        rng.randn(hidden, hidden) * 0.01,
        rng.randn(vocab, hidden) * 0.01,
    )
    assert np.array_equal(model.rnn.weight_ih.numpy(), wxh.T)
    assert np.array_equal(model.rnn.weight_hh.numpy(), whh.T)
    assert np.array_equal(model.head.weight.numpy(), why.T)
    for bias in (model.rnn.bias_ih, model.rnn.bias_hh, model.head.bias):
        assert not bias.numpy().any()
    for p in model.parameters():
        assert p.data.flags.c_contiguous  # the layout the hand-written twin's copies have


def test_the_forward_pass_is_the_cell_applied_once_per_character() -> None:
    model = char_rnn.build(seed=0, hidden=6)
    inputs = model.encode("Citizen")
    logits, states = model(inputs)
    assert logits.shape == (7, 58) and len(states) == 7
    h = None
    for t, c in enumerate(inputs):
        h = model.rnn(nn.one_hot([c], 58), h)
        assert np.array_equal(h.numpy(), states[t].numpy())
    # the head reads all the states in one product: of one row alone, BLAS may round the
    # last bits otherwise (which is why the hand-written twin does the same)
    np.testing.assert_allclose(model.head(h).numpy()[0], logits.numpy()[-1], rtol=1e-12)


def test_chunks_follow_the_classics_pointer() -> None:
    data = np.arange(60)
    got = [next(g) for g in [char_rnn.chunks(data, 25)] for _ in range(4)]
    starts = [int(inputs[0]) for inputs, _, _ in got]
    assert starts == [0, 25, 0, 25]  # 50 + 25 + 1 >= 60: back to the start
    assert [reset for _, _, reset in got] == [True, False, True, False]
    inputs, targets, _ = got[1]
    assert np.array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="too short"):
        next(char_rnn.chunks(np.arange(26), 25))


# ------------------------------------------------------------------- bit for bit


def test_autodiff_and_the_hand_written_bptt_are_bit_identical_for_1000_iterations() -> None:
    model = char_rnn.build(seed=0)
    state = model.state_dict()
    trainer = char_rnn.Trainer(model)
    by_hand = char_rnn.manual_steps(state, ITERATIONS)
    named = model.named_parameters()
    assert [name for name, _ in named] == list(char_rnn.NAMES)
    for i in range(ITERATIONS):
        ours, theirs = trainer.step(), next(by_hand)
        assert np.float64(ours).tobytes() == np.float64(theirs).tobytes(), f"iteration {i + 1}"
        for name, p in named:
            # bytes, not ==: -0.0 and 0.0 differ, and a NaN would equal itself
            assert p.data.tobytes() == state[name].tobytes(), f"{name}, iteration {i + 1}"
    start = char_rnn.build(seed=0).state_dict()
    assert all(np.abs(state[n] - start[n]).max() > 0.01 for n in char_rnn.NAMES)  # they moved
    assert next(by_hand, None) is None  # the twin ran exactly ITERATIONS


def test_the_hand_written_gradients_equal_the_engines_to_the_bit() -> None:
    # One chunk, from a zero state: every gradient, not just the weights after the update.
    model = char_rnn.build(seed=1)
    data = model.encode(char_rnn.load_text())
    inputs, targets = data[100:125], data[101:126]
    logits, _ = model(inputs)
    nn.cross_entropy(logits, targets, reduction="sum").backward()
    Wxh, Whh, bih, bhh, Why, by = (p.numpy() for p in model.parameters())  # noqa: N806
    hprev = np.zeros((1, char_rnn.HIDDEN))
    xs, hs, ys = char_rnn.fp(inputs, hprev, Wxh, Whh, bih, bhh, Why, by)
    _, p = char_rnn.loss_of(ys, targets)
    grads = char_rnn.bp(xs, hs, hprev, p, targets, Whh, Why)
    for (name, param), grad in zip(model.named_parameters(), grads):
        assert param.grad.numpy().tobytes() == grad.tobytes(), name


def test_the_engine_adds_a_weights_25_contributions_from_the_last_step_back() -> None:
    model = char_rnn.build(seed=0)
    inputs, targets, _ = next(char_rnn.chunks(model.encode(char_rnn.load_text())))
    with tl.trace(values=True, names=dict(model.named_parameters())) as tr:
        logits, _ = model(inputs)
        nn.cross_entropy(logits, targets, reduction="sum").backward()
    given = [r for r in tr if r.phase == "backward" and "rnn.weight_hh" in r.output]
    assert len(given) == 25  # one contribution per step
    made = [r.forward_step for r in given]  # when each node was made, in the order visited
    assert made == sorted(made, reverse=True)  # the last step first
    total = given[0].values["dw"]  # the sum starts at the first contribution
    for r in given[1:]:
        total = total + r.values["dw"]
    assert total.tobytes() == model.rnn.weight_hh.grad.numpy().tobytes()


# -------------------------------------------------------------------- gradcheck


def test_gradcheck_of_the_unrolled_loss() -> None:
    # A small cell, so that every element of every parameter is checked in full: 25 steps
    # of a 5-unit state over the text's first 26 characters (their own vocabulary).
    text = char_rnn.load_text()[:26]
    chars = char_rnn.vocabulary(text)
    model = char_rnn.build(seed=2, hidden=5, chars=chars)
    data = model.encode(text)
    inputs, targets = data[:25], data[1:26]
    h0 = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 5))
    scale = [10.0, 10.0, 1.0, 1.0, 10.0, 1.0]  # weights well away from the classic's 0.01

    def loss(*params: Tensor) -> Tensor:
        model.rnn.weight_ih, model.rnn.weight_hh, model.rnn.bias_ih, model.rnn.bias_hh = params[:4]
        model.head.weight, model.head.bias = params[4:]
        logits, _ = model(inputs, Tensor(h0))
        return nn.cross_entropy(logits, targets, reduction="sum")

    rng = np.random.default_rng(1)
    start = [
        p.numpy() * s + 0.1 * rng.standard_normal(p.shape)
        for p, s in zip(model.parameters(), scale)
    ]
    assert tl.gradcheck(loss, *start)


def test_gradcheck_at_full_size_along_random_directions() -> None:
    model = char_rnn.build(seed=0)
    inputs, targets, _ = next(char_rnn.chunks(model.encode(char_rnn.load_text())))
    params = model.parameters()

    def loss(*values: Tensor) -> Tensor:
        model.rnn.weight_ih, model.rnn.weight_hh, model.rnn.bias_ih, model.rnn.bias_hh = values[:4]
        model.head.weight, model.head.bias = values[4:]
        logits, _ = model(inputs)
        return nn.cross_entropy(logits, targets, reduction="sum")

    assert tl.gradcheck(loss, *[p.numpy() * 30 for p in params], mode="direction")


# ---------------------------------------------------------------------- sampling


def test_sampling_is_reproducible_from_a_seed() -> None:
    model = char_rnn.build(seed=0)
    char_rnn.train(model, iterations=50)
    first = char_rnn.sample(model, "\n", 120, np.random.default_rng(7))
    again = char_rnn.sample(model, "\n", 120, np.random.default_rng(7))
    other = char_rnn.sample(model, "\n", 120, np.random.default_rng(8))
    legacy = char_rnn.sample(model, "\n", 120, np.random.RandomState(7))
    assert first == again and len(first) == 120
    assert other != first
    assert legacy == char_rnn.sample(model, "\n", 120, np.random.RandomState(7))
    assert set(first) <= set(model.chars)
    assert char_rnn.sample(model, "F", 0, np.random.default_rng(0)) == ""


def test_a_sample_draws_each_character_from_the_models_softmax() -> None:
    # The draws, redone by hand: feed a character, softmax of the scores, rng.choice.
    model = char_rnn.build(seed=4)
    text = char_rnn.sample(model, "a", 30, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    h, index = None, model.chars.index("a")
    expected = []
    with tl.no_grad():
        for _ in range(30):
            h = model.rnn(nn.one_hot([index], 58), h)
            p = model.head(h).softmax(axis=-1).numpy()[0]
            index = int(rng.choice(58, p=p))
            expected.append(model.chars[index])
    assert text == "".join(expected)


def test_a_trained_model_samples_likelier_text() -> None:
    # After a few hundred iterations the samples use the common letters and spaces.
    model = char_rnn.build(seed=0)
    losses = char_rnn.train(model, iterations=400)
    assert losses[-100:].mean() < 0.9 * char_rnn.uniform_loss(model.chars)
    text = char_rnn.sample(model, "\n", 2000, np.random.default_rng(0))
    assert text.count(" ") > text.count("z") + text.count("Q") + text.count("?")


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("é", 3, np.random.default_rng(0)), ValueError, "seed_char must be one character of"),
        (("ab", 3, np.random.default_rng(0)), ValueError, "seed_char must be one character"),
        ((7, 3, np.random.default_rng(0)), TypeError, "seed_char must be a str, got int"),
        (("a", -1, np.random.default_rng(0)), ValueError, "n must be 0 or more, got -1"),
        (("a", 2.0, np.random.default_rng(0)), TypeError, "n must be an int, got 2.0"),
        (("a", 3, 0), TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_sample_bad_arguments(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        char_rnn.sample(char_rnn.build(seed=0, hidden=3), *args)


def test_encode_names_the_characters_it_does_not_know() -> None:
    model = char_rnn.build(seed=0, hidden=3)
    assert model.encode("All:").tolist() == [model.chars.index(c) for c in "All:"]
    with pytest.raises(ValueError, match="characters 'Zé' are not in the vocabulary"):
        model.encode("éZ")


def test_the_uniform_loss_is_25_ln_v() -> None:
    assert char_rnn.uniform_loss("abcd") == pytest.approx(25 * math.log(4))
    model = char_rnn.build(seed=0)
    inputs, targets, _ = next(char_rnn.chunks(model.encode(char_rnn.load_text())))
    logits, _ = model(inputs)
    first = nn.cross_entropy(logits, targets, reduction="sum").item()
    assert first == pytest.approx(char_rnn.uniform_loss(model.chars), abs=0.1)  # tiny weights


def test_a_mismatched_vocabulary_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 characters, but the cell takes 4 inputs"):
        char_rnn.CharRNN("abc", nn.RNNCell(4, 2), nn.Linear(2, 3))
    with pytest.raises(
        ValueError, match="3 characters, but the cell takes 3 inputs and the head gives 2"
    ):
        char_rnn.CharRNN("abc", nn.RNNCell(3, 2), nn.Linear(2, 2))
