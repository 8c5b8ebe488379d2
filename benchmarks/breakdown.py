"""Where the time of one W2 step goes: ``python -m benchmarks.breakdown [--smoke]``.

The XOR net's training step is split into its calls (model, loss, backward, optimizer), and
each call into the numpy work it does and the rest. The numpy work of the forward is the
same numpy calls the ops make, written out; that of the backward is the recorded backward
rules of one step, called again on the same arrays. numpy's error state is set once per
outer call (``fp_quiet``), four times a step. Each call is timed on its own
(``perf_counter``) and the figure is the median of many.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

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


def main(argv: list[str] | None = None) -> None:
    smoke = "--smoke" in (sys.argv[1:] if argv is None else argv)
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
