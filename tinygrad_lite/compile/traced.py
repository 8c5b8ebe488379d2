"""Traced: an ndarray whose numpy calls are written to the tape that is recording.

A Traced array is a view of a real array: same memory, same values. Every numpy call made
on it while a tape records in this thread (a ufunc through ``__array_ufunc__``, a numpy
function through ``__array_function__``, the ndarray methods the ops use, written out
below) runs on the plain arrays and is also reported to the tape, which returns the
result Traced in turn. With no tape recording, a Traced array behaves as a plain one and
hands back plain results.

Reading a traced value into Python (``bool(t)``, ``t.item()``, ``float(t)``) raises
``DataDependentError``: the program would need that value, which changes from call to call.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from tinygrad_lite.convert import KeptArray

ADVICE = (
    "a compiled step runs the same numpy program at every call, so Python cannot look at "
    "values computed inside it. Return the tensor and read it after the call "
    "(loss = step(X, y); loss.item()), or leave this step uncompiled"
)


class CompileError(RuntimeError):
    """``tl.compile`` refuses a step: it cannot be replayed as one numpy program."""


class DataDependentError(CompileError):
    """The step read a traced value into Python (``if loss.item() > 1``, ``bool(t)``)."""


class UnsupportedError(CompileError):
    """The step did something with a traced array that the tape cannot record."""


_active = threading.local()


def current() -> Any:
    """The tape recording in this thread, or None."""
    return getattr(_active, "tape", None)


def activate(tape: Any) -> Any:
    """Make ``tape`` the recording one in this thread; returns the one it replaces."""
    previous = current()
    _active.tape = tape
    return previous


class Traced(KeptArray):
    """An ndarray whose numpy calls are recorded on the active tape (see the module); a
    KeptArray, so that a Tensor given one keeps it Traced."""

    tape_var: Any  # the tape's Var for this array, set by the tape

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        tape = current()
        if tape is None:  # recording is over: behave as a plain array
            if "out" in kwargs:
                kwargs["out"] = tuple(plain(o) for o in kwargs["out"])
            return getattr(ufunc, method)(*[plain(x) for x in inputs], **kwargs)
        return tape.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        tape = current()
        if tape is None:
            return func(*plain_deep(args), **plain_deep(kwargs))
        return tape.function(func, args, kwargs)

    def __array_finalize__(self, obj: Any) -> None:
        # numpy made this array from a Traced one without a call the hooks see (np.array(x,
        # subok=True) copies this way).
        if isinstance(obj, Traced):
            tape = current()
            if tape is not None and tape.owns(obj):
                tape.derived(self, obj)

    def __getitem__(self, index: Any) -> Any:
        return _method(self, "__getitem__", (index,), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        tape = current()
        if tape is None or not tape.owns(self):
            self.view(np.ndarray)[plain_deep(index)] = plain_deep(value)
        else:
            tape.setitem(self, index, value)

    # The ndarray methods the ops and optimizers use, each recorded.

    @property
    def mT(self) -> Any:  # noqa: N802 (numpy's name)
        return _method(self, "mT", (), {})

    @property
    def T(self) -> Any:  # noqa: N802 (numpy's name)
        return _method(self, "T", (), {})

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "reshape", args, kwargs)

    def transpose(self, *args: Any) -> Any:
        return _method(self, "transpose", args, {})

    def swapaxes(self, *args: Any) -> Any:
        return _method(self, "swapaxes", args, {})

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "squeeze", args, kwargs)

    def ravel(self, *args: Any) -> Any:
        return _method(self, "ravel", args, {})

    def dot(self, b: Any, out: Any = None) -> Any:
        # ndarray.dot does not dispatch to __array_function__; np.dot, the same call, does.
        return np.dot(self, b) if out is None else np.dot(self, b, out=out)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "sum", args, kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "max", args, kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "min", args, kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "prod", args, kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "mean", args, kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "any", args, kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "all", args, kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "copy", args, kwargs)

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        return _method(self, "astype", args, kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Any:
        # view(np.ndarray) and view(Traced) change the class, not the values: the way this
        # module reaches the plain array. view(dtype), the same bits read as another dtype,
        # is a call of the step.
        if "type" in kwargs or (
            args and isinstance(args[0], type) and issubclass(args[0], np.ndarray)
        ):
            return super().view(*args, **kwargs)
        return _method(self, "view", args, kwargs)

    # Reading values into Python: refused while recording.

    def item(self, *args: Any) -> Any:
        _refuse(self, "item()")
        return self.view(np.ndarray).item(*args)

    def tolist(self) -> Any:
        _refuse(self, "tolist()")
        return self.view(np.ndarray).tolist()

    def __bool__(self) -> bool:
        _refuse(self, "bool()")
        return bool(self.view(np.ndarray))

    def __float__(self) -> float:
        _refuse(self, "float()")
        return float(self.view(np.ndarray))

    def __int__(self) -> int:
        _refuse(self, "int()")
        return int(self.view(np.ndarray))

    def __index__(self) -> int:
        _refuse(self, "an index")
        return self.view(np.ndarray).__index__()


def _method(array: Traced, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    tape = current()
    if tape is None or not tape.owns(array):
        attribute = getattr(array.view(np.ndarray), name)
        return attribute if name in ("mT", "T") else attribute(*args, **kwargs)
    return tape.method(array, name, args, kwargs)


def _refuse(array: Traced, what: str) -> None:
    tape = current()
    if tape is not None and tape.owns(array):
        raise DataDependentError(
            f"compile: the step reads the value of a tensor computed inside it ({what}"
            f"{where()}); {ADVICE}"
        )


def where() -> str:
    """', at file:line' of the innermost frame of the user's code, for error messages."""
    frame: Any = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("tinygrad_lite", "numpy")):
            return f", at {frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


def plain(value: Any) -> Any:
    """A Traced array as the plain ndarray it views; anything else as it is."""
    return value.view(np.ndarray) if isinstance(value, Traced) else value


def plain_deep(value: Any) -> Any:
    """``plain`` applied inside tuples, lists and dicts too (an index, numpy's arguments)."""
    if isinstance(value, Traced):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(plain_deep(v) for v in value)
    if isinstance(value, list):
        return [plain_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_deep(v) for k, v in value.items()}
    return value
