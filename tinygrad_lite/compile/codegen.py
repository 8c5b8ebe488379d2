"""From a tape to a program: the recorded numpy calls as a readable Python module.

The calls left by the passes (passes.py) are written out in the order they ran, one numpy
call a line, under a comment naming the op each came from (the forward or backward part
of its docstring). Every temporary gets a buffer, allocated once at the top of the module
with the memory layout the eager result had, and is written with ``out=``; an elementwise
call writes into the buffer of an intermediate that dies there (the four calls of a
sigmoid share one). A value the step returns is made fresh at each call instead, as the
eager step makes it, since the caller may keep it.

Names come from the step: the parameters by their path (``model_0_weight``), each op's
output by its op (``sigmoid1``), a gradient after its value (``d_sigmoid1``).
"""

from __future__ import annotations

import keyword
import math
import textwrap
from typing import Any

import numpy as np

from tinygrad_lite.compile import passes
from tinygrad_lite.compile.passes import elementwise, reads
from tinygrad_lite.compile.tape import Call, Scalar, Tape, Var

# Binary ufuncs written as augmented assignment when they update a parameter (w -= d_w).
AUGMENTED = {"add": "+=", "subtract": "-=", "multiply": "*=", "divide": "/=", "power": "**="}
# ndarray methods that take out= (reductions), written ``x.mean(..., out=buffer)``.
OUT_METHODS = ("sum", "max", "min", "prod", "mean", "any", "all")
# numpy functions that write into out= (a C-contiguous buffer, as np.empty makes): the
# matrix product of 2-D operands, which the ops compute with ndarray.dot (numpy's dot).
OUT_FUNCTIONS = (np.dot,)
# Those that are one ufunc reduction: ndarray.sum(x, ...) is np.add.reduce(x, ...) behind a
# wrapper in Python, so the program calls the reduction itself, the same call.
REDUCTIONS = {
    "sum": "add",
    "max": "maximum",
    "min": "minimum",
    "prod": "multiply",
    "any": "logical_or",
    "all": "logical_and",
}
LINE = 100  # characters: the program is written as ruff formats it, with this line length
SMALL_CONSTANT = 64  # elements: a constant up to this size is written out in the module
# elements (128 KiB of float64): from this size on, fewer buffers keep more of a step's
# data in the caches (W3's step takes 3% less time), and a value with a name may take over
# another's buffer; below it, each named value keeps a buffer of its own, easier to read.
LARGE = 16_384
SCALAR_NAMES = {1.0: "one", 0.5: "half", 2.0: "two", 0.0: "zero", -1.0: "minus_one"}


class Program:
    """A compiled step: its source, and what the caller needs to run it.

    ``parameters``: the Vars the function takes, in order (inputs, then captured arrays it
    changes in place or that are too large to write out). ``returned``: the Vars it
    returns, each a fresh array at every call. ``kept``: for each Var asked to be kept (a
    gradient the caller reads after the call), the expression of the buffer that holds it
    in the module's namespace, or an int: its position among the returned values.
    ``written``: the Vars of ``parameters`` it changes in place.
    """

    def __init__(self, function: str) -> None:
        self.function = function
        self.source = ""
        self.parameters: list[Var] = []
        self.returned: list[Var] = []
        self.kept: dict[Var, str | int] = {}
        self.written: set[Var] = set()


def generate(
    tape: Tape, returned: list[Var], kept: list[Var], title: str, function: str = "step"
) -> Program:
    """The program of ``tape``: ``returned`` come back fresh, ``kept`` stay in buffers."""
    rewritten = passes.optimize(tape.calls, returned, kept)
    return _Writer(tape, rewritten, returned, kept, title, function).write()


class _Buffer:
    """Memory allocated once; holds one Var after another (an in-place chain)."""

    def __init__(self) -> None:
        self.vars: list[Var] = []
        self.name = ""
        self.phase = ""  # of the call that wrote the last value in it


class _Writer:
    def __init__(
        self,
        tape: Tape,
        rewritten: passes.Rewritten,
        returned: list[Var],
        kept: list[Var],
        title: str,
        function: str,
    ) -> None:
        self.tape = tape
        self.live = rewritten.live()
        self.resolve = rewritten.resolve
        self.program = Program(function)
        self.title = title
        self.asked = kept
        kept = [self.resolve(v) for v in kept]
        self.returned = list(returned)
        self.buffers: list[_Buffer] = []
        self.buffer: dict[Var, _Buffer] = {}
        # Results numpy allocates at each call, in the order the step made them (a dict, not
        # a set: their names must not depend on the order of ids, or two recordings of the
        # same step could name them differently).
        self.fresh: dict[Var, None] = {}
        self.plan_buffers(kept)
        # A kept Var without a buffer of its own (an input, a view of one, a value that is
        # also returned) is returned as well.
        self.in_buffer = {v for v in kept if v in self.buffer and v not in self.returned}
        self.returned += [v for v in dict.fromkeys(kept) if v not in self.in_buffer]
        self.returned = list(dict.fromkeys(self.returned))

    # ---------------------------------------------------------------- buffers

    def plan_buffers(self, kept: list[Var]) -> None:
        """A buffer for every result a live call makes (unless the caller gets it fresh);
        an elementwise call reuses the buffer of an intermediate that dies there."""
        last_use: dict[Var, int] = {}
        for i, call in enumerate(self.live):
            for var in reads(call):
                last_use[var.root] = i
        for var in kept:
            last_use[var.root] = len(self.live)  # read by the caller after the program
        for i, call in enumerate(self.live):
            target = call.target
            if not call.creates or call.kind == "view":
                continue
            takes_out = call.kind not in ("function", "draw") or call.op in OUT_FUNCTIONS
            if target in self.returned or not takes_out or _layout(target) is None:
                self.fresh[target] = None
                continue
            buffer = self.dying_operand(i, call, last_use) if elementwise(call) else None
            if buffer is None:
                buffer = _Buffer()
                self.buffers.append(buffer)
            buffer.vars.append(target)
            buffer.phase = call.phase
            self.buffer[target] = buffer

    def dying_operand(self, i: int, call: Call, last_use: dict[Var, int]) -> _Buffer | None:
        """The buffer of an operand whose last use is this call, if the result may take it
        over. A buffer bears the name of the last named value it holds. An intermediate
        without a name takes over only a buffer of intermediates, so that a name never
        stands for what is computed after it. A value with a name (sigmoid1) takes over a
        buffer of intermediates (the exp and the add of its sigmoid), and, if it is large,
        one of a named value of the same phase (forward, backward): the lines before then
        read as that value computed in place (add1: the matmul, then the bias added)."""
        target = call.target
        for a in call.args:
            buffer = self.buffer.get(a) if isinstance(a, Var) else None
            if (
                buffer is not None
                and buffer.vars[-1] is a
                and last_use.get(a) == i
                and passes.same_layout(a, target)
                and a.dtype == target.dtype
                and (
                    not any(_named(v) for v in buffer.vars)
                    or (
                        _named(target)
                        and buffer.phase == call.phase
                        and int(np.prod(target.shape)) >= LARGE
                    )
                )
            ):
                return buffer
        return None

    # ----------------------------------------------------------------- source

    def write(self) -> Program:
        program = self.program
        imports = sorted({name for call in self.live for name in self.imports(call)})
        names = _Names({c.target: c for c in self.live if c.kind == "view"}, imports)
        used = {v.root for call in self.live for v in [*reads(call), call.target]}
        used.update(v.root for v in self.returned)
        used.update(self.resolve(v).root for v in self.asked)
        constants = self.name_inputs(names, used)
        # The step's results first (a returned loss is "loss"), then the buffers, then the
        # other fresh values, in the order the step made them.
        results = [var for var in self.fresh if var in self.returned]
        for var in results:
            loss = self.returned == [var] and var.shape == ()
            names.var(var, "loss" if loss else (_hint(var) or "out"))
        for buffer in self.buffers:
            names.buffer(buffer)
        for var in self.fresh:
            if var not in self.returned:
                names.var(var, _hint(var) or "out")
        body = self.body(names)
        program.returned = self.returned
        for var in self.asked:
            resolved = self.resolve(var)
            if resolved in self.in_buffer:
                program.kept[var] = names.expr(resolved)
            else:
                program.kept[var] = self.returned.index(resolved)
        program.written = {c.target.root for c in self.live if not c.creates} & set(
            program.parameters
        )
        signature = ", ".join(names.expr(v) for v in program.parameters)
        written = [names.expr(v) for v in program.parameters if v in program.written]
        about = (
            f"{program.function}({signature}) runs it on numpy arrays and changes "
            f"{', '.join(written) or 'none of them'} in place. Every temporary lives in a "
            f"buffer allocated once, below, and is written with out=."
        )
        header = [
            f'"""{self.title}, compiled by tinygrad_lite: one training step as straight-line '
            "numpy.",
            "",
            *textwrap.wrap(about, 88),
            '"""',
            "",
            "import numpy as np",
            *_from_numpy(imports),
            "",
        ]
        if names.scalars or constants:
            header.append("# constants")
            header += [f"{name} = {_scalar(s)}" for name, s in names.scalars.values()]
            header += constants
            header.append("")
        if self.buffers:
            header.append("# buffers, allocated once")
            header += [f"{b.name} = {_allocation(b.vars[0])}" for b in self.buffers]
            header.append("")
        definition = _definition(program.function, signature)
        program.source = "\n".join([*header, "", *definition, *body]) + "\n"
        return program

    def name_inputs(self, names: _Names, used: set[Var]) -> list[str]:
        """Name the program's parameters (inputs, then captured arrays it changes or that
        are large, then the generators it draws from) and the constants written into the
        module; returns those lines."""
        mutated = {c.target.root for c in self.live if not c.creates}
        constants: list[str] = []
        captured: list[Var] = []
        generators: list[Var] = []
        for var in self.tape.vars:
            if var not in used:
                continue
            if var.kind == "input":
                names.var(var, var.hint)
                self.program.parameters.append(var)
            elif var.kind == "captured" and (var in mutated or var.array.size > SMALL_CONSTANT):
                names.var(var, var.hint or ("state" if var in mutated else "const"))
                captured.append(var)
            elif var.kind == "captured":
                constants += _array(names.var(var, var.hint or "const"), var.array)
            elif var.kind == "generator":
                names.var(var, var.hint or "rng")
                generators.append(var)
        self.program.parameters += captured + generators
        return constants

    def body(self, names: _Names) -> list[str]:
        lines: list[str] = []
        phase = group = None
        backward = [i for i, call in enumerate(self.live) if call.phase == "backward"]
        for i, call in enumerate(self.live):
            text = self.statement(call, names)
            if not text:
                continue
            hoisted: list[str] = []
            if len(text) > LINE - 4:  # (the body is indented by 4)
                for var in [*passes.vars_in((call.args, call.kwargs)), call.target]:
                    self.hoist(var, names, hoisted)
                text = self.statement(call, names)
            # After the last backward call, the rest updates (an optimizer, or the step's
            # own code under no_grad).
            call_phase = "update" if backward and i > backward[-1] else call.phase
            if call_phase != phase:
                lines.append(f"    # {'-' * 8} {call_phase}")
                phase = call_phase
            if call.group != group:
                lines.append(f"    # {call.label}")
                group = call.group
            lines += [f"    {line}" for line in hoisted]
            lines.append(f"    {text}")
        out = []
        for var in self.returned:
            if var in self.fresh:
                out.append(names.expr(var))
            else:  # not made by a call of its own (an input, a buffer): copied, to hand out
                name = names.unique(_hint(var) or "out")
                lines.append(f"    {name} = {names.expr(var)}.copy()")
                out.append(name)
        if out:
            lines.append(f"    return {', '.join(out)}")
        if not lines:
            lines.append("    pass")
        return lines

    def hoist(self, var: Var, names: _Names, lines: list[str]) -> None:
        """Give a view written out in a line too long a name of its own, on a line before
        (``windows = x[...]``), and so its base when that line is too long in turn. A view
        is of memory that is not rebound inside the program, so the name stands for what
        the expression did."""
        call = names.views.get(var)
        if call is None or var in names.of_var:
            return  # not a view, or named already
        if len(names.view(call)) > LINE - 8 - len(_hint(var) or "view"):
            self.hoist(call.args[0], names, lines)
        expression = names.view(call)
        lines.append(f"{names.var(var, _hint(var) or 'view')} = {expression}")

    def imports(self, call: Call) -> list[str]:
        """The names a call's line takes from numpy (``from numpy import ...``)."""
        if call.kind == "ufunc":
            return [call.op[0].__name__]
        if call.kind == "method" and call.op in REDUCTIONS:
            reduction = _reduction_arguments(call.args[1:], call.kwargs)
            return [REDUCTIONS[call.op]] if reduction else []
        copies = call.kind == "copy" or (call.kind == "method" and call.op not in OUT_METHODS)
        if call.kind == "copyto" or (copies and call.target not in self.fresh):
            return ["copyto"]  # a copy or an astype into a buffer
        if call.kind == "function" and not isinstance(call.op, str):
            return [call.op.__name__]
        return []

    def statement(self, call: Call, names: _Names) -> str:
        """The line of the program for one call ('' for a view: written where used)."""
        if call.kind == "view":
            return ""
        e = names.expr
        target = call.target
        out = e(target)
        fresh = call.creates and target in self.fresh
        if call.kind == "ufunc":
            ufunc, method = call.op
            args = names.join(call.args, call.kwargs)
            if method == "at":
                return f"{ufunc.__name__}.at({args})"
            function = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
            if fresh:
                return f"{out} = {function}({args})"
            if (
                not call.creates
                and ufunc.__name__ in AUGMENTED
                and method == "__call__"
                and len(call.args) == 2
                and call.args[0] is target
                and not call.kwargs
                and target.kind in ("input", "captured")  # a parameter of the function
            ):
                return f"{out} {AUGMENTED[ufunc.__name__]} {e(call.args[1])}"
            return f"{function}({args}, out={out})"
        if call.kind in ("method", "copy"):
            source, rest = e(call.args[0]), call.args[1:]
            if call.kind == "copy":
                name = "copy" if call.op is None else "astype"
                rest = () if call.op is None else (np.dtype(call.op),)
            else:
                name = call.op
            if name in REDUCTIONS and _reduction_arguments(rest, call.kwargs):
                # The method's axis defaults to every axis, the reduction's to the first.
                kwargs = (
                    call.kwargs if rest or "axis" in call.kwargs else {"axis": None, **call.kwargs}
                )
                args = names.join((call.args[0], *rest), kwargs)
                function = f"{REDUCTIONS[name]}.reduce"
                return f"{out} = {function}({args})" if fresh else f"{function}({args}, out={out})"
            args = names.join(rest, call.kwargs)
            if fresh:
                return f"{out} = {source}.{name}({args})"
            if name in OUT_METHODS:
                return f"{source}.{name}({args}{', ' if args else ''}out={out})"
            casting = ', casting="unsafe"' if name == "astype" else ""
            return f"copyto({out}, {source}{casting})"
        if call.kind == "alloc":
            if fresh:
                fill = {None: "empty", 0: "zeros", 1: "ones"}[call.op]
                dtype = f", dtype=np.{target.dtype.name}"
                return f"{out} = np.{fill}({target.shape}{dtype})"
            return "" if call.op is None else f"{out}.fill({call.op})"
        if call.kind == "setitem":
            _, index, value = call.args
            return f"{out}[{names.index(index)}] = {e(value)}"
        if call.kind == "copyto":
            return f"copyto({names.join(call.args, call.kwargs)})"
        if call.kind == "draw":  # rng.random(shape): a fresh array, as the step draws it
            return f"{out} = {e(call.args[0])}.{call.op}({names.join(call.args[1:], call.kwargs)})"
        if call.kind == "function":
            if call.op == "__getitem__":
                return f"{out} = {e(call.args[0])}[{names.index(call.args[1])}]"
            if isinstance(call.op, str):  # a method that copied (a reshape)
                return (
                    f"{out} = {e(call.args[0])}.{call.op}({names.join(call.args[1:], call.kwargs)})"
                )
            args = names.join(call.args, call.kwargs)
            if not fresh and call.op in OUT_FUNCTIONS:
                return f"{call.op.__name__}({args}, out={out})"
            return f"{out} = {call.op.__name__}({args})"
        raise AssertionError(f"no line for {call!r}")


