"""One iteration of ``char-rnn``, unrolled: the commands ``graph``, ``trace`` and
``gradcheck`` on the first chunk of text, 25 steps from a zero hidden state.

The graph repeats the cell's four ops 25 times: ``graph`` and ``trace`` show the first two
steps and the last and fold the others, so that the drawing and the table stay readable.
``gradcheck`` checks each parameter as for the other models (``gradients.py``): every
element of the biases, a hundred drawn elements of each matrix.
"""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_lite as tl
from models import char_rnn
from models.cli import gradients
from models.cli.recurrent import NAME, seed_of
from tinygrad_lite import Tensor, nn
from tinygrad_lite.tools.trace import VALUE_INDENT  # how a table indents a record's values

KEEP = 2  # steps drawn (and traced) in full at the start; the last one is too


def first_chunk(seed: int) -> tuple[char_rnn.CharRNN, np.ndarray, np.ndarray]:
    """The model at its initial weights and the first chunk: inputs and targets."""
    model = char_rnn.build(seed)
    inputs, targets, _ = next(char_rnn.chunks(model.encode(char_rnn.load_text())))
    return model, inputs, targets


def unrolled_loss(seed: int) -> tuple[Tensor, list[Tensor], dict[str, Tensor]]:
    """The loss of the first chunk from a zero hidden state (a graph of 25 steps), the
    hidden states, and names for the tensors: the parameters, x0..x24 (the one-hot
    inputs), h0..h24 and logits."""
    model, inputs, targets = first_chunk(seed)
    xs = model.one_hot_rows(inputs)
    states = model.unroll(xs)
    logits = model.head(tl.cat(states))
    loss = nn.cross_entropy(logits, targets, reduction="sum")
    names: dict[str, Tensor] = dict(model.named_parameters())
    names.update({f"x{t}": x for t, x in enumerate(xs)})
    names.update({f"h{t}": h for t, h in enumerate(states)})
    names["logits"] = logits
    return loss, states, names


def graph(seed: int) -> str:
    """The DOT text of one iteration's graph, with its gradients: 25 steps, the first two
    and the last drawn, the others folded into one node."""
    loss, states, names = unrolled_loss(seed)
    loss.backward(retain_graph=True)  # kept, so that the drawing shows the gradients
    return tl.viz.to_dot(loss, names=names, steps=states, fold=True)


def run_trace(args: argparse.Namespace) -> int:
    """``trace char-rnn``: one iteration op by op; of the 25 steps, the first two and the
    last are shown, forward and backward, and the others left out."""
    model, inputs, targets = first_chunk(seed_of(args))
    xs = model.one_hot_rows(inputs)
    hprev = Tensor(np.zeros((1, model.rnn.hidden_size)))  # the classic's name for it
    names = {**dict(model.named_parameters()), **{f"x{t}": x for t, x in enumerate(xs)}}
    names["hprev"] = hprev
    with tl.trace(values=args.values, names=names) as recorded:
        states = model.unroll(xs, hprev)
        logits = model.head(tl.cat(states))
        loss = nn.cross_entropy(logits, targets, reduction="sum")
        loss.backward()
    states = [r.output[0] for r in recorded if r.phase == "forward" and r.op == "tanh"]
    print(
        f"{NAME}: one iteration (the first chunk, {len(xs)} steps from a zero hidden state, "
        f"cross-entropy summed, seed {seed_of(args)}), forward then backward"
    )
    print(
        f"x0, x1, ..., x{len(xs) - 1}: the characters, one-hot; {states[0]}, {states[1]}, ..., "
        f"{states[-1]}: the hidden states after each; hprev: the state before the first"
    )
    print(folded_table(recorded, model.rnn.nonlinearity, len(xs)))
    return 0


def folded_table(recorded: tl.Trace, last_op: str, steps: int) -> str:
    """The trace's table with the records of the steps between the second and the last
    left out, a line saying so in their place. Forward, a step ends with its ``last_op``
    (the cell's nonlinearity); backward, a step starts with it."""
    records = recorded.records
    ends = [k for k, r in enumerate(records) if r.phase == "forward" and r.op == last_op]
    starts = [k for k, r in enumerate(records) if r.phase == "backward" and r.op == last_op]
    left_out: dict[int, str] = {}  # record -> its phase, for the records left out
    if steps > KEEP + 1 and len(ends) == steps == len(starts):
        # backward visits the steps from the last to the first: starts[0] is the last step's
        for k in range(ends[KEEP - 1] + 1, ends[steps - 2] + 1):
            left_out[k] = "forward"
        for k in range(starts[1], starts[steps - KEEP]):
            left_out[k] = "backward"
    lines = recorded.table().split("\n")
    out = [lines[0]]
    k = -1
    for line in lines[1:]:
        is_record = not line.startswith(VALUE_INDENT)  # the values of a record are indented
        k += is_record
        if k not in left_out:
            out.append(line)
        elif is_record and k - 1 not in left_out:
            phase = left_out[k]
            n = sum(1 for p in left_out.values() if p == phase)
            out.append(
                f"  ... steps {KEEP} to {steps - 2}, {phase}: {n} records left out, the same "
                f"ops as in the steps shown ..."
            )
    return "\n".join(out)


# ----------------------------------------------------------------------------- explain


def explain_page(seed: int, after: int = 0) -> tl.viz.Explanation:
    """``explain char-rnn``: the training step after ``after`` iterations as a page
    (``tl.viz.explain``): the 25 steps forward and back, the gradients against central
    differences and Adagrad's update. The hidden state carried in from the chunk before
    is data, as in training; the page leaves out the clipping between backward and the
    update (at seed 0 it changes nothing in the first iteration: no gradient reaches 5)."""
    model = char_rnn.build(seed)
    trainer = char_rnn.Trainer(model)
    for _ in range(after):
        trainer.step()
    inputs, targets, reset = next(trainer.chunks)
    h = None if reset else trainer.h

    def loss() -> Tensor:
        return nn.cross_entropy(model(inputs, h)[0], targets, reduction="sum")

    when = "the first iteration" if after == 0 else f"the iteration after {after}"
    title = (
        f"{NAME}: {when} ({char_rnn.SEQ_LENGTH} steps, cross-entropy summed, "
        f"Adagrad(lr={char_rnn.LR:g}), seed {seed})"
    )
    return tl.viz.explain(loss, names=model, optimizer=trainer.optimizer, title=title)


# --------------------------------------------------------------------------- gradcheck


def run_gradcheck(args: argparse.Namespace) -> int:
    """``gradcheck char-rnn``: d(loss)/d(parameter) for the unrolled loss of the first
    chunk, against central differences, for each parameter (``gradients.py``: every
    element of the biases, a hundred drawn elements of each matrix)."""
    start = seed_of(args)
    model, inputs, targets = first_chunk(start)

    def loss() -> Tensor:
        return nn.cross_entropy(model(inputs)[0], targets, reduction="sum")

    heading = (
        f"{NAME}: d(loss)/d(parameter) by backward() through {char_rnn.SEQ_LENGTH} steps "
        f"against central differences (tl.gradcheck), at the initial weights (seed {start})"
    )
    return gradients.report(NAME, heading, gradients.check_parameters(model, loss), args.json)
