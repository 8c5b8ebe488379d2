"""J: the Jacobian of f: R^n -> R^m by forward mode (``tl.jacfwd``) and by reverse mode
(``tl.jacrev``), for shapes from tall (few inputs, many outputs) to wide (many inputs, few
outputs), n * m fixed.

    f(x) = sigmoid(tanh(x @ W1) @ W2)      x of n elements, 32 hidden units, m outputs

``jacfwd`` makes n forward passes with dual tensors, each giving a column of the Jacobian;
``jacrev`` makes one forward pass, recorded, then m backward passes, each giving a row. So
forward mode is cheaper for tall Jacobians (n < m), reverse mode for wide ones, and the
ratio of the two times crosses 1 on the way. The two take turns, block by block, as the
training workloads do, and the Jacobians they give are compared (to rounding: the two sums
run in other orders).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor

HIDDEN = 32
SIZE = 1024  # n * m of every shape
SHAPES = [(2, 512), (8, 128), (16, 64), (32, 32), (64, 16), (128, 8), (512, 2)]
SMOKE_SHAPES = [(2, 8), (8, 2)]


class Jacobian:
    """f: R^n -> R^m and a point x, with W1 and W2 drawn from a seeded generator."""

    def __init__(self, n: int, m: int) -> None:
        rng = np.random.default_rng(n * 7919 + m)
        self.n, self.m = n, m
        self.w1 = Tensor(rng.standard_normal((n, HIDDEN)) / np.sqrt(n))
        self.w2 = Tensor(rng.standard_normal((HIDDEN, m)) / np.sqrt(HIDDEN))
        self.x = Tensor(rng.standard_normal(n))

    def f(self, x: Tensor) -> Tensor:
        return ((x @ self.w1).tanh() @ self.w2).sigmoid()

    def forward(self) -> Tensor:
        return tl.jacfwd(self.f)(self.x)

    def reverse(self) -> Tensor:
        return tl.jacrev(self.f)(self.x)


def time_both(
    jacobian: Jacobian, rounds: int, clock: Callable[[], float] = time.process_time
) -> dict[str, float]:
    """jacfwd and jacrev taking turns: the median seconds per Jacobian of each, and the
    median over the rounds of their ratio (jacfwd / jacrev)."""
    calls = max(1, int(2e4 / (jacobian.n + jacobian.m)))  # blocks of similar length
    forward_times, reverse_times = [], []
    for _ in range(rounds):
        for compute, times in (
            (jacobian.forward, forward_times),
            (jacobian.reverse, reverse_times),
        ):
            start = clock()
            for _ in range(calls):
                compute()
            times.append((clock() - start) / calls)
    return {
        "jacfwd": statistics.median(forward_times),
        "jacrev": statistics.median(reverse_times),
        "ratio": statistics.median(f / r for f, r in zip(forward_times, reverse_times)),
    }


def check(jacobian: Jacobian) -> None:
    """The two modes give one Jacobian, of shape (m, n), to rounding."""
    forward, reverse = jacobian.forward().numpy(), jacobian.reverse().numpy()
    assert forward.shape == reverse.shape == (jacobian.m, jacobian.n), forward.shape
    if not np.allclose(forward, reverse, rtol=1e-10, atol=1e-13):
        raise AssertionError(
            f"J ({jacobian.n} -> {jacobian.m}): jacfwd and jacrev differ by "
            f"{np.max(np.abs(forward - reverse)):.3g}"
        )


def run(rounds: int, smoke: bool, clock: Callable[[], float]) -> list[dict[str, Any]]:
    """Every shape, checked and timed (a single short round in smoke mode)."""
    results = []
    for n, m in SMOKE_SHAPES if smoke else SHAPES:
        jacobian = Jacobian(n, m)
        check(jacobian)
        timing = time_both(jacobian, 1 if smoke else rounds, clock)
        results.append({"n": n, "m": m, **timing})
    return results


def table(results: list[dict[str, Any]], clock: str) -> str:
    """The results as the table docs/forward-mode.md and docs/performance.md show."""
    lines = [
        f"Jacobian of f: R^n -> R^m, f(x) = sigmoid(tanh(x @ W1) @ W2), {HIDDEN} hidden "
        f"units, median of interleaved blocks ({clock})",
        f"{'n':>5} {'m':>5} {'jacfwd':>10} {'jacrev':>10} {'jacfwd/jacrev':>14}  faster",
    ]
    for r in results:
        faster = "jacfwd" if r["ratio"] < 1 else "jacrev"
        lines.append(
            f"{r['n']:>5} {r['m']:>5} {_duration(r['jacfwd']):>10} {_duration(r['jacrev']):>10} "
            f"{r['ratio']:>13.2f}x  {faster}"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} us"
