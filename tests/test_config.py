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
        (LAYERS.replace("in_features = 3\n", "") + INLINE, None, "layer 3 (Linear) needs in_features"),
        (LAYERS.replace("in_features = 3", "in_features = 5") + INLINE, None, "gives 3"),
        (LAYERS.replace("in_features = 2", "in_features = 3") + INLINE, None, "data has 2 input column(s)"),
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
