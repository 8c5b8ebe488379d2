"""Time each workload side by side: hand-written numpy, tinygrad_lite, tinygrad_lite's step
compiled (``tl.compile``), and PyTorch if present.

The hand-written step and tinygrad_lite's take turns in one process (A B A B ...): each
turn is one block of training steps. A block is timed in CPU time of the process
(``time.process_time``): on a machine shared with other work, the time spent waiting for a
core is noise, not cost, and with one BLAS thread (``process.py`` sets it) CPU time is the
time the step computes; ``--clock wall`` times with ``time.perf_counter`` instead. The table
shows the median time per step of each, and the ratio is the median over the rounds of
(tinygrad_lite's block / the hand-written block of the same round): a change in the
machine's load during the run then reaches both sides of a ratio alike. Freed memory
stays in the process (``process.py``), so that no side's time depends on page faults.

PyTorch, when installed, is timed the same way against the same hand-written step, in a
process of its own: importing it would add its objects to every garbage collection of
tinygrad_lite's run, and its step would leave the caches cold for the next hand-written one.

``--smoke`` runs everything for a few steps, checks that tinygrad_lite and the
hand-written code still agree (bit for bit on the seed's networks), prints the table and
asserts nothing about time: CI runs it so that the benchmark cannot rot.

After the training workloads, J compares the two modes of differentiation: the Jacobian of
f: R^n -> R^m by ``tl.jacfwd`` and by ``tl.jacrev``, from tall to wide (see jacobians.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

from benchmarks import jacobians
from benchmarks.real import REAL_WORKLOADS
from benchmarks.workloads import WORKLOADS, Implementation, Workload

IMPORT_CHILD = (
    "import time, numpy; start = time.perf_counter(); import tinygrad_lite; "
    "print(time.perf_counter() - start)"
)
IMPORT_TARGET_MS = 50.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="tinygrad_lite against hand-written numpy (and PyTorch if installed), "
        "per training step, taking turns in one process.",
    )
    parser.add_argument("--smoke", action="store_true", help="a few steps of each; no timing")
    parser.add_argument("--rounds", type=int, default=21, help="turns per implementation")
    parser.add_argument(
        "--only", nargs="+", metavar="W", help="workloads to run (W1 to W6, J for the Jacobians)"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--clock", choices=["cpu", "wall"], default="cpu", help="CPU time (default) or wall time"
    )
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rounds = 2 if args.smoke else args.rounds
    workloads = [w for w in WORKLOADS + REAL_WORKLOADS if not args.only or w.name in args.only]

    if args.torch_only:  # the child process of the PyTorch column: results as JSON
        import torch

        torch.set_num_threads(1)  # as numpy's BLAS (see process.py)
        results = {w.name: run_workload(w, "torch", rounds, clock, args.smoke) for w in workloads}
        print(json.dumps({"version": torch.__version__.split("+")[0], "results": results}))
        return 0

    clock_name = "CPU time" if args.clock == "cpu" else "wall time"
    if workloads:
        torch = None if args.no_torch else _torch_column(argv or sys.argv[1:])
        print(_header(torch, clock_name))
    for workload in workloads:
        ours = run_workload(workload, "tinygrad_lite", rounds, clock, args.smoke)
        compiled = run_workload(workload, "compiled", rounds, clock, args.smoke)
        theirs = torch["results"][workload.name] if torch else None
        print(_row(workload, ours, compiled, theirs), flush=True)
    if not args.only or "J" in args.only:
        results = jacobians.run(max(3, rounds // 2), args.smoke, clock)
        print(("\n" if workloads else "") + jacobians.table(results, clock_name), flush=True)
    import_ms = import_overhead_ms(1 if args.smoke else 7)
    verdict = "ok" if import_ms < IMPORT_TARGET_MS else "over"
    print(f"\nimport tinygrad_lite after numpy: {import_ms:.1f} ms (target < 50 ms: {verdict})")
    return 0


def run_workload(
    workload: Workload,
    name: str,
    rounds: int,
    clock: Callable[[], float] = time.process_time,
    smoke: bool = False,
) -> dict[str, float]:
    """The hand-written step and ``name``'s, taking turns: median seconds per step of
    each, and the median over the rounds of their ratio."""
    hand, other = workload.builders["hand"](), workload.builders[name]()
    steps = 2 if smoke and not workload.reset_each_block else workload.steps_per_block
    if name == "compiled":  # its first two calls record the step (then replays it): untimed
        for _ in range(2):
            other.step()
            hand.step()
    hand_times, other_times = [], []
    for _ in range(rounds):
        hand_times.append(_time_block(hand, steps, workload.reset_each_block, clock))
        other_times.append(_time_block(other, steps, workload.reset_each_block, clock))
    if name == "torch" and workload.torch_check_steps:
        # Trained on for long, PyTorch's other rounding grows (see Workload): compare two
        # fresh runs after a few steps instead.
        hand, other = workload.builders["hand"](), workload.builders[name]()
        for _ in range(workload.torch_check_steps):
            hand.step()
            other.step()
    _check_agreement(workload, name, hand, other)
    return {
        "hand": statistics.median(hand_times),
        "step": statistics.median(other_times),
        "ratio": statistics.median(b / a for a, b in zip(hand_times, other_times)),
    }


def _time_block(impl: Implementation, steps: int, reset: bool, clock: Callable[[], float]) -> float:
    if reset:
        impl.reset()
    start = clock()
    for _ in range(steps):
        impl.step()
    return (clock() - start) / steps


def _check_agreement(
    workload: Workload, name: str, hand: Implementation, other: Implementation
) -> None:
    """Both ran the same steps from the same weights: their weights must agree."""
    for i, (a, b) in enumerate(zip(hand.weights(), other.weights())):
        if workload.bit_for_bit and name in ("tinygrad_lite", "compiled"):
            same = np.array_equal(a, b)
        else:  # PyTorch, and W3, sum in other orders: equal to rounding
            same = np.allclose(a, b, rtol=workload.tolerance, atol=workload.tolerance * 1e-3)
        if not same:
            raise AssertionError(
                f"{workload.name}: weight {i} differs between hand-written numpy and {name} "
                f"(largest difference {np.max(np.abs(a - b)):.3g})"
            )


def _torch_column(argv: list[str]) -> dict | None:
    """PyTorch's results from a process of its own, or None where it is not installed."""
    if importlib.util.find_spec("torch") is None:
        return None
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks", *argv, "--torch-only"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout.splitlines()[-1])


