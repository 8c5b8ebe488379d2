"""Time each workload side by side: hand-written numpy, tinygrad_lite, and PyTorch if present.

The implementations take turns in one process (A B A B ...): each turn is one block of
training steps. A block is timed in CPU time of the process (``time.process_time``): on a
machine shared with other work, the time spent waiting for a core is noise, not cost, and
with one BLAS thread (``__main__`` sets it) CPU time is the time the step computes;
``--clock wall`` times with ``time.perf_counter`` instead. The table shows the median time per step
of each, and each ratio is the median over the rounds of (its block / the hand-written
block of the same round): a change in the machine's load during the run then reaches both
sides of a ratio alike.

``--smoke`` runs everything for a few steps, checks that tinygrad_lite and the
hand-written code still agree (bit for bit on the seed's networks), prints the table and
asserts nothing about time: CI runs it so that the benchmark cannot rot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

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
        "per training step, interleaved in one process.",
    )
    parser.add_argument("--smoke", action="store_true", help="a few steps of each; no timing")
    parser.add_argument("--rounds", type=int, default=21, help="turns per implementation")
    parser.add_argument("--only", nargs="+", metavar="W", help="workloads to run (W1 W2 W3)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--clock", choices=["cpu", "wall"], default="cpu", help="CPU time (default) or wall time"
    )
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rounds = 2 if args.smoke else args.rounds
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    torch = None if args.no_torch else _import_torch()

    print(_header(torch, "CPU time" if args.clock == "cpu" else "wall time"))
    for workload in workloads:
        results = run_workload(workload, rounds, torch is not None, clock, smoke=args.smoke)
        print(_row(workload, results), flush=True)
    import_ms = import_overhead_ms(1 if args.smoke else 7)
    verdict = "ok" if import_ms < IMPORT_TARGET_MS else "over"
    print(f"\nimport tinygrad_lite after numpy: {import_ms:.1f} ms (target < 50 ms: {verdict})")
    return 0


def run_workload(
    workload: Workload,
    rounds: int,
    with_torch: bool,
    clock: Callable[[], float] = time.process_time,
    smoke: bool = False,
) -> dict[str, tuple[float, float]]:
    """(median seconds per step, median ratio to hand-written) of each implementation."""
    names = ["hand", "tinygrad_lite"] + (["torch"] if with_torch else [])
    impls = {name: workload.builders[name]() for name in names}
    steps = 2 if smoke and not workload.reset_each_block else workload.steps_per_block
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, impl in impls.items():
            times[name].append(_time_block(impl, steps, workload.reset_each_block, clock))
    _check_agreement(workload, impls["hand"], impls["tinygrad_lite"])
    hand = times["hand"]
    return {
        name: (statistics.median(t), statistics.median(a / b for a, b in zip(t, hand)))
        for name, t in times.items()
    }


def _time_block(impl: Implementation, steps: int, reset: bool, clock: Callable[[], float]) -> float:
    if reset:
        impl.reset()
    start = clock()
    for _ in range(steps):
        impl.step()
    return (clock() - start) / steps


def _check_agreement(workload: Workload, hand: Implementation, framework: Implementation) -> None:
    """Both ran the same steps from the same weights: their weights must agree."""
    for i, (a, b) in enumerate(zip(hand.weights(), framework.weights())):
        if workload.bit_for_bit:
            same = np.array_equal(a, b)
        else:  # W3 sums in another order: equal to rounding
            same = np.allclose(a, b, rtol=1e-9, atol=1e-12)
        if not same:
            raise AssertionError(
                f"{workload.name}: weight {i} differs between hand-written numpy and "
                f"tinygrad_lite (largest difference {np.max(np.abs(a - b)):.3g})"
            )


def import_overhead_ms(runs: int) -> float:
    """Median time ``import tinygrad_lite`` adds after ``import numpy``, in fresh processes."""
    env = dict(os.environ)
    results = []
    for _ in range(runs + 1):  # the first run may write bytecode caches: not counted
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_CHILD],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        results.append(float(out.stdout) * 1e3)
    return statistics.median(results[1:])


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # as numpy's BLAS (see __main__)
    return torch


def _header(torch: Any, clock: str) -> str:
    columns = f"{'':4} {'hand-written':>13} {'tinygrad_lite':>13} {'ratio':>7} {'target':>12}"
    if torch is not None:
        columns += f" {'PyTorch ' + torch.__version__.split('+')[0]:>16} {'ratio':>7}"
    return f"per training step, median of interleaved blocks ({clock})\n" + columns


def _row(workload: Workload, results: dict[str, tuple[float, float]]) -> str:
    ours, ratio = results["tinygrad_lite"]
    mark = "ok" if ratio <= workload.target else "over"
    row = (
        f"{workload.name:4} {_duration(results['hand'][0]):>13} {_duration(ours):>13} "
        f"{ratio:>6.2f}x {'<= ' + format(workload.target, '.2f') + ' ' + mark:>12}"
    )
    if "torch" in results:
        row += f" {_duration(results['torch'][0]):>16} {results['torch'][1]:>6.2f}x"
    return row


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"
