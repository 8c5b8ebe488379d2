"""The explainer's pictures: which module frame each node sits in, then the layout.

Every module call that ran ops of the graph becomes a frame (a *scope* of
``layout.py``), except a call that made a single op and owns no parameter (a
``Sigmoid``): a frame around one node says nothing, so its op is labelled with the module
instead. A parameter sits in the frame of the module that holds it and all its uses (a
``Linear``'s weight in the Linear's frame; a recurrent cell's weights, used by every step,
in the frame around all the steps); data, which comes from outside, at the top; a scalar
constant beside its uses. Then ``layout.py`` folds and places.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tinygrad_lite.tools.explain import layout
from tinygrad_lite.tools.explain.layout import ROOT, Node, Scope
from tinygrad_lite.tools.explain.steps import Steps

CHAR_WIDTH = 7.2  # of the page's monospace node labels, in SVG units
LINE_HEIGHT = 15.0


def views(steps: Steps, fold_limit: int) -> list[dict[str, Any]]:
    """The pictures of ``steps``' graph (see ``layout.layout``); each node learns
    the picture it is drawn in (``node["view"]``)."""
    r = steps.r
    owners = _owners(steps)
    scope_of_call, scopes = _scopes(steps, set(owners.values()))
    parents = {s.scope: s.parent for s in scopes}
    where: dict[int, int] = {}  # node -> scope
    for i in steps.ops:
        where[steps.node_of[r.ops[i].out]] = scope_of_call[r.ops[i].call]
    for key, node in steps.node_of.items():
        if node in where:
            continue
        users = {where[e["to"]] for e in steps.edges if e["from"] == node}
        if r.tensors[key].requires_grad and owners.get(key) is not None:
            where[node] = scope_of_call[owners[key]]
        elif r.tensors[key].requires_grad or r.values[key].size == 1:
            where[node] = _common_scope(users, parents)
        else:
            where[node] = ROOT
    inputs: dict[int, int] = defaultdict(int)
    for e in steps.edges:
        inputs[e["to"]] += 1
    boxes = []
    for n in steps.nodes:
        width = max(len(line) for line in n["lines"]) * CHAR_WIDTH + 16
        # tall enough for its input edges to arrive apart, each with its name
        height = max(len(n["lines"]) * LINE_HEIGHT + 10, 13.0 * inputs[n["node"]] + 8)
        boxes.append(Node(n["node"], where[n["node"]], width, height, n["kind"] != "op"))
    folded = layout.fold(boxes, scopes, fold_limit)
    box_width = {s.scope: max(len(s.title), 16) * CHAR_WIDTH + 28 for s in scopes}
    edges = [(e["edge"], e["from"], e["to"]) for e in steps.edges]
    pictures = layout.layout(boxes, edges, scopes, folded, box_width)
    for picture in pictures:
        for box in picture["boxes"]:
            inside = [n for n in steps.nodes if _within(where[n["node"]], box["scope"], parents)]
            box["summary"] = _summary(inside)
        for placed in picture["nodes"]:
            steps.nodes[placed["node"]].setdefault("view", picture["view"])
    return pictures


def _owners(steps: Steps) -> dict[int, int | None]:
    """For each parameter, the innermost module call that holds it and all its uses."""
    r = steps.r
    users: dict[int, list[int | None]] = defaultdict(list)
    for i in steps.ops:
        for x in r.ops[i].inputs:
            if x not in steps.output_of and r.tensors[x].requires_grad:
                users[x].append(r.ops[i].call)
    owners: dict[int, int | None] = {}
    for x, calls in users.items():
        call = _common_call(steps, calls)
        while call is not None and not _holds(r.calls[call].module, r.tensors[x]):
            call = r.calls[call].parent
        owners[x] = call
    return owners


def _scopes(steps: Steps, owning: set[int | None]) -> tuple[dict[int | None, int], list[Scope]]:
    """The module calls as layout scopes (parents first), and the scope of each call."""
    r = steps.r
    content: dict[int, int] = defaultdict(int)  # ops and busy child calls directly inside
    busy: set[int] = set()  # calls that ran an op of the graph, themselves or inside
    for i in steps.ops:
        call = r.ops[i].call
        if call is not None:
            content[call] += 1
        while call is not None and call not in busy:
            busy.add(call)
            parent = r.calls[call].parent
            if parent is not None:
                content[parent] += 1
            call = parent
    scope_of_call: dict[int | None, int] = {None: ROOT}
    scopes = [Scope(ROOT, -1, "")]
    for c, made in enumerate(r.calls):  # a call comes after the call around it
        parent = scope_of_call.get(made.parent, ROOT)
        if c not in busy or (content[c] <= 1 and c not in owning):
            scope_of_call[c] = parent  # no frame: its op (if any) joins the parent's
            continue
        scope_of_call[c] = len(scopes)
        scopes.append(Scope(len(scopes), parent, steps.call_label(c) or ""))
    return scope_of_call, scopes


def _common_call(steps: Steps, calls: list[int | None]) -> int | None:
    """The innermost call that every one of ``calls`` runs in (None: the top level)."""
    paths = []
    for call in calls:
        path: list[int | None] = [call]
        while call is not None:
            call = steps.r.calls[call].parent
            path.append(call)
        paths.append(path[::-1])
    common: int | None = None
    for level in zip(*paths):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common


def _common_scope(scopes: set[int], parents: dict[int, int]) -> int:
    """The innermost scope that holds all of ``scopes``."""
    paths = []
    for s in scopes:
        path = [s]
        while path[-1] != ROOT:
            path.append(parents[path[-1]])
        paths.append(path[::-1])
    common = ROOT
    for level in zip(*paths):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common


def _holds(module: Any, t: Any) -> bool:
    """Whether ``t`` is one of ``module``'s parameters (found by identity)."""
    named = getattr(module, "named_parameters", None)
    return named is not None and any(p is t for _, p in named())


def _within(scope: int, ancestor: int, parents: dict[int, int]) -> bool:
    while scope != ancestor and scope != ROOT:
        scope = parents[scope]
    return scope == ancestor


def _summary(inside: list[dict[str, Any]]) -> str:
    ops = sum(1 for n in inside if n["kind"] == "op")
    params = sum(1 for n in inside if n["kind"] == "param")
    text = f"{ops} op" + ("s" if ops != 1 else "")
    return text + (f", {params} param" + ("s" if params != 1 else "") if params else "")
