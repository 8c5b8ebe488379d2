"""The command line: ``tinygrad-lite`` (also ``python -m models``).

    tinygrad-lite train MODEL [--epochs N] [--lr F] [--seed S] [--plot loss.png]
                              [--save w.npz] [--save-torch model.pt] [--json] [--quiet]
                              [--detect-anomaly] [--compile]
    tinygrad-lite compare MODEL      autodiff vs hand-written backprop, side by side
    tinygrad-lite graph MODEL [-o graph.dot|.svg|.png]
    tinygrad-lite trace MODEL [--values]
    tinygrad-lite gradcheck MODEL
    tinygrad-lite compile MODEL [-o program.py]   the numpy program of one training step
    tinygrad-lite explain MODEL [-o explain.html] [--after K]   one training step as a page

MODEL is a built-in name (``tinygrad-lite --help`` lists them) or the path of a TOML file
declaring a network (``models.cli.config``). Results go to stdout, progress and notes to
stderr. Exit status: 0 done, 1 the work found a problem (an anomaly, a failed gradient
check, a comparison that is not bit-identical), 2 the command cannot run as given (one
line on stderr saying why, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import tinygrad_lite as tl
from models import char_rnn
from models.cli import explain, gradients, jobs, recurrent, report, unrolled
from models.cli.arguments import CommandFailedError, UsageError, count
from models.cli.config import ConfigError
from tinygrad_lite.compile import CompileError

PROG = "tinygrad-lite"
COMMANDS = ("train", "compare", "graph", "trace", "gradcheck", "compile", "explain")
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
GRAPH_SUFFIXES = (".dot", ".gv", ".svg", ".png", ".pdf")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line instead of usage text and a SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {PROG} --help)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(f"no command given; accepted: {', '.join(COMMANDS)}")
        status: int = args.run(args)
        return status
    except (UsageError, ConfigError, jobs.ModelError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except CommandFailedError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tinygrad-lite ... | head`): stop quietly, as command-line
        # tools do; stdout goes to devnull so that Python's flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Train, compare, draw, trace and check the networks of tinygrad_lite.",
        epilog=(
            f"MODEL is one of {', '.join(jobs.NAMES)}, or the path of a .toml file "
            "declaring a network (see docs/cli.md)."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser("train", help="train a model, show its loss and predictions")
    _model_arguments(train, epochs=True, lr=True)
    train.add_argument("--plot", metavar="PATH", help="write the loss curve (.png, .svg, .pdf)")
    train.add_argument("--save", metavar="PATH", help="write the trained weights (.npz)")
    train.add_argument(
        "--save-torch",
        metavar="PATH",
        help="write the trained weights as a PyTorch state dict (.pt) for interop.to_torch(model)",
    )
    train.add_argument("--json", action="store_true", help="machine-readable output")
    train.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    train.add_argument(
        "--detect-anomaly", action="store_true", help="stop at the first NaN or inf, naming its op"
    )
    train.add_argument(
        "--compile",
        action="store_true",
        help="run the training step through tl.compile: the same numbers, as generated numpy",
    )
    recurrent.add_arguments(train, "train")
    train.set_defaults(run=run_train)

    compare = commands.add_parser(
        "compare", help="autodiff against hand-written backprop, side by side"
    )
    _model_arguments(compare, epochs=True)
    compare.add_argument(
        "--checkpoints", type=int, default=5, metavar="K", help="how many epochs to compare at"
    )
    compare.add_argument("--json", action="store_true", help="machine-readable output")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")
    recurrent.add_arguments(compare, "compare")
    compare.set_defaults(run=run_compare)

    graph = commands.add_parser("graph", help="the graph of one training step, as DOT")
    _model_arguments(graph)
    graph.add_argument(
        "-o", "--output", metavar="PATH", help="write .dot, or draw .svg/.png/.pdf with Graphviz"
    )
    graph.set_defaults(run=run_graph)

    trace = commands.add_parser("trace", help="one training step, op by op")
    _model_arguments(trace)
    trace.add_argument("--values", action="store_true", help="print the arrays of each step")
    trace.set_defaults(run=run_trace)

    gradcheck = commands.add_parser(
        "gradcheck", help="check the gradient of the loss against finite differences"
    )
    _model_arguments(gradcheck)
    gradcheck.add_argument("--json", action="store_true", help="machine-readable output")
    gradcheck.set_defaults(run=run_gradcheck)

    compile_ = commands.add_parser(
        "compile",
        help="the numpy program tl.compile writes for one training step, after the "
        "hand-written one",
    )
    _model_arguments(compile_)
    compile_.add_argument("-o", "--output", metavar="PATH", help="write the program to a .py file")
    compile_.set_defaults(run=run_compile)

    explain_ = commands.add_parser(
        "explain", help="one training step as a page to step through in a browser"
    )
    _model_arguments(explain_)
    explain_.add_argument(
        "-o", "--output", default="explain.html", metavar="PATH", help="the page (.html)"
    )
    explain_.add_argument(
        "--after", type=count, default=0, metavar="K", help="train K epochs first (default 0)"
    )
    explain_.set_defaults(run=run_explain)
    return parser


def _model_arguments(
    parser: argparse.ArgumentParser, epochs: bool = False, lr: bool = False
) -> None:
    parser.add_argument("model", metavar="MODEL", help="a built-in name or a .toml file")
    if epochs:
        parser.add_argument("--epochs", type=count, metavar="N", help="epochs to train")
    if lr:
        parser.add_argument("--lr", type=_learning_rate, metavar="F", help="learning rate")
    parser.add_argument("--seed", type=_seed, metavar="S", help="seed of the initial weights")


# ------------------------------------------------------------------------------- train


def run_train(args: argparse.Namespace) -> int:
    if args.model == recurrent.NAME:
        plot = _output_path("--plot", args.plot, PLOT_SUFFIXES)
        save = _output_path("--save", args.save, (".npz",))
        save_torch = _output_path("--save-torch", args.save_torch, (".pt", ".pth"))
        if save_torch is not None:  # the same architecture as the one to train
            _check_movable(char_rnn.build(recurrent.seed_of(args)), recurrent.NAME)
        return recurrent.run_train(args, plot, save, _pyplot, save_torch, _save_torch)
    recurrent.refuse_options(args)
    job = jobs.make(args.model, epochs=args.epochs, lr=args.lr, seed=args.seed)
    plot = _output_path("--plot", args.plot, PLOT_SUFFIXES)
    save = _output_path("--save", args.save, (".npz",))
    save_torch = _output_path("--save-torch", args.save_torch, (".pt", ".pth"))
    if save_torch is not None:
        _check_movable(job.model, job.name)
    if plot is not None:
        pyplot = _pyplot()
    notes = not (args.quiet or args.json)
    if args.compile and args.detect_anomaly:
        raise UsageError(
            "--compile and --detect-anomaly cannot go together: the anomaly detector watches "
            "every op, and a compiled step runs numpy calls, not ops"
        )
    if job.classifier and not args.json:  # its epochs are printed as they go, below this
        print(f"{job.name}: {job.describe()}", flush=True)
    history = _train(
        job,
        quiet=args.quiet,
        detect_anomaly=args.detect_anomaly,
        compiled=args.compile,
        live=not args.json,
    )
    final_loss = job.evaluate()
    predictions = job.predictions()
    if plot is not None:
        report.plot(pyplot, job, history, final_loss, plot)
    if save is not None:
        tl.save(job.model.state_dict(), save)
    if save_torch is not None:
        _save_torch(job.model, save_torch)
    if args.json:
        print(json.dumps(report.train_report(job, history, final_loss, predictions)))
    elif job.classifier:
        print(f"final loss: {final_loss:.4g} (on the training set)")
        print(report.accuracy_line(job, predictions))
        print(report.confusion_table(job, predictions))
    else:
        print(f"{job.name}: {job.describe()}")
        print(f"final loss: {final_loss:.8g}")
        print(report.prediction_table(job, predictions))
    if notes:
        what = "loss and accuracy curves" if job.classifier else "loss curve"
        for path, written in ((plot, what), (save, "weights"), (save_torch, "weights")):
            if path is not None:
                print(f"wrote {written} to {path}", file=sys.stderr)
    return 0


def _train(
    job: jobs.Job,
    quiet: bool,
    detect_anomaly: bool,
    compiled: bool = False,
    live: bool = False,
) -> report.History:
    """Train ``job`` for its epochs: the loss of each epoch (before its update, or for
    mini-batches the mean of its batches' losses) and, for a classifier, its accuracies
    after it. With ``compiled``, through ``tl.compile`` (the same numbers: docs/compile.md).
    With ``live``, a classifier prints a line per epoch as it goes."""
    history = report.History()
    total = job.epochs * job.steps_per_epoch
    bar = _progress_bar(job, total, disabled=quiet)
    update = _updater(bar, total, history.losses)
    step = tl.compile(job.training_step()) if compiled else None
    steps = 0

    def on_step() -> None:
        nonlocal steps
        steps += 1
        if update is not None:
            update(steps - 1)

    try:
        with tl.detect_anomaly() if detect_anomaly else _nothing():
            for epoch in range(job.epochs):
                history.losses.append(job.train_epoch(on_step, step))
                if job.classifier:
                    history.add_accuracies(*job.accuracies())
                    if live:
                        if epoch == 0:
                            _say(bar, report.epoch_header(job))
                        _say(bar, report.epoch_line(history, epoch))
    except tl.AnomalyError as error:
        raise CommandFailedError(f"anomaly in epoch {len(history.losses) + 1}: {error}") from None
    except CompileError as error:
        raise UsageError(f"--compile: {_first_line(error)}") from None
    finally:
        if bar is not None:
            bar.close()
    return history


def _say(bar: Any, line: str) -> None:
    """Print ``line`` to stdout now, above the progress bar if there is one."""
    if bar is None:
        print(line, flush=True)
    else:
        bar.write(line, file=sys.stdout)


def _progress_bar(job: jobs.Job, total: int, disabled: bool) -> Any:
    """A tqdm bar on stderr over the ``total`` steps (an epoch, or a mini-batch, each), or
    None when it is off (--quiet, or stderr is not a terminal)."""
    if disabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # imported here: only a terminal needs it

    unit = "epoch" if job.batch_size is None else "batch"
    return tqdm(total=total, desc=job.name, unit=unit, file=sys.stderr, leave=False)


def _updater(bar: Any, total: int, losses: list[float] | None = None) -> Any:
    """``update(k)`` that moves ``bar`` every 1/200 of the run (None without a bar)."""
    if bar is None:
        return None
    chunk = max(1, total // 200)  # a bar update costs more than a small epoch

    def update(k: int) -> None:
        if (k + 1) % chunk == 0 or k + 1 == total:
            bar.update(k + 1 - bar.n)
            if losses:
                bar.set_postfix(loss=f"{losses[-1]:.4g}", refresh=False)

    return update


def _check_movable(model: tl.nn.Module, name: str) -> None:
    """Before training: PyTorch is installed, and each parameter is in a layer that has a
    counterpart there (the state dict can be written)."""
    try:
        tl.interop.to_torch_state_dict(model)
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise UsageError(
            f"--save-torch needs PyTorch, which is not installed: {tl.interop.INSTALL}"
        ) from None
    except (TypeError, ValueError) as error:
        raise UsageError(f"--save-torch: {name}: {error}") from None


def _save_torch(model: tl.nn.Module, path: Path) -> None:
    """``torch.save`` of the model's PyTorch state dict, written beside and renamed into
    place (as tl.save does), so that a failed write leaves any old file whole."""
    import torch  # present: _check_movable made sure

    temporary = path.with_name(f".{path.name}.tmp")
    try:
        torch.save(tl.interop.to_torch_state_dict(model), temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            '--plot needs matplotlib, which is not installed: pip install "tinygrad-lite[plot]"'
        ) from None
    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as pyplot

    return pyplot


# ----------------------------------------------------------------------------- compare


def run_compare(args: argparse.Namespace) -> int:
    if args.model == recurrent.NAME:
        return recurrent.run_compare(args)
    recurrent.refuse_options(args)
    if args.checkpoints < 1:
        raise UsageError(f"--checkpoints must be 1 or more, got {args.checkpoints}")
    job = jobs.make(args.model, epochs=args.epochs, seed=args.seed)
    if job.epochs == 0:
        raise UsageError("compare needs at least 1 epoch to compare, got --epochs 0")
    if job.hand_written is None:
        with_one = ", ".join(n for n in jobs.NAMES if jobs.has_hand_written(n))
        raise UsageError(
            f"{job.name} has no hand-written backprop to compare with; models that have one: "
            f"{with_one}"
        )
    total = job.epochs * job.steps_per_epoch
    bar = _progress_bar(job, total, disabled=args.quiet)
    try:
        result = job.hand_written(job, args.checkpoints, _updater(bar, total))
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(result.report()))
    else:
        print(result.table())
    return 0 if result.identical else 1


# ------------------------------------------------------------------------- graph, trace


def run_graph(args: argparse.Namespace) -> int:
    output = _output_path("-o", args.output, GRAPH_SUFFIXES)
    if args.model == recurrent.NAME:  # 25 unrolled steps, most of them folded
        dot = unrolled.graph(recurrent.seed_of(args))
    else:
        job = jobs.make(args.model, seed=args.seed)
        loss = job.loss()
        loss.backward(retain_graph=True)  # kept, so that the drawing shows the gradients
        dot = tl.viz.to_dot(loss, names=job.names())
    if output is None:
        sys.stdout.write(dot)
        return 0
    try:
        tl.viz.render(dot, output)
    except tl.viz.GraphvizError as error:
        raise CommandFailedError(
            f"{error} (the DOT text is what `{PROG} graph {args.model}` prints)"
        ) from None
    print(f"wrote the graph of one training step to {output}", file=sys.stderr)
    return 0


def run_trace(args: argparse.Namespace) -> int:
    if args.model == recurrent.NAME:
        return unrolled.run_trace(args)
    job = jobs.make(args.model, seed=args.seed)
    with tl.trace(values=args.values, names=job.names()) as recorded:
        loss = job.loss()
        loss.backward()
    print(
        f"{job.name}: one training step ({job.loss_name} loss, seed {job.seed}), forward then "
        f"backward"
    )
    print(recorded.table())
    return 0


# --------------------------------------------------------------------------- gradcheck


def run_gradcheck(args: argparse.Namespace) -> int:
    if args.model == recurrent.NAME:
        return unrolled.run_gradcheck(args)
    job = jobs.make(args.model, seed=args.seed)
    heading = (
        f"{job.name}: d(loss)/d(parameter) by backward() against central differences "
        f"(tl.gradcheck), at the initial weights (seed {job.seed})"
    )
    return gradients.report(job.name, heading, job.gradcheck(), args.json)


# ----------------------------------------------------------------------------- compile


def run_compile(args: argparse.Namespace) -> int:
    if args.model == recurrent.NAME:
        raise UsageError(f"{recurrent.NAME} cannot be compiled: {recurrent.NOT_COMPILED}")
    output = _output_path("-o", args.output, (".py",))
    job = jobs.make(args.model, seed=args.seed)
    step = tl.compile(job.training_step())
    try:
        batch = job.first_batch()
        for _ in range(3):  # recorded twice, then run as the program (docs/compile.md)
            step(*batch)
    except CompileError as error:
        raise UsageError(f"{job.name} cannot be compiled: {_first_line(error)}") from None
    if output is not None:
        output.write_text(step.source)
        print(f"wrote the program of one training step to {output}", file=sys.stderr)
        return 0
    hand_written = job.hand_written_source()
    if hand_written is not None:
        whose = "the seed's" if job.name in ("single-neuron", "xor") else "the"
        print(f"# {job.name}: {whose} hand-written training (models/{_module_file(job)})")
        print()
        print(hand_written)
    rows = "" if job.batch_size is None else f", a batch of {job.batch_size} rows"
    print(
        f"# {job.name}: the program tl.compile writes for one training step ({job.loss_name} "
        f"loss, {job.optimizer_text()}{rows})"
    )
    print()
    sys.stdout.write(step.source)
    return 0


# ----------------------------------------------------------------------------- explain


def run_explain(args: argparse.Namespace) -> int:
    output = _output_path("-o", args.output, (".html", ".htm"))
    assert output is not None  # it has a default
    if not os.access(output.parent, os.W_OK):
        raise UsageError(f"-o {args.output}: folder {str(output.parent)!r} is not writable")
    if args.model == recurrent.NAME:
        name, page = args.model, unrolled.explain_page(recurrent.seed_of(args), args.after)
    else:
        job = jobs.make(args.model, seed=args.seed)
        name = job.name
        try:
            page = explain.page(job, after=args.after)
        except RuntimeError as error:  # nothing requires grad: there is nothing to show
            raise UsageError(f"{job.name}: {str(error).removeprefix('explain: ')}") from None
    try:
        page.save(output)
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"-o {args.output}: cannot write the page: {reason}") from None
    kib = explain.size(page) / 1024
    print(
        f"wrote {output}: {len(page.steps)} steps of one training step of {name} "
        f"({kib:.0f} KiB); open it in a browser",
        file=sys.stderr,
    )
    return 0


def _module_file(job: jobs.Job) -> str:
    return f"{job.module.__name__.rsplit('.', 1)[-1]}.py"


def _first_line(error: Exception) -> str:
    return str(error).split("\n")[0].removeprefix("compile: ")


# ------------------------------------------------------------------------------ checks


def _seed(text: str) -> int:
    value = count(text)
    if value > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"must be at most {2**32 - 1}, got {value}")
    return value


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number greater than 0, got {text}")
    return value


def _output_path(option: str, text: str | None, suffixes: tuple[str, ...]) -> Path | None:
    """An output file, checked before any work: its suffix, and that its folder exists."""
    if text is None:
        return None
    path = Path(text)
    if path.suffix.lower() not in suffixes:
        raise UsageError(
            f"{option} {text}: unknown file type {path.suffix or '(none)'!r}; accepted: "
            f"{', '.join(suffixes)}"
        )
    if not path.parent.is_dir():
        raise UsageError(f"{option} {text}: folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"{option} {text}: is a folder; give a file name")
    return path


class _nothing:  # noqa: N801 (a context manager, named like the others)
    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass
