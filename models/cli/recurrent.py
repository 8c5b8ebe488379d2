"""The commands on ``char-rnn``, the character-level RNN (``models.char_rnn``).

The other built-in models are jobs (``jobs.py``): a batch of rows in, a loss out, one
update per epoch. ``char-rnn`` reads a stream of text instead, one chunk of 25 characters
per iteration, with a hidden state carried from chunk to chunk and 25 steps unrolled in
every graph; so it has commands of its own, and ``cli.py`` hands ``char-rnn`` to them.
This file holds its options and the two that train:

- ``train``: the loss every ``--print-every`` iterations (the mean over those), a text
  sample every ``--sample-every``, a progress bar, ``--plot``, ``--save``, ``--save-torch``,
  ``--json``;
- ``compare``: autodiff against the hand-written BPTT, every weight after every
  iteration, then both timed.

``unrolled.py`` holds the three that look at one iteration: ``graph``, ``trace`` and
``gradcheck``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_lite as tl
from models import char_rnn
from models.cli.arguments import CommandFailedError, UsageError, count
from tinygrad_lite import Tensor

NAME = "char-rnn"
PRINT_EVERY = 100
SAMPLE_EVERY = 1000
SAMPLE_LENGTH = 200
SAMPLE_SEED_CHAR = "\n"  # samples start at a line break: a speaker's name comes next
COMPARE_ITERATIONS = 1000
CURVE_POINTS = 1000  # at most this many points of the loss curve in --json output


NOT_COMPILED = (
    "its step makes each chunk's one-hot rows in Python from the characters (nn.one_hot reads "
    "them), and a compiled step may decide nothing on its data"
)


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """char-rnn's own options: ``--iterations`` (train, compare) and, for train,
    ``--print-every`` and ``--sample-every``."""
    group = parser.add_argument_group(f"{NAME} only")
    group.add_argument(
        "--iterations", type=count, metavar="N", help="iterations, one chunk of text each"
    )
    if command == "train":
        group.add_argument(
            "--print-every",
            type=count,
            metavar="N",
            help=f"print the loss every N iterations (default {PRINT_EVERY}; 0: not at all)",
        )
        group.add_argument(
            "--sample-every",
            type=count,
            metavar="N",
            help=f"print a sample of text every N iterations (default {SAMPLE_EVERY}; 0: at the "
            f"end only)",
        )


def refuse_options(args: argparse.Namespace) -> None:
    """char-rnn's options given with another model: a UsageError."""
    for option in ("iterations", "print_every", "sample_every"):
        if getattr(args, option, None) is not None:
            flag = "--" + option.replace("_", "-")
            hint = " (use --epochs)" if option == "iterations" else ""
            raise UsageError(f"{flag} is for {NAME}; {args.model} trains by epochs{hint}")


def seed_of(args: argparse.Namespace) -> int:
    """The seed given, or char-rnn's default."""
    return char_rnn.SEED if args.seed is None else int(args.seed)


def _settings(args: argparse.Namespace, default_iterations: int) -> tuple[int, float, int]:
    """(iterations, lr, seed) from the arguments, with char-rnn's defaults."""
    if getattr(args, "epochs", None) is not None:
        raise UsageError(
            f"{NAME} trains by iterations (one chunk of {char_rnn.SEQ_LENGTH} characters "
            f"each), not epochs: use --iterations N"
        )
    iterations = default_iterations if args.iterations is None else args.iterations
    lr = char_rnn.LR if getattr(args, "lr", None) is None else args.lr
    return iterations, lr, seed_of(args)


