"""Where the time of a step goes: ``python -m benchmarks.breakdown [--smoke] [W4|W5|W6]``.

Without a workload, one W2 step (below); with W4, W5 or W6, a profile of that workload's
step (``profile``).

The XOR net's training step is split into its calls (model, loss, backward, optimizer), and
each call into the numpy work it does and the rest. The numpy work of the forward is the
same numpy calls the ops make, written out; that of the backward is the recorded backward
rules of one step, called again on the same arrays. numpy's error state is set once per
outer call (``fp_quiet``), four times a step. Each call is timed on its own
(``perf_counter``) and the figure is the median of many.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import process
from benchmarks.real import REAL_WORKLOADS
from benchmarks.workloads import X2, FrameworkXor, HandXor, Y, seed_weights
from tinygrad_lite import nn
from tinygrad_lite.grad_mode import fp_quiet
from tinygrad_lite.hooks import Observer

CALLS = 930  # timed calls of each kind; --smoke: a few, to check that it runs


def per_call(function: Callable[[], Any], calls: int) -> float:
    """Median time of one call, in microseconds: each call timed on its own, so that a
    call interrupted by other work on the machine is an outlier, not part of the figure."""
    times = []
    clock = time.perf_counter
    for _ in range(calls):
        start = clock()
        function()
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def phases(impl: FrameworkXor, calls: int) -> dict[str, float]:
    """Median time of each call of a training step, timed one call at a time."""
    names = ["zero_grad", "model", "loss", "backward", "step"]
    times: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for _ in range(calls):
        t0 = clock()
        impl.optimizer.zero_grad()
        t1 = clock()
        out = impl.model(impl.inputs)
        t2 = clock()
        loss = nn.sse_loss(out, impl.targets)
        t3 = clock()
        loss.backward()
        t4 = clock()
        impl.optimizer.step()
        t5 = clock()
        for name, a, b in zip(names, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
            times[name].append(b - a)
    return {name: statistics.median(t) * 1e6 for name, t in times.items()}


def forward_numpy(w0: np.ndarray, w1: np.ndarray) -> Callable[[], Any]:
    """The numpy calls the forward ops and the loss make, written out."""
    x, y = X2.copy(), Y.copy()

    def run() -> None:
        h = 1 / (1 + np.exp(-x.dot(w0)))  # Matmul, Sigmoid
        out = 1 / (1 + np.exp(-h.dot(w1)))
        error = y - out  # SSELoss
        np.asanyarray(0.5 * np.vdot(error, error))

    return np.errstate(all="ignore")(run)


class _Recorder(Observer):
    """Keeps each op's arrays from the forward and its gradient from the backward."""

    def __init__(self) -> None:
        self.forward_values: dict[Any, tuple[list[Any], Any]] = {}
        self.calls: list[tuple[Any, Any, list[Any], Any]] = []

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        self.forward_values[fn] = ([x.data for x in inputs], out.data)

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        arrays, out = self.forward_values[fn]
        self.calls.append((fn, grad, arrays, out))


def recorded_rules(impl: FrameworkXor) -> Callable[[], None]:
    """The backward rules of one step, to call again on the same arrays."""
    recorder = _Recorder()
    with recorder:  # the graph is kept: matmul's rule asks its inputs about grads
        nn.sse_loss(impl.model(impl.inputs), impl.targets).backward(retain_graph=True)

    def run() -> None:
        for fn, grad, arrays, out in recorder.calls:
            fn.backward(grad, *arrays, out)

    return np.errstate(all="ignore")(run)


