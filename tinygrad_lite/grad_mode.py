"""Per-thread modes: whether operations are recorded, and who watches them.

Grad mode says whether operations are recorded for a later backward pass. The switch is
per thread, like PyTorch's: ``no_grad()`` in one thread leaves recording on in every other
thread.

Observers watch the ops: while one is active in a thread, ``Function.apply`` and the
engine report every forward op and every backward step to it, and the layers built on the
core report each of their calls (the study tools are observers, see hooks.py). With none
active, the cost is one attribute test per op and per layer call.

Forward mode plugs in through the same hook. A dual level is an observer that, told of an
op, computes the tangent of the op's output from the tangents of its inputs; the active
levels are listed in ``_mode.levels`` (outermost first) and come first among the
observers, so that a study tool told of the op sees the tangents it got. Each level holds
``tangents``, a mapping from a Tensor to its tangent at that level; ``tangents_of`` reads
them. With no level active, forward mode costs nothing: the op makes the one test above.

>>> import tinygrad_lite as tl
>>> w = tl.Tensor([1.0, 2.0], requires_grad=True)
>>> with tl.no_grad():
...     y = w * 2
>>> y.requires_grad
False
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class fp_quiet:  # noqa: N801 (a context manager, named like the others)
    """Silence numpy's floating-point warnings (overflow, division by zero, invalid) here.

    Floating point follows IEEE (1/0 = inf, log(0) = -inf) and no numpy RuntimeWarning
    reaches the user; an ``Observer`` can catch such values where they appear. It is entered
    once at the outermost level (a module call, a loss, a backward pass, an optimizer step);
    the ops inside see ``_mode.quiet`` and skip it.
    """

    __slots__ = ("token",)

    def __enter__(self) -> None:
        if _mode.quiet:
            self.token = None
        else:
            self.token = _set_state(_QUIET)
            _mode.quiet = True

    def __exit__(self, *exc_info: Any) -> None:
        if self.token is not None:
            _mode.quiet = False
            _reset_state(self.token)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _mode.quiet:  # called from inside another quiet call: nothing to do
                return func(*args, **kwargs)
            token = _set_state(_QUIET)
            _mode.quiet = True
            try:
                return func(*args, **kwargs)
            finally:
                _mode.quiet = False
                _reset_state(token)

        return wrapper  # type: ignore[return-value]


def _quiet_state() -> tuple[Any, Callable[[Any], Any], Callable[[Any], None]]:
    """How fp_quiet turns numpy's floating-point warnings off, and back on.

    numpy 2 keeps its error state in a context variable (one value per thread). Setting it
    to a state made once, here, is several times cheaper than ``np.errstate``, which builds
    the state at every entry (docs/performance.md has the figures). This uses two names
    private to numpy 2; where they are missing, ``np.errstate`` does the same work. (The
    state made here keeps numpy's default buffer size: fp_quiet is about warnings, and
    nothing here changes ``np.setbufsize``.)
    """
    try:
        from numpy._core._multiarray_umath import (  # type: ignore[import-not-found]
            _make_extobj,
        )
        from numpy._core._ufunc_config import (  # type: ignore[attr-defined]
            _extobj_contextvar,
        )

        return _make_extobj(all="ignore"), _extobj_contextvar.set, _extobj_contextvar.reset
    except (ImportError, AttributeError, TypeError):
        return None, _enter_errstate, _exit_errstate


def _enter_errstate(state: Any) -> Any:
    errstate = np.errstate(all="ignore")
    errstate.__enter__()
    return errstate


def _exit_errstate(errstate: Any) -> None:
    errstate.__exit__(None, None, None)


_QUIET, _set_state, _reset_state = _quiet_state()


class Observer:
    """Something that watches every op in its thread (a trace, the anomaly detector).

    ``forward`` is called after each op's forward, ``backward`` after each backward step,
    with the Function node, its inputs (Tensors) or output gradient, and the result.
    ``enter_module`` and ``exit_module`` bracket each call of a layer, so that an
    observer can tell which layer ran which ops (``exit_module`` gets the call's result,
    or None if it raised). A function that draws random numbers from a generator
    (dropout's mask) does it through ``draw`` (below): ``Observer.draw`` is called just
    before the draw, with the function's name and the generator (an observer may raise
    there, before the draw), and ``Observer.drawn`` just after, with the call made
    (``method``, ``args``) and the values, and returns the values the function goes on
    with. ``with observer:`` watches the ops of the thread that enters it, for the block;
    one observer watches one block at a time.
    """

    _active = False  # True inside its with block

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        pass

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        pass

    def enter_module(self, module: Any) -> None:
        pass

    def exit_module(self, module: Any, out: Any) -> None:
        pass

    def draw(self, what: str, rng: Any) -> None:
        pass

    def drawn(self, what: str, rng: Any, method: str, args: tuple[Any, ...], values: Any) -> Any:
        return values

    def __enter__(self) -> Any:
        if self._active:
            raise RuntimeError(
                f"{type(self).__name__}: already active in a with block; use a new one"
            )
        self._active = True
        _mode.observers = (*_mode.observers, self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _mode.observers = tuple(o for o in _mode.observers if o is not self)
        self._active = False


def draw(what: str, rng: Any, method: str, *args: Any) -> Any:
    """``getattr(rng, method)(*args)``: random numbers ``what`` (a function's name) draws
    from a generator, shown to this thread's observers (see Observer: ``draw`` before,
    ``drawn`` after, which may hand back a value of its own, such as a recording's)."""
    observers = _mode.observers
    for observer in observers:
        observer.draw(what, rng)
    values = getattr(rng, method)(*args)
    for observer in observers:
        values = observer.drawn(what, rng, method, args, values)
    return values


class _ThreadMode(threading.local):
    # Class attributes are the values every new thread starts from.
    enabled = True
    observers: tuple[Observer, ...] = ()  # the dual levels (below), then the study tools
    levels: tuple[Any, ...] = ()  # forward mode's active dual levels, outermost first
    quiet = False  # inside fp_quiet(): numpy's floating-point warnings are already off
    saved: tuple[bool, ...] = ()  # grad modes to restore on leaving no_grad/enable_grad


_mode = _ThreadMode()


def tangents_of(t: Any) -> list[Any]:
    """The tangent of ``t`` at each active dual level of this thread, outermost first (None
    at a level where it has none); an empty list when no level is active."""
    return [level.tangents.get(t) for level in _mode.levels]


def is_dual(t: Any) -> bool:
    """Whether ``t`` carries a tangent at an active dual level of this thread."""
    return any(t in level.tangents for level in _mode.levels)


def is_grad_enabled() -> bool:
    """True when operations in this thread are being recorded."""
    return _mode.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode, and restores it on exit."""

    enabled: bool

    # The mode to restore is kept per thread, not on the object: one no_grad() object may be
    # entered by several threads at once (a module-level `evaluation = tl.no_grad()`), and
    # each thread must get its own previous mode back.
    def __enter__(self) -> None:
        _mode.saved += (_mode.enabled,)
        _mode.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _mode.enabled = _mode.saved[-1]
        _mode.saved = _mode.saved[:-1]

    def __call__(self, func: F) -> F:
        # Used as a decorator: a fresh context per call, so that recursive and
        # concurrent calls each restore their own previous state.
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):  # noqa: N801 (PyTorch's name)
    """Switch recording off: results of operations do not require grad.

    Use it for evaluation and for in-place parameter updates. Works as a context manager
    (``with tl.no_grad(): ...``) and as a decorator (``@tl.no_grad()``).
    """

    enabled = False


class enable_grad(_SetGradMode):  # noqa: N801 (PyTorch's name)
    """Switch recording back on inside a ``no_grad()`` block."""

    enabled = True