def describe(iterations: int, lr: float, seed: int, model: char_rnn.CharRNN) -> list[str]:
    """The settings and the text, two lines for the top of an output."""
    text = char_rnn.load_text()
    return [
        f"{NAME}: {iterations} iterations of {char_rnn.SEQ_LENGTH} characters, "
        f"Adagrad(lr={lr:g}), gradients clipped to [-{char_rnn.CLIP:g}, {char_rnn.CLIP:g}], "
        f"{model.rnn.hidden_size} tanh units, seed {seed}",
        f"text: models/data/{char_rnn.TEXT_FILE}, {len(text)} characters, "
        f"{model.vocab_size} distinct; a uniform guess loses "
        f"{char_rnn.SEQ_LENGTH} ln {model.vocab_size} = {_uniform(model):.2f} per chunk",
    ]


def _uniform(model: char_rnn.CharRNN) -> float:
    return char_rnn.uniform_loss(model.chars)


# ------------------------------------------------------------------------------- train


def run_train(
    args: argparse.Namespace,
    plot: Path | None,
    save: Path | None,
    pyplot: Callable[[], Any],
    save_torch: Path | None = None,
    write_torch: Callable[[tl.nn.Module, Path], None] | None = None,
) -> int:
    """``train char-rnn``: ``plot``, ``save`` and ``save_torch`` are the checked output
    paths (or None), ``pyplot()`` imports matplotlib's (or raises the command line's
    error), ``write_torch(model, path)`` writes the PyTorch checkpoint."""
    iterations, lr, seed = _settings(args, char_rnn.ITERATIONS)
    if args.compile:
        raise UsageError(
            f"--compile: {NAME} cannot be compiled: {NOT_COMPILED}; train it without --compile"
        )
    plt = pyplot() if plot is not None else None
    every = PRINT_EVERY if args.print_every is None else args.print_every
    sample_every = SAMPLE_EVERY if args.sample_every is None else args.sample_every
    model = char_rnn.build(seed)
    trainer = char_rnn.Trainer(model, lr)
    rng = np.random.default_rng(seed)  # the samples' draws
    live = not args.json
    if live:
        print("\n".join(describe(iterations, lr, seed, model)), flush=True)
    bar = _progress_bar(iterations, disabled=args.quiet)
    losses: list[float] = []
    samples: list[dict[str, Any]] = []
    try:
        with tl.detect_anomaly() if args.detect_anomaly else _nothing():
            for i in range(iterations):
                losses.append(trainer.step())
                done = i + 1
                if bar is not None and (
                    done % max(1, iterations // 200) == 0 or done == iterations
                ):
                    bar.update(done - bar.n)
                    bar.set_postfix(loss=f"{losses[-1]:.2f}", refresh=False)
                if live and every and done % every == 0:
                    if done == every:
                        _say(bar, f"iteration  loss (mean of the last {every})")
                    _say(bar, f"{done:>9}  {np.mean(losses[-every:]):.2f}")
                if sample_every and done % sample_every == 0 and done < iterations:
                    text = char_rnn.sample(model, SAMPLE_SEED_CHAR, SAMPLE_LENGTH, rng)
                    samples.append({"iteration": done, "text": text})
                    if live:
                        _say(bar, _sample_block(text, f"sample after {done} iterations"))
    except tl.AnomalyError as error:
        raise CommandFailedError(f"anomaly in iteration {len(losses) + 1}: {error}") from None
    finally:
        if bar is not None:
            bar.close()
    final = char_rnn.sample(model, SAMPLE_SEED_CHAR, SAMPLE_LENGTH, rng)
    samples.append({"iteration": iterations, "text": final})
    window = min(every or PRINT_EVERY, len(losses))
    final_loss = float(np.mean(losses[-window:])) if losses else math.nan
    if plt is not None and plot is not None:
        title = f"{NAME}: {iterations} iterations, Adagrad(lr={lr:g}), seed {seed}"
        _plot(plt, model, losses, window, plot, title)
    if save is not None:
        tl.save(model.state_dict(), save)
    if save_torch is not None and write_torch is not None:
        write_torch(model, save_torch)
    if args.json:
        print(json.dumps(_report(model, iterations, lr, seed, losses, window, samples)))
    else:
        print(
            f"final loss: {final_loss:.2f} (mean of the last {window} iterations; uniform "
            f"{_uniform(model):.2f})"
        )
        print(_sample_block(final, f"sample after {iterations} iterations"))
    if not (args.quiet or args.json):
        for path, what in ((plot, "loss curve"), (save, "weights"), (save_torch, "weights")):
            if path is not None:
                print(f"wrote {what} to {path}", file=sys.stderr)
    return 0


def _sample_block(text: str, title: str) -> str:
    return f"--- {title} ---\n{text}\n---"


def _report(
    model: char_rnn.CharRNN,
    iterations: int,
    lr: float,
    seed: int,
    losses: list[float],
    window: int,
    samples: list[dict[str, Any]],
) -> dict[str, Any]:
    step = max(1, math.ceil(len(losses) / CURVE_POINTS))
    curve = [[i + 1, losses[i]] for i in range(0, len(losses), step)]
    if losses and curve[-1][0] != len(losses):
        curve.append([len(losses), losses[-1]])
    return {
        "model": NAME,
        "iterations": iterations,
        "lr": lr,
        "seed": seed,
        "optimizer": "Adagrad",
        "clip": char_rnn.CLIP,
        "hidden_size": model.rnn.hidden_size,
        "seq_length": char_rnn.SEQ_LENGTH,
        "vocab_size": model.vocab_size,
        "uniform_loss": _uniform(model),
        "final_loss": float(np.mean(losses[-window:])) if losses else None,
        "final_loss_window": window,
        "loss_curve": curve,
        "samples": samples,
    }


def _plot(
    pyplot: Any, model: char_rnn.CharRNN, losses: list[float], window: int, path: Path, title: str
) -> None:
    figure, axes = pyplot.subplots(figsize=(6, 4))
    iterations = np.arange(1, len(losses) + 1)
    axes.plot(iterations, losses, color="#9ab8e0", linewidth=0.5, label="loss of each chunk")
    if len(losses) >= window > 0:
        mean = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes.plot(iterations[window - 1 :], mean, color="#1f4e9c", label=f"mean of {window}")
    axes.axhline(_uniform(model), color="gray", linestyle="--", label="uniform guess")
    axes.set_xlabel("iteration")
    axes.set_ylabel(f"cross-entropy of {char_rnn.SEQ_LENGTH} characters")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format=path.suffix[1:])
    pyplot.close(figure)


