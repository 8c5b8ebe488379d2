"""docs/cli.md shows real output: every ``console`` block is run and must print what it shows.

In a block, a line ``$ tinygrad-lite ARGS`` is a command (run as ``python -m models ARGS``
in a copy of examples/), the lines after it its output (stdout, then stderr). In the
expected text, ``...`` inside a line matches any text, and a line that is only ``...``
matches any number of lines.

A block whose numbers are rounding noise (the digits of gradcheck's errors, which change
with the CPU) follows the marker ``<!-- its numbers are rounding noise -->``: its output is
compared with every number, and the width of every run of spaces, left out.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI_DOC = ROOT / "docs" / "cli.md"
NOISE = "<!-- its numbers are rounding noise -->"
NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def _examples() -> list[tuple[str, list[str], bool]]:
    """(command, expected lines, whether the block's numbers are noise) for each example."""
    examples = []
    blocks = re.findall(r"([^\n]*)\n```console\n(.*?)```", CLI_DOC.read_text(), re.DOTALL)
    for line_before, block in blocks:
        noise = line_before == NOISE
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, *expected = chunk.rstrip("\n").split("\n")
            examples.append((command, expected, noise))
    return examples


def _without_numbers(lines: list[str]) -> list[str]:
    return [" ".join(NUMBER.sub("#", line).split()) for line in lines]


def _matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "".join(
        "(?:.*\n)*?" if line == "..." else ".*".join(map(re.escape, line.split("..."))) + "\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def test_the_doc_has_examples_of_every_command() -> None:
    commands = {shlex.split(command)[1] for command, _, _ in _examples()}
    assert commands == {"train", "compare", "graph", "trace", "gradcheck", "compile", "explain"}


def test_only_the_gradcheck_table_is_compared_without_its_numbers() -> None:
    noisy = [command for command, _, noise in _examples() if noise]
    assert noisy == ["tinygrad-lite gradcheck xor"]


def test_the_matcher_is_strict_where_it_should_be() -> None:
    assert _matches(["a ... c", "...", "z"], ["a b c", "x", "y", "z"])
    assert _matches(["a", "...", "z"], ["a", "z"])
    assert not _matches(["a b c"], ["a b d"])
    assert not _matches(["a"], ["a", "extra line"])
    # Without its numbers, a table still has to have its words, columns and rows.
    shown = ["name  worst   value  result", "w     (2, 1)  0.25   ok"]
    assert _matches(
        _without_numbers(shown),
        _without_numbers(["name  worst  value  result", "w  (1, 0)  -3e-11  ok"]),
    )
    assert not _matches(_without_numbers(shown), _without_numbers(["w  (1, 0)  0.25  FAILED"]))


@pytest.mark.parametrize(("command", "expected", "noise"), _examples(), ids=lambda v: str(v)[:60])
def test_each_example_prints_what_the_doc_shows(
    command: str, expected: list[str], noise: bool, tmp_path: Path
) -> None:
    args = shlex.split(command)
    assert args[0] == "tinygrad-lite"
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "models", *args[1:]],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    actual = (result.stdout + result.stderr).rstrip("\n").split("\n")
    if noise:
        assert _matches(_without_numbers(expected), _without_numbers(actual)), "\n".join(actual)
    else:
        assert _matches(expected, actual), "\n".join(actual)
