"""``tl.compile(step)``: a training step recorded once and replayed as straight-line numpy.

>>> import tinygrad_lite as tl
>>> from tinygrad_lite import Tensor, nn, optim
>>> model = nn.Linear.from_weights([[0.5], [-0.25]])
>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> @tl.compile
... def step(x, y):
...     opt.zero_grad()
...     loss = nn.sse_loss(model(x), y)
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = Tensor([[1.0, 2.0]]), Tensor([[1.0]])
>>> [round(step(x, y).item(), 5) for _ in range(4)]  # eager, eager, then the program
[0.5, 0.125, 0.03125, 0.00781]
>>> step.compiled
True
>>> print(step.source.split("def step")[1].splitlines()[0])
(x, y, model_weight, opt__lr):

How it works (traced.py and tape.py record, passes.py and codegen.py write the program,
fastpath.py runs it):

1. Every Tensor the step can reach (its arguments, and the modules, optimizers and
   tensors in its closure, in the globals it names and in ``self`` for a method) has its
   ``.data`` swapped for a Traced view of the same array, and the step runs eagerly: it
   computes exactly what it always computes, and every numpy call on those arrays is
   written to a tape, with the op it came from.
2. The tape becomes a Python module (``step.source``): one numpy call a line, every
   temporary in a buffer allocated once and written with ``out=``.
3. The second call records again. If both give the same program, it is checked once
   against the eager results, bit for bit, and from the third call on the step runs the
   program. If they differ (the step depends on Python state that changes between calls:
   SGD's momentum buffer being created), the third call records again,
   and a step whose program still changes is refused.

Guards, checked at every call: an argument of another type, shape, dtype or
requires_grad, or another value of a non-Tensor argument, records the step again for it
(each signature of arguments keeps its own program); so does a changed optimizer setting
(``momentum``, ``betas``; not ``lr``, which the program reads), a parameter's
``requires_grad`` or a module's ``training``, and a tensor of data found in an object
(``trainer.inputs``) is read where it is at each call. A parameter whose array changed
shape or dtype, or a parameter Tensor replaced by another in its module or list, is
refused (``CompileError``; compile the step again: ``step.reset()``). A parameter changed
in place between calls (``load_state_dict``, a version bump) is fine: the program reads
the arrays at every call. Dropout's draws are calls of the program on the generator the
step holds, in the step's order. Under ``tl.no_grad()``, inside a recording, or while an Observer
(``tl.trace()``, ``tl.detect_anomaly()``) watches, the step runs eagerly instead.

Not supported: Python that looks at values computed in the step (``if loss.item() > 1``,
``bool(t)``, ``float(t)``: refused while recording, ``DataDependentError``); Python
values read in the step other than those above (a global flag, a counter) are constants
of the program; side effects other than changing arrays in place and setting ``.grad``
(appending to a list, printing) happen only on the recording calls. See docs/compile.md.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import inspect
import linecache
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lite.compile import codegen, fastpath
from tinygrad_lite.compile.fastpath import MISS, GeneratorSlot, Slot
from tinygrad_lite.compile.tape import Tape, Var, same_state, set_state, state_of
from tinygrad_lite.compile.traced import (
    CompileError,
    DataDependentError,
    Traced,
    UnsupportedError,
    current,
)
from tinygrad_lite.hooks import from_array, thread_mode
from tinygrad_lite.nn import Module
from tinygrad_lite.optim import Optimizer
from tinygrad_lite.tensor import Tensor

__all__ = [
    "CompileError",
    "CompiledStep",
    "DataDependentError",
    "UnsupportedError",
    "compile_step",
]

MAX_RECORDINGS = 3  # per signature of arguments: the program must repeat within this many
MAX_PROGRAMS = 16  # signatures of arguments per step
_WALK_LIMIT = 10_000  # objects visited looking for tensors


def compile_step(step: Callable[..., Any]) -> CompiledStep:
    """Record ``step`` (forward, loss, backward and update) and replay it as numpy.

    The package exports it as ``tl.compile`` (after ``torch.compile``); inside the package
    it keeps this name, so that Python's own ``compile`` stays visible. Returns a callable
    with the step's signature: the first two calls run the step eagerly and record it,
    later calls run the recorded program (``.source``), which gives the same numbers bit
    for bit. See the module docstring for the rules.
    """
    if isinstance(step, CompiledStep):
        return step
    if not callable(step):
        raise TypeError(f"compile: expected a function (a training step), got {step!r}")
    # A class of its own per compiled step: once the step runs its program, the class's
    # __call__ is the generated fast path itself (one Python call rather than two).
    own_class = type(CompiledStep.__name__, (CompiledStep,), {"__module__": __name__})
    return own_class(step)


class CompiledStep:
    """A compiled training step: call it like the step; ``.source`` is its program."""

    __name__: str

    def __init__(self, step: Callable[..., Any]) -> None:
        functools.update_wrapper(self, step)
        self.step = step
        try:
            self.signature = inspect.signature(step)
        except (TypeError, ValueError):
            raise TypeError(f"compile: cannot read the signature of {step!r}") from None
        self.entries: dict[Any, _Entry] = {}
        self.latest: _Entry | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Until a program runs; from then on type(self).__call__ is its fast path (_use).
        return self._dispatch(args, kwargs)

    @property
    def source(self) -> str:
        """The program of the latest call, as a Python module (see docs/compile.md)."""
        if self.latest is None or not self.latest.source:
            raise RuntimeError(
                "compile: the step has not been recorded yet; call it once, then read .source"
            )
        return self.latest.source

    @property
    def compiled(self) -> bool:
        """Whether calls like the latest one run the program (rather than the step)."""
        return self.latest is not None and self.latest.fast is not None

    def reset(self) -> None:
        """Forget every recording: the next calls record the step again."""
        self.entries.clear()
        self.latest = None
        self._use(None)

    def _use(self, entry: _Entry | None) -> None:
        """Make ``entry``'s fast path this step's __call__ (None: back to the generic one)."""
        own_class = type(self)
        if own_class is CompiledStep:
            return
        if entry is not None and entry.method is not None:
            own_class.__call__ = entry.method  # type: ignore[method-assign]
        elif "__call__" in own_class.__dict__:
            del own_class.__call__

    def _dispatch(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if thread_mode.observers or not thread_mode.enabled or current() is not None:
            return self.step(*args, **kwargs)  # eagerly: see the module docstring
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"compile: {self.__name__}() {error}") from None
        bound.apply_defaults()
        arguments = _arguments(bound)
        key = _key(arguments)
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= MAX_PROGRAMS:
                raise CompileError(
                    f"compile: {self.__name__} was recorded for {MAX_PROGRAMS} different "
                    f"signatures of arguments (shapes, dtypes, values of non-Tensor "
                    f"arguments); pass numbers that change from call to call as Tensors"
                )
            entry = self.entries[key] = _Entry(self, arguments)
        self.latest = entry
        if entry.fast is not None:
            if entry.check_state():
                self._use(entry)
                result = entry.fast(*args, **kwargs)
                if result is MISS:
                    raise AssertionError("compile: the fast path refused a call its guards pass")
                return result
            # The step takes another path now (a setting changed, or a .grad it adds to is
            # None), so it is recorded again.
            entry = self.entries[key] = self.latest = _Entry(self, arguments)
            self._use(None)
        entry.arguments = arguments  # this call's (the same signature, other tensors)
        return entry.record(args, kwargs)


class _Entry:
    """The recordings and the program for one signature of arguments."""

    def __init__(self, compiled: CompiledStep, arguments: list[tuple[str, Any]]) -> None:
        self.compiled = compiled
        self.arguments = arguments
        self.recordings = 0
        self.source = ""  # the latest recording's program
        self.previous: Any = None  # the fingerprint of the last recording
        self.fast: Callable[..., Any] | None = None  # returns MISS if a guard fails
        self.method: Callable[..., Any] | None = None  # the same, as the step's __call__
        self.state: list[Slot] = []  # slots of parameters the program reads
        self.settings: list[Setting] = []  # values the program took as constants
        self.generators: list[GeneratorSlot] = []  # places of the generators it draws from

    def record(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run the step eagerly on traced arrays; compile it if the program repeats."""
        step = self.compiled.step
        tape = Tape()
        slots, settings, generators = _discover(step, self.arguments)
        # What the program takes as given: each parameter's requires_grad, the optimizers'
        # settings. If one changes, the step is recorded again (see check_state).
        requires_grad = [(s.tensor, "requires_grad", True, s.name) for s in slots if s.parameter]
        self.settings = [*settings, *requires_grad]
        for slot in slots:
            slot.traced = tape.trace(slot.original, slot.name)
            slot.var = slot.traced.tape_var
            slot.holder.data = slot.traced
        start: dict[Var, Any] = {slot.var: slot.original.copy() for slot in slots}
        for place in generators:  # drawn from only by recorded draws: checked by the tape
            tape.generators[id(place.rng)] = place
            tape.expected[id(place.rng)] = state_of(place.rng)
        versions = [(s.tensor, s.tensor._version) for s in slots if not s.grad]
        try:
            with tape:
                result = step(*args, **kwargs)
                outputs = _Outputs(tape, slots, result)  # (while the tape knows its arrays)
            tape.check_draws()
        finally:
            for slot in slots:  # the original arrays, which hold every in-place change
                if slot.holder.data is slot.traced:
                    slot.holder.data = slot.original
                grad = slot.tensor.grad
                if grad is not None and isinstance(grad.data, Traced):  # (made in the step)
                    grad.data = grad.data.view(np.ndarray)
        outputs.finish()
        start.update(tape.starts)  # each generator drawn from: its state before the draws
        for place in generators:
            place.var = tape.generator_vars.get(id(place.rng))
        self.recordings += 1
        title = getattr(step, "__name__", "step")
        program = codegen.generate(tape, outputs.returned, outputs.kept, title)
        fingerprint = _fingerprint(program)
        settled = fingerprint == self.previous
        if not settled and self.recordings >= MAX_RECORDINGS:
            raise CompileError(
                f"compile: {self.compiled.__name__} recorded a different program at each of "
                f"its first {self.recordings} calls, so there is no one program to replay: the "
                f"step depends on Python values that change between calls (a step counter kept "
                f"as a Python number, a factor computed in Python, an array read in the step "
                f"without being passed as a Tensor). Each call ran the step eagerly; keep it "
                f"uncompiled, or pass what changes as Tensor arguments.\n"
                f"{_first_difference(self.previous, fingerprint)}"
            )
        self.previous = fingerprint
        self.source = program.source
        if settled:
            namespace = _load(program)
            self.check(program, namespace, start)
            after, env = self.effects(program, namespace, outputs, versions)
            self.fast, self.method, self.state = fastpath.build(
                program,
                namespace,
                slots,
                self.arguments,
                self.compiled.signature,
                after,
                env,
                outputs.structure,
                self.settings,
                [place for place in generators if place.var is not None],
            )
            self.generators = [p for p in generators if p.var is not None]
            self.compiled._use(self)
            for slot in self.state:  # what the guards need, not the recording's arrays
                slot.forget_recording()
        return result

    def effects(
        self,
        program: codegen.Program,
        namespace: dict[str, Any],
        outputs: _Outputs,
        versions: list[tuple[Tensor, int]],
    ) -> tuple[list[str], dict[str, Any]]:
        """Lines of the fast path that do what the step does besides changing arrays:
        date the changes of its in-place updates (``mark_changed``), set each ``.grad``."""
        env: dict[str, Any] = {}
        lines = []
        changed = []
        for j, (tensor, before) in enumerate(versions):
            if tensor._version != before:
                env[f"T{j}"] = tensor
                changed.append(f"T{j}")
        if changed:
            lines.append(f"mark_changed({', '.join(changed)})")
        names = fastpath.results(program)
        for j, (tensor, var) in enumerate(outputs.grads):
            env[f"G{j}"] = tensor
            where = None if var is None else program.kept[var]
            if where is None:
                lines.append(f"G{j}.grad = None")
            elif isinstance(where, int):
                lines.append(f"G{j}.grad = from_array({names[where]})")
            else:  # a buffer of the program: one Tensor holds it for good
                env[f"H{j}"] = from_array(eval(where, namespace))
                lines.append(f"G{j}.grad = H{j}")
        return lines, env

    def check(
        self, program: codegen.Program, namespace: dict[str, Any], start: dict[Var, Any]
    ) -> None:
        """Run the program once on copies of the recording's starting arrays and compare
        everything it makes and changes with what the eager step made, bit for bit.

        A generator it draws from is put back in the state it had before the recording
        drew, so that the program draws the same numbers, and then in the state the
        recording left it in: the check consumes no draws of the training."""
        arrays = [
            v.source
            if v.kind == "generator"
            else (start[v] if v.kind == "input" else v.snapshot).copy()  # type: ignore[union-attr]
            for v in program.parameters
        ]
        generators = [v for v in program.parameters if v.kind == "generator"]
        after = [state_of(v.source) for v in generators]
        for var in generators:
            set_state(var.source, start[var])
        try:
            with np.errstate(all="ignore"):
                result = namespace[program.function](*arrays)
            same = all(same_state(state_of(v.source), s) for v, s in zip(generators, after))
        finally:
            for var, state in zip(generators, after):
                set_state(var.source, state)
        if not same:
            raise AssertionError(
                f"compile: the program written for {self.compiled.__name__} does not draw from "
                f"its generators as the eager step did; this is a bug in tinygrad_lite.compile. "
                f"The program:\n{program.source}"
            )
        returned = result if len(program.returned) > 1 else (result,)
        pairs = list(zip(returned, [v.array for v in program.returned]))
        for var, where in program.kept.items():
            mine = returned[where] if isinstance(where, int) else eval(where, namespace)
            pairs.append((mine, var.array))
        for var, array in zip(program.parameters, arrays):
            if var in program.written:
                pairs.append((array, var.source))
        for mine, eager in pairs:
            a, b = np.asarray(mine), np.asarray(eager)
            if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
                raise AssertionError(
                    f"compile: the program written for {self.compiled.__name__} does not "
                    f"reproduce the eager step (an array of shape {b.shape} differs); this is "
                    f"a bug in tinygrad_lite.compile. The program:\n{program.source}"
                )

    def check_state(self) -> bool:
        """Raise if a parameter the program reads was replaced or changed shape or dtype;
        False if the step must be recorded again: a .grad the program reads is None, or a
        setting it took as given changed (an optimizer's lr, a parameter's requires_grad)."""
        for owner, attr, value, _ in self.settings:
            now = getattr(owner, attr, None)
            if type(now) is not type(value) or now != value:
                return False
        for place in self.generators:  # another generator put in its place
            if place.owner is not None and place.held() is not place.rng:
                return False
        for slot in self.state:
            var = slot.recorded
            if not slot.parameter and not slot.grad and slot.owner is not None:
                # Data found in an object: another tensor there is read, of its own shape.
                now = slot.held()
                if not isinstance(now, Tensor) or _shape_dtype(now) != (var.shape, var.dtype):
                    return False
                continue
            if slot.owner is not None and slot.held() is not slot.tensor:
                raise CompileError(
                    f"compile: {slot.name} is no longer the Tensor {self.compiled.__name__} "
                    f"was compiled with (another Tensor was put in its place), and the program "
                    f"would go on training the old one; compile the step again (step.reset())"
                )
            array = slot.array()
            if array is None:
                return False
            shape, dtype = np.shape(array), np.asarray(array).dtype
            if shape != var.shape or dtype != var.dtype:
                raise CompileError(
                    f"compile: {slot.name} has shape {shape} and dtype {dtype} now, but had "
                    f"{var.shape} and {var.dtype} when {self.compiled.__name__} was compiled; "
                    f"compile the step again for the new parameters (step.reset())"
                )
        return True


class _Outputs:
    """What the recorded run hands back: returned values, and the gradients it set."""

    def __init__(self, tape: Tape, slots: list[Slot], result: Any) -> None:
        self.tape = tape
        self.result = result
        self.returned: list[Var] = []
        self.structure = self._flatten(result)
        self.kept: list[Var] = []
        self.grads: list[tuple[Tensor, Var | None]] = []  # (tensor, its .grad's Var or None)
        tensors = {id(s.tensor): s.tensor for s in slots}
        tensors.update(tape.leaves)  # leaves the walk did not find, seen by the op hooks
        for tensor in tensors.values():
            grad = tensor.grad
            if grad is not None and tape.owns(grad.data):
                self.grads.append((tensor, tape.var_of(grad.data)))
                self.kept.append(tape.var_of(grad.data))
            elif grad is None and any(s.tensor is tensor and s.grad for s in slots):
                self.grads.append((tensor, None))  # the step set its .grad to None
        for slot in slots:
            if not slot.grad and slot.tensor.data is not slot.traced:
                raise UnsupportedError(
                    f"compile: the step replaced the array of {slot.name} (tensor.data = ...); "
                    f"a compiled step may change arrays only in place (as optimizers do)"
                )

    def _flatten(self, value: Any) -> Any:
        """The returned structure (see fastpath.returns), each array put in returned."""
        if isinstance(value, Tensor):
            data = value.data
            owned = self.tape.owns(data)
            var = self.tape.var_of(data) if owned else self.tape.capture(np.asarray(data))
            if var not in self.returned:
                self.returned.append(var)
            return ("tensor", self.returned.index(var))
        if isinstance(value, (tuple, list)):
            return (type(value), [self._flatten(v) for v in value])
        if value is None or isinstance(value, (bool, int, float, str)):
            return ("constant", value)
        raise UnsupportedError(
            f"compile: the step returned {type(value).__name__}; a compiled step returns None, "
            f"Tensors, numbers, strings, or tuples and lists of them"
        )

    def finish(self) -> None:
        """After the recording: the arrays handed out are plain ndarrays again."""
        for tensor, var in self.grads:
            if var is not None and tensor.grad is not None:
                tensor.grad.data = tensor.grad.data.view(np.ndarray)
        _plain_tensors(self.result)


def _shape_dtype(tensor: Tensor) -> tuple[tuple[int, ...], np.dtype]:
    return np.shape(tensor.data), np.asarray(tensor.data).dtype


def _plain_tensors(value: Any) -> None:
    if isinstance(value, Tensor) and isinstance(value.data, np.ndarray):
        value.data = value.data.view(np.ndarray)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _plain_tensors(v)


# ------------------------------------------------------------------------ discovery


def _discover(
    step: Callable[..., Any], arguments: list[tuple[str, Any]]
) -> tuple[list[Slot], list[Setting], list[GeneratorSlot]]:
    """Every Tensor the step can reach, named by the path to it: its arguments first, then
    the modules, tensors and objects in ``self``, its closure and the globals it names
    (and those of the functions it names), then the optimizers, whose parameters are
    usually a module's and so get the module's names; and every numpy random generator
    on the way (a Dropout's)."""
    found: list[Slot] = []
    generators: list[GeneratorSlot] = []
    modes: list[Setting] = []  # each module's training flag (Dropout reads it)
    seen: set[int] = set()
    optimizers: list[tuple[Any, str]] = []
    budget = [_WALK_LIMIT]

    def visit(value: Any, name: str, owner: Any = None, key: Any = None, depth: int = 0) -> None:
        if id(value) in seen or budget[0] <= 0 or depth > 8:
            return
        if isinstance(value, Tensor):
            seen.add(id(value))
            if type(value.data) is np.ndarray:
                found.append(Slot(value, False, name, owner, key))
                if depth == 0 and owner is None:
                    found[-1].argument = name
            if value.grad is not None and type(value.grad.data) is np.ndarray:
                found.append(Slot(value, True, f"{name}.grad", None, None))
            return
        if isinstance(value, (np.random.Generator, np.random.RandomState)):
            seen.add(id(value))
            generators.append(GeneratorSlot(value, _identifier(name), owner, key))
            return
        if value is None or isinstance(
            value,
            (str, bytes, int, float, complex, np.ndarray, np.generic, type, types.ModuleType),
        ):
            return
        if isinstance(value, CompiledStep):
            return
        if isinstance(value, Optimizer):
            optimizers.append((value, name))
            return
        seen.add(id(value))
        budget[0] -= 1
        if isinstance(value, Module):
            modes.append((value, "training", value.training, f"{_identifier(name)}.training"))
            for attr, v in value._attributes():
                visit(v, f"{name}.{attr}", value, ("attr", attr), depth + 1)
        elif isinstance(value, (list, tuple)):
            holder = value if isinstance(value, list) else None  # a tuple cannot change
            for i, v in enumerate(value):
                visit(v, f"{name}.{i}", holder, ("item", i), depth + 1)
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(k, str):
                    visit(v, f"{name}.{k}", value, ("item", k), depth + 1)
        elif isinstance(value, types.MethodType):
            visit(value.__self__, "self", depth=depth)
            visit(value.__func__, name, depth=depth)
        elif isinstance(value, functools.partial):
            for i, v in enumerate(value.args):
                visit(v, f"{name}.{i}", None, None, depth + 1)
            for k, v in value.keywords.items():
                visit(v, f"{name}.{k}", value.keywords, ("item", k), depth + 1)
            visit(value.func, name, depth=depth)
        elif isinstance(value, types.FunctionType):
            # The step itself, and the user's functions it names (not a library's).
            module = (value.__module__ or "").partition(".")[0]
            if depth == 0 or module not in ("tinygrad_lite", "numpy"):
                _visit_function(value, visit, depth)
        elif isinstance(getattr(value, "__dict__", None), dict):
            for attr, v in vars(value).items():
                visit(v, f"{name}.{attr}", value, ("attr", attr), depth + 1)

    for name, value in arguments:
        visit(value, name)
    visit(step, getattr(step, "__name__", "step"))
    settings: list[Setting] = modes
    for optimizer, name in optimizers:
        seen.add(id(optimizer))
        for attr, v in vars(optimizer).items():
            if _is_setting(v):  # lr, momentum, betas: a schedule may change them
                settings.append((optimizer, attr, v, f"{name}.{attr}"))
            visit(v, f"{name}.{attr}", optimizer, ("attr", attr), 1)
    for slot in found:
        slot.name = _identifier(slot.name)
    return found, settings, generators


