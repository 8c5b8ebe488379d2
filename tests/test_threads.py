"""Grad mode, observers and the floating-point quiet are per thread, as in PyTorch.

Each test makes two threads really overlap: one holds a mode open and waits on an Event
while the other checks that it does not see that mode. Every wait has a timeout, so that a
broken test fails instead of hanging.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import Tensor
from tinygrad_lite.grad_mode import Observer, fp_quiet

TIMEOUT = 10.0


def run_together(*targets: Callable[[], None]) -> None:
    """Run each target in its own thread; re-raise the first failure in this thread."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as error:  # handed to the main thread
                errors.append(error)

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread did not finish: an Event was never set"
    if errors:
        raise errors[0]


def wait(event: threading.Event) -> None:
    assert event.wait(TIMEOUT), "the other thread never got there"


def test_no_grad_in_one_thread_leaves_recording_on_in_another() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    inside, checked = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def quiet_thread() -> None:
        with tl.no_grad():
            inside.set()
            wait(checked)  # the other thread computes while this one is inside no_grad
            seen["quiet"] = (w * 2).requires_grad, tl.is_grad_enabled()
        seen["quiet after"] = tl.is_grad_enabled()

    def recording_thread() -> None:
        wait(inside)
        y = (w * 3).sum()
        seen["recording"] = y.requires_grad, tl.is_grad_enabled()
        checked.set()
        y.backward()

    run_together(quiet_thread, recording_thread)
    assert seen == {
        "quiet": (False, False),
        "quiet after": True,
        "recording": (True, True),
    }
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_enable_grad_in_one_thread_leaves_no_grad_on_in_another() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    inside, checked = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def enabling_thread() -> None:
        with tl.no_grad(), tl.enable_grad():
            inside.set()
            wait(checked)
            seen["enabled"] = (w * 2).requires_grad
        seen["enabling after"] = tl.is_grad_enabled()

    def no_grad_thread() -> None:
        with tl.no_grad():
            wait(inside)
            seen["no_grad"] = (w * 2).requires_grad
            checked.set()
        seen["no_grad after"] = tl.is_grad_enabled()

    run_together(enabling_thread, no_grad_thread)
    assert seen == {
        "enabled": True,
        "enabling after": True,
        "no_grad": False,
        "no_grad after": True,
    }


def test_the_no_grad_decorator_is_per_thread() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    inside, checked = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    @tl.no_grad()
    def evaluate(name: str, hold: bool) -> None:
        if hold:
            inside.set()
            wait(checked)
        seen[name] = (w * 2).requires_grad

    def holding_thread() -> None:
        evaluate("holding", hold=True)
        seen["holding after"] = tl.is_grad_enabled()

    def other_thread() -> None:
        wait(inside)
        seen["other before"] = (w * 2).requires_grad
        evaluate("other", hold=False)  # the same decorated function, at the same time
        seen["other after"] = (w * 2).requires_grad
        checked.set()

    run_together(holding_thread, other_thread)
    assert seen == {
        "holding": False,
        "holding after": True,
        "other before": True,
        "other": False,
        "other after": True,
    }


def test_one_no_grad_object_shared_by_two_threads_restores_each_threads_mode() -> None:
    # A module-level `evaluation = tl.no_grad()`, entered by two threads whose blocks
    # overlap: each must get back its own previous mode, not the other thread's.
    evaluation = tl.no_grad()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:  # recording on, enters first, leaves first
        with evaluation:
            first_in.set()
            wait(second_in)
        seen["first after"] = tl.is_grad_enabled()
        first_out.set()

    def second() -> None:  # recording off around it, enters second, leaves last
        with tl.no_grad():
            wait(first_in)
            with evaluation:
                second_in.set()
                wait(first_out)
            seen["second after inner"] = tl.is_grad_enabled()
        seen["second after outer"] = tl.is_grad_enabled()

    run_together(first, second)
    assert seen == {"first after": True, "second after inner": False, "second after outer": True}


