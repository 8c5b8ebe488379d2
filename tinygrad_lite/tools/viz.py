"""Draw the graph behind a tensor: Graphviz DOT text, rendered to SVG/PNG when ``dot`` exists.

>>> import tinygrad_lite as tl
>>> w = tl.Tensor([[0.5], [-1.0]], requires_grad=True)
>>> x = tl.Tensor([[1.0, 2.0]])
>>> y = (x @ w).sigmoid()
>>> y.backward(retain_graph=True)   # keep the graph, to draw it with the gradients
>>> print(tl.viz.to_dot(y, names={"w": w, "x": x}))
digraph tinygrad_lite {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  t0 [label="x\\n(1, 2)", shape=box, style=filled, fillcolor="#e8e8e8"];
  t1 [label="w\\n(2, 1)\\ngrad = 0.1491, 0.2983", shape=box, style=filled, fillcolor="#cfe2ff"];
  f2 [label="matmul", shape=ellipse];
  t0 -> f2 [label="x"];
  t1 -> f2 [label="y"];
  t2 [label="(1, 1) = -1.5", shape=box];
  f2 -> t2;
  f3 [label="sigmoid", shape=ellipse];
  t2 -> f3;
  t3 [label="(1, 1) = 0.1824", shape=box, penwidth=2];
  f3 -> t3;
}
<BLANKLINE>

Each tensor is a box: its name (from ``names=``), ``param`` for a leaf that requires grad,
``const`` for one that does not, then its shape (and ``float32`` when it is), and its value
when it has one element. Each op is an ellipse named like the op's class; when an op has
several inputs, the edges name them as its backward rule does (``x`` and ``y``, or
``pred`` and ``target``). Once ``backward()`` has run, leaves show their gradient. The
output has a thick border.

In forward mode, drawn inside the dual level, every tensor that has a tangent shows it,
as leaves show their gradients (``tangent 2`` for the second of nested levels). A graph is
recorded only behind tensors that require grad, so give the primal ``requires_grad=True``
to draw one:

>>> w = tl.Tensor([[0.5], [-1.0]], requires_grad=True)
>>> with tl.forward_ad.dual_level():
...     dual = tl.forward_ad.make_dual(w, [[1.0], [0.0]])
...     y = (x @ dual).sigmoid()
...     text = tl.viz.to_dot(y, names={"w (dual)": dual, "x": x})
>>> print("\\n".join(line for line in text.splitlines() if "tangent" in line))
  t2 [label="w (dual)\\n(2, 1)\\ntangent = 1, 0", shape=box];
  t3 [label="(1, 1) = -1.5\\ntangent = 1", shape=box];
  t4 [label="(1, 1) = 0.1824\\ntangent = 0.1491", shape=box, penwidth=2];

(``make_dual`` made ``w (dual)`` from ``w``: a reshape to its own shape, in the graph.)

The engine frees the graph as ``backward()`` runs (each node drops its inputs), so draw it
before, or call ``backward(retain_graph=True)`` to draw it after, with the gradients.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_lite.engine import graph
from tinygrad_lite.hooks import tangents_of
from tinygrad_lite.tools.explain import Explanation, HandWritten, explain
from tinygrad_lite.tools.labels import argument_names, lookup, name_table, number

if TYPE_CHECKING:
    from tinygrad_lite.tensor import Tensor

# explain lives in its own module; it is part of tl.viz, beside to_dot and render.
__all__ = ["Explanation", "GraphvizError", "HandWritten", "explain", "render", "to_dot"]

FREED = (
    "to_dot: the graph behind this tensor was freed by backward() (each node drops its "
    "inputs once its gradient rule has run); draw it before calling backward(), or call "
    "backward(retain_graph=True) to keep it and draw it with the gradients"
)

PARAM_COLOR = "#cfe2ff"  # leaves that require grad: what training changes
CONST_COLOR = "#e8e8e8"  # leaves that do not: data, targets, constants
RENDERED = (".svg", ".png", ".pdf")
TEXT = (".dot", ".gv")


class GraphvizError(RuntimeError):
    """The Graphviz ``dot`` program is missing, or failed to render a graph."""


def to_dot(tensor: Tensor, names: Any = None, steps: Any = None, fold: bool = False) -> str:
    """The graph that computed ``tensor``, as Graphviz DOT text.

    ``names`` labels tensors: a mapping of name to tensor (``dict(model.named_parameters())``
    or a state dict; an array value matches the tensor that holds it), a list of (name,
    tensor) pairs, or anything with a ``named_parameters()`` method (a Module). Node ids
    follow the order in which the tensors were computed (inputs first), so the same
    computation always gives the same text.

    ``steps`` draws a computation repeated step after step (an RNN unrolled over time) one
    box per step: it lists the result of each step in order (the hidden states). The box
    "step k" holds the ops that step k's result needs and step k-1's does not, and the
    constants that only they use. ``fold=True`` draws the first two steps and the last in
    full and the steps between them as a single box, which says how many steps and ops it
    stands for; edges into and out of it are drawn once.

    Raises ``RuntimeError`` if ``backward()`` already freed part of the graph.
    """
    labels = name_table(names)
    try:
        order = graph(tensor)
    except RuntimeError:  # the engine's message speaks of backward(): this one of drawing
        raise RuntimeError(FREED) from None
    if steps is not None:
        return _dot_in_steps(tensor, order, labels, _step_of(order, steps), fold)
    if fold:
        raise ValueError("to_dot: fold=True folds steps; give the steps too (steps=[...])")
    index = {id(t): i for i, t in enumerate(order)}
    lines = [*HEADER]
    for i, t in enumerate(order):
        fn = t._ctx
        if fn is not None:
            lines.append(f'  f{i} [label="{_escape(fn.name)}", shape=ellipse];')
            inputs = fn.inputs
            for name, x in zip(argument_names(fn, len(inputs)), inputs):
                edge = f' [label="{_escape(name)}"]' if len(inputs) > 1 else ""
                lines.append(f"  t{index[id(x)]} -> f{i}{edge};")
        lines.append(f"  t{i} [{_tensor_attributes(t, labels, is_output=t is tensor)}];")
        if fn is not None:
            lines.append(f"  f{i} -> t{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


HEADER = (
    "digraph tinygrad_lite {",
    "  rankdir=LR;",
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
)


def _step_of(order: list[Tensor], steps: Any) -> dict[int, int]:
    """{id of a tensor: the step it belongs to}, for the ops each step's result needs (and
    no earlier step's), and for the constants used by the ops of one step alone."""
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise TypeError(f"to_dot: steps must be a list of tensors, got {type(steps).__name__}")
    marks = list(steps)
    present = {id(t) for t in order}
    for k, mark in enumerate(marks):
        if id(mark) not in present:
            raise ValueError(
                f"to_dot: steps[{k}] is not in the graph behind the tensor drawn; accepted: "
                f"tensors it was computed from (each step's result)"
            )
    step: dict[int, int] = {}
    for k, mark in enumerate(marks):
        for t in graph(mark):
            if t._ctx is not None:
                step.setdefault(id(t), k)  # the first step whose result needs the op
    users: dict[int, set[int]] = {}  # the steps of the ops that use each constant (-1: none)
    for t in order:
        if t._ctx is not None:
            for x in t._ctx.inputs:
                if x._ctx is None and not x.requires_grad:
                    users.setdefault(id(x), set()).add(step.get(id(t), -1))
    for leaf, used_by in users.items():
        if len(used_by) == 1 and -1 not in used_by:
            step[leaf] = used_by.pop()
    return step


