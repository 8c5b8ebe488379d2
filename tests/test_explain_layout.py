"""The explainer's layout and folding, computed in Python: tested here, without a browser."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tinygrad_lite.tools.explain.layout import ROOT, Node, Scope, fold, layout


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def _inside(a: dict[str, Any], frame: dict[str, Any]) -> bool:
    return (
        frame["x"] <= a["x"]
        and a["x"] + a["w"] <= frame["x"] + frame["w"] + 1e-6
        and frame["y"] <= a["y"]
        and a["y"] + a["h"] <= frame["y"] + frame["h"] + 1e-6
    )


@st.composite
def graphs(draw: Any) -> tuple[list[Node], list[tuple[int, int, int]], list[Scope]]:
    """A computation: leaves, then ops each using earlier nodes; some runs of ops in
    nested module scopes (contiguous, as module calls are)."""
    count = draw(st.integers(2, 30))
    leaf = [draw(st.booleans()) if i else True for i in range(count)]
    edges: list[tuple[int, int, int]] = []
    for i in range(1, count):
        if leaf[i]:
            continue
        sources = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=3))
        edges += [(len(edges) + k, s, i) for k, s in enumerate(sources)]
    scopes = [Scope(ROOT, -1, "")]
    scope_of = [ROOT] * count
    start = 0
    while start < count:  # cut the ops into runs; each run in a scope, maybe nested
        length = draw(st.integers(1, 6))
        if draw(st.booleans()):
            outer = len(scopes)
            scopes.append(Scope(outer, ROOT, f"m{outer}"))
            inner = outer
            if draw(st.booleans()) and length > 1:
                inner = len(scopes)
                scopes.append(Scope(inner, outer, f"m{inner}"))
            for i in range(start, min(count, start + length)):
                scope_of[i] = inner if i > start else outer
        start += length
    used = {s for s in scope_of}
    scopes = [s for s in scopes if s.scope in used or any(c.parent == s.scope for c in scopes)]
    widths = draw(st.lists(st.integers(30, 120), min_size=count, max_size=count))
    nodes = [Node(i, scope_of[i], float(widths[i]), 40.0, leaf[i]) for i in range(count)]
    return nodes, edges, scopes


@given(graphs(), st.integers(1, 12))
def test_every_node_is_drawn_once_and_none_overlap(graph: Any, limit: int) -> None:
    nodes, edges, scopes = graph
    folded = fold(nodes, scopes, limit)
    views = layout(nodes, edges, scopes, folded)
    drawn: dict[int, int] = {}
    for view in views:
        for n in view["nodes"]:
            drawn[n["node"]] = drawn.get(n["node"], 0) + 1
        rects = view["nodes"] + view["boxes"]
        for i, a in enumerate(rects):
            for b in rects[i + 1 :]:
                assert not _overlap(a, b), (a, b)
    # Each node is in one picture (a leaf that several parts use may be drawn beside each).
    assert set(drawn) == {n.node for n in nodes}
    for n in nodes:
        if not n.leaf:
            assert drawn[n.node] == 1
    # Every folded scope has its own picture, opened from its box.
    assert len(views) == 1 + len(folded)
    opened = [b["opens"] for v in views for b in v["boxes"]]
    assert sorted(opened) == list(range(1, len(views)))
    assert all(views[b["opens"]]["scope"] == b["scope"] for v in views for b in v["boxes"])


@given(graphs())
def test_data_flows_left_to_right_and_frames_hold_their_nodes(graph: Any) -> None:
    nodes, edges, scopes = graph
    views = layout(nodes, edges, scopes, folded=set())
    (view,) = views
    at = {n["node"]: n for n in view["nodes"]}
    leaf = {n.node for n in nodes if n.leaf}
    for _, src, dst in edges:
        if src not in leaf:  # an op's output goes to a column further right
            assert at[src]["x"] + at[src]["w"] <= at[dst]["x"]
    frames = {f["scope"]: f for f in view["frames"]}
    parents = {s.scope: s.parent for s in scopes}
    for n in nodes:
        scope = n.scope
        while scope != ROOT:  # inside its frame and every frame around it
            assert _inside(at[n.node], frames[scope])
            scope = parents[scope]
    for e in view["edges"]:  # each drawn edge runs left to right, point by point
        xs = [p[0] for p in e["points"]]
        assert xs == sorted(xs)


def test_a_small_graph_is_laid_out_in_columns() -> None:
    # x -> mul <- w, then sigmoid: the leaves in column 0, the ops after them.
    nodes = [Node(0, ROOT, 40, 20, True), Node(1, ROOT, 40, 20, True), Node(2, ROOT, 40, 20)]
    nodes.append(Node(3, ROOT, 40, 20))
    edges = [(0, 0, 2), (1, 1, 2), (2, 2, 3)]
    (view,) = layout(nodes, edges, [Scope(ROOT, -1, "")], set())
    x = {n["node"]: n["x"] for n in view["nodes"]}
    assert x[0] == x[1] < x[2] < x[3]
    assert [len(e["points"]) for e in view["edges"]] == [2, 2, 2]


def _chain(calls: int, ops_per_call: int) -> tuple[list[Node], list[Scope]]:
    """A model (scope 1) calling a layer (scopes 2..) ``calls`` times, each a few ops."""
    scopes = [Scope(ROOT, -1, ""), Scope(1, ROOT, "model")]
    nodes = []
    for c in range(calls):
        scopes.append(Scope(2 + c, 1, f"layer (call {c + 1})"))
        for _ in range(ops_per_call):
            nodes.append(Node(len(nodes), 2 + c, 40, 20))
    nodes.append(Node(len(nodes), ROOT, 40, 20))  # the loss, outside the model
    return nodes, scopes


def test_folding_keeps_small_graphs_open() -> None:
    nodes, scopes = _chain(calls=3, ops_per_call=2)
    assert fold(nodes, scopes, limit=60) == set()


def test_folding_folds_the_repeated_layer_and_never_the_whole_model() -> None:
    nodes, scopes = _chain(calls=25, ops_per_call=5)  # 126 nodes
    folded = fold(nodes, scopes, limit=60)
    assert folded == set(range(2, 27))  # one box per call; the model stays open
    edges = [(i, i, i + 1) for i in range(len(nodes) - 1)]
    views = layout(nodes, edges, scopes, folded)
    assert len(views[0]["boxes"]) == 25 and len(views[0]["nodes"]) == 1
    assert [f["title"] for f in views[0]["frames"]] == ["model"]


def test_folding_takes_the_deepest_cut_that_fits() -> None:
    # model > 4 blocks > 3 layers each > 4 ops each: 48 ops.
    scopes = [Scope(ROOT, -1, ""), Scope(1, ROOT, "model")]
    nodes: list[Node] = []
    for b in range(4):
        block = len(scopes)
        scopes.append(Scope(block, 1, f"block{b}"))
        for _ in range(3):
            layer = len(scopes)
            scopes.append(Scope(layer, block, "layer"))
            nodes += [Node(len(nodes) + k, layer, 40, 20) for k in range(4)]
    blocks = {s.scope for s in scopes if s.title.startswith("block")}
    layers = {s.scope for s in scopes if s.title == "layer"}
    assert fold(nodes, scopes, limit=60) == set()
    assert fold(nodes, scopes, limit=12) == layers  # 12 layer boxes
    assert fold(nodes, scopes, limit=5) == blocks  # 4 block boxes
    assert fold(nodes, scopes, limit=2) == blocks  # too many even so: the coarsest useful
