"""The explainer's steps, made from a recording: forward, backward, the gradients, the update.

Forward, one step per op: its inputs and its output. Backward, one step per rule the
engine ran, in its order: the gradient that arrived, the operands the rule uses, and for
each input the contribution it sends back (for an elementwise op, the local derivative on
its own first, so that grad x local = contribution can be read off; a transpose or a sum
over broadcast axes is written out where the rule makes one). Where a tensor fed several
ops, a step shows their contributions adding up, in the engine's order, once the last one
has arrived. Then each parameter's complete gradient beside central differences, then the
optimizer's update of each. A ``HandWritten`` line joins the step that computes its value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_lite.tools.explain.page import encode_array
from tinygrad_lite.tools.explain.record import Recorder, Rule
from tinygrad_lite.tools.labels import argument_names, lookup, rules


@dataclass(frozen=True)
class HandWritten:
    """A hand-written line to set beside the step that computes the same quantity.

    ``line`` is the code (``"l1_delta = l2_error * l2_slope * lr"``) and ``value`` what it
    gave. It matches ``sign`` times one quantity of the step: ``grad_of`` names a parameter
    (its gradient) or a module (the gradient of its output, at its first call), or
    ``update_of`` names a parameter (its value after the optimizer's step). The page shows
    both values and whether they are equal bit for bit.
    """

    line: str
    value: Any
    grad_of: str | None = None
    update_of: str | None = None
    sign: int = 1


def _item(label: str, array: int, **extra: Any) -> dict[str, Any]:
    return {"label": label, "array": array, **extra}


class Steps:
    """Nodes, edges, arrays and steps of one recorded step (``data()`` gives the lot)."""

    def __init__(
        self,
        r: Recorder,
        root: int,
        grads: dict[int, np.ndarray],
        checks: dict[int, dict[str, Any]],
        updates: dict[int, tuple[np.ndarray, np.ndarray]],
        optimizer: Any,
        max_elements: int,
    ) -> None:
        self.r = r
        self.grads, self.checks, self.updates = grads, checks, updates
        self.optimizer = optimizer
        self.max_elements = max_elements
        self.arrays: list[np.ndarray] = []  # in full; the page keeps them folded (stored)
        self.stored: list[dict[str, Any]] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self.ops = r.ancestors(root)  # the ops the loss depends on, in the order they ran
        self.output_of = {r.ops[i].out: i for i in self.ops}
        self.node_of: dict[int, int] = {}  # Tensor id -> its node (its op, or the leaf)
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.grad_done: dict[int, int] = {}  # Tensor id -> the step completing its gradient
        self.grad_value: dict[int, np.ndarray] = {}
        self._graph()
        self._forward()
        self._backward()
        self._gradients()
        self._updates()

    def array(self, value: Any) -> int:
        """The index of ``value`` in the table of arrays (equal arrays stored once)."""
        a = np.asarray(value)
        key = (a.dtype.str, a.shape, a.tobytes())
        if key not in self._index:
            self._index[key] = len(self.arrays)
            self.arrays.append(a)
            self.stored.append(encode_array(a, self.max_elements))
        return self._index[key]

    def label(self, key: int) -> str:
        """A tensor's name on the page: the given one, its op's, its value, or its kind."""
        name = lookup(self.r.names, self.r.tensors[key])
        if name is not None:
            return name
        if key in self.output_of:
            label: str = self.nodes[self.node_of[key]]["label"]
            return label
        if not self.r.tensors[key].requires_grad and self.r.values[key].size == 1:
            return f"{self.r.values[key].item():g}"
        return "param" if self.r.tensors[key].requires_grad else "const"

    def call_label(self, call: int | None) -> str | None:
        """A module call as the page names it: ``2: Linear``, ``cell: Cell (call 3)``."""
        if call is None:
            return None
        calls = self.r.calls
        module = calls[call].module
        name = self.r.module_names.get(id(module))
        if name is None:  # named inside the outermost module called around it
            top = call
            above = calls[top].parent
            while above is not None:
                top, above = above, calls[above].parent
            inner: list[tuple[str, Any]] = getattr(calls[top].module, "named_modules", list)()
            name = next((n for n, m in inner if m is module and top != call), "")
        label = f"{name}: {type(module).__name__}" if name else type(module).__name__
        repeats = [c for c, other in enumerate(calls) if other.module is module]
        return label + (f" (call {repeats.index(call) + 1})" if len(repeats) > 1 else "")

    def _step(self, **fields: Any) -> int:
        number = len(self.steps) + 1
        self.steps.append({"number": number, "notes": [], **fields})
        return number

    # ------------------------------------------------------------------- graph

    def _graph(self) -> None:
        r = self.r
        self._edge_at: dict[tuple[int, int, int], int] = {}
        for number, i in enumerate(self.ops, start=1):
            op = r.ops[i]
            for x in op.inputs:
                if x not in self.node_of and x not in self.output_of:
                    self._node(x, "param" if r.tensors[x].requires_grad else "const", None)
            given = lookup(r.names, r.tensors[op.out])
            node = self._node(op.out, "op", given or f"{op.fn.name}#{number}")
            self.nodes[node].update(op=op.fn.name, module=self.call_label(op.call))
            names = argument_names(op.fn, len(op.inputs))
            for slot, x in enumerate(op.inputs):
                label = names[slot] if len(op.inputs) > 1 else ""
                edge = {"edge": len(self.edges), "from": self.node_of[x], "to": node}
                self._edge_at[(self.node_of[x], node, slot)] = len(self.edges)
                self.edges.append({**edge, "slot": slot, "label": label})

    def _node(self, key: int, kind: str, label: str | None) -> int:
        node = len(self.nodes)
        self.node_of[key] = node
        value = self.r.values[key]
        self.nodes.append({"node": node, "kind": kind, "label": label, "module": None})
        self.nodes[node]["label"] = label or self.label(key)
        lines = [self.nodes[node]["label"], shape_text(value.shape)]
        if value.size == 1:
            lines[1] += f" = {value.item():.4g}"
        self.nodes[node].update(shape=list(value.shape), value=self.array(value), lines=lines)
        return node

    # --------------------------------------------------------------- forward

    def _forward(self) -> None:
        r = self.r
        for i in self.ops:
            op = r.ops[i]
            node = self.nodes[self.node_of[op.out]]
            names = argument_names(op.fn, len(op.inputs))
            items = [
                _item(f"{name} = {self.label(x)}", self.array(r.values[x]))
                for name, x in zip(names, op.inputs)
            ]
            items.append(_item(f"out = {node['label']}", node["value"]))
            node["forward_step"] = self._step(
                phase="forward",
                kind="op",
                node=node["node"],
                title=f"{node['label']} computes its output",
                module=node["module"],
                rule=rules(op.fn)[0],
                items=items,
            )

    # -------------------------------------------------------------- backward

    def _backward(self) -> None:
        r = self.r
        kept = set(self.ops)
        records = [rule for rule in r.rules if rule.op in kept]
        last: dict[int, int] = {}  # Tensor id -> the last record that sends it a gradient
        for n, rule in enumerate(records):
            for x, dx in zip(r.ops[rule.op].inputs, rule.dx):
                if dx is not None:
                    last[x] = n
        arrived: dict[int, list[tuple[int, np.ndarray, int]]] = {}  # id -> (op, dx, step)
        for n, rule in enumerate(records):
            op = r.ops[rule.op]
            node = self.node_of[op.out]
            step = self._step(**self._rule_step(rule, node))
            self.nodes[node]["backward_step"] = step
            for slot, (x, dx) in enumerate(zip(op.inputs, rule.dx)):
                if dx is not None:
                    arrived.setdefault(x, []).append((rule.op, dx, step))
                    edge = self.edges[self._edge_index(self.node_of[x], node, slot)]
                    edge["carried_step"] = step
            for x in dict.fromkeys(op.inputs):  # each input once, in order
                if last.get(x) == n:
                    self._complete(x, arrived[x], step)

    def _edge_index(self, src: int, dst: int, slot: int) -> int:
        return self._edge_at[(src, dst, slot)]

    def _rule_step(self, rule: Rule, node: int) -> dict[str, Any]:
        r = self.r
        op = r.ops[rule.op]
        names = argument_names(op.fn, len(op.inputs))
        formulas = rules(op.fn)[1:]
        per_input = len(formulas) == len(op.inputs)
        flowing = [i for i, dx in enumerate(rule.dx) if dx is not None]
        shown = "    ".join([formulas[i] for i in flowing] if per_input else formulas)
        out = self.nodes[node]["label"]
        items = [_item(f"grad = dL/d {out}", self.array(rule.grad))]
        used = set(re.findall(r"\b\w+\b", shown))
        items += [
            _item(f"{name} = {self.label(x)}", self.array(r.values[x]))
            for name, x in zip(names, op.inputs)
            if name in used
        ]
        if "out" in used:
            items.append(_item(f"out = {out}", self.nodes[node]["value"]))
        for i in flowing:
            items += self._contribution(rule, i, names, formulas[i] if per_input else "")
        constants = [n for n, x in zip(names, op.inputs) if not r.tensors[x].requires_grad]
        notes = [f"no gradient for {', '.join(constants)}: a constant"] if constants else []
        return {
            "phase": "backward",
            "kind": "op",
            "node": node,
            "title": f"{out} sends the gradient back to its inputs",
            "module": self.nodes[node]["module"],
            "rule": shown,
            "items": items,
            "notes": notes,
        }

    def _contribution(
        self, rule: Rule, i: int, names: list[str], formula: str
    ) -> list[dict[str, Any]]:
        """How input ``i``'s contribution is made: local derivative, transposes, sums."""
        r = self.r
        op = r.ops[rule.op]
        x, dx, local = op.inputs[i], rule.dx[i], rule.local[i]
        items = []
        how = formula.split("=", 1)[1].strip() if "=" in formula else "the rule"
        if local is not None:
            factor = local_factor(formula)
            items.append(
                _item(f"local derivative d out/d {names[i]} = {factor}", self.array(local))
            )
            how = "grad × local derivative"
        operands = dict(zip(names, op.inputs))
        for operand, suffix in re.findall(r"\b(\w+)\.(mT|T)\b", formula):
            if operand in operands:
                value = r.values[operands[operand]]
                flipped = np.swapaxes(value, -1, -2) if value.ndim >= 2 else value
                label = (
                    f"{operand}.{suffix} = {self.label(operands[operand])} transposed, "
                    f"{shape_text(value.shape)} → {shape_text(flipped.shape)}"
                )
                items.append(_item(label, self.array(flipped)))
        note = reshaping_note(formula, r.values[x].shape, rule.grad.shape)
        label = f"d{names[i]} = {how} → contribution to dL/d {self.label(x)}"
        items.append(_item(label, self.array(dx), note=note, contribution=True))
        return items

    def _complete(self, x: int, arrived: list[tuple[int, np.ndarray, int]], step: int) -> None:
        """Tensor ``x`` has all its contributions; with several, a step adds them up."""
        node = self.node_of[x]
        total = arrived[0][1]
        if len(arrived) > 1:
            for _, dx, _ in arrived[1:]:
                total = total + dx  # the engine's sum, in the engine's order
            label = self.label(x)
            items = [
                _item(f"from {self.label(self.r.ops[op].out)} (step {s})", self.array(dx))
                for op, dx, s in arrived
            ]
            items.append(_item(f"dL/d {label} = their sum", self.array(total)))
            step = self._step(
                phase="backward",
                kind="sum",
                node=node,
                title=f"{label} was used {len(arrived)} times: its contributions add up",
                module=self.nodes[node]["module"],
                rule=f"dL/d {label} = " + " + ".join(f"(step {s})" for _, _, s in arrived),
                items=items,
                notes=["the chain rule sums over every use: one term for each input it was"],
            )
        self.grad_done[x], self.grad_value[x] = step, total
        self.nodes[node]["grad_step"] = step

    # ----------------------------------------------------- gradients, update

    def _gradients(self) -> None:
        for key, grad in self.grads.items():
            if key not in self.node_of:
                continue
            node = self.nodes[self.node_of[key]]
            label = node["label"]
            notes = []
            if key not in self.checks:
                notes.append(
                    "no central differences: explain was given a loss already computed, "
                    "which it cannot compute again (pass a function that computes it)"
                )
            node["gradient_step"] = self._step(
                phase="backward",
                kind="gradient",
                node=node["node"],
                title=f"the gradient of {label} is complete",
                module=None,
                rule=f"{label}.grad = dL/d {label}",
                items=[_item(f"dL/d {label}, by backward()", self.array(grad))],
                check=self.checks.get(key),
                notes=notes,
            )

    def _updates(self) -> None:
        name = type(self.optimizer).__name__
        lr = getattr(self.optimizer, "lr", None)
        settings = f"(lr={lr:g})" if isinstance(lr, (int, float)) else ""
        for key, (before, after) in self.updates.items():
            if key not in self.node_of:
                continue
            node = self.nodes[self.node_of[key]]
            label = node["label"]
            node["update_step"] = self._step(
                phase="update",
                kind="update",
                node=node["node"],
                title=f"{label} takes its step",
                module=None,
                rule=f"{name}{settings}.step(): {label} moves against its gradient",
                items=[
                    _item(f"{label} before", self.array(before)),
                    _item(f"{label}.grad", self.array(self.grads[key])),
                    _item(f"{label} after", self.array(after)),
                    _item("after - before", self.array(after - before)),
                ],
            )

    # ------------------------------------------------------------ hand-written

    def compare(self, lines: Iterable[HandWritten]) -> None:
        """Set each hand-written line beside the step that computes its quantity."""
        for h in lines:
            if (h.grad_of is None) == (h.update_of is None):
                raise ValueError(f"HandWritten {h.line!r}: give one of grad_of= and update_of=")
            if h.sign not in (1, -1):
                raise ValueError(f"HandWritten {h.line!r}: sign must be 1 or -1, got {h.sign}")
            step, ours, what = self._target(h)
            seed = np.asarray(h.value)
            ours = -ours if h.sign == -1 else ours
            same_shape = seed.shape == ours.shape
            equal = same_shape and seed.dtype == ours.dtype and seed.tobytes() == ours.tobytes()
            difference = None
            if same_shape:
                with np.errstate(all="ignore"):
                    difference = float(np.max(np.abs(ours - seed), initial=0.0))
            self.steps[step - 1].setdefault("hand_written", []).append(
                {
                    "line": h.line,
                    "ours": ("-" if h.sign == -1 else "") + what,
                    "ours_array": self.array(ours),
                    "seed_array": self.array(seed),
                    "equal": bool(equal),  # tobytes: tells -0.0 from 0.0
                    "max_abs_difference": difference,
                }
            )

    def _target(self, h: HandWritten) -> tuple[int, np.ndarray, str]:
        leaves = {self.label(k): k for k in self.node_of if k not in self.output_of}
        if h.update_of is not None:
            key = leaves.get(h.update_of)
            if key is None or key not in self.updates:
                accepted = sorted(self.label(k) for k in self.updates if k in self.node_of)
                raise ValueError(
                    f"HandWritten {h.line!r}: update_of={h.update_of!r} names no parameter "
                    f"the optimizer updated; accepted: {accepted}"
                )
            node = self.nodes[self.node_of[key]]
            return node["update_step"], self.updates[key][1], f"{h.update_of} after the step"
        key = leaves.get(str(h.grad_of))
        if key is not None and key in self.grads:  # beside the step that computed it
            return self.grad_done[key], self.grads[key], f"dL/d {h.grad_of}"
        modules = []
        for c, call in enumerate(self.r.calls):
            label = self.call_label(c) or ""
            modules.append(label.split(":")[0])
            if modules[-1] == h.grad_of and call.out in self.grad_done:
                what = f"dL/d {self.label(call.out)} (the output of {label})"
                return self.grad_done[call.out], self.grad_value[call.out], what
        accepted = sorted(self.label(k) for k in self.grads if k in self.node_of) + modules
        raise ValueError(
            f"HandWritten {h.line!r}: grad_of={h.grad_of!r} names no parameter and no module "
            f"whose output has a gradient; accepted: {accepted}"
        )


# ---------------------------------------------------------------------------- helpers


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as Python writes a tuple: ``(4, 1)``, ``(3,)``, ``()``."""
    return str(tuple(shape))


def local_factor(formula: str) -> str:
    """The factor that multiplies ``grad`` in an elementwise rule: ``out*(1-out)``."""
    rhs = formula.split("=", 1)[1].strip() if "=" in formula else formula
    for prefix, sign in (("grad * ", ""), ("-grad * ", "-")):
        if rhs.startswith(prefix):
            factor = rhs[len(prefix) :]
            inner = factor[1:-1]
            if factor.startswith("(") and factor.endswith(")") and _balanced(inner):
                factor = inner
            return sign + factor
    if rhs.startswith("grad / "):
        return "1 / " + rhs[len("grad / ") :]
    return {"grad": "1", "-grad": "-1"}.get(rhs, rhs)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def reshaping_note(formula: str, x_shape: tuple[int, ...], grad_shape: tuple[int, ...]) -> str:
    """Where a rule sums a gradient over broadcast axes, or spreads it back: which axes.

    >>> reshaping_note("db = grad summed over the rows", (3,), (4, 3))
    'summed over axis 0 of grad: (4, 3) → (3,), the axes the forward broadcast'
    """
    x_size, g_size = math.prod(x_shape), math.prod(grad_shape)
    if "sum" in formula and x_size < g_size:
        lead = len(grad_shape) - len(x_shape)
        axes = list(range(lead))
        axes += [i + lead for i, n in enumerate(x_shape) if n == 1 and grad_shape[i + lead] != 1]
        which = ", ".join(str(a) for a in axes)
        return (
            f"summed over axis {which} of grad: {shape_text(grad_shape)} → "
            f"{shape_text(x_shape)}, the axes the forward broadcast"
        )
    if "broadcast" in formula and x_size > g_size:
        return f"grad spread back: {shape_text(grad_shape)} → {shape_text(x_shape)}"
    return ""