# --------------------------------------------------------------------------- names


def _named(var: Var) -> bool:
    """Whether a Var has a name (an op's output, an input, a gradient, the variable an op
    assigned it to): a buffer holding one is not reused for another value."""
    return bool(_hint(var))


def _hint(var: Var) -> str:
    """A name for a Var: an op's output or an input's (sigmoid1, model_0_weight), else
    d_<name> for a gradient, else the variable the op's code assigned it to (error)."""
    if var.strong:
        return var.hint
    if var.grad_of is not None:
        inner = _hint(var.grad_of)
        if inner:
            return f"d_{inner}"
    return var.hint


class _Names:
    """Unique Python names for the program's Vars, buffers and constants, and the text of
    its operands (names, views written out, constants, literals)."""

    def __init__(self, views: dict[Var, Call], imports: list[str]) -> None:
        self.views = views
        self.taken = {"np", "step", *keyword.kwlist, *imports}
        self.of_var: dict[Var, str] = {}
        self.scalars: dict[Any, tuple[str, Scalar]] = {}

    def unique(self, wanted: str) -> str:
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in wanted) or "t"
        if name[0].isdigit():
            name = "t" + name
        candidate, n = name, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{name}_{n}"
        self.taken.add(candidate)
        return candidate

    def var(self, var: Var, wanted: str) -> str:
        if var not in self.of_var:
            self.of_var[var] = self.unique(wanted)
        return self.of_var[var]

    def buffer(self, buffer: _Buffer) -> None:
        """A buffer is named after the last value in it with a name (sigmoid1 for the four
        calls of a sigmoid), else ``t``."""
        named = [v for v in buffer.vars if _hint(v)]
        buffer.name = self.unique(_hint(named[-1]) if named else "t")
        for var in buffer.vars:
            self.of_var[var] = buffer.name

    def expr(self, value: Any) -> str:
        if isinstance(value, Var):
            if value in self.of_var:
                return self.of_var[value]
            if value in self.views:
                return self.view(self.views[value])
            return self.var(value, _hint(value) or "t")
        if isinstance(value, Scalar):
            key = value.key()
            if key not in self.scalars:
                short = f"c{value.value}" if len(repr(value.value)) <= 6 else "c"
                wanted = SCALAR_NAMES.get(float(value.value), short)
                if value.dtype != np.float64:
                    wanted += f"_{value.dtype.name}"
                self.scalars[key] = (self.unique(wanted), value)
            return self.scalars[key][0]
        if isinstance(value, tuple) and any(True for _ in passes.vars_in(value)):
            inner = ", ".join(self.expr(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list) and any(True for _ in passes.vars_in(value)):
            return "[" + ", ".join(self.expr(v) for v in value) + "]"
        return _literal(value)

    def view(self, call: Call) -> str:
        base = self.expr(call.args[0])
        if call.op in ("mT", "T"):
            return f"{base}.{call.op}"
        if call.op == "broadcast_to":
            return f"np.broadcast_to({base}, {self.join(call.args[1:], call.kwargs)})"
        if call.op == "sliding_window_view":
            arguments = self.join(call.args[1:], call.kwargs)
            return f"np.lib.stride_tricks.sliding_window_view({base}, {arguments})"
        if call.op == "__getitem__":
            return f"{base}[{self.index(call.args[1])}]"
        return f"{base}.{call.op}({self.join(call.args[1:], call.kwargs)})"

    def join(self, args: Any, kwargs: dict[str, Any]) -> str:
        parts = [self.expr(a) for a in args] + [f"{k}={self.expr(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def index(self, index: Any) -> str:
        if isinstance(index, tuple):
            return ", ".join(self.index(i) for i in index) if index else "()"
        if isinstance(index, slice):
            start, stop = ("" if p is None else self.expr(p) for p in (index.start, index.stop))
            step = "" if index.step is None else f":{self.expr(index.step)}"
            return f"{start}:{stop}{step}"
        if index is Ellipsis:
            return "..."
        return self.expr(index)


# ------------------------------------------------------------------------- literals


def _literal(value: Any) -> str:
    """Python source for a value the program holds as it is (an axis, a dtype, a slice)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(value)
    if isinstance(value, np.dtype):
        return f"np.{value.name}"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        return f"slice({_literal(value.start)}, {_literal(value.stop)}, {_literal(value.step)})"
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    raise TypeError(f"compile: cannot write {type(value).__name__} {value!r} into a program")


def _scalar(scalar: Scalar) -> str:
    return f"np.array({_literal(scalar.value)}, dtype=np.{scalar.dtype.name})"


def _array(name: str, array: np.ndarray) -> list[str]:
    """``name = np.array([...], dtype=...)``, over as many lines as ruff would write it."""
    values, dtype = array.tolist(), f"dtype=np.{array.dtype.name}"
    line = f"{name} = np.array({_literal(values)}, {dtype})"
    if len(line) <= 100:
        return [line]
    inner = f"    {_literal(values)}, {dtype}"
    if len(inner) <= 100:
        return [f"{name} = np.array(", inner, ")"]
    return [f"{name} = np.array(", *_nested(values, "    "), f"    {dtype},", ")"]


def _nested(values: Any, indent: str) -> list[str]:
    """A (nested) list as ruff writes it: on one line if it fits, else an item a line."""
    line = f"{indent}{_literal(values)},"
    if len(line) <= 100 or not isinstance(values, list):
        return [line]
    lines = [f"{indent}["]
    for value in values:
        lines += _nested(value, indent + "    ")
    return [*lines, f"{indent}],"]


def _layout(var: Var) -> tuple[int, ...] | None:
    """The axes of the eager result in memory order, outermost first (C order is 0, 1,
    ...), or None if it is not one block of memory."""
    array = var.array
    if array.flags.c_contiguous:
        return tuple(range(array.ndim))
    order = tuple(sorted(range(array.ndim), key=lambda a: -array.strides[a]))
    return order if array.transpose(order).flags.c_contiguous else None


def _allocation(var: Var) -> str:
    """np.empty for a buffer with the layout the eager result had: numpy computes in memory
    order, so a reduction or a matmul over another layout could round otherwise."""
    order = _layout(var)
    dtype = "" if var.dtype == np.float64 else f", dtype=np.{var.dtype.name}"
    if order is None or order == tuple(range(len(var.shape))):
        return f"np.empty({var.shape}{dtype})"
    if order == tuple(reversed(range(len(var.shape)))):
        return f'np.empty({var.shape}{dtype}, order="F")'
    permuted = tuple(var.shape[a] for a in order)
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    return f"np.empty({permuted}{dtype}).transpose({inverse})"


def _reduction_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a reduction method was called with what ufunc.reduce takes alike: at most an
    axis (positional or keyword), keepdims and dtype by keyword."""
    return (
        len(args) <= 1
        and set(kwargs) <= {"axis", "keepdims", "dtype"}
        and not (args and "axis" in kwargs)
    )


def _definition(function: str, signature: str) -> list[str]:
    """``def step(a, b):``, over several lines as ruff writes it if it is too long."""
    line = f"def {function}({signature}):"
    if len(line) <= 100:
        return [line]
    if len(signature) <= 96:
        return [f"def {function}(", f"    {signature}", "):"]
    return [f"def {function}(", *(f"    {p}," for p in signature.split(", ")), "):"]


def _from_numpy(names: list[str]) -> list[str]:
    """``from numpy import a, b`` on one line, or a name a line, as ruff writes it."""
    if not names:
        return []
    line = f"from numpy import {', '.join(names)}"
    if len(line) <= 100:
        return [line]
    return ["from numpy import (", *(f"    {name}," for name in names), ")"]
