"""What the explainer records of one step: every op, every module call, every backward rule.

A ``Recorder`` is an ``Observer`` (``grad_mode.py``): inside ``with recorder:`` it is told of
each op's forward (``forward``), each call of a Module (``enter_module`` and
``exit_module``) and each backward rule as the engine runs it (``backward``). It copies
the values as they are, since an optimizer step changes parameters in place afterwards.
A graph built before recording began is fed to it with ``replay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_lite import engine
from tinygrad_lite.hooks import Observer
from tinygrad_lite.ops import Abs, Add, Div, Exp, Log, Mul, Neg, Pow, Relu, Sigmoid, Sub, Tanh
from tinygrad_lite.tensor import Tensor
from tinygrad_lite.tools.labels import name_table

# Ops whose rule is the upstream gradient times a local derivative, element by element:
# for them the page shows that derivative on its own (the rule run once more, grad = 1).
ELEMENTWISE = (Add, Sub, Mul, Div, Pow, Neg, Exp, Log, Sigmoid, Tanh, Relu, Abs)

FREED = (
    "explain: the graph behind this loss was freed by backward() (each node drops its inputs "
    "once its rule has run); explain it before calling backward(), or call "
    "backward(retain_graph=True) first, or pass a function that computes the loss"
)


@dataclass
class Op:
    """One op of the forward pass: its node, the ids of its input and output Tensors."""

    fn: Any
    inputs: list[int]
    out: int
    call: int | None  # the innermost module call running when it ran


@dataclass
class Call:
    """One call of a Module; ``out`` is the id of the Tensor it returned."""

    module: Any
    parent: int | None
    out: int | None = None


@dataclass
class Rule:
    """One backward step: the op whose rule ran, the gradient it got, what it gave."""

    op: int
    grad: np.ndarray
    dx: list[np.ndarray | None]  # per input: the gradient that flows on, or None
    local: list[np.ndarray | None] = field(default_factory=list)  # for ELEMENTWISE ops


class Recorder(Observer):
    """The ops, module calls and backward rules of one step, with copies of their values."""

    def __init__(self, names: Any = None) -> None:
        self.names = name_table(names)
        self.module_names = module_names(names)
        if isinstance(names, dict):  # a Module among the values names its parameters too
            for key, value in names.items():
                if hasattr(value, "named_parameters"):
                    inner = {f"{key}.{n}": p for n, p in value.named_parameters()}
                    self.names.update(name_table(inner))
        self.tensors: dict[int, Any] = {}  # id -> the Tensor (kept, so that ids stay unique)
        self.values: dict[int, np.ndarray] = {}  # id -> its value when first seen
        self.made_by: dict[int, int] = {}  # id of an op's output -> the op's index
        self.ops: list[Op] = []
        self.calls: list[Call] = []
        self.rules: list[Rule] = []
        self._by_node: dict[int, int] = {}  # id of a Function node -> its op's index
        self._stack: list[int] = []

    def _see(self, t: Any) -> int:
        if id(t) not in self.tensors:
            self.tensors[id(t)] = t
            self.values[id(t)] = np.array(t.data, copy=True)
        return id(t)

    def forward(self, fn: Any, inputs: tuple[Any, ...], out: Any) -> None:
        ids = [self._see(x) for x in inputs]
        call = self._stack[-1] if self._stack else None
        self._by_node[id(fn)] = self.made_by[id(out)] = len(self.ops)
        self.ops.append(Op(fn, ids, self._see(out), call))

    def enter_module(self, module: Any) -> None:
        self.calls.append(Call(module, self._stack[-1] if self._stack else None))
        self._stack.append(len(self.calls) - 1)

    def exit_module(self, module: Any, out: Any) -> None:
        call = self._stack.pop()
        if isinstance(out, Tensor):
            self.calls[call].out = id(out)

    def backward(self, fn: Any, grad: Any, input_grads: tuple[Any, ...]) -> None:
        op = self._by_node.get(id(fn))
        if op is None:  # an op from before the recording
            return
        inputs = fn.inputs
        dx = [
            None if g is None or not x.requires_grad else np.array(g, copy=True)
            for x, g in zip(inputs, input_grads)
        ]
        rule = Rule(op, np.array(grad, copy=True), dx, [None] * len(inputs))
        elementwise = isinstance(fn, ELEMENTWISE)  # (a bool: fn keeps its own type)
        if elementwise:
            # The rule once more with grad = 1 gives the local derivative on its own. It
            # runs here, while the node still holds its inputs (the engine frees them next).
            ones = np.ones_like(np.asarray(grad))
            operands = [x.data for x in inputs]
            again = fn.backward(ones, *operands, self.values[self.ops[op].out])
            again = again if isinstance(again, tuple) else (again,)
            rule.local = [None if d is None else np.array(a) for d, a in zip(dx, again)]
        self.rules.append(rule)

    def ancestors(self, root: int) -> list[int]:
        """Indices of the ops the Tensor with id ``root`` was computed from, in order."""
        found: set[int] = set()
        stack, seen = [root], {root}
        while stack:
            op = self.made_by.get(stack.pop())
            if op is None:
                continue
            found.add(op)
            for x in self.ops[op].inputs:
                if x not in seen:
                    seen.add(x)
                    stack.append(x)
        return sorted(found)

    def inside(self, call: int | None, ancestor: int) -> bool:
        """Whether module call ``call`` is ``ancestor`` or runs inside it."""
        while call is not None:
            if call == ancestor:
                return True
            call = self.calls[call].parent
        return False


def replay(recorder: Recorder, loss: Tensor) -> None:
    """Tell the recorder of a graph already built, op by op in the order they ran."""
    try:
        order = engine.graph(loss)
    except RuntimeError:
        raise RuntimeError(FREED) from None
    made = sorted((t for t in order if t._ctx is not None), key=lambda t: t._ctx.seq)
    for t in made:
        recorder.forward(t._ctx, t._ctx.inputs, t)


def module_names(names: Any) -> dict[int, str]:
    """{id of a Module: its dotted name}, from ``names``: a Module names its layers, a
    mapping names the Modules among its values (and their layers, under that name)."""
    found: dict[int, str] = {}
    if hasattr(names, "named_modules"):
        found.update((id(m), name) for name, m in names.named_modules() if name)
    elif isinstance(names, dict):
        for key, value in names.items():
            if hasattr(value, "named_modules"):
                for name, m in value.named_modules():
                    found[id(m)] = f"{key}.{name}" if name else str(key)
    return found
