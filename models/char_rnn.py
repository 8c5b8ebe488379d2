"""Text, one character at a time: the classic character-level RNN (min-char-rnn), trained
by backprop through time.

One-hot characters in, a tanh hidden state of 100 units carried from step to step, a
softmax over the vocabulary at each of 25 steps, the summed cross-entropy; gradients
clipped to [-5, 5], Adagrad updates; the hidden state carried (not differentiated) from
one 25-character chunk to the next, as A. Karpathy's min-char-rnn.py (2015) trains it.
The text is the opening of Shakespeare's *Coriolanus* (public domain), shipped with the
package (``models/data/README.md``).

The network is built from tinygrad_lite's pieces: ``nn.RNNCell`` applied 25 times,
``nn.Linear``, ``nn.cross_entropy``, ``nn.utils.clip_grad_value_``, ``optim.Adagrad``.
Beside it, ``manual_steps`` trains the same network with the backward pass written out
in numpy (the classic's ``dy = p - onehot``, ``dh = Why^T dy + dh_next``, ``dh_raw =
(1 - h^2) * dh``), and the two runs agree bit for bit after every iteration
(docs/tutorial.md, "Backprop through time", says why). ``python -m models.char_rnn``
trains it and prints a sample.

>>> model = build(seed=0)
>>> model
CharRNN(
  (rnn): RNNCell(58, 100)
  (head): Linear(in_features=100, out_features=58, bias=True)
)
>>> [name for name, _ in model.named_parameters()]
['rnn.weight_ih', 'rnn.weight_hh', 'rnn.bias_ih', 'rnn.bias_hh', 'head.weight', 'head.bias']
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy import dot, exp, log, tanh

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim

TEXT_FILE = "coriolanus.txt"
HIDDEN = 100  # units of the hidden state
SEQ_LENGTH = 25  # characters per chunk: the steps backprop goes through
LR = 0.1  # Adagrad's learning rate
CLIP = 5.0  # every gradient is clipped to [-CLIP, CLIP]
EPS = 1e-10  # Adagrad's eps (optim.Adagrad's default)
ITERATIONS = 5000  # the default run: one chunk of 25 characters per iteration
SEED = 0


@lru_cache(maxsize=1)
def load_text() -> str:
    """The shipped text: the opening of Shakespeare's Coriolanus, 32 387 characters."""
    return resources.files("models").joinpath("data", TEXT_FILE).read_text(encoding="utf-8")


