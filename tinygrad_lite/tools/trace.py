"""Record every op of a computation, forward and backward, to follow the chain rule by hand.

>>> import tinygrad_lite as tl
>>> w = tl.Tensor([[0.5], [-1.0]], requires_grad=True)
>>> x = tl.Tensor([[1.0, 2.0]])
>>> with tl.trace(names={"w": w, "x": x}) as tr:
...     y = (x @ w).sigmoid()
...     y.backward()
>>> print(tr)
step  phase     op       inputs              output     rule
   0  forward   matmul   x (1, 2), w (2, 1)  t0 (1, 1)  out = x @ y
   1  forward   sigmoid  t0 (1, 1)           t1 (1, 1)  out = 1/(1+exp(-x))
   2  backward  sigmoid  grad t1 (1, 1)      t0 (1, 1)  dx = grad * (out*(1-out))
   3  backward  matmul   grad t0 (1, 1)      w (2, 1)   dy = x.mT @ grad

A forward line reads ``output = op(inputs)``. A backward line runs the op's rule: it takes
the gradient of the op's output (``grad t1``) and returns the gradient of each input that
needs one (the ``output`` column), by the formula in the ``rule`` column, which is the op's
own docstring (``ops/``). Tensors are named by ``names=``, then ``t0, t1, ...`` in order
of appearance; scalar constants by their value. ``trace(values=True)`` also keeps the
arrays (``x``, ``y``, ``out`` forward; ``grad``, ``dx``, ``dy`` backward) and prints them
under each line, so each rule can be checked number by number.

In forward mode (``tl.forward_ad``, ``tl.jvp``), each op whose output gets a tangent has a
``tangent`` line below its forward line: the inputs' tangents (``x_t`` is the tangent of
``x``) and the output's, by the op's jvp rule, where a backward line shows gradients:

>>> with tl.forward_ad.dual_level():
...     x = tl.forward_ad.make_dual(tl.Tensor([0.5, -1.0]), [1.0, 0.0])
...     with tl.trace(names={"x": x}) as tr:
...         y = (x * x).sigmoid()
>>> print(tr)
step  phase    op       inputs              output     rule
   0  forward  mul      x (2,), x (2,)      t0 (2,)    out = x * y
   1  tangent  mul      x_t (2,), x_t (2,)  t0_t (2,)  out_t = x_t * y + x * y_t
   2  forward  sigmoid  t0 (2,)             t1 (2,)    out = 1/(1+exp(-x))
   3  tangent  sigmoid  t0_t (2,)           t1_t (2,)  out_t = x_t * (out*(1-out))

With nested levels, the tangents of the second level are named ``x_t2``, and so on.

Iterating over a trace gives its ``Record`` s, for programs.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lite.hooks import Observer, tangents_of
from tinygrad_lite.tools.labels import argument_names, lookup, name_table, rules, tangent_rule

VALUE_INDENT = " " * 6
LISTED = 4  # a record's table row names up to this many tensors in full


@dataclass(frozen=True)
class Record:
    """One line of a trace: a forward op, one backward step (one op's rule), or in forward
    mode the tangent an op's output got (its jvp rule).

    ``inputs`` and ``input_shapes`` are the op's input tensors (for a tangent line, the
    tangents of those that have one). ``output`` and ``output_shape`` are its output
    (forward), its output's tangent (tangent) or, backward, the inputs that received a
    gradient and the gradients' shapes. Backward, ``grad`` names the tensor whose gradient
    the step started from (the op's output) and ``grad_shape`` is its shape;
    ``forward_step`` is the step that ran the same op forward (None if that was before the
    trace began). ``level`` is the dual level of a tangent line (1 for the outermost).
    ``values`` holds copies of the arrays, by the names the rule uses, when the trace was
    made with ``values=True``.
    """

    step: int
    phase: str
    op: str
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output: tuple[str, ...]
    output_shape: tuple[tuple[int, ...], ...]
    rule: str
    grad: str | None = None
    grad_shape: tuple[int, ...] | None = None
    forward_step: int | None = None
    level: int | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)


class Trace(Observer):
    """The records of a ``trace()`` block; see the module docstring."""

    def __init__(self, values: bool = False, names: Any = None) -> None:
        if not isinstance(values, bool):
            raise TypeError(f"trace: values must be True or False, got {values!r}")
        self.values = values
        self.records: list[Record] = []
        self._given_names = name_table(names)
        # Tensors seen so far and their names. Weak, so that tracing a long run does not
        # keep every intermediate array alive.
        self._names: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._count = 0
        # Per op node traced forward: the node (kept, so its id stays unique), its
        # forward step, the name of its output, and a copy of the output if values are kept.
        self._nodes: dict[int, tuple[Any, int, str, np.ndarray | None]] = {}

    # ------------------------------------------------------------------ observing

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        step = len(self.records)
        input_names = tuple(self._name(x) for x in inputs)  # first, so names read in order
        output = self._name(out, computed=True)
        values: dict[str, np.ndarray] = {}
        if self.values:
            for name, x in zip(argument_names(fn, len(inputs)), inputs):
                values[name] = x.data.copy()
            values["out"] = out.data.copy()
        self._nodes[id(fn)] = (fn, step, output, values.get("out"))
        self.records.append(
            Record(
                step=step,
                phase="forward",
                op=fn.name,
                inputs=input_names,
                input_shapes=tuple(x.data.shape for x in inputs),
                output=(output,),
                output_shape=(out.data.shape,),
                rule=rules(fn)[0],
                values=values,
            )
        )
        for level, out_t in enumerate(tangents_of(out), start=1):
            if out_t is not None:
                self._tangent(fn, inputs, output, out_t, level, step)

    def _tangent(
        self, fn: Any, inputs: tuple[Any, ...], output: str, out_t: Any, level: int, step: int
    ) -> None:
        """The line of the tangent ``out_t`` that the op's output got at dual ``level``."""
        suffix = "_t" if level == 1 else f"_t{level}"
        names = argument_names(fn, len(inputs))
        tangents = [(name, x, tangents_of(x)[level - 1]) for name, x in zip(names, inputs)]
        given = [(name, x, t) for name, x, t in tangents if t is not None]
        values: dict[str, np.ndarray] = {}
        if self.values:
            for name, _, t in given:
                values[name + "_t"] = t.data.copy()
            values["out_t"] = out_t.data.copy()
        self.records.append(
            Record(
                step=len(self.records),
                phase="tangent",
                op=fn.name,
                inputs=tuple(self._name(x) + suffix for _, x, _ in given),
                input_shapes=tuple(t.data.shape for _, _, t in given),
                output=(output + suffix,),
                output_shape=(out_t.data.shape,),
                rule=tangent_rule(fn),
                forward_step=step,
                level=level,
                values=values,
            )
        )

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        inputs = fn.inputs
        _, forward_step, output, out = self._nodes.get(id(fn), (None, None, "(untraced)", None))
        # The engine keeps a gradient only for an input that requires grad (a rule may
        # return one for a constant too): show what flows on.
        flowing = [
            i for i, dx in enumerate(input_grads) if dx is not None and inputs[i].requires_grad
        ]
        formulas = rules(fn)[1:]
        if len(formulas) == len(inputs):  # one formula per input: show those that ran
            formulas = [formulas[i] for i in flowing]
        rule = "    ".join(formulas)
        names = argument_names(fn, len(inputs))
        values: dict[str, np.ndarray] = {}
        if self.values:
            # The incoming gradient, then the operands the shown formulas use (so that each
            # line can be checked by hand), then the gradients they gave.
            values["grad"] = np.array(_array(grad))
            used = set(re.findall(r"\b\w+\b", rule))
            for name, x in zip(names, inputs):
                if name in used:
                    values[name] = x.data.copy()
            if "out" in used and out is not None:
                values["out"] = out
            for i in flowing:
                values["d" + names[i]] = np.array(_array(input_grads[i]))
        self.records.append(
            Record(
                step=len(self.records),
                phase="backward",
                op=fn.name,
                inputs=tuple(self._name(x) for x in inputs),
                input_shapes=tuple(x.data.shape for x in inputs),
                output=tuple(self._name(inputs[i]) for i in flowing),
                output_shape=tuple(tuple(input_grads[i].shape) for i in flowing),
                rule=rule,
                grad=output,
                grad_shape=tuple(grad.shape),
                forward_step=forward_step,
                values=values,
            )
        )

    def _name(self, t: Any, computed: bool = False) -> str:
        """The name of ``t``: given, or ``t0, t1, ...``; a scalar constant is named by its
        value (an op's output is ``computed``, even where no graph records it)."""
        name = self._names.get(t)
        if name is None:
            name = lookup(self._given_names, t)
            constant = t._ctx is None and not t.requires_grad and not computed
            if name is None and constant and t.data.size == 1:
                name = f"{t.data.item():g}"  # a constant such as the 2 of x**2
            if name is None:
                name = f"t{self._count}"
                self._count += 1
            self._names[t] = name
        return name

    # ------------------------------------------------------------------- reading

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> Record:
        return self.records[index]

    def __repr__(self) -> str:
        return f"<Trace of {len(self.records)} records>"

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        """The records as a table, one line per step (and the values under it, if kept)."""
        header = ("step", "phase", "op", "inputs", "output", "rule")
        rows = [header] + [_row(r) for r in self.records]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        lines = []
        for row, record in zip(rows, [None, *self.records]):
            cells = [row[0].rjust(widths[0])] + [c.ljust(w) for c, w in zip(row[1:-1], widths[1:])]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
            if record is not None:
                lines.extend(_value_lines(record.values))
        return "\n".join(lines)


def trace(values: bool = False, names: Any = None) -> Trace:
    """A context manager that records every op run in this thread while it is active.

    ``with tl.trace() as tr: ...`` then ``print(tr)``. ``values=True`` keeps a copy of
    every array each step saw; ``names=`` names tensors (see ``tinygrad_lite.tools.labels``).
    """
    return Trace(values=values, names=names)


# ---------------------------------------------------------------------------- helpers


def _row(r: Record) -> tuple[str, ...]:
    if r.phase == "backward":
        inputs = f"grad {r.grad} {r.grad_shape}"
    else:
        inputs = _tensors(r.inputs, r.input_shapes)
    output = _tensors(r.output, r.output_shape) or "-"
    return (str(r.step), r.phase, r.op, inputs, output, r.rule)


def _tensors(names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...]) -> str:
    """``a (2, 3), b (3,)``; beyond LISTED tensors (a cat of 25), the first two, ``...``
    and the last, with the count, so that one op does not widen the whole table."""
    shown = [f"{n} {s}" for n, s in zip(names, shapes)]
    if len(shown) > LISTED:
        return f"{shown[0]}, {shown[1]}, ..., {shown[-1]} ({len(shown)} tensors)"
    return ", ".join(shown)


def _value_lines(values: dict[str, np.ndarray]) -> list[str]:
    lines = []
    for name, array in values.items():
        prefix = f"{VALUE_INDENT}{name} = "
        text = np.array2string(
            array, precision=8, separator=", ", prefix=prefix, floatmode="maxprec"
        )
        lines.append(prefix + text)
    return lines


def _array(value: Any) -> np.ndarray:
    """A gradient as an array (under create_graph it is a Tensor)."""
    return value if isinstance(value, np.ndarray) else value.data