Setting = tuple[Any, str, Any, str]  # (object, attribute, its value, a name for messages)


def _is_setting(value: Any) -> bool:
    """A number (or a tuple of numbers) the step may read as a constant of the program."""
    if isinstance(value, tuple):
        return bool(value) and all(_is_setting(v) for v in value)
    return isinstance(value, (bool, int, float))


def _visit_function(function: types.FunctionType, visit: Callable[..., None], depth: int) -> None:
    """Walk what a function reads: its closure, and the globals its code names."""
    cells = zip(function.__code__.co_freevars, function.__closure__ or ())
    for var_name, cell in cells:
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        visit(contents, var_name, depth=depth + 1)
    for name in _global_names(function.__code__):
        if name in function.__globals__:
            value = function.__globals__[name]
            visit(value, name, function.__globals__, ("item", name), depth + 1)


def _global_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # a comprehension or a nested function
            names += _global_names(const)
    return names


def _identifier(path: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in path)
    return name if name and not name[0].isdigit() else f"t{name}"


# ------------------------------------------------------------------------ arguments


def _arguments(bound: inspect.BoundArguments) -> list[tuple[str, Any]]:
    """(expression in the fast path, value) for every argument of a call."""
    found = []
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            found += [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        elif kind is inspect.Parameter.VAR_KEYWORD:
            found += [(f"{name}[{k!r}]", v) for k, v in value.items()]
        else:
            found.append((name, value))
    return found


def _key(arguments: list[tuple[str, Any]]) -> tuple[Any, ...]:
    """What picks a program: each argument's type, and shape and dtype (a Tensor) or
    value (anything else), and which Tensor arguments are the same object."""
    described = tuple(_describe(name, value) for name, value in arguments)
    tensors = [value for _, value in arguments if isinstance(value, Tensor)]
    same = tuple(next(i for i, t in enumerate(tensors) if t is x) for x in tensors)
    return (*described, same)


def _describe(name: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        data = value.data
        return (name, type(value), np.shape(data), np.asarray(data).dtype, value.requires_grad)
    if value is None or isinstance(value, (bool, int, float, str)):
        return (name, type(value), value)
    accepted = "Tensors, numbers, strings or None"
    if isinstance(value, np.ndarray):
        raise TypeError(
            f"compile: argument {name} is a numpy array; pass it as a Tensor (Tensor(array)), "
            f"so that the program reads it at every call (accepted: {accepted})"
        )
    hint = ""
    if name == "self":
        hint = (
            "; to compile a method, compile it bound to its object: step = tl.compile(trainer.step)"
        )
    raise TypeError(
        f"compile: argument {name} is {type(value).__name__}; a compiled step takes "
        f"{accepted}{hint}"
    )


# -------------------------------------------------------------------------- program


def _fingerprint(program: codegen.Program) -> tuple[Any, ...]:
    """What must be equal for two recordings to be one program: the source, and the
    arrays it reads by identity (the same objects for those it changes, such as a
    momentum buffer; the same values for large constants)."""
    bound: list[tuple[str, Any]] = []
    for var in program.parameters:
        if var.kind not in ("captured", "generator"):
            continue
        if var in program.written or var.kind == "generator":
            bound.append(("object", id(var.source)))
        else:
            values = np.ascontiguousarray(var.snapshot).tobytes()
            bound.append(("values", hashlib.sha256(values).hexdigest()))
    return (program.source, tuple(bound))


def _first_difference(before: Any, after: tuple[Any, ...]) -> str:
    if before is None:
        return ""
    old, new = before[0].splitlines(), after[0].splitlines()
    for a, b in zip(old, new):
        if a != b:
            return f"First difference:\n  before: {a.strip()}\n  now:    {b.strip()}"
    if len(old) != len(new):
        return f"The program has {len(new)} lines now, {len(old)} before."
    return "The programs read different arrays (a state array replaced rather than updated)."


def _load(program: codegen.Program) -> dict[str, Any]:
    """Execute the program's source in a fresh namespace (its lines show in tracebacks)."""
    filename = f"<tinygrad_lite.compile {program.function} {id(program):x}>"
    lines = program.source.splitlines(keepends=True)
    linecache.cache[filename] = (len(program.source), None, lines, filename)
    namespace: dict[str, Any] = {"__name__": "tinygrad_lite.compiled"}
    exec(builtins.compile(program.source, filename, "exec"), namespace)
    return namespace
