"""The tape: every numpy call a training step makes, in order, recorded while it runs once.

``tl.compile`` runs a step with the arrays inside its Tensors replaced by ``Traced`` views
(traced.py): the step computes the real values, with the real shapes, and takes its real
branches, while every numpy call on those arrays is also written here. The ops are not
changed: the forward and backward rules that run eagerly are the ones recorded, so the
program replays exactly the numpy calls of the eager step, on the same operands.

What the tape holds:

- ``Var``: an array of the program. ``input``: an array the compiler put on the tape (a
  parameter's ``.data``, an argument's); ``captured``: an array the step read that the
  compiler did not put there (a constant made inside the step, an optimizer's momentum
  buffer), referred to by identity; ``result``: made by a recorded call; ``view``: a view
  of another Var (``x.mT``, ``x.reshape(shape)``); ``generator``: a numpy random generator
  a function drew from (dropout's), which the program takes and draws from in turn.
- ``Call``: one recorded numpy call: what was called, on which operands (Vars, Python
  values, ``Scalar`` constants), and which Var it wrote (a new one, or an existing one in
  place, as ``out=`` and ``x[i] = v`` do), with the op it came from, for the comments. A
  draw (``rng.random(shape)``, through ``hooks.draw``) is a call too: the program makes it
  on the same generator, with the same arguments, in the same order.

The tape is also an Observer of the ops (grad_mode.py): their hooks name the values for the
program (an op's output ``sigmoid1``, the gradient ``d_sigmoid1``).
"""

from __future__ import annotations

import inspect
import linecache
import re
import sys
from typing import Any, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_lite import engine, nn
from tinygrad_lite.compile import traced
from tinygrad_lite.compile.traced import (
    ADVICE,
    DataDependentError,
    Traced,
    UnsupportedError,
    activate,
    plain,
    plain_deep,
    where,
)
from tinygrad_lite.function import Function
from tinygrad_lite.hooks import Observer, draw
from tinygrad_lite.nn import Module
from tinygrad_lite.optim import Optimizer
from tinygrad_lite.tensor import Tensor

# ndarray methods that return a view of their array (or a copy when they cannot).
VIEW_METHODS = (
    "reshape",
    "transpose",
    "swapaxes",
    "squeeze",
    "ravel",
    "mT",
    "T",
    "__getitem__",
    "view",
)
# numpy functions that only look at shapes and dtypes: answered, nothing recorded.
SHAPE_FUNCTIONS = ("shape", "ndim", "size", "result_type", "broadcast_shapes", "can_cast")
# numpy functions that print: answered from the values, nothing recorded (the printing
# happens while recording, not when the program runs).
PRINT_FUNCTIONS = ("array2string", "array_repr", "array_str")
ALLOCATIONS = {"empty_like": None, "zeros_like": 0, "ones_like": 1}  # -> fill value
PACKAGE = __name__.partition(".")[0]  # frames of the package are not the user's
TAPE, TRACED = globals(), vars(traced)  # frames of the recording itself: skipped
DRAW = draw.__code__  # the hook a function draws through: skipped too


class Scalar:
    """A constant operand of a ufunc: a 0-d array of ``dtype`` holding ``value``.

    A Python number in a ufunc takes the dtype of the other operands (``1 + x32`` is
    float32); the tape resolves it once, so that the program holds the constant as a 0-d
    array, which numpy handles faster than a Python number and computes with identically.
    """

    __slots__ = ("value", "dtype")

    def __init__(self, value: Any, dtype: np.dtype) -> None:
        self.value = np.array(value, dtype=dtype).item()  # 1 -> 1.0 for a float dtype
        self.dtype = dtype

    def key(self) -> tuple[Any, ...]:
        return ("scalar", self.dtype.str, np.array(self.value, dtype=self.dtype).tobytes())