def import_overhead_ms(runs: int) -> float:
    """Median time ``import tinygrad_lite`` adds after ``import numpy``, in fresh processes.

    As a user's imports are after the first: from bytecode caches, which the first run
    writes (and which PYTHONDONTWRITEBYTECODE, if set here, would forbid), not counted.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    results = []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_CHILD],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        results.append(float(out.stdout) * 1e3)
    return statistics.median(results[1:])


def _header(torch: dict | None, clock: str) -> str:
    columns = f"{'':4} {'hand-written':>13} {'tinygrad_lite':>13} {'ratio':>7} {'target':>12}"
    columns += f" {'compiled':>10} {'ratio':>7} {'target':>12}"
    if torch is not None:
        columns += f" {'PyTorch ' + torch['version']:>16} {'ratio':>7}"
    return f"per training step, median of interleaved blocks ({clock})\n" + columns


def _row(
    workload: Workload,
    ours: dict[str, float],
    compiled: dict[str, float],
    theirs: dict[str, float] | None,
) -> str:
    row = (
        f"{workload.name:4} {_duration(ours['hand']):>13} {_duration(ours['step']):>13} "
        f"{ours['ratio']:>6.2f}x {_target(ours['ratio'], workload.target):>12} "
        f"{_duration(compiled['step']):>10} {compiled['ratio']:>6.2f}x "
        f"{_target(compiled['ratio'], workload.compiled_target):>12}"
    )
    if theirs is not None:
        row += f" {_duration(theirs['step']):>16} {theirs['ratio']:>6.2f}x"
    return row


def _target(ratio: float, target: float) -> str:
    return f"<= {target:.2f} {'ok' if ratio <= target else 'over'}"


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"
