"""``tinygrad-lite explain``: the page of one training step, and its bad input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_cli import EXAMPLE, error_line, run

from models.cli import jobs


def _data(path: Path) -> dict[str, Any]:
    html = path.read_text()
    found = re.search(r'<script type="application/json" id="explain-data">(.*?)</script>', html)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_explain_xor_writes_a_page_with_the_seeds_deltas(tmp_path: Path) -> None:
    result = run("explain", "xor", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert re.fullmatch(
        r"wrote explain\.html: 14 steps of one training step of xor \(\d+ KiB\); open it in a "
        r"browser\n",
        result.stderr,
    )
    data = _data(tmp_path / "explain.html")
    assert data["title"] == "xor: the first training step (sse loss, SGD(lr=1), seed 1)"
    lines = {h["line"]: h["equal"] for s in data["steps"] for h in s.get("hand_written", [])}
    assert lines["l1_delta = l2_error * l2_slope * lr"] is True
    assert lines["l0_delta = l1_error * l1_slope * lr"] is True
    assert all(lines.values()) and len(lines) == 7


def test_after_k_explains_the_step_after_k_epochs(tmp_path: Path) -> None:
    result = run("explain", "single-neuron", "--after", "3", "-o", "p.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = _data(tmp_path / "p.html")
    assert "the training step after 3 epochs" in data["title"]
    job = jobs.make("single-neuron")
    for _ in range(3):
        job.step()
    weight = next(n for n in data["nodes"] if n["label"] == "0.weight")
    stored = data["arrays"][weight["value"]]["rows"]
    assert np.array_equal(np.array(stored), job.model[0].weight.data)


def test_a_toml_network_is_explained_too(tmp_path: Path) -> None:
    result = run("explain", EXAMPLE, "-o", str(tmp_path / "net.html"))
    assert result.returncode == 0, result.stderr
    data = _data(tmp_path / "net.html")
    assert {s["phase"] for s in data["steps"]} == {"forward", "backward", "update"}
    assert not any(s.get("hand_written") for s in data["steps"])


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nonsense"], "unknown model 'nonsense'; accepted: single-neuron, xor"),
        (["xor", "--after", "-1"], "argument --after: must be 0 or more, got -1"),
        (["xor", "-o", "missing/page.html"], "folder 'missing' does not exist"),
        (["xor", "-o", "page.txt"], "unknown file type '.txt'; accepted: .html, .htm"),
        (["xor", "-o", "a-folder.html"], "is a folder; give a file name"),
        (["xor", "-o", "/proc/page.html"], "cannot write the page"),
    ],
)
def test_bad_input_is_one_line_and_status_2_and_leaves_no_file(
    args: list[str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "a-folder.html").mkdir()
    before = _listing(tmp_path)
    result = run("explain", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in error_line(result)
    assert _listing(tmp_path) == before


def test_a_network_with_nothing_to_train_is_refused(tmp_path: Path) -> None:
    network = tmp_path / "still.toml"
    network.write_text(
        '[[layers]]\ntype = "Sigmoid"\n[data]\ninputs = [[0.0], [1.0]]\ntargets = [[0.0], [1.0]]\n'
    )
    result = run("explain", str(network), cwd=tmp_path)
    assert result.returncode == 2
    assert "nothing to train" in error_line(result)
    assert _listing(tmp_path) == ["still.toml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run("explain", "xor", "-o", str(locked / "page.html"))
    finally:
        locked.chmod(0o700)
    assert result.returncode == 2
    assert "is not writable" in error_line(result)
    assert os.listdir(locked) == []