class Var:
    """An array of the program (see the module docstring for the kinds)."""

    __slots__ = (
        "kind",
        "shape",
        "dtype",
        "array",
        "base",
        "source",
        "snapshot",
        "hint",
        "strong",
        "grad_of",
        "tape",
    )

    def __init__(self, kind: str, array: np.ndarray, tape: Tape) -> None:
        self.kind = kind
        self.shape: tuple[int, ...] = array.shape
        self.dtype: np.dtype = array.dtype
        self.array = array  # the values it held while recording (a plain ndarray)
        self.base: Var | None = None  # for a view: the Var it views
        self.source: Any = None  # for input and captured: the array object the step held
        self.snapshot: np.ndarray | None = None  # for captured: its values when first seen
        self.hint = ""  # a name for the program (an op's output, a parameter's path)
        self.strong = False  # the hint names a value a reader knows (not an intermediate)
        self.grad_of: Var | None = None  # this is the gradient of that Var
        self.tape = tape

    @property
    def root(self) -> Var:
        """The Var that owns the memory (itself, unless it is a view)."""
        var = self
        while var.base is not None:
            var = var.base
        return var

    def __repr__(self) -> str:
        return f"Var({self.kind} {self.hint} {self.shape})"


class Call:
    """One recorded numpy call; ``target`` is the Var it wrote, ``creates`` if new.

    ``kind`` and ``op``: "ufunc" (op: (ufunc, method)), "method" (op: the method's name),
    "view" (op: the method's name), "function" (op: a numpy function, or the name of a
    method that copied), "alloc" (op: the fill value, None for np.empty_like), "copy" (op:
    None, or the dtype of an astype), "setitem", "copyto", "draw" (op: the generator's
    method; its first operand is the generator's Var).
    """

    __slots__ = ("kind", "op", "args", "kwargs", "target", "creates", "label", "phase", "group")

    def __init__(
        self, kind: str, op: Any, args: tuple[Any, ...], kwargs: dict[str, Any], target: Any
    ) -> None:
        self.kind = kind
        self.op = op
        self.args = args
        self.kwargs = kwargs
        self.target: Var = target
        self.creates = True
        self.label = ""  # the op it came from, for the comment above its line
        self.phase = "forward"
        self.group = 0  # calls of one op's run share a group

    def __repr__(self) -> str:
        return f"Call({self.kind} {self.op!r} -> {self.target!r})"


