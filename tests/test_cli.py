"""The command line, run as a user runs it: ``python -m models ...`` in a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from commands import ROOT, error_line, run, run_on_a_terminal

import tinygrad_lite as tl

EXAMPLE = str(ROOT / "examples" / "xor.toml")
HAS_DOT = shutil.which("dot") is not None
try:
    import matplotlib  # noqa: F401

    HAS_MATPLOTLIB = True
except ImportError:
    HAS_MATPLOTLIB = False


# ------------------------------------------------------------------------------- train


def test_train_prints_the_final_loss_and_a_prediction_table() -> None:
    result = run("train", EXAMPLE, "--epochs", "40")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "xor-tanh: 40 epochs, Adam(lr=0.1), bce loss, seed 0, 4 samples"
    assert lines[1].startswith("final loss: ")
    assert lines[2].split() == ["a", "b", "a_xor_b", "target", "a_xor_b", "predicted"]
    rows = [line.split() for line in lines[3:]]
    assert [row[:3] for row in rows] == [
        ["0", "0", "0"],
        ["0", "1", "1"],
        ["1", "0", "1"],
        ["1", "1", "0"],
    ]
    assert all(0 <= float(row[3]) <= 1 for row in rows)
    assert result.stderr == ""  # no bar: stderr is not a terminal


def test_train_json_is_the_same_run_and_overrides_apply(tmp_path: Path) -> None:
    text = run("train", EXAMPLE, "--epochs", "40")
    result = run("train", EXAMPLE, "--epochs", "40", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "xor-tanh" and report["epochs"] == 40
    assert (report["optimizer"], report["loss"], report["lr"], report["seed"]) == (
        "Adam",
        "bce",
        0.1,
        0,
    )
    assert text.stdout.splitlines()[1] == f"final loss: {report['final_loss']:.8g}"
    curve = report["loss_curve"]
    assert [epoch for epoch, _ in curve] == list(range(1, 41))
    assert report["final_loss"] < curve[0][1]  # it learned
    assert np.array(report["predictions"]).shape == (4, 1)
    assert report["targets"] == [[0.0], [1.0], [1.0], [0.0]]
    assert set(report["parameters"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    other = json.loads(
        run("train", EXAMPLE, "--epochs", "40", "--seed", "3", "--lr", "0.05", "--json").stdout
    )
    assert (other["seed"], other["lr"]) == (3, 0.05)
    assert other["parameters"] != report["parameters"]


def test_train_saves_weights_and_plots_the_loss(tmp_path: Path) -> None:
    args = ["train", EXAMPLE, "--epochs", "30", "--save", "w.npz", "--json"]
    if HAS_MATPLOTLIB:
        args += ["--plot", "loss.png"]
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    saved = tl.load(tmp_path / "w.npz")
    assert set(saved) == set(report["parameters"])
    for name, values in report["parameters"].items():
        np.testing.assert_array_equal(saved[name], values)
    if HAS_MATPLOTLIB:
        png = (tmp_path / "loss.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
        import matplotlib.image

        image = matplotlib.image.imread(tmp_path / "loss.png")
        assert image.shape[0] > 200 and image.shape[1] > 300


def test_without_matplotlib_plot_says_what_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    result = run(
        "train",
        EXAMPLE,
        "--plot",
        "loss.png",
        cwd=tmp_path,
        env={"PYTHONPATH": str(blocker.parent)},
    )
    assert result.returncode == 2
    assert 'pip install "tinygrad-lite[plot]"' in error_line(result)
    assert not (tmp_path / "loss.png").exists()


def test_detect_anomaly_names_the_op_and_the_epoch(tmp_path: Path) -> None:
    # Inputs near the largest float: the first matmul overflows to inf.
    toml = tmp_path / "huge.toml"
    toml.write_text(
        '[[layers]]\ntype = "Linear"\nin_features = 2\nout_features = 1\n'
        "[data]\ninputs = [[1e308, 1e308], [1e308, 1e308]]\ntargets = [1, 0]\n"
    )
    caught = run("train", str(toml), "--epochs", "3", "--detect-anomaly")
    assert caught.returncode == 1
    line = error_line(caught)
    assert line.startswith("tinygrad-lite: anomaly in epoch 1: ")
    assert "(forward) produced" in line and "inf" in line
    silent = run("train", str(toml), "--epochs", "3")
    assert silent.returncode == 0 and "final loss: nan" in silent.stdout


def test_progress_bar_on_a_terminal_only_and_never_with_quiet() -> None:
    for quiet in (False, True):
        extra = ["--quiet"] if quiet else []
        process, shown = run_on_a_terminal("train", EXAMPLE, "--epochs", "200", *extra)
        assert process.returncode == 0
        if quiet:
            assert shown == ""
        else:
            assert "xor-tanh" in shown and "epoch" in shown
        assert "final loss" in process.stdout


def test_a_reader_that_goes_away_is_no_traceback() -> None:
    # `tinygrad-lite graph xor | head -1`: the pipe closes before the output is written.
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "models", "graph", "xor"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 1
    assert stderr == ""


# ------------------------------------------------------------------------ graph, trace


def test_graph_prints_dot_and_writes_files(tmp_path: Path) -> None:
    result = run("graph", EXAMPLE)
    assert result.returncode == 0, result.stderr
    dot = result.stdout
    assert dot.startswith("digraph tinygrad_lite {") and dot.endswith("}\n")
    assert '"tanh"' in dot and 'label="0.weight\\n(2, 4)\\ngrad norm' in dot
    assert run("graph", EXAMPLE, "-o", "g.dot", cwd=tmp_path).returncode == 0
    assert (tmp_path / "g.dot").read_text() == dot
    if HAS_DOT:
        check = subprocess.run(["dot", "-Tcanon"], input=dot, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        assert run("graph", EXAMPLE, "-o", "g.svg", cwd=tmp_path).returncode == 0
        assert "<svg" in (tmp_path / "g.svg").read_text()
    no_dot = run("graph", EXAMPLE, "-o", "g.png", cwd=tmp_path, env={"PATH": str(tmp_path)})
    assert no_dot.returncode == 1
    assert "apt-get install graphviz" in error_line(no_dot)
    assert not (tmp_path / "g.png").exists()


def test_trace_shows_one_step_op_by_op() -> None:
    result = run("trace", EXAMPLE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "xor-tanh: one training step (bce loss, seed 0), forward then backward"
    assert lines[1].split()[:6] == ["step", "phase", "op", "inputs", "output", "rule"]
    phases = [line.split()[1] for line in lines[2:]]
    assert phases[0] == "forward" and phases[-1] == "backward"
    assert " affine " in lines[2] and " X (4, 2), 0.weight (2, 4), 0.bias (4,) " in lines[2]
    assert any("backward  tanh" in line and "dx = grad * (1 - out*out)" in line for line in lines)
    valued = run("trace", EXAMPLE, "--values").stdout
    assert "      grad = " in valued and "      out = " in valued


def test_gradcheck_reports_the_worst_error_per_parameter() -> None:
    result = run("gradcheck", EXAMPLE)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("0.", "2."))]
    assert [row[0] for row in rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(row[-1] == "ok" for row in rows)
    report = json.loads(run("gradcheck", EXAMPLE, "--json").stdout)
    assert [p["parameter"] for p in report["parameters"]] == [row[0] for row in rows]
    assert all(p["passed"] and p["abs_error"] < 1e-6 for p in report["parameters"])


# ------------------------------------------------------------------------------ errors


def test_compare_says_plainly_when_there_is_nothing_hand_written() -> None:
    result = run("compare", EXAMPLE)
    assert result.returncode == 2
    assert "xor-tanh has no hand-written backprop to compare with" in error_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "resnet"], "unknown model 'resnet'; accepted: "),
        (["train", EXAMPLE, "--epochs", "-3"], "--epochs: must be 0 or more, got -3"),
        (["train", EXAMPLE, "--lr", "fast"], "--lr: must be a number, got 'fast'"),
        (["train", EXAMPLE, "--plot", "nowhere/loss.png"], "folder 'nowhere' does not exist"),
        (["graph", EXAMPLE, "-o", "graph.jpg"], "unknown file type '.jpg'; accepted: .dot"),
        (["train", "missing.toml"], "cannot read missing.toml: No such file or directory"),
        (["fly", EXAMPLE], "invalid choice: 'fly'"),
        ([], "no command given; accepted: train, compare, graph, trace, gradcheck"),
        (["compare", "xor", "--epochs", "0"], "compare needs at least 1 epoch"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith("tinygrad-lite: error: ") and message in line


def test_bad_files_are_one_line_and_status_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[layers]\n")
    assert "is not valid TOML" in error_line(run("train", str(broken)))
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(
        Path(EXAMPLE).read_text().replace('"a_xor_b"', '"xor"').replace('"xor.csv"', '"data.csv"')
    )
    (tmp_path / "data.csv").write_text((ROOT / "examples" / "xor.csv").read_text())
    result = run("train", str(wrong))
    assert result.returncode == 2
    assert "names column(s) 'xor', which data.csv does not have" in error_line(result)
    (tmp_path / "data.csv").write_text("a,b,c,xor\n0,0,1,0\n1,1,1,0\n")
    mismatch = run("train", str(wrong))
    assert "the first Linear takes 2 input(s)" not in mismatch.stderr  # columns chosen by name
    assert mismatch.returncode == 0
    sized = tmp_path / "sized.toml"
    sized.write_text(wrong.read_text().replace('inputs = ["a", "b"]', 'inputs = ["a", "b", "c"]'))
    result = run("train", str(sized))
    assert result.returncode == 2
    assert "layer 1 (Linear) has in_features 2, but the data has 3 input column(s)" in error_line(
        result
    )


# ------------------------------------------------------------------ the seed networks


def test_compare_the_seed_networks_bit_for_bit() -> None:
    result = run("compare", "single-neuron", "--epochs", "30", "--checkpoints", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("single-neuron: autodiff (loss.backward()) against the hand")
    assert lines[1].split() == ["epoch", "max", "|diff|", "0.weight"]
    assert [line.split() for line in lines[2:6]] == [
        ["1", "0"],
        ["10", "0"],
        ["20", "0"],
        ["30", "0"],
    ]
    assert lines[6] == "bit-identical: yes"
    assert lines[7].startswith("time: autodiff ") and "hand-written" in lines[7]
    report = json.loads(run("compare", "xor", "--epochs", "20", "--json").stdout)
    assert report["bit_identical"] is True and report["epochs"] == 20
    assert [c["epoch"] for c in report["checkpoints"]] == [1, 4, 8, 12, 16, 20]
    assert all(
        c["max_abs_difference"] == {"0.weight": 0.0, "2.weight": 0.0} for c in report["checkpoints"]
    )
    assert report["autodiff_seconds"] > 0 and report["hand_written_seconds"] > 0


def test_the_declared_seed_xor_trains_as_the_built_in_one() -> None:
    declared = run("train", str(ROOT / "examples" / "seed-xor.toml"), "--epochs", "200", "--json")
    built_in = run("train", "xor", "--epochs", "200", "--json")
    a, b = json.loads(declared.stdout), json.loads(built_in.stdout)
    assert (a["model"], b["model"]) == ("seed-xor", "xor")
    assert a["parameters"] == b["parameters"] and a["final_loss"] == b["final_loss"]


def test_trace_and_gradcheck_of_a_seed_network() -> None:
    trace = run("trace", "single-neuron").stdout.splitlines()
    squeezed = [" ".join(line.split()) for line in trace]
    assert "0 forward matmul X (4, 3), 0.weight (3, 1) t0 (4, 1) out = x @ y" in squeezed
    assert "backward sigmoid grad t1 (4, 1) t0 (4, 1) dx = grad * (out*(1-out))" in " | ".join(
        squeezed
    )
    check = run("gradcheck", "xor")
    assert check.returncode == 0
    assert [line.split()[0] for line in check.stdout.splitlines()[2:]] == ["0.weight", "2.weight"]


# ---------------------------------------------------------------- the digit classifiers


def test_train_a_classifier_prints_its_accuracy_epoch_by_epoch() -> None:
    result = run("train", "digits-mlp", "--epochs", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "digits-mlp: 2 epochs, SGD(lr=0.1, momentum=0.9), batches of 32, cross_entropy loss, "
        "seed 0, 1438 samples (and 359 to test)"
    )
    assert lines[1].split() == ["epoch", "loss", "train", "accuracy", "test", "accuracy"]
    epochs = [line.split() for line in lines[2:4]]
    assert [row[0] for row in epochs] == ["1", "2"]
    assert all(row[2].endswith("%") and row[3].endswith("%") for row in epochs)
    assert lines[4].startswith("final loss: ") and lines[4].endswith(" (on the training set)")
    right, of = lines[5].split("(")[1].rstrip(")").split(" of ")
    assert lines[5].startswith("test accuracy: ") and of == "359"
    assert f"{int(right) / 359:.2%}" in lines[5] and lines[5].split()[2] == epochs[1][3]
    assert lines[6] == "test rows by true digit (down) and predicted (across):"
    table = [line.split() for line in lines[7:]]
    assert table[0] == [str(c) for c in range(10)]
    counts = np.array([[int(v) for v in row[1:]] for row in table[1:]])
    assert [row[0] for row in table[1:]] == [str(c) for c in range(10)]
    assert counts.sum() == 359 and np.trace(counts) == int(right)
    assert result.stderr == ""

    report = json.loads(run("train", "digits-mlp", "--epochs", "2", "--json").stdout)
    assert report["batch_size"] == 32 and report["loss"] == "cross_entropy"
    assert [e for e, _ in report["test_accuracy_curve"]] == [1, 2]
    assert f"{report['test_accuracy_curve'][-1][1]:.2%}" == epochs[1][3]
    assert report["accuracy"] == int(right) / 359 and len(report["predictions"]) == 359
    assert np.array(report["confusion"]).tolist() == counts.tolist()
    assert set(report["parameters"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_the_declared_digits_reach_digits_mlps_accuracy_with_its_default_settings() -> None:
    declared = json.loads(run("train", str(ROOT / "examples" / "digits.toml"), "--json").stdout)
    built_in = json.loads(run("train", "digits-mlp", "--json").stdout)
    assert (declared["model"], built_in["model"]) == ("digits", "digits-mlp")
    assert declared["epochs"] == built_in["epochs"] == 20
    assert declared["parameters"] == built_in["parameters"]  # the same weights, to the bit
    assert declared["accuracy"] == built_in["accuracy"] >= 0.97


def test_compare_a_classifier_step_by_step() -> None:
    result = run("compare", "digits-mlp", "--epochs", "2", "--checkpoints", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "digits-mlp: autodiff (loss.backward()) against the hand-written deltas, 2 epochs "
        "(90 steps), lr 0.1"
    )
    assert [line.split() for line in lines[2:4]] == [["1", "0", "0", "0", "0"], ["2"] + ["0"] * 4]
    assert lines[4] == "bit-identical: yes"
    report = json.loads(run("compare", "digits-cnn", "--epochs", "1", "--json").stdout)
    assert report["bit_identical"] is True and report["steps"] == 45
    assert report["largest_relative_difference"] == 0.0


def test_graph_trace_gradcheck_and_compile_take_the_classifiers() -> None:
    graph = run("graph", "digits-cnn")
    assert graph.returncode == 0 and '"maxpool"' in graph.stdout.replace("label=", "")
    trace = [" ".join(line.split()) for line in run("trace", "digits-cnn").stdout.splitlines()]
    assert trace[0] == (
        "digits-cnn: one training step (cross_entropy loss, seed 0), forward then backward"
    )
    assert "0 forward im2col X (32, 1, 8, 8) t0 (2048, 9) out[(n, i, j), (c, di, dj)] = " in (
        " | ".join(trace)
    )
    assert any("backward crossentropy grad" in line for line in trace)
    check = run("gradcheck", "digits-mlp")
    assert check.returncode == 0, check.stdout
    rows = [line.split() for line in check.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [row[-1] for row in rows] == ["ok"] * 4
    assert " ".join(rows[0][1:6]) == "(64, 256) 100 of 16384"
    program = run("compile", "digits-cnn")
    assert program.returncode == 0, program.stderr
    assert "# digits-cnn: the hand-written training (models/digits_cnn.py)" in program.stdout
    for text in ("def im2col(", "def col2im(", "def fp(", "def bp(", "def manual_steps("):
        assert text in program.stdout
    assert "sliding_window_view(" in program.stdout.split("tl.compile writes")[1]


def test_train_a_classifier_compiled_gives_the_same_numbers() -> None:
    eager = run("train", "digits-mlp", "--epochs", "2", "--json")
    compiled = run("train", "digits-mlp", "--epochs", "2", "--json", "--compile")
    assert compiled.returncode == 0, compiled.stderr
    a, b = json.loads(eager.stdout), json.loads(compiled.stdout)
    assert a == b


def test_plot_a_classifier_draws_loss_and_accuracy(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("train", "digits-mlp", "--epochs", "2", "--plot", "curves.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote loss and accuracy curves to curves.png\n"
    import matplotlib.image

    image = matplotlib.image.imread(tmp_path / "curves.png")
    assert image.shape[1] > 2 * image.shape[0]  # two panels side by side


def test_a_progress_bar_over_batches_on_a_terminal() -> None:
    process, shown = run_on_a_terminal("train", "digits-mlp", "--epochs", "2")
    assert process.returncode == 0
    assert "digits-mlp" in shown and "/90" in shown and "batch" in shown
    assert process.stdout.splitlines()[2].split()[0] == "1"  # the epochs, on stdout


def _labelled(tmp_path: Path, classes: int, outputs: int) -> Path:
    """A CSV of 4 features and a label column of ``classes`` classes, and a network of
    ``outputs`` outputs declared for it."""
    rng = np.random.default_rng(0)
    lines = ["f0,f1,f2,f3,label"]
    for i in range(60):
        label = i % classes
        values = rng.standard_normal(4) + label
        lines.append(",".join(f"{v:.4f}" for v in values) + f",{label}")
    (tmp_path / "points.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "points.toml"
    path.write_text(
        f"""