class CharRNN(nn.Module):
    """An RNN over characters: ``rnn`` (an ``nn.RNNCell`` on one-hot rows) carries the
    hidden state from character to character, ``head`` (an ``nn.Linear``) reads the next
    character's scores (logits) off each hidden state. ``chars`` is the vocabulary: the
    character of each index, in order."""

    def __init__(self, chars: str, rnn: nn.RNNCell, head: nn.Linear) -> None:
        if rnn.input_size != len(chars) or head.out_features != len(chars):
            raise ValueError(
                f"CharRNN: {len(chars)} characters, but the cell takes {rnn.input_size} "
                f"inputs and the head gives {head.out_features} scores"
            )
        self.chars = chars
        self.rnn = rnn
        self.head = head

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The index of each character of ``text`` (a ValueError for one not in ``chars``)."""
        return encode(self.chars, text)

    def forward(self, inputs: Any, h: Any = None) -> tuple[Tensor, list[Tensor]]:
        """The logits (one row of scores per input character) and the hidden state after
        each character. ``inputs`` are character indices; ``h`` the state before the first
        (1, hidden_size), or None for zeros."""
        states = self.unroll(self.one_hot_rows(inputs), h)
        logits = self.head(tl.cat(states))  # (T, V): all steps' scores in one product
        return logits, states

    def one_hot_rows(self, inputs: Any) -> list[Tensor]:
        """Each character as a one-hot row (1, V), a constant."""
        rows = nn.one_hot(inputs, self.vocab_size).data
        return [Tensor(rows[t : t + 1]) for t in range(len(rows))]

    def unroll(self, xs: list[Tensor], h: Any = None) -> list[Tensor]:
        """The hidden state after each input row: the same cell, with the same weights,
        applied once per step."""
        states = []
        for x in xs:
            h = self.rnn(x, h)
            states.append(h)
        return states

    def __to_torch__(self, dtype: Any) -> Any:
        """The same network in PyTorch, for ``tl.interop.to_torch(model)``: a module of
        ``torch_class()`` holding ``rnn`` and ``head`` moved layer by layer (``dtype`` as
        ``to_torch``'s)."""
        rnn = tl.interop.to_torch(self.rnn, dtype)
        return torch_class()(self.chars, rnn, tl.interop.to_torch(self.head, dtype))


@lru_cache(maxsize=1)
def torch_class() -> type:
    """``CharRNN`` written in PyTorch: what ``tl.interop.to_torch`` makes of one, with the
    same attribute names (so that the state dicts fit both), ``rnn`` a ``torch.nn.RNNCell``
    and ``head`` a ``torch.nn.Linear``, and the same ``forward``, step for step. Defined
    on first use, since PyTorch is optional; ``tl.interop.from_torch`` brings one back.

    To rebuild one in PyTorch and load a checkpoint of ``train char-rnn --save-torch``:
    ``module = tl.interop.to_torch(build())`` and ``module.load_state_dict(torch.load(path,
    weights_only=True))``.
    """
    torch = importlib.import_module("torch")

    class TorchCharRNN(torch.nn.Module):
        def __init__(self, chars: str, rnn: Any, head: Any) -> None:
            super().__init__()
            self.chars = chars
            self.rnn = rnn
            self.head = head

        def forward(self, inputs: Any, h: Any = None) -> tuple[Any, list[Any]]:
            """The logits (T, V) and the hidden states after each character, each (1, H)."""
            indices = torch.as_tensor(inputs, dtype=torch.long)
            rows = torch.nn.functional.one_hot(indices, len(self.chars))
            states = []
            for x in rows.to(self.rnn.weight_ih.dtype).split(1):  # one (1, V) row per step
                h = self.rnn(x, h)
                states.append(h)
            return self.head(torch.cat(states)), states

        def __from_torch__(self, dtype: Any) -> nn.Module:
            """Ours again, for ``tl.interop.from_torch(module)``."""
            rnn = tl.interop.from_torch(self.rnn, dtype)
            return CharRNN(self.chars, rnn, tl.interop.from_torch(self.head, dtype))

    return TorchCharRNN


def build(seed: int = SEED, hidden: int = HIDDEN, chars: str | None = None) -> CharRNN:
    """The classic's network and initialisation: ``Wxh``, ``Whh``, ``Why`` drawn in that
    order as ``randn(...) * 0.01`` from ``numpy.random.RandomState(seed)`` in the classic's
    shapes (hidden, vocab), (hidden, hidden), (vocab, hidden), biases 0. Our layers hold
    (in, out) weights (``nn.RNNCell``), so each is stored transposed: ``rnn.weight_ih`` is
    ``Wxh.T``. ``chars`` defaults to the shipped text's characters, sorted."""
    chars = vocabulary(load_text()) if chars is None else chars
    rng = np.random.RandomState(seed)
    wxh = rng.randn(hidden, len(chars)) * 0.01
    whh = rng.randn(hidden, hidden) * 0.01
    why = rng.randn(len(chars), hidden) * 0.01
    rnn = nn.RNNCell.from_weights(
        np.ascontiguousarray(wxh.T),  # C order, as a state dict's copies: the same products
        np.ascontiguousarray(whh.T),
        np.zeros(hidden),
        np.zeros(hidden),
    )
    head = nn.Linear.from_weights(np.ascontiguousarray(why.T), np.zeros(len(chars)))
    return CharRNN(chars, rnn, head)


def vocabulary(text: str) -> str:
    """The distinct characters of ``text``, sorted: the index of each is its position."""
    return "".join(sorted(set(text)))


def encode(chars: str, text: str) -> np.ndarray:
    """The index in ``chars`` of each character of ``text``, or a ValueError naming those
    that are not there."""
    index = _index_of(chars)
    unknown = sorted(set(text) - set(index))
    if unknown:
        raise ValueError(f"characters {''.join(unknown)!r} are not in the vocabulary {chars!r}")
    return np.array([index[c] for c in text], dtype=np.intp)


def chunks(data: np.ndarray, seq_length: int = SEQ_LENGTH) -> Iterator[tuple[Any, Any, bool]]:
    """(inputs, targets, reset) for each iteration, for ever: the classic's pointer.

    Chunk k is ``data[p : p+seq_length]`` with ``p = k*seq_length``, its targets the same
    characters one later; when the next chunk would reach the end of the text, ``p`` goes
    back to 0 and ``reset`` is True (the hidden state starts again from zeros), as it is
    for the first chunk.
    """
    if len(data) <= seq_length + 1:
        raise ValueError(
            f"chunks: a text of {len(data)} characters is too short for chunks of {seq_length}"
        )
    p = 0
    first = True
    while True:
        reset = first or p + seq_length + 1 >= len(data)
        if reset:
            p = 0
        yield data[p : p + seq_length], data[p + 1 : p + seq_length + 1], reset
        p += seq_length
        first = False


# --------------------------------------------------------------------------- autodiff


class Trainer:
    """The classic's training loop on the model, one iteration per ``step()``: a chunk
    forward through the 25 steps, ``backward()``, clip, Adagrad; the last hidden state is
    kept (as data) to start the next chunk."""

    def __init__(
        self,
        model: CharRNN,
        lr: float = LR,
        text: str | None = None,
        seq_length: int = SEQ_LENGTH,
    ) -> None:
        self.model = model
        self.data = model.encode(load_text() if text is None else text)
        self.chunks = chunks(self.data, seq_length)
        self.optimizer = optim.Adagrad(model.parameters(), lr=lr, eps=EPS)
        self.h: Tensor | None = None  # the hidden state carried from chunk to chunk
        self.iteration = 0

    def step(self) -> float:
        """One iteration; returns the chunk's loss before the update."""
        inputs, targets, reset = next(self.chunks)
        if reset:
            self.h = None
        self.optimizer.zero_grad()
        logits, states = self.model(inputs, self.h)
        loss = nn.cross_entropy(logits, targets, reduction="sum")
        loss.backward()
        nn.utils.clip_grad_value_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.h = states[-1].detach()  # carried, not differentiated
        self.iteration += 1
        return loss.item()


def train(
    model: CharRNN,
    iterations: int = ITERATIONS,
    lr: float = LR,
    on_iteration: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """Train on the shipped text; returns the loss of every iteration (the summed
    cross-entropy of its 25 characters, before the update). ``on_iteration(i, loss)`` is
    called after each update."""
    trainer = Trainer(model, lr)
    losses = np.empty(iterations)
    for i in range(iterations):
        losses[i] = trainer.step()
        if on_iteration is not None:
            on_iteration(i, losses[i])
    return losses


def sample(model: CharRNN, seed_char: str, n: int, rng: Any, h: Tensor | None = None) -> str:
    """``n`` characters drawn from the model, one at a time, following ``seed_char``.

    Each character is fed in and the next is drawn from the softmax of the scores, with
    ``rng.choice`` (``rng`` a numpy Generator or RandomState: the same generator state
    gives the same text). ``h`` is the hidden state to start from (None: zeros).
    """
    if not isinstance(seed_char, str):
        raise TypeError(f"sample: seed_char must be a str, got {type(seed_char).__name__}")
    if len(seed_char) != 1 or seed_char not in model.chars:
        raise ValueError(
            f"sample: seed_char must be one character of the vocabulary {model.chars!r}, "
            f"got {seed_char!r}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"sample: n must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"sample: n must be 0 or more, got {n}")
    rng = tl.init.check_rng("sample", rng)
    index = model.chars.index(seed_char)
    out = []
    with tl.no_grad():
        for _ in range(n):
            x = nn.one_hot([index], model.vocab_size)
            h = model.rnn(x, h)
            p = model.head(h).softmax(axis=-1).data[0]
            index = int(rng.choice(model.vocab_size, p=p))
            out.append(model.chars[index])
    return "".join(out)


# --------------------------------------------------------------------------- by hand
# The same network with backprop through time written out in numpy, in the classic's
# formulas and names (Wxh, Whh, Why; our cell has two biases, bih and bhh, where the
# classic has one, bh). Every product and sum is the one the ops compute, in their order,
# so that the rounding is the same: a step is (x @ Wxh + bih) + (h @ Whh + bhh) as two
# Affine nodes and an Add; the loss is nn.cross_entropy's, its gradient the fused p - y.


def fp(
    inputs: np.ndarray,
    hprev: np.ndarray,
    Wxh: np.ndarray,  # noqa: N803 (the classic's names)
    Whh: np.ndarray,  # noqa: N803
    bih: np.ndarray,
    bhh: np.ndarray,
    Why: np.ndarray,  # noqa: N803
    by: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Forward through the chunk: the one-hot rows, the hidden states (each (1, H)) and
    the logits (T, V)."""
    vocab = len(by)
    xs, hs = [], []
    h = hprev
    for c in inputs:
        x = np.zeros((1, vocab))
        x[0, c] = 1.0
        h = tanh((dot(x, Wxh) + bih) + (dot(h, Whh) + bhh))
        xs.append(x)
        hs.append(h)
    ys = dot(np.concatenate(hs), Why) + by
    return xs, hs, ys


def loss_of(ys: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """The summed cross-entropy -sum_t log p_t[target_t], and p (the softmax of each row),
    computed as ``nn.cross_entropy`` computes them (the largest logit subtracted first)."""
    z = ys - ys.max(axis=1, keepdims=True)
    e = exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = (log(s)[:, 0] - z[np.arange(len(ys)), targets]).sum()
    return float(loss), e / s


def bp(
    xs: list[np.ndarray],
    hs: list[np.ndarray],
    hprev: np.ndarray,
    p: np.ndarray,
    targets: np.ndarray,
    Whh: np.ndarray,  # noqa: N803
    Why: np.ndarray,  # noqa: N803
) -> list[np.ndarray]:
    """Backprop through time: the gradients of Wxh, Whh, bih, bhh, Why, by.

    The weights of the recurrence are used once per step, so each gets one contribution
    per step, added from the last step back to the first: the order in which the engine
    visits the steps (the last-made node first), and so the same sum to the bit. A sum
    starts at its first contribution, as the engine's does, not at zeros: ``0.0 + -0.0``
    is ``0.0``, and a unit saturated at exactly 1 gives ``(1 - 1*1) * -d = -0.0``.
    """
    dy = p.copy()
    dy[np.arange(len(targets)), targets] -= 1  # p - onehot: softmax cross-entropy's rule
    H = np.concatenate(hs)  # noqa: N806
    dWhy = dot(H.T, dy)  # noqa: N806 (one product sums Why's contributions over time)
    dby = dy.sum(axis=0)
    dhs = dot(dy, Why.T)  # Why^T dy for every step at once
    dWxh = dWhh = dbih = dbhh = None  # noqa: N806
    dhnext = None
    for t in reversed(range(len(xs))):
        dh = dhs[t : t + 1] if dhnext is None else dhs[t : t + 1] + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh  # back through tanh
        h_before = hs[t - 1] if t > 0 else hprev
        dWxh = _add(dWxh, dot(xs[t].T, dhraw))  # noqa: N806
        dWhh = _add(dWhh, dot(h_before.T, dhraw))  # noqa: N806
        dbih = _add(dbih, dhraw.sum(axis=0))
        dbhh = _add(dbhh, dhraw.sum(axis=0))
        if t > 0:  # hprev is data: nothing flows into it
            dhnext = dot(dhraw, Whh.T)
    return [dWxh, dWhh, dbih, dbhh, dWhy, dby]


def _add(total: np.ndarray | None, contribution: np.ndarray) -> np.ndarray:
    return contribution if total is None else total + contribution


NAMES = ("rnn.weight_ih", "rnn.weight_hh", "rnn.bias_ih", "rnn.bias_hh", "head.weight", "head.bias")


def manual_steps(
    state: dict[str, np.ndarray],
    iterations: int = ITERATIONS,
    lr: float = LR,
    text: str | None = None,
    chars: str | None = None,
    seq_length: int = SEQ_LENGTH,
) -> Iterator[float]:
    """The hand-written training, updating ``state`` (a state dict of ``build()``'s model)
    in place; yields each iteration's loss after its update, so that a comparison can look
    at the weights between iterations.

    Adagrad as ``optim.Adagrad`` computes it, ``w -= lr * g / (sqrt(mem) + eps)``; the
    classic divides by ``sqrt(mem + 1e-8)`` instead (docs/tutorial.md compares the two).
    """
    Wxh, Whh, bih, bhh, Why, by = (state[name] for name in NAMES)  # noqa: N806
    params = [Wxh, Whh, bih, bhh, Why, by]
    memory = [np.zeros_like(w) for w in params]
    chars = vocabulary(load_text()) if chars is None else chars
    data = encode(chars, load_text() if text is None else text)
    hprev = np.zeros((1, len(bih)))
    batches = chunks(data, seq_length)
    for _ in range(iterations):
        inputs, targets, reset = next(batches)
        if reset:
            hprev = np.zeros((1, len(bih)))
        xs, hs, ys = fp(inputs, hprev, Wxh, Whh, bih, bhh, Why, by)
        loss, p = loss_of(ys, targets)
        grads = bp(xs, hs, hprev, p, targets, Whh, Why)
        for w, g, mem in zip(params, grads, memory):
            np.clip(g, -CLIP, CLIP, out=g)
            mem += g * g
            w -= lr * g / (np.sqrt(mem) + EPS)
        hprev = hs[-1]
        yield loss


def manual_train(
    state: dict[str, np.ndarray], iterations: int = ITERATIONS, lr: float = LR
) -> dict[str, np.ndarray]:
    """``manual_steps`` run to the end; returns ``state``, trained."""
    for _ in manual_steps(state, iterations, lr):
        pass
    return state


@lru_cache(maxsize=8)
def _index_of(chars: str) -> dict[str, int]:
    return {c: i for i, c in enumerate(chars)}


def uniform_loss(chars: str, seq_length: int = SEQ_LENGTH) -> float:
    """The loss of a chunk when every character is equally likely: ``seq_length * ln V``."""
    return seq_length * math.log(len(chars))


def main() -> None:
    """Train with the defaults and print the loss now and then, and a sample."""
    model = build()
    baseline = uniform_loss(model.chars)
    losses: list[float] = []

    def report(i: int, loss: float) -> None:
        losses.append(loss)
        if (i + 1) % 500 == 0:
            mean = np.mean(losses[-500:])
            print(
                f"iteration {i + 1}: loss {mean:.2f} (mean of the last 500; uniform {baseline:.2f})"
            )

    train(model, on_iteration=report)
    print(sample(model, "\n", 300, np.random.default_rng(0)))


if __name__ == "__main__":
    main()