class Tape(Observer):
    """The record of one run of a step; a context manager around the run."""

    def __init__(self) -> None:
        self.vars: list[Var] = []
        self.calls: list[Call] = []
        self.captured: dict[int, Var] = {}  # id(array object) -> Var (objects kept alive)
        self.counts: dict[str, int] = {}  # op name -> outputs named so far
        self.outputs: dict[Any, Var] = {}  # Function node (kept: its id is never reused) -> Var
        self.leaves: dict[int, Any] = {}  # every leaf Tensor requiring grad an op used
        self.memory: dict[tuple[Any, ...], Var] = {}  # where each Var's array lies -> Var
        # The generators the step can reach (id -> where it was found, set by the recorder),
        # the state each should be in now (its start, then after each recorded draw), the
        # Var of each drawn from, and the state it started in.
        self.generators: dict[int, Any] = {}
        self.expected: dict[int, Any] = {}
        self.generator_vars: dict[int, Var] = {}
        self.starts: dict[Var, Any] = {}
        self.drawers: dict[int, str] = {}  # id -> the function that drew from it
        self._keep: list[Any] = []
        self._previous: Any = None
        self._group = 0
        self._last_label: tuple[Any, ...] = ()

    def __enter__(self) -> Tape:
        """Record this thread's numpy calls on Traced arrays, and watch its ops (Observer)."""
        self._previous = activate(self)
        return super().__enter__()

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        activate(self._previous)
        # A Traced array the step kept (an optimizer's momentum buffer) lives on as a plain
        # one: it no longer points at the tape, which can then go with its arrays.
        for value in self._keep:
            if isinstance(value, Traced):
                value.__dict__.pop("tape_var", None)

    # ------------------------------------------------------------------- Vars

    def trace(self, array: np.ndarray, hint: str) -> Traced:
        """Put an input array on the tape: the Traced view the step is to use instead."""
        var = self._new("input", array)
        var.source = array
        var.hint, var.strong = hint, True
        return self._traced(array, var)

    def var_of(self, value: Any) -> Var:
        """The Var of a Traced array of this tape (see owns)."""
        var: Var = value.tape_var
        return var

    def owns(self, value: Any) -> bool:
        """Whether ``value`` is a Traced array of this tape."""
        return (
            isinstance(value, Traced)
            and getattr(value.__dict__.get("tape_var"), "tape", None) is self
        )

    def operand(self, value: Any) -> Any:
        """What the tape records for a value handed to numpy: a Var, or a Python value."""
        if self.owns(value):
            var = value.tape_var
            if var.kind == "unknown":
                raise UnsupportedError(
                    "compile: the step used an array numpy derived from a traced one by a path "
                    "the compiler does not record (such as a view of a view made by numpy "
                    "internally); use the Tensor methods"
                )
            return var
        if isinstance(value, np.ndarray):  # a plain array, or another recording's Traced
            return self.capture(value)
        if isinstance(value, tuple):
            return tuple(self.operand(v) for v in value)
        if isinstance(value, list):
            return [self.operand(v) for v in value]
        return value

    def capture(self, array: np.ndarray) -> Var:
        """An array the step read that is not on the tape: referred to by identity.

        Unless it is a plain view of a Var's own memory (np.asarray of a Traced array gives
        one): then it is that Var, at every call.
        """
        var = self.captured.get(id(array)) or self.memory.get(_where_in_memory(array))
        if var is None:
            values = array.view(np.ndarray)
            var = self._new("captured", values)
            var.source = array
            var.snapshot = values.copy()  # before the call that reads it can change it
            self.captured[id(array)] = var
            self._keep.append(array)
        return var

    def _new(self, kind: str, array: np.ndarray) -> Var:
        var = Var(kind, array, self)
        self.vars.append(var)
        if kind != "captured":
            self.memory.setdefault(_where_in_memory(array), var)
        return var

    def _traced(self, array: np.ndarray, var: Var) -> Traced:
        traced = array.view(Traced)
        traced.tape_var = var
        self._keep.append(traced)
        return traced

    def _result(self, kind: str, op: Any, args: Any, kwargs: Any, array: Any) -> Traced:
        """Record a call that made a new array; returns the array, Traced."""
        array = np.asarray(array)  # a numpy scalar (a full reduction) becomes a 0-d array
        var = self._new("result", array)
        self._record(Call(kind, op, tuple(args), kwargs, var))
        return self._traced(array, var)

    def _view(self, op: Any, args: Any, kwargs: Any, array: np.ndarray) -> Traced:
        """Record a view of ``args[0]``; returns the view, Traced."""
        var = self._new("view", array)
        var.base = args[0]
        self._record(Call("view", op, tuple(args), kwargs, var))
        return self._traced(array, var)

    def _in_place(self, kind: str, op: Any, args: Any, kwargs: Any, target: Any) -> None:
        if not isinstance(target, Var):
            raise UnsupportedError("compile: an in-place numpy call on something not an array")
        call = Call(kind, op, tuple(args), kwargs, target)
        call.creates = False
        self._record(call)

    def _record(self, call: Call) -> None:
        call.label, call.phase, key, assigned = _label()
        if call.creates and not call.target.hint:
            call.target.hint = assigned  # a name the reader sees in the op (error)
        if key != self._last_label:
            self._group += 1
            self._last_label = key
        call.group = self._group
        self.calls.append(call)

    # ------------------------------------------------------------ numpy calls
    # Each records its operands first (a captured array is copied when first seen, before
    # the call can change it), then runs the call on the plain arrays.

    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: Any) -> Any:
        if ufunc.nout != 1:
            raise UnsupportedError(f"compile: numpy.{ufunc.__name__} has several outputs")
        out = kwargs.pop("out", None)
        args = [self.operand(x) for x in inputs]
        recorded_kwargs = {k: self.operand(v) for k, v in kwargs.items()}
        target = self.operand(out[0]) if out is not None else None
        plain_inputs = [plain(x) for x in inputs]
        if method == "__call__":
            args = _scalars(ufunc, args, plain_inputs)
        if out is not None:
            kwargs["out"] = tuple(plain(o) for o in out)
        result = getattr(ufunc, method)(*plain_inputs, **kwargs)
        op = (ufunc, method)
        if method == "at":  # np.add.at(out, index, x): in place on its first operand
            self._in_place("ufunc", op, args, recorded_kwargs, args[0])
            return None
        if target is not None:
            self._in_place("ufunc", op, args, recorded_kwargs, target)
            return out[0]
        return self._result("ufunc", op, args, recorded_kwargs, result)

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = getattr(func, "__name__", "")
        if name in SHAPE_FUNCTIONS or name in PRINT_FUNCTIONS:
            return func(*plain_deep(args), **plain_deep(kwargs))
        if func is sliding_window_view:  # (numpy's, but outside its namespace)
            recorded_args = tuple(self.operand(a) for a in args)
            recorded_kwargs = {k: self.operand(v) for k, v in kwargs.items()}
            result = func(*plain_deep(args), **plain_deep(kwargs))
            return self._view(name, recorded_args, recorded_kwargs, result)
        if getattr(np, name, None) is not func:  # (a function of another library)
            raise UnsupportedError(
                f"compile: the step called {getattr(func, '__module__', '')}.{name} on a traced "
                f"array; only functions of the numpy namespace can be recorded"
            )
        if "out" in kwargs:
            raise UnsupportedError(f"compile: numpy.{name}(..., out=) is not recorded")
        recorded_args = tuple(self.operand(a) for a in args)
        recorded_kwargs = {k: self.operand(v) for k, v in kwargs.items()}
        call: Any = func
        result = call(*plain_deep(args), **plain_deep(kwargs))
        if name in ALLOCATIONS:
            return self._result("alloc", ALLOCATIONS[name], (), {}, result)
        if name == "broadcast_to" and isinstance(recorded_args[0], Var):
            return self._view("broadcast_to", recorded_args, recorded_kwargs, result)
        if name == "copyto":
            self._in_place("copyto", None, recorded_args, recorded_kwargs, recorded_args[0])
            return None
        if not isinstance(result, (np.ndarray, np.generic)):
            raise DataDependentError(
                f"compile: numpy.{name} returned a Python value computed from traced arrays"
                f"{where()}; {ADVICE}"
            )
        return self._result("function", func, recorded_args, recorded_kwargs, result)

    def method(self, array: Traced, name: str, args: tuple[Any, ...], kwargs: Any) -> Any:
        recorded_args = (self.operand(array), *(self.operand(a) for a in args))
        recorded_kwargs = {k: self.operand(v) for k, v in kwargs.items()}
        values = array.view(np.ndarray)
        attribute = getattr(values, name)
        if name in ("mT", "T"):
            result = attribute
        else:
            result = attribute(*plain_deep(args), **plain_deep(kwargs))
        if name in VIEW_METHODS:
            if isinstance(result, np.ndarray) and np.may_share_memory(result, values):
                return self._view(name, recorded_args, recorded_kwargs, result)
            # Advanced indexing, and reshape of a non-contiguous array, copy.
            return self._result("function", name, recorded_args, recorded_kwargs, result)
        if name == "astype" and result is values:  # astype(copy=False) to its own dtype
            return array
        if "out" in kwargs:
            target = recorded_kwargs.pop("out")
            self._in_place("method", name, recorded_args, recorded_kwargs, target)
            return kwargs["out"]
        return self._result("method", name, recorded_args, recorded_kwargs, result)

    def setitem(self, array: Traced, index: Any, value: Any) -> None:
        target = self.operand(array)
        args = (target, self.operand(index), self.operand(value))
        array.view(np.ndarray)[plain_deep(index)] = plain_deep(value)
        self._in_place("setitem", None, args, {}, target)

    def derived(self, array: Traced, source: Traced) -> None:
        """numpy made ``array`` from ``source`` without a call the hooks see: a copy
        (np.array(x, subok=True)) is recorded; anything else is marked unknown, and
        refused if the step goes on to use it."""
        values = array.view(np.ndarray)
        if array.base is None and array.shape == source.shape:
            var = self._new("result", values)
            dtype = None if array.dtype == source.dtype else array.dtype
            self._record(Call("copy", dtype, (self.operand(source),), {}, var))
        else:
            var = self._new("unknown", values)
        array.tape_var = var
        self._keep.append(array)

    # ------------------------------------------------------------- observer hooks

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        for x in inputs:
            if x.is_leaf and x.requires_grad:
                self.leaves[id(x)] = x
        if self.owns(out.data) and not out.data.tape_var.strong:
            count = self.counts[fn.name] = self.counts.get(fn.name, 0) + 1
            var = out.data.tape_var
            var.hint, var.strong = f"{fn.name}{count}", True
            self.outputs[fn] = var

    def draw(self, what: str, rng: Any) -> None:
        """Before a draw: the generator must be one the program can find at every call,
        and drawn from only by recorded draws so far."""
        place = self.generators.get(id(rng))
        if place is None:
            raise UnsupportedError(
                f"compile: {what} draws from a generator the step does not hold{where()} "
                f"(rng=None makes a new one at each call); the program draws from the same "
                f"generator as the step, found where the step finds it: give {what} one kept "
                f"in the model, the step's closure or a global (nn.Dropout(p, rng=rng))"
            )
        if not same_state(state_of(rng), self.expected[id(rng)]):
            raise self.undrawn(what, place)

    def drawn(self, what: str, rng: Any, method: str, args: tuple[Any, ...], values: Any) -> Any:
        """After a draw: recorded as a call on the generator's Var; the values, Traced."""
        var = self.generator_vars.get(id(rng))
        if var is None:
            var = Var("generator", np.empty(0), self)
            var.source, var.hint, var.strong = rng, self.generators[id(rng)].name, True
            self.vars.append(var)
            self.generator_vars[id(rng)] = var
            self.starts[var] = self.expected[id(rng)]
            self.drawers[id(rng)] = what
            self._keep.append(rng)
        result = self._result("draw", method, (var, *args), {}, values)
        self.expected[id(rng)] = state_of(rng)
        return result

    def check_draws(self) -> None:
        """After the run: each generator drawn from is where its recorded draws left it."""
        for key, var in self.generator_vars.items():
            if not same_state(state_of(var.source), self.expected[key]):
                raise self.undrawn(self.drawers[key], self.generators[key])

    def undrawn(self, what: str, place: Any) -> UnsupportedError:
        return UnsupportedError(
            f"compile: the step drew random numbers from {place.name}, a generator {what} "
            f"draws from, other than through {what} (such as rng.normal(...) in the "
            f"step){where()}; the program repeats only the draws of {what}: give it a "
            f"generator of its own"
        )

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        out = self.outputs.get(fn)
        if out is not None and self.owns(grad) and grad.tape_var.grad_of is None:
            grad.tape_var.grad_of = out
        for x, dx in zip(fn.inputs, input_grads):
            if self.owns(dx) and dx.tape_var.grad_of is None and self.owns(x.data):
                dx.tape_var.grad_of = x.data.tape_var


