"""The benchmark's breakdown of a step runs (the benchmark itself runs in .ci/run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_m(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` in the repository, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


def test_the_breakdown_of_a_w2_step_runs_and_names_every_part() -> None:
    result = python_m("benchmarks.breakdown", "--smoke", timeout=120)
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


def test_the_jacobian_workload_runs_and_compares_the_two_modes() -> None:
    result = python_m("benchmarks", "--smoke", "--no-torch", "--only", "J", timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Jacobian of f: R^n -> R^m")
    assert lines[1].split() == ["n", "m", "jacfwd", "jacrev", "jacfwd/jacrev", "faster"]
    rows = [line.split() for line in lines[2:4]]
    assert [(row[0], row[1]) for row in rows] == [("2", "8"), ("8", "2")]
    assert all(row[-1] in ("jacfwd", "jacrev") for row in rows)


def test_the_jacobian_check_catches_modes_that_disagree() -> None:
    from benchmarks import jacobians

    class Wrong(jacobians.Jacobian):
        def forward(self) -> Any:
            return super().forward() * 1.001

    jacobians.check(jacobians.Jacobian(3, 2))
    with pytest.raises(AssertionError, match="jacfwd and jacrev differ"):
        jacobians.check(Wrong(3, 2))


def test_the_profile_of_a_w6_step_runs_and_splits_its_time() -> None:
    result = python_m("benchmarks.breakdown", "--smoke", "W6", timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("one W6 step (char-rnn): ")
    assert lines[0].endswith("x)")
    parts = [line.rsplit(maxsplit=3)[0] for line in lines[3:] if line.endswith("%")]
    assert "numpy (C)" in parts and "tinygrad_lite/engine.py" in parts


def test_the_breakdown_refuses_an_unknown_workload() -> None:
    result = python_m("benchmarks.breakdown", "W9", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "breakdown: unknown workload 'W9'; accepted: W4, W5, W6"


def test_the_real_workloads_agree_with_their_twins() -> None:
    from benchmarks import real, run

    for workload in real.REAL_WORKLOADS:
        for name in ("tinygrad_lite", "compiled"):
            hand, other = workload.builders["hand"](), workload.builders[name]()
            for _ in range(3 if workload.name != "W5" else 2):
                hand.step()
                other.step()
            run._check_agreement(workload, name, hand, other)
