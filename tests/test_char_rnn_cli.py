"""The command line on char-rnn, run as a user runs it: ``python -m models ...`` in a real
subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import commands
import numpy as np
import pytest
from commands import error_line

import tinygrad_lite as tl
from models import char_rnn
from models.cli import jobs, recurrent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``commands.run`` with the time char-rnn's longer runs need."""
    return commands.run(*args, cwd=cwd, timeout=300)


def test_train_prints_the_loss_as_it_goes_samples_and_the_final_loss() -> None:
    result = run(
        "train", "char-rnn", "--iterations", "60", "--print-every", "20", "--sample-every", "40"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "char-rnn: 60 iterations of 25 characters, Adagrad(lr=0.1), gradients clipped to "
        "[-5, 5], 100 tanh units, seed 0"
    )
    assert lines[1].startswith("text: models/data/coriolanus.txt, 32387 characters, 58 distinct")
    assert "25 ln 58 = 101.51 per chunk" in lines[1]
    assert lines[2] == "iteration  loss (mean of the last 20)"
    assert [line.split()[0] for line in lines[3:5]] == ["20", "40"]
    assert lines[5] == "--- sample after 40 iterations ---"
    final = next(line for line in lines if line.startswith("final loss: "))
    assert "(mean of the last 20 iterations; uniform 101.51)" in final
    assert "--- sample after 60 iterations ---" in lines
    assert result.stderr == ""  # no bar: stderr is not a terminal