def state_of(rng: Any) -> Any:
    """The state of a numpy Generator (its bit generator's) or RandomState, as a dict."""
    if isinstance(rng, np.random.RandomState):
        return rng.get_state(legacy=False)
    return rng.bit_generator.state


def set_state(rng: Any, state: Any) -> None:
    """Put a generator back in a state ``state_of`` gave."""
    if isinstance(rng, np.random.RandomState):
        rng.set_state(state)
    else:
        rng.bit_generator.state = state


def same_state(a: Any, b: Any) -> bool:
    """Whether two generator states are equal (they may hold arrays: MT19937's key)."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_state, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    return type(a) is type(b) and bool(a == b)


def _where_in_memory(array: np.ndarray) -> tuple[Any, ...]:
    """An array's place in memory and its layout: equal for two views of the same elements."""
    return (array.__array_interface__["data"][0], array.shape, array.strides, array.dtype.str)


def _scalars(ufunc: np.ufunc, args: list[Any], values: list[Any]) -> list[Any]:
    """The numbers among a ufunc's inputs as Scalars of the dtype numpy computes them in.

    A Python number takes the dtype numpy's promotion rules give it beside the other
    operands (``ufunc.resolve_dtypes`` answers, with Python types as weak ones); a numpy
    scalar keeps its own.
    """
    if not any(isinstance(a, (int, float, np.generic)) for a in args):
        return args
    types = [type(x) if type(x) in (int, float) else np.asarray(x).dtype for x in values]
    try:
        # Any: numpy 2.0's type stubs lack resolve_dtypes (numpy has it since 1.24).
        loop = cast(Any, ufunc).resolve_dtypes((*types, None))
    except (TypeError, ValueError):
        loop = None
    scalars: list[Any] = []
    for i, a in enumerate(args):
        if type(a) in (int, float) and loop is not None:
            scalars.append(Scalar(a, loop[i]))
        elif isinstance(a, np.generic):
            scalars.append(Scalar(a.item(), a.dtype))
        else:
            scalars.append(a)
    return scalars