def _progress_bar(total: int, disabled: bool) -> Any:
    """A tqdm bar on stderr, or None when it is off (--quiet, or stderr is not a terminal)."""
    if disabled or not sys.stderr.isatty() or total == 0:
        return None
    from tqdm import tqdm  # imported here: only a terminal needs it

    return tqdm(total=total, desc=NAME, unit="it", file=sys.stderr, leave=False)


def _say(bar: Any, line: str) -> None:
    """Print ``line`` to stdout now, above the progress bar if there is one."""
    if bar is None:
        print(line, flush=True)
    else:
        bar.write(line, file=sys.stdout)


class _nothing:  # noqa: N801 (a context manager, named like the others)
    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass


# ----------------------------------------------------------------------------- compare


def run_compare(args: argparse.Namespace) -> int:
    """``compare char-rnn``: autodiff and the hand-written BPTT from one start, in
    lockstep; every parameter and the loss compared by their bits after every iteration,
    the largest differences kept at ``--checkpoints`` iterations; then each timed alone."""
    iterations, lr, seed = _settings(args, COMPARE_ITERATIONS)
    if iterations == 0:
        raise UsageError("compare needs at least 1 iteration to compare, got --iterations 0")
    if args.checkpoints < 1:
        raise UsageError(f"--checkpoints must be 1 or more, got {args.checkpoints}")
    model = char_rnn.build(seed)
    state = model.state_dict()  # copies: the hand-written run starts where the model does
    trainer = char_rnn.Trainer(model, lr)
    by_hand = char_rnn.manual_steps(state, iterations, lr)
    named = model.named_parameters()
    marks = sorted(
        {max(1, round(iterations * (k + 1) / args.checkpoints)) for k in range(args.checkpoints)}
        | {1}
    )
    rows = []
    first_difference: int | None = None
    bar = _progress_bar(iterations, disabled=args.quiet)
    try:
        for i in range(iterations):
            ours, theirs = trainer.step(), next(by_hand)
            same = np.float64(ours).tobytes() == np.float64(theirs).tobytes() and all(
                p.data.tobytes() == state[name].tobytes() for name, p in named
            )
            if not same and first_difference is None:
                first_difference = i + 1
            if i + 1 in marks:
                rows.append(
                    (i + 1, abs(ours - theirs), [_largest(p.data, state[n]) for n, p in named])
                )
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    autodiff_seconds, manual_seconds = _time_both(iterations, lr, seed)
    identical = first_difference is None
    if args.json:
        print(
            json.dumps(
                {
                    "model": NAME,
                    "iterations": iterations,
                    "lr": lr,
                    "seed": seed,
                    "checkpoints": [
                        {
                            "iteration": i,
                            "loss_difference": d,
                            "max_abs_difference": dict(zip([n for n, _ in named], diffs)),
                        }
                        for i, d, diffs in rows
                    ],
                    "bit_identical": identical,
                    "first_differing_iteration": first_difference,
                    "autodiff_seconds": autodiff_seconds,
                    "hand_written_seconds": manual_seconds,
                }
            )
        )
    else:
        print(
            _compare_table(
                iterations, lr, named, rows, first_difference, autodiff_seconds, manual_seconds
            )
        )
    return 0 if identical else 1


def _largest(ours: np.ndarray, theirs: np.ndarray) -> float:
    with np.errstate(all="ignore"):  # diverged runs: inf - inf is nan, and that is the answer
        return float(np.abs(ours - theirs).max())


def _time_both(iterations: int, lr: float, seed: int) -> tuple[float, float]:
    """Seconds for ``iterations`` of autodiff training, then of hand-written, from one start."""
    model = char_rnn.build(seed)
    state = model.state_dict()
    trainer = char_rnn.Trainer(model, lr)
    start = time.perf_counter()
    for _ in range(iterations):
        trainer.step()
    middle = time.perf_counter()
    for _ in char_rnn.manual_steps(state, iterations, lr):
        pass
    return middle - start, time.perf_counter() - middle


def _compare_table(
    iterations: int,
    lr: float,
    named: list[tuple[str, Tensor]],
    rows: list[tuple[int, float, list[float]]],
    first_difference: int | None,
    autodiff_seconds: float,
    manual_seconds: float,
) -> str:
    header = ["iteration", "loss", *(name for name, _ in named)]
    table = [header] + [[str(i), f"{d:.3g}", *(f"{x:.3g}" for x in diffs)] for i, d, diffs in rows]
    widths = [max(len(row[k]) for row in table) for k in range(len(header))]
    per = 1e3 / iterations
    verdict = (
        "yes, after every iteration"
        if first_difference is None
        else f"no: from iteration {first_difference}"
    )
    return "\n".join(
        [
            f"{NAME}: autodiff (loss.backward() through {char_rnn.SEQ_LENGTH} steps) against the "
            f"hand-written BPTT, {iterations} iterations, Adagrad(lr={lr:g})",
            "largest |autodiff - hand-written| at each checkpoint:",
            *("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in table),
            f"bit-identical: {verdict} (the loss and all {len(named)} parameters)",
            f"time: autodiff {autodiff_seconds:.2f} s ({autodiff_seconds * per:.2f} ms/iteration), "
            f"hand-written {manual_seconds:.2f} s ({manual_seconds * per:.2f} ms/iteration); "
            f"autodiff takes {autodiff_seconds / manual_seconds:.2f}x the hand-written time",
        ]
    )