def test_train_json_is_the_same_run_as_the_library_gives(tmp_path: Path) -> None:
    result = run(
        "train", "char-rnn", "--iterations", "30", "--seed", "2", "--lr", "0.05", "--json",
        "--save", "w.npz", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    model = char_rnn.build(seed=2)
    losses = char_rnn.train(model, iterations=30, lr=0.05)
    assert report["model"] == "char-rnn"
    assert (report["iterations"], report["lr"], report["seed"]) == (30, 0.05, 2)
    assert (report["vocab_size"], report["seq_length"], report["hidden_size"]) == (58, 25, 100)
    assert [loss for _, loss in report["loss_curve"]] == losses.tolist()
    assert report["final_loss"] == pytest.approx(losses[-30:].mean())
    sample = char_rnn.sample(model, "\n", recurrent.SAMPLE_LENGTH, np.random.default_rng(2))
    assert report["samples"] == [{"iteration": 30, "text": sample}]
    saved = tl.load(tmp_path / "w.npz")
    for name, p in model.named_parameters():
        assert np.array_equal(saved[name], p.numpy())


def test_train_plots_the_loss_curve(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("train", "char-rnn", "--iterations", "20", "--plot", "loss.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stderr == "wrote loss curve to loss.png\n"


def test_an_anomaly_stops_the_run_with_the_iteration(tmp_path: Path) -> None:
    # At lr 1e307 the first update throws the weights to about 1e307: the next products
    # overflow.
    result = run("train", "char-rnn", "--iterations", "5", "--lr", "1e307", "--detect-anomaly")
    assert result.returncode == 1
    assert error_line(result, after_output=True).startswith(
        "tinygrad-lite: anomaly in iteration 2: affine"
    )


def test_a_progress_bar_on_a_terminal_with_the_lines_printed_above_it() -> None:
    process, shown = commands.run_on_a_terminal(
        "train", "char-rnn", "--iterations", "40", "--print-every", "20", "--sample-every", "0",
        timeout=300,
    )  # fmt: skip
    assert process.returncode == 0
    assert "char-rnn" in shown and "it" in shown and "loss=" in shown  # the bar, on stderr
    lines = process.stdout.splitlines()
    assert [line.split()[0] for line in lines[3:5]] == ["20", "40"]  # the losses, on stdout


def test_compare_is_bit_identical_and_timed() -> None:
    result = run("compare", "char-rnn", "--iterations", "40", "--checkpoints", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("char-rnn: autodiff (loss.backward() through 25 steps) against")
    assert lines[2].split() == [
        "iteration", "loss", "rnn.weight_ih", "rnn.weight_hh", "rnn.bias_ih", "rnn.bias_hh",
        "head.weight", "head.bias",
    ]  # fmt: skip
    assert [line.split() for line in lines[3:6]] == [[i] + ["0"] * 7 for i in ("1", "20", "40")]
    assert lines[6] == "bit-identical: yes, after every iteration (the loss and all 6 parameters)"
    assert lines[7].startswith("time: autodiff ") and "ms/iteration" in lines[7]
    report = json.loads(run("compare", "char-rnn", "--iterations", "5", "--json").stdout)
    assert report["bit_identical"] and report["first_differing_iteration"] is None
    assert report["autodiff_seconds"] > 0 and report["hand_written_seconds"] > 0


def test_graph_draws_the_first_two_steps_the_last_and_folds_the_rest(tmp_path: Path) -> None:
    result = run("graph", "char-rnn")
    assert result.returncode == 0, result.stderr
    dot = result.stdout
    assert dot.count("subgraph cluster_") == 3
    for k in (0, 1, 24):
        assert f'label="step {k}"' in dot
    assert 'label="steps 2 to 23\\n22 steps, 88 ops, folded"' in dot
    assert dot.count('label="tanh"') == 3 and dot.count('label="cat"') == 1
    assert 'label="rnn.weight_hh\\n(100, 100)\\ngrad norm ' in dot
    assert dot.count("-> fold;") == 5  # h1 and the four weights of the cell, once each
    assert len(dot.splitlines()) < 130  # readable: 25 steps would be ~600 lines
    written = run("graph", "char-rnn", "-o", "g.dot", cwd=tmp_path)
    assert written.returncode == 0 and (tmp_path / "g.dot").read_text() == dot


def test_trace_shows_the_first_two_steps_and_the_last() -> None:
    result = run("trace", "char-rnn")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("char-rnn: one iteration (the first chunk, 25 steps from a zero")
    left_out = [line for line in lines if line.startswith("  ... steps 2 to 23")]
    same = "88 records left out, the same ops as in the steps shown ..."
    assert left_out == [
        f"  ... steps 2 to 23, {phase}: {same}" for phase in ("forward", "backward")
    ]
    records = [line for line in lines if line[:4].strip().isdigit()]
    assert len(records) == 206 - 176
    assert any("forward   affine        x24 (1, 58), rnn.weight_ih" in line for line in records)
    assert any("(25 tensors)" in line for line in records)  # the cat of the states
    assert max(len(line) for line in lines) < 250  # the 25 states listed would make 700
    with_values = run("trace", "char-rnn", "--values")
    assert "dx = grad * (1 - out*out)" in with_values.stdout
    assert "      out = " in with_values.stdout


def test_gradcheck_checks_every_parameter() -> None:
    result = run("gradcheck", "char-rnn", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["parameter"] for r in report["parameters"]] == list(char_rnn.NAMES)
    assert [r["checked"] for r in report["parameters"]] == [100, 100, 100, 100, 100, 58]
    for r in report["parameters"]:
        assert r["passed"] and r["abs_error"] < 1e-6
    text = run("gradcheck", "char-rnn").stdout
    assert text.startswith("char-rnn: d(loss)/d(parameter) by backward() through 25 steps")
    assert "100 of 10000" in text and text.count(" ok") == 6


def test_explain_writes_a_page_of_one_iteration(tmp_path: Path) -> None:
    result = run("explain", "char-rnn", "-o", "rnn.html", "--after", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("wrote rnn.html: ")
    assert "steps of one training step of char-rnn" in result.stderr
    page = (tmp_path / "rnn.html").read_text()
    assert "char-rnn: the iteration after 2 (25 steps" in page
    assert "rnn.weight_hh" in page


def test_the_model_is_listed_and_its_name_is_the_one_the_commands_take() -> None:
    assert recurrent.NAME in jobs.NAMES and jobs.has_hand_written(recurrent.NAME)
    nothing = run("compare", "xor-modern")
    assert error_line(nothing).endswith(
        "models that have one: single-neuron, xor, digits-mlp, digits-cnn, char-rnn"
    )
    result = run("--help")
    assert "char-rnn" in result.stdout.replace("-\n", "-")  # (argparse may wrap at its -)
    assert "--iterations" in run("train", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "char-rnn", "--epochs", "3"],
            "char-rnn trains by iterations (one chunk of 25 characters each), not epochs: use "
            "--iterations N",
        ),
        (["train", "char-rnn", "--iterations", "-1"], "--iterations: must be 0 or more, got -1"),
        (
            ["train", "char-rnn", "--iterations", "x"],
            "--iterations: must be a whole number, got 'x'",
        ),
        (["train", "char-rnn", "--print-every", "x"], "--print-every: must be a whole number"),
        (["train", "char-rnn", "--sample-every", "-5"], "--sample-every: must be 0 or more"),
        (["train", "char-rnn", "--compile"], "--compile: char-rnn cannot be compiled: "),
        (["train", "char-rnn", "--lr", "0"], "--lr: must be a finite number greater than 0"),
        (["train", "char-rnn", "--plot", "loss.jpg"], "unknown file type '.jpg'"),
        (["train", "char-rnn", "--save", "nowhere/w.npz"], "folder 'nowhere' does not exist"),
        (
            ["train", "xor", "--iterations", "3"],
            "--iterations is for char-rnn; xor trains by epochs (use --epochs)",
        ),
        (["train", "xor", "--sample-every", "3"], "--sample-every is for char-rnn"),
        (["compare", "char-rnn", "--iterations", "0"], "compare needs at least 1 iteration"),
        (["compare", "char-rnn", "--checkpoints", "0"], "--checkpoints must be 1 or more, got 0"),
        (["compare", "char-rnn", "--epochs", "5"], "not epochs: use --iterations N"),
        (["compile", "char-rnn"], "char-rnn cannot be compiled: its step makes each chunk's"),
        (["graph", "char-rnn", "--seed", "-1"], "--seed: must be 0 or more, got -1"),
        (["trace", "char-rnn", "--iterations", "3"], "unrecognized arguments: --iterations 3"),
        (
            ["train", "char_rnn"],
            "unknown model 'char_rnn'; accepted: single-neuron, xor, xor-modern, digits-mlp, "
            "digits-cnn, char-rnn, or the path of a .toml file",
        ),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    line = error_line(result)
    assert line.startswith("tinygrad-lite: error: ") and message in line