# --------------------------------------------------------------------------- labels
# What a numpy call belongs to is read from the Python stack, by the objects the frames run
# (an op's rule, a layer's forward, an optimizer's step, the engine), never by module names.
ENGINE = vars(engine)  # the globals of every function of the engine
BACKWARD = inspect.unwrap(Tensor.backward).__code__  # (under the fp_quiet that wraps it)
IN_PLACE = {
    getattr(Tensor, name).__code__: name
    for name in ("add_", "sub_", "mul_", "copy_", "zero_", "__setitem__")
}
LOSSES = vars(nn.losses)


def _label() -> tuple[str, str, tuple[Any, ...], str]:
    """What the numpy call being recorded belongs to: (comment, phase, grouping key, the
    variable the line of tinygrad_lite making the call assigns to, or '').

    Read from the Python stack, between numpy and the user's code: the outermost Function
    frame names the op (its forward or its backward rule, with the math from its
    docstring); otherwise the engine (gradients added up), ``Tensor.backward`` (``.grad``),
    an optimizer's step, an in-place method, or the user's own code.
    """
    frames: list[Any] = []
    frame: Any = sys._getframe(2)
    user = ""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if (
            module.startswith("numpy")
            or frame.f_globals is TRACED
            or frame.f_globals is TAPE
            or frame.f_code is DRAW
        ):
            frame = frame.f_back
            continue
        if not module.startswith(PACKAGE):
            user = frame.f_code.co_name
            break
        frames.append(frame)
        frame = frame.f_back
    assigned = _assigned(frames[0]) if frames else ""
    label, phase, key = _describe(frames, user)
    return label, phase, key, assigned


