"""The fast path of a compiled step: guards, then the program, then results as the step.

It is generated, like the program, with the step's own signature, so that a call costs a
few attribute reads and comparisons rather than a loop over the arrays (a step of the
seed's single neuron is about 15 small numpy calls, 5 us in all). For the XOR net:

    def fast(X, y):
        if thread_mode.observers or not thread_mode.enabled or X.__class__ is not K0 ...:
            return MISS
        a0 = X.data
        ...
        if a0 is not La0 or ...:          # arrays not those of the last call: check them
            if (a0.shape, a0.dtype, ...) != SHAPES: return MISS
            La0, ... = a0, ...
        if O2.weight is not P2 or ...: return MISS   # the parameter is still the model's
        r = run(a0, a1, a2, a3)           # under numpy's error state "ignore"
        mark_changed(P2, ...)             # what the optimizer's in-place update dates
        G0.grad = H0 ...                  # the tensors holding the gradient buffers
        return from_array(r)

``MISS`` sends the call back to the step's dispatcher (step.py), which records again
or refuses. The same body is also made into the step's ``__call__``, where a failed guard
calls the dispatcher directly.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_lite.compile.codegen import Program
from tinygrad_lite.hooks import (
    QUIET,
    from_array,
    mark_changed,
    reset_numpy_state,
    set_numpy_state,
    thread_mode,
)
from tinygrad_lite.tensor import Tensor

MISS = object()  # what the fast path returns when a guard fails


class Slot:
    """A place where an input of the program lives: a Tensor's ``.data``, or the
    ``.data`` of its ``.grad``; found by its path (``model.0.weight``)."""

    def __init__(self, tensor: Tensor, grad: bool, name: str, owner: Any, key: Any) -> None:
        self.tensor = tensor
        self.grad = grad
        self.holder: Tensor = tensor.grad if grad else tensor  # type: ignore[assignment]
        self.name = name
        self.owner = owner  # the object holding the tensor (a Module, a list), or None
        self.key = key  # where in the owner: ("attr", name) or ("item", index)
        self.argument: str | None = None  # the argument's name, if the tensor is one
        # A parameter: a leaf that requires grad (the rest is data, or a constant).
        self.parameter = tensor.requires_grad and tensor.is_leaf
        self.original: np.ndarray = self.holder.data
        self.traced: Any = None  # the Traced view put in its place while recording
        self.var: Any = None  # the tape's Var for it
        self.recorded: Any = None  # its shape and dtype when recorded (.shape, .dtype)

    def forget_recording(self) -> None:
        """Keep the recorded shape and dtype; let the recording's arrays go."""
        self.recorded = _Recorded(self.var.shape, self.var.dtype)
        self.traced = self.var = None

    def array(self) -> Any:
        """The array the place holds now (None: the tensor has no .grad)."""
        if self.grad:
            grad = self.tensor.grad
            return None if grad is None else grad.data
        return self.tensor.data

    def held(self) -> Any:
        """What the owner holds where the tensor was found (to see if it was replaced)."""
        return _held(self.owner, self.key)


class GeneratorSlot:
    """A place where a numpy random generator lives (``model.1.rng``: Dropout's), found as
    tensors are. A program that draws from it takes the generator itself, and the fast path
    checks that the place still holds it (another generator there: recorded again)."""

    def __init__(self, rng: Any, name: str, owner: Any, key: Any) -> None:
        self.rng = rng
        self.name = name
        self.owner = owner  # None: held where nothing can replace it (a closure's cell)
        self.key = key
        self.var: Any = None  # the tape's Var for it, once a recorded draw used it

    def held(self) -> Any:
        return _held(self.owner, self.key)


def _held(owner: Any, where: Any) -> Any:
    kind, key = where
    if kind == "attr":
        return getattr(owner, key, None)
    try:
        return owner[key]
    except (IndexError, KeyError, TypeError):
        return None