def _dot_in_steps(
    tensor: Tensor, order: list[Tensor], labels: dict[int, str], step: dict[int, int], fold: bool
) -> str:
    """to_dot's text with each step's nodes in a box of its own (a DOT cluster), and with
    ``fold`` the steps between the second and the last drawn as one node."""
    count = max(step.values(), default=-1) + 1
    folded = set(range(2, count - 1)) if fold and count > 3 else set()
    index = {id(t): i for i, t in enumerate(order)}

    def node(t: Tensor) -> str:  # where an edge from t starts
        return "fold" if step.get(id(t)) in folded else f"t{index[id(t)]}"

    boxes: dict[int | None, list[str]] = {}  # node statements by step (None: outside)
    edges: list[str] = []
    drawn: set[tuple[str, str]] = set()
    folded_ops = 0
    for i, t in enumerate(order):
        fn = t._ctx
        k = step.get(id(t))
        if k in folded:
            folded_ops += 0 if fn is None else 1
            for x in fn.inputs if fn is not None else ():
                if node(x) != "fold" and (node(x), "fold") not in drawn:
                    drawn.add((node(x), "fold"))
                    edges.append(f"  {node(x)} -> fold;")
            continue
        box = boxes.setdefault(k, [])
        if fn is not None:
            box.append(f'f{i} [label="{_escape(fn.name)}", shape=ellipse];')
            inputs = fn.inputs
            for name, x in zip(argument_names(fn, len(inputs)), inputs):
                if node(x) == "fold":
                    if ("fold", f"f{i}") not in drawn:
                        drawn.add(("fold", f"f{i}"))
                        edges.append(f"  fold -> f{i};")
                    continue
                edge = f' [label="{_escape(name)}"]' if len(inputs) > 1 else ""
                edges.append(f"  t{index[id(x)]} -> f{i}{edge};")
            edges.append(f"  f{i} -> t{i};")
        box.append(f"t{i} [{_tensor_attributes(t, labels, is_output=t is tensor)}];")
    lines = [*HEADER]
    for k in range(count):
        if k in folded:
            if k == min(folded):
                first, last = min(folded), max(folded)
                text = f"steps {first} to {last}\n{len(folded)} steps, {folded_ops} ops, folded"
                lines.append(f'  fold [label="{_escape(text)}", shape=box, style="dashed"];')
            continue
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f'    label="step {k}"; style="rounded"; color="#999999";')
        lines.extend(f"    {statement}" for statement in boxes.get(k, []))
        lines.append("  }")
    lines.extend(f"  {statement}" for statement in boxes.get(None, []))
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot: str, path: str | os.PathLike[str]) -> Path:
    """Write DOT text to ``path``: as text for ``.dot``/``.gv``, drawn for ``.svg/.png/.pdf``.

    Drawing runs the Graphviz ``dot`` program; if it is not installed, a ``GraphvizError``
    says how to install it. The file appears whole or not at all (written beside, then
    renamed). Returns the path written.
    """
    if not isinstance(dot, str):
        raise TypeError(
            f"render: dot must be DOT text (a str, see to_dot), got {type(dot).__name__}"
        )
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in TEXT + RENDERED:
        raise ValueError(
            f"render: cannot tell the format of {str(target)!r} from its suffix; accepted: "
            f"{', '.join(TEXT + RENDERED)}"
        )
    if suffix in TEXT:
        _write_atomically(target, lambda tmp: tmp.write_text(dot))
        return target
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(
            f"render: drawing {suffix} needs the Graphviz `dot` program, which was not found "
            f"on PATH; install Graphviz (apt-get install graphviz, brew install graphviz, or "
            f"conda install graphviz), or write DOT text to a .dot file instead"
        )

    def draw(tmp: Path) -> None:
        command = [program, f"-T{suffix[1:]}", "-o", str(tmp)]
        result = subprocess.run(command, input=dot, capture_output=True, text=True)
        if result.returncode != 0:
            raise GraphvizError(
                f"render: Graphviz `dot` could not draw {str(target)!r}: {result.stderr.strip()}"
            )

    _write_atomically(target, draw)
    return target