def _describe(frames: list[Any], user: str) -> tuple[str, str, tuple[Any, ...]]:
    in_engine = [f for f in frames if f.f_globals is ENGINE]
    in_backward = [f for f in frames if f.f_code is BACKWARD]
    in_place = [f for f in frames if f.f_code in IN_PLACE]
    stepping = [f for f in frames if isinstance(f.f_locals.get("self"), Optimizer)]
    phase = "forward"
    if in_engine or in_backward:
        phase = "backward"
    elif stepping or in_place:
        phase = "update"
    rules = [f for f in frames if isinstance(f.f_locals.get("self"), Function)]
    if rules:
        outer = rules[-1]
        fn = outer.f_locals["self"]
        backward = outer.f_code.co_name == "backward"
        label = f"{fn.name} backward" if backward else fn.name
        context = _context(frames)
        if context and context.lower().replace("_", "") != fn.name:
            label += f" ({context})"
        math = _math(type(fn), backward)
        return (f"{label}: {math}" if math else label), phase, (fn, backward)
    if not frames:
        return f"in {user}", phase, ("user", user)
    if frames[0].f_globals is ENGINE:
        return "the gradients of one tensor added up", phase, ("engine", frames[0])
    if in_backward:
        return ".grad", phase, ("grad", frames[0])
    if stepping:
        owner = stepping[0].f_locals["self"]
        return f"{type(owner).__name__}.step", phase, ("optim", owner)
    if in_place:
        return IN_PLACE[in_place[0].f_code], phase, ("in place", frames[0])
    # A helper of tinygrad_lite (Tensor's _constant: an operand made a Tensor), or a function
    # of nn (a loss computing a mask); with the layer or loss it ran in.
    name, context = frames[0].f_code.co_name.strip("_"), _context(frames)
    label = f"{name} ({context})" if context and context != name else name
    return label, phase, ("other", frames[0].f_code.co_name, frames[0])


def _assigned(frame: Any) -> str:
    """``error`` for a frame at ``error = target - pred``: the name a line assigns to."""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    match = re.match(r"\s*([a-z_][a-z0-9_]*)\s*=[^=]", line)
    return match.group(1) if match else ""


def _math(fn_type: type, backward: bool) -> str:
    """The forward or the backward part of an op's docstring (``out = x @ y``, ``dx = ...``)."""
    doc = (fn_type.__doc__ or "").strip().splitlines()
    if not doc:
        return ""
    parts = [p.strip() for p in doc[0].split("    ") if p.strip()]
    return "    ".join(p for p in parts if p.startswith("d" if backward else "out"))


def _context(frames: list[Any]) -> str:
    """The layer or loss of nn the op ran in (``Linear``, ``sse_loss``): the innermost
    frame that is a Module's forward or a loss function."""
    for frame in frames:
        owner = frame.f_locals.get("self")
        if isinstance(owner, Module) and frame.f_code.co_name == "forward":
            return type(owner).__name__
        name = frame.f_code.co_name
        if frame.f_globals is LOSSES and owner is None and not name.startswith("_"):
            return str(name)
    return ""