[[layers]]
type = "Linear"
in_features = 4
out_features = {outputs}
[training]
loss = "cross_entropy"
optimizer = "adam"
lr = 0.05
epochs = 30
batch_size = 16
[data]
csv = "points.csv"
labels = "label"
test_fraction = 0.25
"""
    )
    return path


def test_a_classifier_declared_on_a_csv_of_labels(tmp_path: Path) -> None:
    result = run("train", str(_labelled(tmp_path, 3, 3)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("seed 0, 45 samples (and 15 to test)")
    assert "Adam(lr=0.05)" in lines[0] and "batches of 16" in lines[0]
    assert lines[-4].split() == ["0", "1", "2"]  # the confusion matrix's header, 3 classes
    counts = [[int(v) for v in line.split()[1:]] for line in lines[-3:]]
    assert [sum(row) for row in counts] == [5, 5, 5]  # a stratified test split


def test_a_label_column_with_more_classes_than_outputs_is_one_line_and_status_2(
    tmp_path: Path,
) -> None:
    result = run("train", str(_labelled(tmp_path, 11, 10)))
    assert result.returncode == 2
    assert error_line(result).endswith(
        "points.toml: the labels 'label' hold 11 classes (0 to 10), but the last layer (Linear) "
        "gives 10 output(s), one per class"
    )
    for bad, message in [
        ('type = "Linear"', 'type = "Convolution"'),
        ("in_features = 4", "in_features = 5"),
    ]:
        path = _labelled(tmp_path, 3, 3)
        path.write_text(path.read_text().replace(bad, message, 1))
        result = run("train", str(path))
        assert result.returncode == 2
        line = error_line(result)
        assert "'Convolution'; accepted: Linear, Conv2d" in line or (
            "layer 1 (Linear) has in_features 5, but the data has 4 input column(s)" in line
        )