def profile(name: str, smoke: bool) -> None:
    """W4, W5 or W6 under cProfile: the step's time by where it is spent (numpy's C calls,
    each part of tinygrad_lite, the rest), and the functions that spend the most.

    cProfile adds a little to every Python call, so the Python parts weigh somewhat more
    here than they do unprofiled; the first lines give the unprofiled times.
    """
    workload = next(w for w in REAL_WORKLOADS if w.name == name)
    ours, hand = workload.builders["tinygrad_lite"](), workload.builders["hand"]()
    steps = 1 if smoke else max(10, 400 // workload.steps_per_block)
    for _ in range(2):  # past the start: momentum and Adagrad's buffers made, caches warm
        ours.step()
        hand.step()
    step = per_call(ours.step, steps)
    hand_step = per_call(hand.step, steps)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        ours.step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts: dict[str, float] = {}
    rows = []
    for (filename, line, function), (_, calls, own, _, _) in stats.items():
        part = _part(filename, function)
        parts[part] = parts.get(part, 0.0) + own
        rows.append((own, calls, f"{_short(filename)}:{line}({function})"))
    total = sum(parts.values())
    print(
        f"one {name} step ({workload.description.split(':')[0]}): {_ms(step)}; "
        f"hand-written numpy {_ms(hand_step)} ({step / hand_step:.2f}x)"
    )
    print(f"\nprofiled, {steps} steps: own time by part")
    for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"{part:42} {seconds / steps * 1e3:8.2f} ms {seconds / total:6.0%}")
    print(f"\n{'function':60} {'calls/step':>10} {'ms/step':>8}")
    for own, calls, where in sorted(rows, reverse=True)[:15]:
        print(f"{where[-60:]:60} {calls / steps:10.0f} {own / steps * 1e3:8.2f}")


def _part(filename: str, function: str) -> str:
    """The part of the program a function belongs to."""
    if filename == "~":  # a built-in: numpy's C functions and methods, or Python's own
        numpy_call = "numpy" in function or "ufunc" in function or "ndarray" in function
        return "numpy (C)" if numpy_call else "Python built-ins"
    path = filename.replace("\\", "/")
    if "/tinygrad_lite/" in path:
        inside = path.split("/tinygrad_lite/")[-1]
        return "tinygrad_lite/" + (inside if "/" not in inside else inside.split("/")[0] + "/")
    if "/numpy/" in path:
        return "numpy (Python)"
    return "the workload (models/, benchmarks/)"


def _short(filename: str) -> str:
    return filename.replace("\\", "/").split("/tinygrad_lite/")[-1].split("/site-packages/")[-1]


def _ms(seconds_us: float) -> str:
    return f"{seconds_us / 1e3:.2f} ms" if seconds_us >= 1e3 else f"{seconds_us:.1f} us"


def main(argv: list[str] | None = None) -> None:
    process.keep_freed_memory()  # as python -m benchmarks does (see process.py)
    args = sys.argv[1:] if argv is None else argv
    smoke = "--smoke" in args
    named = [a for a in args if a != "--smoke"]
    if named:
        if named[0] not in ("W4", "W5", "W6"):
            print(
                f"breakdown: unknown workload {named[0]!r}; accepted: W4, W5, W6", file=sys.stderr
            )
            raise SystemExit(2)
        profile(named[0], smoke)
        return
    calls = 3 if smoke else CALLS
    impl = FrameworkXor()
    hand = HandXor(seed_weights((3, 4), (4, 1)))
    for _ in range(1000):  # past the start, where the seed's run spends nearly all its time
        impl.step()
        hand.step()
    step = per_call(impl.step, calls)
    hand_step = per_call(hand.step, calls)
    parts = phases(impl, calls)
    w0, w1 = (p.data for p in impl.model.parameters())
    forward_np = per_call(forward_numpy(w0, w1), calls)
    rules = per_call(recorded_rules(impl), calls)
    errstate = per_call(fp_quiet()(lambda: None), calls)
    update_np = per_call(lambda: [w - 1.0 * w for w in (w0.copy(), w1.copy())], calls) / 2

    rows = [
        ("numpy: forward ops and loss", forward_np),
        ("ops, Tensor methods, modules (forward)", parts["model"] + parts["loss"] - forward_np),
        ("numpy: backward rules", rules),
        ("engine: the walk, checks, sums, .grad", parts["backward"] - rules),
        ("optimizer: zero_grad and SGD step", parts["zero_grad"] + parts["step"]),
    ]
    print(f"one W2 step (XOR 3-4-1): {step:.1f} us; hand-written numpy {hand_step:.1f} us")
    print(f"{'part':42} {'us':>7} {'share':>6}")
    for name, us in rows:
        print(f"{name:42} {us:7.1f} {us / sum(u for _, u in rows):6.0%}")
    print(
        f"\nof which fp_quiet, entered once per outer call (model, loss, backward, step): "
        f"4 x {errstate:.2f} us\nnumpy in the SGD update: {update_np:.2f} us; "
        f"calls timed one by one: model {parts['model']:.1f}, loss {parts['loss']:.1f}, "
        f"backward {parts['backward']:.1f}, step {parts['step']:.1f} us"
    )


if __name__ == "__main__":
    main()
