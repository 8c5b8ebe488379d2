"""The benchmark's breakdown of a step runs (the benchmark itself runs in .ci/run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_breakdown_of_a_w2_step_runs_and_names_every_part() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.breakdown", "--smoke"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("one W2 step (XOR 3-4-1): ")
    parts = [line.rsplit(maxsplit=2)[0] for line in lines[2:7]]
    assert parts == [
        "numpy: forward ops and loss",
        "ops, Tensor methods, modules (forward)",
        "numpy: backward rules",
        "engine: the walk, checks, sums, .grad",
        "optimizer: zero_grad and SGD step",
    ]
    assert all(line.rstrip().endswith("%") for line in lines[2:7])