# ---------------------------------------------------------------------------- helpers


def _tensor_attributes(t: Tensor, labels: dict[int, str], is_output: bool) -> str:
    name = lookup(labels, t)
    shape = str(t.data.shape) + (" float32" if t.data.dtype == np.float32 else "")
    if t.data.size == 1:
        shape += f" = {number(t.data.item())}"
    if t._ctx is None:
        lines = [name or ("param" if t.requires_grad else "const"), shape]
        color = PARAM_COLOR if t.requires_grad else CONST_COLOR
        attributes = f'shape=box, style=filled, fillcolor="{color}"'
    else:
        lines = [name, shape] if name else [shape]
        attributes = "shape=box"
    if t.grad is not None:
        lines.append(f"grad {_summary(t.grad.data)}")
    for level, tangent in enumerate(tangents_of(t), start=1):
        if tangent is not None:
            lines.append(f"tangent{'' if level == 1 else f' {level}'} {_summary(tangent.data)}")
    if is_output:
        attributes += ", penwidth=2"
    label = "\\n".join(_escape(line) for line in lines)
    return f'label="{label}", {attributes}'


def _summary(values: np.ndarray) -> str:
    """A few values in full; for more, the shape and the norm."""
    if values.size <= 4:
        return "= " + ", ".join(number(v) for v in values.ravel().tolist())
    return f"norm {number(float(np.linalg.norm(values)))}"


def _escape(text: str) -> str:
    """Text safe inside a DOT double-quoted string (a newline becomes DOT's \\n)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _write_atomically(target: Path, write: Any) -> None:
    """Call ``write(tmp)`` on a file beside ``target``, then move it into place."""
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"render: directory {str(directory)!r} does not exist")
    tmp = directory / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