def test_one_no_grad_object_nests_and_restores_after_an_error() -> None:
    evaluation, training = tl.no_grad(), tl.enable_grad()
    with evaluation:
        with training:
            with evaluation:
                assert not tl.is_grad_enabled()
            assert tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()
    try:
        with evaluation:
            raise KeyError("inside")
    except KeyError:
        pass
    assert tl.is_grad_enabled()


class Recorder(Observer):
    def __init__(self) -> None:
        self.forward_ops: list[str] = []
        self.backward_ops: list[str] = []

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        self.forward_ops.append(fn.name)

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        self.backward_ops.append(fn.name)


def test_an_observer_sees_only_its_own_threads_ops() -> None:
    recorder = Recorder()
    inside, done = threading.Event(), threading.Event()

    def observed_thread() -> None:
        w = Tensor([1.0, 2.0], requires_grad=True)
        with recorder:
            inside.set()
            wait(done)
            (w.exp() * 2).sum().backward()

    def other_thread() -> None:
        wait(inside)
        w = Tensor([1.0, 2.0], requires_grad=True)
        (w.tanh() - 1).abs().sum().backward()
        done.set()

    run_together(observed_thread, other_thread)
    assert recorder.forward_ops == ["exp", "mul", "sum"]
    assert recorder.backward_ops == ["sum", "mul", "exp"]


def test_the_floating_point_quiet_is_per_thread() -> None:
    # fp_quiet sets a per-thread flag so that ops inside skip np.errstate. Were the flag
    # shared, an op in another thread would skip it too and leak numpy's warning.
    inside, checked = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def quiet_thread() -> None:
        with fp_quiet():
            inside.set()
            wait(checked)
            seen["quiet"] = np.geterr()["divide"]

    def other_thread() -> None:
        wait(inside)
        seen["other"] = np.geterr()["divide"]
        with np.errstate(all="raise"):  # a warning would be an error here
            seen["log(0)"] = Tensor([0.0]).log().item()
        checked.set()

    run_together(quiet_thread, other_thread)
    assert seen == {"quiet": "ignore", "other": "warn", "log(0)": -np.inf}


def test_two_threads_training_at_once_get_the_same_weights_as_one_thread() -> None:
    def train(seed: int, steps: int, barrier: threading.Barrier | None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        x = Tensor(rng.standard_normal((8, 3)))
        y = Tensor(rng.standard_normal((8, 1)))
        w = Tensor(rng.standard_normal((3, 1)), requires_grad=True)
        for _ in range(steps):
            if barrier is not None:
                barrier.wait(TIMEOUT)  # interleave the two threads step by step
            loss = (((x @ w).tanh() - y) ** 2).mean()
            loss.backward()
            with tl.no_grad():
                w.sub_(0.1 * w.grad)
            w.grad = None
        return w.numpy()

    expected = [train(seed, 30, None) for seed in (0, 1)]
    barrier = threading.Barrier(2)
    got: dict[int, np.ndarray] = {}

    def worker(seed: int) -> Callable[[], None]:
        def run() -> None:
            got[seed] = train(seed, 30, barrier)

        return run

    run_together(worker(0), worker(1))
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_detect_anomaly_and_trace_watch_only_their_own_thread() -> None:
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def watched_thread() -> None:
        w = Tensor([1.0, 2.0], requires_grad=True)
        with tl.detect_anomaly(), tl.trace() as recorded:
            inside.set()
            wait(done)  # the other thread makes a -inf meanwhile
            (w * 2).sum().backward()
        seen["recorded"] = [(r.phase, r.op) for r in recorded]

    def other_thread() -> None:
        wait(inside)
        x = Tensor([0.0, 1.0], requires_grad=True)
        x.log().sum().backward()  # -inf forward, inf backward: not this thread's watchers
        seen["log"] = x.grad.tolist()
        done.set()

    run_together(watched_thread, other_thread)
    assert seen["log"] == [np.inf, 1.0]
    assert seen["recorded"] == [
        ("forward", "mul"),
        ("forward", "sum"),
        ("backward", "sum"),
        ("backward", "mul"),
    ]