class _Recorded:
    """A slot's shape and dtype when it was recorded."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype


def build(
    program: Program,
    namespace: dict[str, Any],
    slots: list[Slot],
    arguments: list[tuple[str, Any]],
    signature: inspect.Signature,
    after: list[str],
    env: dict[str, Any],
    structure: Any,
    settings: list[tuple[Any, str, Any, str]],
    generators: list[GeneratorSlot],
) -> tuple[Callable[..., Any], Callable[..., Any], list[Slot]]:
    """The fast path for ``program`` (see the module docstring): ``fast(*args)``, which
    returns MISS when a guard fails, the same as a method that dispatches instead, and the
    slots of parameters it reads (not arguments), for the dispatcher's own checks.

    ``after``: lines that set the step's effects besides the arrays (versions, ``.grad``),
    with the names they use in ``env``; ``structure``: what the step returned (see
    ``returns``); ``settings``: (object, attribute, value, name) the program took as
    given (an optimizer's lr, a parameter's requires_grad), checked to be still so;
    ``generators``: the places of the generators the program draws from.

    The slots it returns are those of tensors that are not arguments: the parameters (the
    dispatcher checks they are still their modules') and data found in objects.
    """
    env.update(
        MISS=MISS,
        thread_mode=thread_mode,
        from_array=from_array,
        mark_changed=mark_changed,
        run=namespace[program.function],
        QUIET=QUIET,
        set_numpy_state=set_numpy_state,
        reset_numpy_state=reset_numpy_state,
    )
    guards = ["thread_mode.observers", "not thread_mode.enabled"]
    for i, (expression, value) in enumerate(arguments):
        env[f"K{i}"] = type(value)
        guards.append(f"{expression}.__class__ is not K{i}")
        if isinstance(value, Tensor):
            guards.append(f"{expression}.requires_grad is not {value.requires_grad}")
        else:
            env[f"V{i}"] = value
            guards.append(f"{expression} != V{i}")
    tensors = [(e, v) for e, v in arguments if isinstance(v, Tensor)]
    for i, (a, x) in enumerate(tensors):
        for b, y in tensors[i + 1 :]:
            guards.append(f"{a} {'is not' if x is y else 'is'} {b}")
    body = [f"if {' or '.join(guards)}: return {{miss}}"]
    by_var = {slot.var: slot for slot in slots}
    generator_at = {place.var: place for place in generators}
    state: list[Slot] = []
    arrays: list[str] = []
    described: list[Any] = []
    held: list[str] = []  # expressions that must still give the values in HELD
    expected: list[Any] = []
    reads = []
    for n, var in enumerate(program.parameters):
        if var.kind == "captured":  # an optimizer's state, a large constant: by identity
            arrays.append(env_name(env, f"C{n}", var.source.view(np.ndarray)))
            continue
        if var.kind == "generator":  # by identity, still held where it was found
            place = generator_at[var]
            arrays.append(env_name(env, f"C{n}", place.rng))
            if place.owner is not None:
                held.append(_path(env, n, place))
                expected.append(place.rng)
            continue
        slot = by_var[var]
        if slot.argument is not None:
            holder = slot.argument
        elif slot.parameter or slot.owner is None:
            # A parameter, held: it must still be the one its module (or list) holds.
            holder = env_name(env, f"P{n}", slot.tensor)
            state.append(slot)
            if slot.owner is not None:
                held.append(_path(env, n, slot))
                expected.append(slot.tensor)
        else:
            # A tensor of data found in an object (trainer.inputs): read where it is now,
            # so that a new one put there (the next batch) is what the program reads.
            holder = _path(env, n, slot)
            state.append(slot)
        if slot.grad:
            reads.append(f"if {holder}.grad is None: return {{miss}}")
        reads.append(f"a{n} = {holder}.grad.data" if slot.grad else f"a{n} = {holder}.data")
        arrays.append(f"a{n}")
        described += [var.shape, var.dtype]
    for j, (owner, attr, value, _) in enumerate(settings):
        held.append(f"{env_name(env, f'S{j}', owner)}.{attr}")
        expected.append(value)
    if held:
        # One tuple compare: it tries identity first, so this costs a few attribute reads.
        env["HELD"] = tuple(expected)
        reads.insert(0, f"if ({', '.join(held)},) != HELD: return {{miss}}")
    read = [a for a in arrays if not a.startswith("C")]
    if read:
        # Shapes and dtypes are checked when an array is not the one of the last call: an
        # array keeps its shape, and the last ones are held, so no other array can be them.
        env["SHAPES"] = tuple(described)
        last = [f"L{a}" for a in read]
        env.update(dict.fromkeys(last))
        body.insert(0, f"global {', '.join(last)}")
        reads.append(f"if {' or '.join(f'{a} is not L{a}' for a in read)}:")
        shapes = ", ".join(f"{a}.shape, {a}.dtype" for a in read)
        reads.append(f"    if ({shapes},) != SHAPES: return {{miss}}")
        reads.append(f"    {', '.join(last)} = {', '.join(read)}")
    if reads:
        # An object that no longer holds what it held (a list shorter, an attribute gone)
        # goes back to the dispatcher, which says what changed.
        body += ["try:", *(f"    {line}" for line in reads)]
        body += ["except (AttributeError, LookupError):", "    return {miss}"]
    call = f"run({', '.join(arrays)})"
    body += [
        "if thread_mode.quiet:",
        f"    r = {call}",
        "else:  # numpy's floating-point warnings off for the call, as fp_quiet does",
        "    token = set_numpy_state(QUIET)",
        "    try:",
        f"        r = {call}",
        "    finally:",
        "        reset_numpy_state(token)",
        *after,
        f"return {returns(structure, results(program), env)}",
    ]
    parameters, passed = _signature(signature, env)
    lines = "".join(f"    {line}\n" for line in body)
    source = (
        f"def fast({parameters}):\n{lines.format(miss='MISS')}\n"
        f"def method(self, {parameters}):\n{lines.format(miss=f'self._dispatch({passed})')}"
    )
    env["__source__"] = source
    exec(
        builtins.compile(source, f"<tinygrad_lite.compile {program.function} fast path>", "exec"),
        env,
    )
    return env["fast"], env["method"], state


def _path(env: dict[str, Any], n: int, slot: Slot | GeneratorSlot) -> str:
    """Where a slot's tensor is found in its owner: ``O2.weight``, ``O2[0]``."""
    owner = env_name(env, f"O{n}", slot.owner)
    kind, key = slot.key
    return f"{owner}.{key}" if kind == "attr" else f"{owner}[{key!r}]"


def env_name(env: dict[str, Any], name: str, value: Any) -> str:
    env[name] = value
    return name


def results(program: Program) -> list[str]:
    """How the fast path names the program's returned values."""
    if len(program.returned) == 1:
        return ["r"]
    return [f"r[{i}]" for i in range(len(program.returned))]


def returns(structure: Any, names: list[str], env: dict[str, Any]) -> str:
    """The expression that rebuilds what the step returned: ``("tensor", i)`` is a fresh
    Tensor of the i-th returned array, ``("constant", value)`` a value it returned as is,
    and (tuple or list, [...]) a container of those."""
    kind, value = structure
    if kind == "tensor":
        return f"from_array({names[value]})"
    if kind == "constant":
        return env_name(env, f"R{len(env)}", value)
    inner = ", ".join(returns(s, names, env) for s in value)
    if kind is tuple:
        return f"({inner}{',' if len(value) == 1 else ''})"
    return f"[{inner}]"


def _signature(signature: inspect.Signature, env: dict[str, Any]) -> tuple[str, str]:
    """The step's parameter list (defaults taken from ``env``), and the arguments that
    hand the parameters on to ``_dispatch(args, kwargs)``."""
    kinds = inspect.Parameter
    parameters: list[str] = []
    positional: list[str] = []
    keyword: list[str] = []
    previous = None
    for i, parameter in enumerate(signature.parameters.values()):
        name, kind = parameter.name, parameter.kind
        if previous is kinds.POSITIONAL_ONLY and kind is not kinds.POSITIONAL_ONLY:
            parameters.append("/")
        if kind is kinds.KEYWORD_ONLY and previous not in (kind, kinds.VAR_POSITIONAL):
            parameters.append("*")
        text = name
        if kind is kinds.VAR_POSITIONAL:
            text = f"*{name}"
        elif kind is kinds.VAR_KEYWORD:
            text = f"**{name}"
        if parameter.default is not inspect.Parameter.empty:
            text += f"={env_name(env, f'DEFAULT{i}', parameter.default)}"
        parameters.append(text)
        if kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD):
            positional.append(name)
        elif kind is kinds.VAR_POSITIONAL:
            positional.append(f"*{name}")
        elif kind is kinds.KEYWORD_ONLY:
            keyword.append(f"{name!r}: {name}")
        else:
            keyword.append(f"**{name}")
        previous = kind
    if previous is kinds.POSITIONAL_ONLY:
        parameters.append("/")
    args = f"({', '.join(positional)}{',' if len(positional) == 1 else ''})"
    return ", ".join(parameters), f"{args}, {{{', '.join(keyword)}}}"
