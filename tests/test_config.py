"""models.cli.config: a network declared in TOML, read and checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.cli.config import ConfigError, load

ROOT = Path(__file__).resolve().parent.parent

LAYERS = """
[[layers]]
type = "Linear"
in_features = 2
out_features = 3
[[layers]]
type = "relu"
[[layers]]
type = "Linear"
in_features = 3
out_features = 1
bias = false
"""

INLINE = """
[data]
inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
targets = [0, 1, 1, 0]
"""


def _write(tmp_path: Path, text: str, csv: str | None = None) -> Path:
    if csv is not None:
        (tmp_path / "data.csv").write_text(csv)
    path = tmp_path / "net.toml"
    path.write_text(text)
    return path


def test_the_example_reads_its_csv_relative_to_the_toml_file() -> None:
    config = load(ROOT / "examples" / "xor.toml")
    assert config.name == "xor-tanh"
    assert [layer.kind for layer in config.layers] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    assert (config.loss, config.optimizer, config.lr, config.epochs) == ("bce", "adam", 0.1, 300)
    np.testing.assert_array_equal(config.inputs, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(config.targets, [[0], [1], [1], [0]])
    assert config.input_names == ("a", "b") and config.target_names == ("a_xor_b",)


def test_inline_data_defaults_and_case_insensitive_names(tmp_path: Path) -> None:
    config = load(_write(tmp_path, LAYERS + INLINE))
    assert config.name == "net"  # the file's stem when no name is given
    assert config.layers[1].kind == "ReLU" and config.layers[2].arguments["bias"] is False
    assert (config.loss, config.optimizer, config.lr, config.epochs, config.seed) == (
        "sse",
        "sgd",
        1.0,
        1000,
        0,
    )
    assert config.targets.shape == (4, 1) and config.input_names == ("x0", "x1")


def test_csv_columns_are_picked_by_name_in_the_order_given(tmp_path: Path) -> None:
    text = LAYERS + '[data]\ncsv = "data.csv"\ninputs = ["b", "a"]\ntargets = ["y"]\n'
    config = load(_write(tmp_path, text, csv="a,y,b\n1,0,2\n3,1,4\n"))
    np.testing.assert_array_equal(config.inputs, [[2, 1], [4, 3]])
    np.testing.assert_array_equal(config.targets, [[0], [1]])


@pytest.mark.parametrize(
    ("text", "csv", "message"),
    [
        ("layers = [", None, "is not valid TOML"),
        ("colour = 1\n" + LAYERS + INLINE, None, "unknown key(s) 'colour'; accepted: name,"),
        (INLINE, None, "no layers"),
        (LAYERS.replace('"relu"', '"gelu"') + INLINE, None, "'gelu'; accepted: Linear, Conv2d"),
        (
            LAYERS.replace("in_features = 3\n", "") + INLINE,
            None,
            "layer 3 (Linear) needs in_features",
        ),
        (LAYERS.replace("in_features = 3", "in_features = 5") + INLINE, None, "gives 3"),
        (
            LAYERS.replace("in_features = 2", "in_features = 3") + INLINE,
            None,
            "data has 2 input column(s)",
        ),
        (LAYERS.replace("in_features = 2", "in_features = -2") + INLINE, None, "integer >= 1"),
        (LAYERS + INLINE + "[training]\nepochs = -1\n", None, "epochs must be an integer >= 0"),
        (LAYERS + INLINE + "[training]\nlr = 0\n", None, "lr must be greater than 0"),
        (LAYERS + INLINE + "[training]\nloss = 'hinge'\n", None, "accepted: sse, mse, bce"),
        (LAYERS + INLINE + "[training]\noptimizer = 'lbfgs'\n", None, "accepted: sgd, adam, a"),
        (LAYERS + INLINE + "[training]\nbatch = 2\n", None, "[training] has unknown key"),
        (LAYERS + INLINE.replace("[0, 1, 1, 0]", "[0, 1, 1]"), None, "4 input row(s) but 3"),
        (LAYERS + INLINE.replace("[1, 1]]", "[1]]"), None, "row 4 has 1 value(s), row 1 has 2"),
        (LAYERS + INLINE.replace("[1, 1]]", '[1, "a"]]'), None, "'a' is not a number"),
        (LAYERS + INLINE.replace("targets = [0, 1, 1, 0]\n", ""), None, "[data] needs targets"),
        (LAYERS, None, "no [data] table"),
        (LAYERS + '[data]\ncsv = "gone.csv"\ninputs = ["a"]\ntargets = ["y"]', None, "cannot read"),
        (
            LAYERS + '[data]\ncsv = "data.csv"\ninputs = ["a", "c"]\ntargets = ["y"]',
            "a,b,y\n1,2,3\n",
            "names column(s) 'c', which data.csv does not have; its columns are: a, b, y",
        ),
        (
            LAYERS + '[data]\ncsv = "data.csv"\ninputs = ["a", "b"]\ntargets = ["y"]',
            "a,b,y\n1,2,3\n4,x,6\n",
            "line 3: 'x' is not a number",
        ),
        (
            LAYERS + '[data]\ncsv = "data.csv"\ninputs = ["a", "b"]\ntargets = ["y"]',
            "a,b,y\n1,2\n",
            "line 2 has 2 field(s), the header has 3",
        ),
        (
            LAYERS + '[data]\ncsv = "data.csv"\ninputs = ["a", "b"]\ntargets = ["y"]',
            "a,b,y\n",
            "needs a header row and at least one row of data",
        ),
    ],
)
def test_every_problem_is_one_clear_config_error(
    tmp_path: Path, text: str, csv: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_write(tmp_path, text, csv))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)  # one line, for the command line


def test_a_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read .*nope.toml: No such file"):
        load(tmp_path / "nope.toml")
    binary = tmp_path / "net.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(binary)


# --------------------------------------------------------------------- classifiers

MLP = """
[[layers]]
type = "Linear"
in_features = 64
out_features = 10
[training]
loss = "cross_entropy"
"""

CNN = """
[[layers]]
type = "conv2d"
in_channels = 1
out_channels = 4
kernel_size = 3
padding = 1
[[layers]]
type = "ReLU"
[[layers]]
type = "MaxPool2d"
kernel_size = 2
[[layers]]
type = "Flatten"
[[layers]]
type = "Linear"
in_features = 64
out_features = 10
[training]
loss = "cross_entropy"
batch_size = 32
[data]
dataset = "digits"
shape = [1, 8, 8]
"""

# Three classes by name, two features: a, b; the label column is "kind".
LABELLED_CSV = "a,kind,b\n" + "".join(
    f"{i % 5},{('cat', 'dog', 'eel')[i % 3]},{i % 7}\n" for i in range(30)
)
CLASSES_OF_3 = """
[[layers]]
type = "Linear"
in_features = 2
out_features = 3
[training]
loss = "cross_entropy"
"""


def test_the_shipped_digits_with_their_fixed_split_and_an_image_shape(tmp_path: Path) -> None:
    config = load(_write(tmp_path, CNN))
    data = config.data
    assert data.inputs.shape == (1438, 1, 8, 8) and data.targets.shape == (1438,)
    assert data.test_inputs is not None and data.test_inputs.shape == (359, 1, 8, 8)
    assert data.targets.dtype == np.int64 and data.class_names == tuple("0123456789")
    assert [layer.kind for layer in config.layers] == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
    ]
    assert config.layers[0].arguments == {
        "in_channels": 1,
        "out_channels": 4,
        "kernel_size": (3, 3),
        "stride": (1, 1),
        "padding": (1, 1),
        "bias": True,
    }
    assert config.layers[2].arguments == {"kernel_size": (2, 2), "stride": (2, 2)}
    assert config.batch_size == 32 and config.loss == "cross_entropy"


def test_the_example_declares_digits_mlp() -> None:
    config = load(ROOT / "examples" / "digits.toml")
    assert (config.optimizer, config.lr, config.momentum, config.batch_size, config.epochs) == (
        "sgd",
        0.1,
        0.9,
        32,
        20,
    )
    assert config.data.shipped == "digits" and config.data.sample_shape == (64,)


def test_a_label_column_of_names_from_csv_with_a_stratified_test_split(tmp_path: Path) -> None:
    text = CLASSES_OF_3 + '[data]\ncsv = "data.csv"\nlabels = "kind"\ntest_fraction = 0.2\n'
    config = load(_write(tmp_path, text, csv=LABELLED_CSV))
    data = config.data
    assert data.class_names == ("cat", "dog", "eel")  # numbered in sorted order
    assert data.input_names == ("a", "b")  # every column that is not the label, in order
    assert data.targets.shape == (24,) and data.test_targets is not None
    assert sorted(np.bincount(data.test_targets).tolist()) == [2, 2, 2]  # 20% of each class
    rows = {(a, b): kind for a, b, kind in _csv_rows(LABELLED_CSV)}
    for (a, b), label in zip(data.inputs.tolist(), data.targets.tolist()):
        assert rows[(a, b)] == data.class_names[label]


def _csv_rows(text: str) -> list[tuple[float, float, str]]:
    rows = [line.split(",") for line in text.splitlines()[1:]]
    return [(float(a), float(b), kind) for a, kind, b in rows]


def test_numbered_labels_inline_and_from_csv(tmp_path: Path) -> None:
    inline = CLASSES_OF_3 + "[data]\ninputs = [[0, 0], [1, 1], [2, 2]]\nlabels = [2, 0, 1]\n"
    config = load(_write(tmp_path, inline))
    assert config.targets.tolist() == [2, 0, 1] and config.data.class_names == ("0", "1", "2")
    csv = "x,y,label\n0,0,1\n1,1,0.0\n"  # whole numbers, written either way
    config = load(
        _write(tmp_path, CLASSES_OF_3 + '[data]\ncsv = "data.csv"\nlabels = "label"\n', csv)
    )
    assert config.targets.tolist() == [1, 0] and config.data.class_names == ("0", "1")


def test_optimizers_schedules_and_their_defaults(tmp_path: Path) -> None:
    base = LAYERS + INLINE
    config = load(_write(tmp_path, base + "[training]\noptimizer = 'adamw'\n"))
    assert config.lr == 1e-3 and config.weight_decay is None  # AdamW's own: 0.01
    config = load(_write(tmp_path, base + "[training]\noptimizer = 'rmsprop'\nmomentum = 0.5\n"))
    assert (config.lr, config.momentum) == (1e-2, 0.5)
    text = "[training]\nmomentum = 0.9\nnesterov = true\nweight_decay = 1e-4\nschedule = 'step'\n"
    config = load(_write(tmp_path, base + text + "step_size = 5\ngamma = 0.5\n"))
    assert (config.nesterov, config.weight_decay, config.schedule) == (True, 1e-4, "step")
    assert (config.step_size, config.gamma) == (5, 0.5)
    config = load(_write(tmp_path, base + "[training]\nschedule = 'cosine'\neta_min = 0.01\n"))
    assert (config.schedule, config.eta_min, config.lr) == ("cosine", 0.01, 1.0)


@pytest.mark.parametrize(
    ("text", "csv", "message"),
    [
        # shapes that do not chain
        (
            CNN.replace("shape = [1, 8, 8]\n", ""),
            None,
            "layer 1 (Conv2d) takes images of shape (channels, height, width), but the data has "
            "64 input column(s); give the data its image shape with [data] shape",
        ),
        (
            CNN.replace('type = "Flatten"\n[[layers]]\n', ""),
            None,
            "layer 4 (Linear) has in_features 64, but layer 3 (MaxPool2d) gives shape (4, 4, 4) "
            "(a Flatten before it gives 64)",
        ),
        (
            CNN.replace("in_features = 64", "in_features = 100"),
            None,
            "layer 5 (Linear) has in_features 100, but layer 4 (Flatten) gives 64 features",
        ),
        (
            CNN.replace("in_channels = 1", "in_channels = 3"),
            None,
            "layer 1 (Conv2d) has in_channels 3, but the data gives 1 channel(s)",
        ),
        (
            CNN.replace("kernel_size = 3\npadding = 1", "kernel_size = 9"),
            None,
            "layer 1 (Conv2d) has a kernel of 9x9, larger than the 8x8 image that the data gives",
        ),
        (CNN.replace('"Flatten"', '"Flatten"\nstart_dim = 0'), None, "start_dim 0 would flatten"),
        (CNN.replace('"Flatten"', '"Flatten"\nend_dim = 7'), None, "end_dim 7 is not an axis"),
        (CNN.replace("kernel_size = 2", "kernel_size = [2, 2, 2]"), None, "a list of two"),
        (CNN.replace("padding = 1", "padding = -1"), None, "padding must be an integer >= 0"),
        (CNN.replace("padding = 1", "dilation = 2"), None, "unknown key(s) 'dilation'"),
        (CNN.replace("in_channels = 1\n", ""), None, "layer 1 (Conv2d) needs in_channels"),
        (CNN.replace("shape = [1, 8, 8]", "shape = [1, 8, 9]"), None, "holds 72 values, but"),
        (CNN.replace('"digits"', '"mnist"'), None, "dataset = 'mnist'; accepted: digits"),
        (CNN.replace("[data]", "[data]\ntest_fraction = 0.5"), None, "unknown key(s) 'test_f"),
        (
            CNN.replace('"MaxPool2d"', '"Dropout"\np = 1.0\n[[layers]]\ntype = "MaxPool2d"'),
            None,
            "p must be in [0, 1), got 1.0",
        ),
        # the labels and the output
        (
            CLASSES_OF_3
            + "[data]\ninputs = [[0, 0], [1, 1], [2, 2], [3, 3]]\nlabels = [0, 1, 2, 3]\n",
            None,
            "the labels 'label' hold 4 classes (0 to 3), but the last layer (Linear) gives 3 "
            "output(s), one per class",
        ),
        (
            MLP + '[data]\ncsv = "data.csv"\nlabels = "digit"\n',
            "".join(f"{i % 10}," * 64 + f"{i % 11}\n" for i in range(22)).join(
                [",".join(f"p{k}" for k in range(64)) + ",digit\n", ""]
            ),
            "the labels 'digit' hold 11 classes (0 to 10), but the last layer (Linear) gives 10 "
            "output(s), one per class",
        ),
        (
            CLASSES_OF_3 + '[data]\ncsv = "data.csv"\nlabels = "kind"\n',
            LABELLED_CSV.replace("eel", "fox", 1).replace("eel", "gnu", 1),
            "the labels 'kind' hold 5 classes (cat, dog, eel, fox, gnu), but the last layer",
        ),
        (
            CLASSES_OF_3 + "[data]\ninputs = [[0, 0], [1, 1]]\nlabels = [0, -1]\n",
            None,
            "labels holds -1; class numbers start at 0",
        ),
        (
            CLASSES_OF_3 + "[data]\ninputs = [[0, 0], [1, 1]]\nlabels = [0, 0.5]\n",
            None,
            "labels holds 0.5; a class label is a whole number 0, 1, 2, ... or a name",
        ),
        (
            CLASSES_OF_3 + "[data]\ninputs = [[0, 0], [1, 1]]\nlabels = [0, 1, 2]\n",
            None,
            "[data] has 2 input row(s) but 3 label(s)",
        ),
        (
            LAYERS + INLINE.replace("targets", "labels"),
            None,
            "[data] gives class labels, which loss sse cannot learn; use loss = 'cross_entropy'",
        ),
        (
            CLASSES_OF_3 + "[data]\ninputs = [[0, 0], [1, 1]]\ntargets = [[0, 1, 0], [1, 0, 0]]\n",
            None,
            "loss cross_entropy learns classes: give [data] labels",
        ),
        (
            CLASSES_OF_3
            + "[[layers]]\ntype = 'Softmax'\n"
            + "[data]\ninputs = [[0, 0]]\nlabels = [1]\n",
            None,
            "loss cross_entropy takes the raw outputs (logits) and applies log_softmax itself; "
            "remove the final Softmax",
        ),
        (
            CLASSES_OF_3.replace("cross_entropy", "nll")
            + "[data]\ninputs = [[0, 0]]\nlabels = [1]\n",
            None,
            "loss nll takes log-probabilities; end the layers with a LogSoftmax",
        ),
        (
            CLASSES_OF_3 + "[data]\ninputs = [[0, 0]]\nlabels = [1]\ntargets = [[1]]\n",
            None,
            "[data] has both targets and labels",
        ),
        (
            CLASSES_OF_3 + '[data]\ncsv = "data.csv"\nlabels = ["kind"]\n',
            LABELLED_CSV,
            "[data] labels must name one column of data.csv; its columns are: a, kind, b",
        ),
        # splits
        (
            CLASSES_OF_3
            + "[data]\ninputs = [[0, 0], [1, 1]]\nlabels = [0, 1]\ntest_fraction = 0.2\n",
            None,
            "test_fraction 0.2 of 2 row(s) leaves 2 to train on and 0 to test on",
        ),
        (LAYERS + INLINE + "test_fraction = 1.5\n", None, "test_fraction must be in [0, 1)"),
        (LAYERS + INLINE + "split_seed = 3\n", None, "split_seed needs a test_fraction"),
        # training settings
        (
            LAYERS + INLINE + "[training]\noptimizer = 'adam'\nmomentum = 0.9\n",
            None,
            "momentum is a",
        ),
        (LAYERS + INLINE + "[training]\nnesterov = true\n", None, "nesterov = true needs"),
        (LAYERS + INLINE + "[training]\nstep_size = 3\n", None, "step_size is a setting of sch"),
        (LAYERS + INLINE + "[training]\nschedule = 'step'\n", None, "'step' needs step_size"),
        (LAYERS + INLINE + "[training]\nschedule = 'cyclic'\n", None, "accepted: none, step, co"),
        (LAYERS + INLINE + "[training]\nbatch_size = 0\n", None, "batch_size must be an integer"),
        (LAYERS + INLINE + "[training]\nweight_decay = -1\n", None, "weight_decay must be 0 or"),
        (LAYERS + INLINE + "[training]\nmomentum = 1\n", None, "momentum must be in [0, 1)"),
    ],
)
def test_every_classifier_problem_is_one_clear_config_error(
    tmp_path: Path, text: str, csv: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_write(tmp_path, text, csv))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)  # one line, for the command line
